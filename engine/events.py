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
    "link_down": "ifname, operstate — the interface's operational state left UP (link down for the OS)",
    "link_up": "ifname, operstate — the interface's operational state became UP",
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


def fmt_time(t: float) -> str:
    """A time for people: ISO 8601 (UTC, microseconds) for a Unix time, else seconds on the
    source's own clock with microseconds; never %g's 1.79531e+09."""
    if t >= 1e8:
        from datetime import datetime, timezone
        try:
            return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
        except (OverflowError, OSError, ValueError):
            pass
    return f"{t:.6f}"


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

    def to_dict(self) -> dict:
        return {"t": self.t, "kind": self.kind.value, "bssid": self.bssid,
                "status": self.status, "reason": self.reason, "source": self.source}
