"""The 802.11r and Native 802.11 judges' own steps, on frames built byte by byte from the
standard's layouts (IEEE 802.11-2020 9.3.3, 9.4.1.1, 9.4.2.46) and on busybox ping output."""
from __future__ import annotations

import struct

from engine.air import Air
from engine.capture import Frame
from engine.evidence import APConfigView, APView, CaseEvidence, DutView, ProfileView
from engine.judges import run
from engine.judges.ft import ping_gaps
from engine.judges.roaming import auth_algorithm, mde_of_beacon, os_requests, sent_by
from engine.verdict import FAIL, LAB, PASS
from lab.dataplane import parse_ping
from suites.ft_native_steps import ping_fact

DUT = "02:00:00:00:00:00"
AP_A = "02:00:00:00:01:00"
AP_B = "02:00:00:00:02:00"


def octets(m: str) -> bytes:
    return bytes(int(x, 16) for x in m.split(":"))


def mgmt(subtype: int, da: str, sa: str, bssid: str, body: bytes) -> bytes:
    """9.3.3.2: Frame Control (type 0, subtype), Duration, A1 (DA), A2 (SA), A3 (BSSID), Sequence Control."""
    return bytes([subtype << 4, 0]) + b"\x00\x00" + octets(da) + octets(sa) + octets(bssid) + b"\x10\x00" + body


def beacon(bssid: str, elements: bytes) -> bytes:
    # 9.3.3.3: Timestamp (8), Beacon Interval (2), Capability Information (2), then elements
    return mgmt(8, "ff:ff:ff:ff:ff:ff", bssid, bssid, bytes(8) + struct.pack("<HH", 100, 0x0411) + elements)


def auth(sa: str, da: str, algorithm: int) -> bytes:
    # 9.3.3.12: Authentication Algorithm Number, Transaction Sequence Number, Status Code
    return mgmt(11, da, sa, da, struct.pack("<HHH", algorithm, 1, 0))


def frame(i: int, t: float, raw: bytes) -> Frame:
    return Frame(i, t, 105, 2412, -30, raw)


def test_auth_algorithm_and_sent_by_read_named_fields():
    open_auth = frame(1, 10.0, auth(DUT, AP_B, 0))
    ft_auth = frame(2, 11.0, auth(DUT, AP_B, 2))
    from_ap = frame(3, 12.0, auth(AP_B, DUT, 2))
    air = Air(frames=[open_auth, ft_auth, from_ap])
    assert [auth_algorithm(f) for f in air.of_kind("auth")] == [0, 2, 2]
    assert [f.index for f in sent_by(air, DUT, 0, "auth")] == [1, 2]
    assert [f.index for f in sent_by(air, DUT, 10.5, "auth")] == [2]
    assert sent_by(air, DUT, 0, "auth", to=AP_A) == []


def test_mde_of_beacon_is_the_last_beacons_mde():
    mde1 = bytes([54, 3, 0xA1, 0xB2, 0x01])  # MDID a1b2, FT over the DS
    mde2 = bytes([54, 3, 0xA1, 0xB2, 0x00])
    ssid = bytes([0, 8]) + b"roamcert"
    air = Air(frames=[frame(1, 1.0, beacon(AP_A, ssid + mde1)), frame(2, 2.0, beacon(AP_A, ssid + mde2)),
                      frame(3, 3.0, beacon(AP_B, ssid))])
    assert mde_of_beacon(air, AP_A) == b"\xa1\xb2\x00"
    assert mde_of_beacon(air, AP_B) is None


BUSYBOX = """PING 10.77.0.1 (10.77.0.1): 56 data bytes
64 bytes from 10.77.0.1: seq=0 ttl=64 time=0.512 ms
64 bytes from 10.77.0.1: seq=1 ttl=64 time=1.250 ms
64 bytes from 10.77.0.1: seq=4 ttl=64 time=0.300 ms

--- 10.77.0.1 ping statistics ---
5 packets transmitted, 3 packets received, 40% packet loss
round-trip min/avg/max = 0.300/0.687/1.250 ms
"""


def test_ping_fact_keeps_every_ping_and_the_gaps_follow():
    p = ping_fact(parse_ping(BUSYBOX), 100.0, 0.01)
    assert (p["transmitted"], p["received"], p["answered"]) == (5, 3, [0, 1, 4])
    assert [(x["seq"], x["answered"]) for x in p["pings"]] == [(0, True), (1, True), (2, False), (3, False),
                                                               (4, True)]
    assert p["pings"][1]["sent_t"] == 100.01 and p["pings"][1]["reply_t"] == 100.01125
    assert p["pings"][2]["reply_t"] is None
    assert ping_gaps(p["transmitted"], p["answered"]) == [(2, 3)]
    assert ping_gaps(6, [0, 2, 3]) == [(1, 1), (4, 5)]


def test_os_requests_from_facts():
    reqs = os_requests({"os_requests": [{"t": 5, "kind": "phy_off", "how": "ip link set wlan0 down"}]})
    assert [(r.t, r.kind, r.source) for r in reqs] == [(5.0, "phy_off", "ip link set wlan0 down")]


def evidence(judge: str, facts: dict) -> CaseEvidence:
    cfg = APConfigView(ssid=b"roamcert".hex(), channel=1, security="ft-psk")
    cur = APView("cur", AP_A, 2412, 81, cfg)
    dut = DutView("linux-wpas", DUT, frozenset({"commands"}))
    return CaseEvidence(judge, "IND-01", "ROAM to a BSS that is not on the air", {}, dut, {"cur": cur},
                        ProfileView(b"roamcert".hex(), "ft-psk", "roamcert-passphrase"), facts)


def test_absent_target_judge_blames_the_lab_for_a_second_bss_and_the_dut_for_an_attempt():
    ssid = bytes([0, 8]) + b"roamcert"
    quiet = Air(frames=[frame(1, 10.5, beacon(AP_A, ssid))])
    j = run(evidence("native.roam_to_absent_bss", {"t0": 10.0, "t1": 13.0}), quiet)
    got = {v.rule: v for v in j.verdicts}
    assert got["SCENARIO-ONE-BSS"].status == PASS and got["NO-ROAM-ON-AIR"].status == PASS
    # no ROAMING_START inside the empty-candidate window: IND-4 holds, and was judged
    assert got["IND-4"].status == PASS and got["IND-4-JUDGED"].status == PASS

    busy = Air(frames=[frame(1, 10.5, beacon(AP_A, ssid)), frame(2, 11.0, beacon(AP_B, ssid)),
                       frame(3, 9.0, auth(DUT, AP_B, 2)), frame(4, 11.5, auth(DUT, AP_B, 2))])
    j = run(evidence("native.roam_to_absent_bss", {"t0": 10.0, "t1": 13.0}), busy)
    got = {v.rule: v for v in j.verdicts}
    assert got["SCENARIO-ONE-BSS"].status == FAIL and got["SCENARIO-ONE-BSS"].layer == LAB
    assert got["NO-ROAM-ON-AIR"].status == FAIL and got["NO-ROAM-ON-AIR"].evidence == ("frame 4",)
