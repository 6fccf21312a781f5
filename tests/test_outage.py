"""engine/outage.py on hand-made inputs with known timings: 802.11 frames built byte by
byte (IEEE 802.11-2020 9.2.4.1 Frame Control, 9.3.3.12 Authentication body: algorithm,
transaction sequence, status; 9.3.3.7 Reassociation Response: capability, status, AID),
Ethernet/ARP (RFC 826) and IPv4/ICMP echo (RFC 792) packets in a pcap built here, and
link events as the link monitor makes them."""
from __future__ import annotations

import struct

import pytest

from engine.capture import Frame
from engine.events import Event
from engine.outage import OutageError, decompose, dut_packets

STA, OLD, NEW = "02:00:00:00:02:00", "02:00:00:00:00:00", "02:00:00:00:01:00"
DUT_IP, GW_IP = "10.77.0.2", "10.77.0.1"


def b(mac):
    return bytes.fromhex(mac.replace(":", ""))


def mgmt(subtype, a1, a2, a3, body):
    fc = bytes([subtype << 4, 0x00])  # type 0 (management)
    return fc + b"\0\0" + b(a1) + b(a2) + b(a3) + b"\0\0" + body


def ft_auth(seq, sta_to_ap, ap):
    body = struct.pack("<HHH", 2, seq, 0)  # algorithm 2 = FT, transaction sequence, status 0
    return mgmt(11, ap, STA, ap, body) if sta_to_ap else mgmt(11, STA, ap, ap, body)


def data(uplink, ap, protected=True, subtype=8):
    flags = (0x01 if uplink else 0x02) | (0x40 if protected else 0)  # To DS / From DS, Protected
    fc = bytes([(subtype << 4) | 0x08, flags])  # type 2 (data)
    a1, a2 = (ap, STA) if uplink else (STA, ap)
    hdr = fc + b"\0\0" + b(a1) + b(a2) + b(ap) + b"\0\0"
    if subtype & 8:
        hdr += b"\0\0"  # QoS Control
    return hdr + b"\x55" * 40


FRAMES_SPEC = [  # (t, raw)
    (10.000, data(True, OLD)), (10.002, data(False, OLD)),
    (10.080, data(False, OLD, protected=False)),  # a clear data frame (EAPOL-like): not the data plane
    (10.100, ft_auth(1, True, NEW)), (10.110, ft_auth(2, False, NEW)),
    (10.120, mgmt(2, NEW, STA, NEW, b"\x11\x00\x0a\x00" + b(OLD))),  # Reassociation Request
    (10.130, mgmt(3, STA, NEW, NEW, b"\x11\x00\x00\x00\x01\xc0")),  # Reassociation Response, status 0
    (10.135, data(True, NEW, subtype=12)),  # QoS Null: no MSDU
    (10.400, data(True, NEW)), (10.401, data(False, NEW)),
]
FRAMES = [Frame(i, t, 127, 2437, -40, raw) for i, (t, raw) in enumerate(FRAMES_SPEC, 1)]

EVENTS = [Event(10.090, "carrier_off", {"evidence": "RTM_NEWLINK ... <UP> operstate=DOWN"}, "mon:9"),
          Event(10.140, "carrier_on", {"evidence": "RTM_NEWLINK ... <UP,LOWER_UP>"}, "mon:12"),
          Event(10.300, "port_authorized", {"evidence": "operstate=UP"}, "mon:15")]


def eth(src, dst, ethertype, payload):
    return b(dst) + b(src) + struct.pack("!H", ethertype) + payload


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def arp(op, sha, spa, tpa):
    return eth(sha, "ff:ff:ff:ff:ff:ff", 0x0806,
               struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + b(sha) + ip4(spa) + b"\0" * 6 + ip4(tpa))


def echo(kind, seq, ident=0x00f3):
    src, dst = (DUT_IP, GW_IP) if kind == 8 else (GW_IP, DUT_IP)
    icmp = struct.pack("!BBHHH", kind, 0, 0, ident, seq) + b"\0" * 56
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 64, 1, 0, ip4(src), ip4(dst))
    return eth(STA if kind == 8 else NEW, NEW if kind == 8 else STA, 0x0800, iph + icmp)


def pcap(records, magic=0xa1b2c3d4, linktype=1):
    out = struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 262144, linktype)
    for t, pkt in records:
        sec = int(t)
        out += struct.pack("<IIII", sec, round((t - sec) * 1e6), len(pkt), len(pkt)) + pkt
    return out


DUT_PCAP = pcap([
    (9.500, echo(8, 1, ident=0x0001)), (9.501, echo(0, 1, ident=0x0001)),  # an earlier ping run
    (9.990, echo(8, 50)), (10.004, echo(0, 50)),  # the last answered echo before the roam
    (10.050, echo(8, 51)),  # sent just before carrier went; never answered
    (10.900, arp(1, STA, DUT_IP, GW_IP)),  # the neighbour was flushed: resolve again
    (10.902, arp(2, NEW, GW_IP, DUT_IP)),
    (10.903, echo(8, 52)), (10.950, echo(0, 52)),
])


