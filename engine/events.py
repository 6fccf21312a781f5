"""Normalized DUT events and the Native 802.11 indication model.

Every DUT adapter turns its native output (control-interface events, debug
log lines, serial lines) into Event objects with the kinds listed in KINDS.
Each adapter then maps its events onto Indications and documents how.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping

# The event vocabulary shared by all adapters. fields listed after each kind.
KINDS = {
    "connect_attempt": "bssid, ssid, freq — authentication toward a BSS begins",
    "associating": "bssid — association/reassociation request about to be sent",
    "associated": "bssid",
    "connected": "bssid, ssid, channel, security — link up (after keys)",
    "disconnected": "bssid, reason, locally_generated",
    "assoc_reject": "bssid, status",
    "auth_reject": "bssid, status",
    "state": "old, new, code — driver state machine transition",
    "scan_started": "",
    "scan_results": "",
    "bss_added": "bssid, ssid, chan",
    "btm_request": "dialog_token, request_mode, disassoc_timer, validity_interval, candidates[{bssid, info, op_class, chan, phy, pref}]",
    "btm_response": "dialog_token, status, target, to",
    "btm_query": "reason",
    "btm_transition": "bssid, old_bssid — the DUT decided to move",
    "neighbor_report_request": "ssid",
    "neighbor_report": "entries[{bssid, info, op_class, chan, phy_type}]",
    "neighbor_report_failed": "",
    "measurement_request": "token, mode, op_class, chan",
    "key_negotiation_completed": "bssid — a 4-way handshake finished",
    "ft_completed": "bssid",
    "got_ip": "ip, mask, gw",
    "radio_off": "",
    "radio_on": "",
    "reboot": "banner",
    "panic": "lines",
    "brownout": "",
    "ess_disassoc_imminent": "pmf, timeout_ms, url — wpa_supplicant's ESS-DISASSOC-IMMINENT",
    # The 802.1X port: wpa_supplicant drives the interface's RFC 2863 operstate itself,
    # DORMANT below COMPLETED and UP at COMPLETED. That is port authorization, not media.
    "port_unauthorized": "ifname, operstate — the supplicant set operstate DORMANT (was UP)",
    "port_authorized": "ifname, operstate — the supplicant set operstate UP (was DORMANT)",
    # The kernel's view of the link (media connect on Linux): carrier is IFF_LOWER_UP in
    # RTM_NEWLINK; cfg80211 reports CONNECT / ROAM / DISCONNECT on nl80211. Fields
    # `layer` (engine.verdict.KERNEL) and `evidence` (the netlink message, as one line).
    "carrier_on": "ifname, flags, operstate, layer, evidence — IFF_LOWER_UP came on",
    "carrier_off": "ifname, flags, operstate, layer, evidence — IFF_LOWER_UP went off",
    "nl80211_connect": "ifname, bssid, status, layer, evidence — NL80211_CMD_CONNECT",
    "nl80211_roam": "ifname, bssid, layer, evidence — NL80211_CMD_ROAM (the driver roamed, link kept)",
    "nl80211_disconnect": "ifname, reason, by_ap, layer, evidence — NL80211_CMD_DISCONNECT",
    "link_monitor_error": "ifname, evidence — the lab's link monitor lost messages or died",
    "ft_failed": "bssid, reason — the DUT rejected an FT response; that FT attempt ends",
}


@dataclass(frozen=True)
class Event:
    t: float  # seconds on the source's clock
    kind: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""  # "file:line", "ctrl:wlan2#17", "serial:123"
    raw: str = ""

    def get(self, key, default=None):
        return self.fields.get(key, default)

    def to_dict(self) -> dict:
        return {"t": self.t, "kind": self.kind, "fields": dict(self.fields),
                "source": self.source, "raw": self.raw}


class Ind(str, Enum):
    CONNECTION_START = "CONNECTION_START"
    CONNECTION_COMPLETION = "CONNECTION_COMPLETION"
    ROAMING_START = "ROAMING_START"
    ROAMING_COMPLETION = "ROAMING_COMPLETION"
    ASSOCIATION_START = "ASSOCIATION_START"
    ASSOCIATION_COMPLETION = "ASSOCIATION_COMPLETION"
    MEDIA_CONNECT = "MEDIA_CONNECT"
    MEDIA_DISCONNECT = "MEDIA_DISCONNECT"
    # Not one of the Native 802.11 roaming indications: the 802.1X port (NDIS port
    # authorization). Shown beside them; no IND rule judges it.
    PORT_AUTHORIZED = "PORT_AUTHORIZED"
    PORT_UNAUTHORIZED = "PORT_UNAUTHORIZED"


# The indications the IND rules judge; the rest are observations shown with them.
ROAMING_INDICATIONS = frozenset(k for k in Ind if not k.name.startswith("PORT_"))


SUCCESS = "success"
FAILURE = "failure"


@dataclass(frozen=True)
class Indication:
    t: float
    kind: Ind
    bssid: str | None = None
    status: str | None = None  # SUCCESS, FAILURE or None
    reason: str | None = None
    source: str = ""
    # Which layer of the DUT made it (engine.verdict.LAYERS; "" = not known beyond the DUT)
    # and the native line that shows it (a netlink message, a serial line).
    layer: str = ""
    evidence: str = ""

    def to_dict(self) -> dict:
        d = {"t": self.t, "kind": self.kind.value, "bssid": self.bssid,
             "status": self.status, "reason": self.reason, "source": self.source}
        if self.layer:
            d["layer"] = self.layer
        if self.evidence:
            d["evidence"] = self.evidence
        return d
