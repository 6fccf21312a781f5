"""The lab agent's link-monitor records (lab/linkwatch.py) -> normalized Events.

- carrier (IFF_LOWER_UP in RTM_NEWLINK) -> carrier_on / carrier_off, layer kernel/driver:
  media connect on Linux.
- operstate reaching UP / leaving UP in RTM_NEWLINK -> port_authorized / port_unauthorized,
  layer supplicant: wpa_supplicant runs the interface in link mode DORMANT and sets operstate
  UP only at COMPLETED (wpa_drv_set_operstate); it is the 802.1X port, not the link. The
  kernel also takes operstate to DOWN when carrier goes (RFC 2863: the lower layer is down),
  which leaves UP too: an unauthorized port, with the carrier event beside it.
- nl80211 CONNECT / ROAM / DISCONNECT -> nl80211_connect / nl80211_roam / nl80211_disconnect,
  layer kernel/driver (cfg80211 sends them).

Every Event's `evidence` field is the monitor's one-line rendering of the netlink message.
"""
from __future__ import annotations

from typing import Iterable

from engine.events import Event
from engine.verdict import KERNEL, SUPPLICANT

_NL80211 = {"CONNECT": "nl80211_connect", "ROAM": "nl80211_roam", "DISCONNECT": "nl80211_disconnect"}


def to_events(records: Iterable[dict], since: int = 0, name: str = "linkwatch") -> list[Event]:
    """Events for the records from position `since` on; the records before it only set the
    state a change is measured from. A record that is not a monitor record is skipped."""
    out: list[Event] = []
    carrier = oper = None
    for i, r in enumerate(records):
        try:
            t, kind, line = float(r["t"]), r["kind"], str(r.get("line", ""))
        except (KeyError, TypeError, ValueError):
            continue
        src = f"{name}:{i + 1}"
        base = {"ifname": r.get("ifname"), "evidence": line}
        if kind == "link":
            c, o = bool(r.get("carrier")), r.get("operstate")
            if o in (None, "None"):
                o = oper  # a message without IFLA_OPERSTATE (wireless-extension events) changes none
            if c != carrier and i >= since:
                out.append(Event(t, "carrier_on" if c else "carrier_off",
                                 {**base, "flags": r.get("flags"), "operstate": o, "layer": KERNEL,
                                  "initial": bool(r.get("initial"))}, src, line))
            # reaching or leaving UP is the supplicant's port; the first record only sets the state
            if oper is not None and i >= since and (o == "UP") != (oper == "UP"):
                out.append(Event(t, "port_authorized" if o == "UP" else "port_unauthorized",
                                 {**base, "operstate": o, "layer": SUPPLICANT}, src, line))
            carrier, oper = c, o
        elif kind == "error" and i >= since:  # the monitor lost messages or died: the trace may lack some
            out.append(Event(t, "link_monitor_error", {"ifname": r.get("ifname"), "evidence": line}, src, line))
        elif kind == "nl80211" and r.get("cmd") in _NL80211 and i >= since:
            f = {**base, "layer": KERNEL, "bssid": r.get("bssid")}
            if r["cmd"] == "CONNECT":
                f["status"] = r.get("status")
            if r["cmd"] == "DISCONNECT":
                f.update(reason=r.get("reason"), by_ap=r.get("by_ap"))
            out.append(Event(t, _NL80211[r["cmd"]], f, src, line))
    return out