def test_dut_pcap_decodes_arp_and_echo():
    pk = dut_packets(DUT_PCAP)
    assert [(p.index, p.kind, p.seq) for p in pk] == [
        (1, "echo_request", 1), (2, "echo_reply", 1), (3, "echo_request", 50), (4, "echo_reply", 50),
        (5, "echo_request", 51), (6, "arp_request", None), (7, "arp_reply", None),
        (8, "echo_request", 52), (9, "echo_reply", 52)]
    assert (pk[5].src, pk[5].dst, pk[6].hw_src, pk[2].ident) == (DUT_IP, GW_IP, NEW, 0x00f3)
    assert pk[4].t == pytest.approx(10.05)


def test_dut_pcap_nanosecond_and_big_endian_headers():
    rec = [(1.25, echo(8, 7))]
    ns = struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 65535, 1) + struct.pack(
        "<IIII", 1, 250_000_000, len(rec[0][1]), len(rec[0][1])) + rec[0][1]
    be = struct.pack(">IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1) + struct.pack(
        ">IIII", 1, 250_000, len(rec[0][1]), len(rec[0][1])) + rec[0][1]
    for blob in (ns, be):
        (p,) = dut_packets(blob)
        assert (p.t, p.kind, p.seq) == (pytest.approx(1.25), "echo_request", 7)


def test_dut_pcap_refuses_what_it_cannot_read():
    with pytest.raises(OutageError, match="not a classic pcap"):
        dut_packets(b"\x0a\x0d\x0d\x0a" + b"\0" * 40)  # pcapng
    with pytest.raises(OutageError, match="link type 127"):
        dut_packets(pcap([], linktype=127))
    assert len(dut_packets(DUT_PCAP[:-10])) == 8  # a cut last record is dropped, the rest kept


def test_decomposition_times_and_sources():
    o = decompose(FRAMES, STA, OLD, NEW, EVENTS, dut_packets(DUT_PCAP),
                  answered=[0, 1, 2, 52], transmitted=53, after=9.9)
    got = {m.name: (round(m.t, 6), m.source) for m in o.milestones}
    assert got == {
        "last_data_old_ap": (10.002, "air frame 2"),
        "last_echo_reply_before": (10.004, "DUT interface packet 4"),
        "carrier_off": (10.09, "mon:9"),
        "ft_auth_request": (10.1, "air frame 4"), "ft_auth_response": (10.11, "air frame 5"),
        "reassoc_request": (10.12, "air frame 6"), "reassoc_response": (10.13, "air frame 7"),
        "carrier_on": (10.14, "mon:12"), "port_authorized": (10.3, "mon:15"),
        "first_data_to_new_ap": (10.4, "air frame 9"), "first_data_from_new_ap": (10.401, "air frame 10"),
        "arp_request": (10.9, "DUT interface packet 6"), "arp_reply": (10.902, "DUT interface packet 7"),
        "first_answered_echo_request": (10.903, "DUT interface packet 8"),
        "first_echo_reply_after": (10.95, "DUT interface packet 9"),
    }
    assert [m.t for m in o.milestones] == sorted(m.t for m in o.milestones)
    assert o.gap_ms == pytest.approx(946.0)
    assert [(p.start, p.end, p.ms, p.layer) for p in o.phases] == [
        ("last_echo_reply_before", "carrier_off", pytest.approx(86.0), "DUT"),
        ("carrier_off", "carrier_on", pytest.approx(50.0), "kernel/driver"),
        ("carrier_on", "port_authorized", pytest.approx(160.0), "supplicant"),
        ("port_authorized", "arp_request", pytest.approx(600.0), "kernel/driver"),
        ("arp_request", "arp_reply", pytest.approx(2.0), "lab"),
        ("arp_reply", "first_echo_reply_after", pytest.approx(48.0), "DUT")]
    assert o.lost == 49 and o.unanswered == ((3, 51),)
    assert any("re-resolved 10.77.0.1" in n and "810 ms after carrier went" in n for n in o.notes)
    v = o.verdict("DP-OUTAGE-1")
    assert v.status == "info" and "946.0 ms" in v.observed
    assert "carrier_off t=10.090000 (mon:9)" in v.evidence


def test_kept_neighbour_means_no_arp_and_the_port_is_the_wait():
    pk = dut_packets(pcap([(9.990, echo(8, 50)), (10.004, echo(0, 50)),
                           (10.2, echo(8, 60)),  # to the driver while the port is closed: dropped
                           (10.31, echo(8, 61)), (10.33, echo(0, 61))]))
    o = decompose(FRAMES, STA, OLD, NEW, EVENTS, pk, answered=[50, 61], transmitted=62, after=9.9)
    names = [m.name for m in o.milestones]
    assert "arp_request" not in names
    assert o.gap_ms == pytest.approx(326.0)
    assert [p.end for p in o.phases][-2:] == ["port_authorized", "first_echo_reply_after"]
    assert any(n.startswith("1 echo request(s) went to the driver between carrier on and the port's "
                            "authorization; 0 data frame(s)") for n in o.notes)


def test_without_the_dut_capture_the_air_and_link_still_decompose():
    o = decompose(FRAMES, STA, OLD, NEW, EVENTS)
    assert o.gap_ms is None and o.lost is None
    assert [p.start for p in o.phases] == ["carrier_off", "carrier_on"]
    assert "not measured" in o.verdict().observed


def test_no_reassociation_to_the_new_ap_is_an_error():
    with pytest.raises(OutageError, match="no reassociation response"):
        decompose(FRAMES[:6], STA, OLD, NEW)
    with pytest.raises(OutageError):
        decompose(FRAMES, STA, OLD, NEW, after=11.0)
