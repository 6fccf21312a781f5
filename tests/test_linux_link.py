"""The lab agent's link-monitor records -> Events (devices/linux_link.py), and the monitor's
netlink decoding (lab/agent.py) on messages built byte by byte from linux/netlink.h,
rtnetlink.h, if_link.h and nl80211.h layouts."""
from __future__ import annotations

import struct

from devices.linux_link import to_events
from devices.wpas_log import to_indications
from engine.events import Event, Ind
from lab import agent

LINE = "RTM_NEWLINK ifindex=4 ifname=wlan2 flags=0x{:x} <...> operstate={}"


def link(t, carrier, oper, initial=False):
    flags = 0x11003 if carrier else 0x1003
    return {"t": t, "kind": "link", "ifname": "wlan2", "ifindex": 4, "flags": flags, "carrier": carrier,
            "operstate": oper, "initial": initial, "line": LINE.format(flags, oper)}


RECORDS = [
    {"t": 0.9, "kind": "watching", "ifname": "wlan2", "line": "watching wlan2"},
    link(1.0, False, "DOWN", True),
    link(2.0, True, "DORMANT"),
    {"t": 2.01, "kind": "nl80211", "cmd": "CONNECT", "ifname": "wlan2", "bssid": "02:00:00:00:00:00",
     "status": 0, "line": "nl80211 CONNECT ifindex=4 bssid=02:00:00:00:00:00 status=0"},
    link(2.02, True, None),  # a wireless-extension event: no IFLA_OPERSTATE, no change
    link(2.3, True, "UP"),
    link(5.0, False, "DOWN"),
    {"t": 5.05, "kind": "nl80211", "cmd": "DISCONNECT", "ifname": "wlan2", "reason": 1, "by_ap": False,
     "line": "nl80211 DISCONNECT ifindex=4 reason=1 by_ap=0"},
    link(5.2, True, "DORMANT"),
    link(5.5, True, "UP"),
    {"t": 6.0, "kind": "error", "line": "Traceback (most recent call last):"},
]


def test_records_become_kernel_link_and_port_events():
    evs = to_events(RECORDS, name="mon")
    assert [(e.t, e.kind) for e in evs] == [
        (1.0, "carrier_off"), (2.0, "carrier_on"), (2.01, "nl80211_connect"), (2.3, "port_authorized"),
        (5.0, "carrier_off"), (5.0, "port_unauthorized"), (5.05, "nl80211_disconnect"),
        (5.2, "carrier_on"), (5.5, "port_authorized"), (6.0, "link_monitor_error")]
    on = evs[1]
    assert (on.get("layer"), on.source, on.get("evidence")) == (
        "kernel/driver", "mon:3", LINE.format(0x11003, "DORMANT"))
    assert evs[3].get("layer") == "supplicant"
    assert (evs[2].get("bssid"), evs[2].get("status")) == ("02:00:00:00:00:00", 0)
    assert (evs[6].get("reason"), evs[6].get("by_ap")) == (1, False)


def test_since_skips_earlier_records_but_keeps_their_state():
    evs = to_events(RECORDS, since=6)  # from the carrier drop on
    assert [e.kind for e in evs][:2] == ["carrier_off", "port_unauthorized"]
    assert to_events(RECORDS, since=7)[0].kind == "nl80211_disconnect"


def test_a_roam_of_link_events_makes_kernel_media_indications():
    A, B = "02:00:00:00:00:00", "02:00:00:00:01:00"
    sup = [Event(1.5, "connect_attempt", {"bssid": A}, "log:1"), Event(2.25, "connected", {"bssid": A}, "log:2"),
           Event(4.9, "connect_attempt", {"bssid": B}, "log:3"), Event(5.4, "connected", {"bssid": B}, "log:4")]
    evs = sorted(sup + to_events(RECORDS), key=lambda e: e.t)
    tr = to_indications(evs, ifname="wlan2")
    assert [(i.kind, i.bssid) for i in tr] == [
        (Ind.CONNECTION_START, None), (Ind.ASSOCIATION_START, A), (Ind.MEDIA_CONNECT, A),
        (Ind.ASSOCIATION_COMPLETION, A), (Ind.CONNECTION_COMPLETION, A), (Ind.PORT_AUTHORIZED, A),
        (Ind.ROAMING_START, None), (Ind.ASSOCIATION_START, B),
        (Ind.MEDIA_DISCONNECT, A), (Ind.PORT_UNAUTHORIZED, A), (Ind.MEDIA_CONNECT, B),
        (Ind.ASSOCIATION_COMPLETION, B), (Ind.ROAMING_COMPLETION, B), (Ind.PORT_AUTHORIZED, B)]
    assert tr[8].evidence == LINE.format(0x1003, "DOWN") and tr[8].layer == "kernel/driver"
    # another interface's events do not count
    assert to_indications(evs, ifname="wlan9")[2].kind == Ind.ASSOCIATION_COMPLETION


# -- the monitor's netlink decoding ---------------------------------------------------------
def nlmsg(mtype, payload):
    return struct.pack("=IHHII", 16 + len(payload), mtype, 0, 0, 0) + payload + b"\0" * (-len(payload) % 4)


def rta(atype, value):
    return struct.pack("=HH", 4 + len(value), atype) + value + b"\0" * (-len(value) % 4)


def test_netlink_messages_and_attributes_split_as_the_headers_say():
    ifinfo = struct.pack("=BBHiII", 0, 0, 1, 4, 0x11003, 0)  # ifinfomsg: family, pad, type, index, flags, change
    body = ifinfo + rta(3, b"wlan2\0") + rta(16, bytes([5])) + rta(33, bytes([1]))
    data = nlmsg(16, body) + nlmsg(3, b"")
    msgs = list(agent._nl_messages(data))
    assert [m[0] for m in msgs] == [16, 3]
    a = agent._attrs(msgs[0][1][16:])
    assert (a[3], a[16], a[33]) == (b"wlan2\0", b"\x05", b"\x01")
    # nested: a multicast group list as the genetlink controller sends it
    grp = rta(1, rta(2, struct.pack("=I", 12)) + rta(1, b"mlme\0"))
    groups = agent._attrs(agent._attrs(rta(7, grp))[7])
    inner = agent._attrs(groups[1])
    assert inner[1] == b"mlme\0" and struct.unpack("=I", inner[2])[0] == 12
