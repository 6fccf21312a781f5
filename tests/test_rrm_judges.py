"""The 802.11k judges (engine/judges/rrm.py) on evidence built by hand: frames laid out
byte by byte from IEEE 802.11-2020 (9.3.3.2 beacon, 9.6.6.6/9.6.6.7 Neighbor Report
Request/Response, 9.4.2.36 Neighbor Report element, 9.4.2.20 Measurement Request element,
9.4.2.44 RM Enabled Capabilities), and DUT events from wpa_supplicant's own line formats."""
from __future__ import annotations

import json

from devices.wpas_log import parse_lines
from engine.air import Air
from engine.capture import Frame
from engine.evidence import APConfigView, APView, CaseEvidence, DutView, ProfileView
from engine.judges import run
from engine.verdict import FAIL, INFO, PASS, REFERENCE_AP

STA = "02:00:00:00:09:00"
AP1, AP2, AP3 = "02:00:00:00:01:00", "02:00:00:00:02:00", "02:00:00:00:03:00"
FAKE = "02:00:00:00:0b:0b"
SSID, ALT = b"roamcert", b"roamcert-alt"
LCI_REP = bytes.fromhex("010008" "0010" "52834d12efd2b08b9b4bf1cc2c000041")
CIVIC_REP = bytes.fromhex("01000b" "00" "00" "0a" "0002555301024341" "0000")


def m(a: str) -> bytes:
    return bytes.fromhex(a.replace(":", ""))


def mgmt(subtype: int, da: str, sa: str, bssid: str, body: bytes) -> bytes:
    """Frame Control (type 0, subtype), Duration, Address 1..3, Sequence Control (9.3.3.2)."""
    return bytes([subtype << 4, 0]) + b"\0\0" + m(da) + m(sa) + m(bssid) + b"\0\0" + body


def el(eid: int, body: bytes) -> bytes:
    return bytes([eid, len(body)]) + body


def nr_element(bssid: str, info: int, op_class: int, chan: int, phy: int, subs: bytes = b"") -> bytes:
    return el(52, m(bssid) + info.to_bytes(4, "little") + bytes([op_class, chan, phy]) + subs)


def nr_request(token: int, ssid: bytes | None = None, meas: bytes = b"") -> bytes:
    body = bytes([5, 4, token]) + (el(0, ssid) if ssid is not None else b"") + meas
    return mgmt(13, AP1, STA, AP1, body)


def nr_response(token: int, elements: bytes) -> bytes:
    return mgmt(13, STA, AP1, AP1, bytes([5, 5, token]) + elements)


def beacon_frame(bssid: str, ssid: bytes, rm_caps: bytes) -> bytes:
    fixed = bytes(8) + (100).to_bytes(2, "little") + (0x1011).to_bytes(2, "little")  # timestamp, interval, capability
    return mgmt(8, "ff:ff:ff:ff:ff:ff", bssid, bssid, fixed + el(0, ssid) + el(70, rm_caps))


def air(*raws: bytes) -> Air:
    return Air(frames=[Frame(i + 1, 100.0 + i, 105, 2412, -30, r) for i, r in enumerate(raws)])


def ap(role: str, bssid: str, ssid: bytes, channel: int) -> APView:
    return APView(role, bssid, 2407 + 5 * channel, 81, APConfigView(ssid.hex(), channel, "ft-psk"))


NEIGHBORS = [
    {"name": "other", "bssid": AP2, "ssid": SSID.hex(), "info": 0x8f, "op_class": 81, "chan": 6, "phy": 7,
     "pref": None, "lci": None, "civic": None},
    {"name": "fake", "bssid": FAKE, "ssid": SSID.hex(), "info": 0x0d, "op_class": 81, "chan": 11, "phy": 7,
     "pref": None, "lci": None, "civic": None},
    {"name": "alt", "bssid": AP3, "ssid": ALT.hex(), "info": 0x83, "op_class": 81, "chan": 11, "phy": 7,
     "pref": None, "lci": None, "civic": None},
]

OWN_ELEMENTS = nr_element(AP2, 0x8f, 81, 6, 7) + nr_element(FAKE, 0x0d, 81, 11, 7)

DUT_LINES = [
    "100.500000: wlan0: RRM: Notifying neighbor report (token = 1)",
    f"100.500001: wlan0: RRM-NEIGHBOR-REP-RECEIVED bssid={AP2} info=0x8f op_class=81 chan=6 phy_type=7",
    f"100.500002: wlan0: RRM-NEIGHBOR-REP-RECEIVED bssid={FAKE} info=0xd op_class=81 chan=11 phy_type=7",
]


def evidence(judge: str, params: dict, facts: dict, lines=DUT_LINES, aps=None) -> CaseEvidence:
    ev = CaseEvidence(judge, "NR-XX", "t", params, DutView("linux-wpas", STA, frozenset(), parse_lines(lines)),
                      aps or {"a": ap("a", AP1, SSID, 1), "b": ap("b", AP2, SSID, 6), "c": ap("c", AP3, ALT, 11)},
                      ProfileView(SSID.hex(), "ft-psk", "roamcert-passphrase"), facts)
    return CaseEvidence.from_dict(json.loads(json.dumps(ev.to_dict())))  # as the case folder holds it


def nr_facts(neighbors=NEIGHBORS, reply="OK\n"):
    return {"serving": "a", "neighbors": neighbors, "command": "NEIGHBOR_REP_REQUEST", "reply": reply, "dut_mark": 0}


def statuses(j) -> dict:
    out = {}
    for v in j.verdicts:
        out.setdefault(v.rule, []).append(v.status)
    return out


def test_conformant_neighbor_report_exchange_passes():
    a = air(nr_request(1), nr_response(1, OWN_ELEMENTS))
    j = run(evidence("rrm.neighbor_report", {"request": "", "ssid": None, "expect": "own"}, nr_facts()), a)
    st = statuses(j)
    assert all(s != FAIL for v in st.values() for s in v), [v.describe() for v in j.verdicts if v.status == FAIL]
    for rule in ("NR-CMD", "NR-REQUEST", "NR-REQ-DEST", "NR-REQ-SSID", "NR-REQ-LOCATION", "NR-RESPONSE",
                 "NR-TOKEN", "NR-AIR-SET", "NR-AIR-FIELDS", "NR-DUT-SET", "NR-DUT-FIELDS", "NR-DUT-CONSUMED"):
        assert st[rule][0] == PASS, rule
    assert st["NR-SUBELEMENTS"] == [PASS, PASS]
    assert "NR-REQ-MEAS-TOKEN" not in st  # no Measurement Request elements to judge


def test_an_entry_of_another_ess_in_the_response_fails_the_air_set():
    a = air(nr_request(1), nr_response(1, OWN_ELEMENTS + nr_element(AP3, 0x83, 81, 11, 7)))
    j = run(evidence("rrm.neighbor_report", {"request": "", "ssid": None, "expect": "own"}, nr_facts()), a)
    st = statuses(j)
    assert st["NR-AIR-SET"] == [FAIL] and st["NR-DUT-SET"] == [PASS]


def test_ssid_request_expects_the_named_ess():
    a = air(nr_request(1, ALT), nr_response(1, nr_element(AP3, 0x83, 81, 11, 7)))
    lines = [DUT_LINES[0], f"1.000000: wlan0: RRM-NEIGHBOR-REP-RECEIVED bssid={AP3} info=0x83 op_class=81 chan=11 phy_type=7"]
    j = run(evidence("rrm.neighbor_report", {"request": 'ssid="roamcert-alt"', "ssid": ALT.hex(), "expect": "alt"},
                     nr_facts(), lines), a)
    st = statuses(j)
    assert st["NR-REQ-SSID"] == [PASS] and st["NR-AIR-SET"] == [PASS] and st["NR-DUT-FIELDS"] == [PASS]
    # the same exchange judged as a request without an SSID element fails on the element
    j = run(evidence("rrm.neighbor_report", {"request": "", "ssid": None, "expect": "own"}, nr_facts(), lines), a)
    assert statuses(j)["NR-REQ-SSID"] == [FAIL]


def test_dut_reporting_a_wrong_channel_and_a_missed_response():
    a = air(nr_request(1), nr_response(1, OWN_ELEMENTS))
    lines = [f"1.000000: wlan0: RRM-NEIGHBOR-REP-RECEIVED bssid={AP2} info=0x8f op_class=81 chan=1 phy_type=7",
             f"1.000000: wlan0: RRM-NEIGHBOR-REP-RECEIVED bssid={FAKE} info=0xd op_class=81 chan=11 phy_type=7",
             "2.000000: wlan0: RRM: Notifying neighbor report - NONE"]
    j = run(evidence("rrm.neighbor_report", {"request": "", "ssid": None, "expect": "own"}, nr_facts(), lines), a)
    st = statuses(j)
    assert st["NR-DUT-SET"] == [PASS] and st["NR-DUT-FIELDS"] == [FAIL]
    consumed = next(v for v in j.verdicts if v.rule == "NR-DUT-CONSUMED")
    assert consumed.status == FAIL and consumed.observed == lines[2]


def test_location_reports_carry_the_requesting_tokens():
    meas = el(38, bytes([3, 0, 8]) + b"\x00\x00") + el(38, bytes([4, 0, 11]) + b"\x00")
    loc = [dict(n, lci=LCI_REP.hex(), civic=CIVIC_REP.hex()) if n["name"] != "alt" else n for n in NEIGHBORS]

    def with_reports(bssid, chan, info, lci_tok, civic_tok):
        subs = el(39, bytes([lci_tok]) + LCI_REP[1:]) + el(39, bytes([civic_tok]) + CIVIC_REP[1:])
        return nr_element(bssid, info, 81, chan, 7, subs)

    params = {"request": "lci civic", "ssid": None, "expect": "own", "location": True, "want_location": True}
    good = air(nr_request(1, None, meas), nr_response(1, with_reports(AP2, 6, 0x8f, 3, 4)
                                                      + with_reports(FAKE, 11, 0x0d, 3, 4)))
    st = statuses(run(evidence("rrm.neighbor_report", params, nr_facts(loc)), good))
    assert st["NR-REQ-LOCATION"] == [PASS] and st["NR-REQ-MEAS-TOKEN"] == [PASS]
    assert st["NR-LOCATION-8"] == [PASS, PASS] and st["NR-LOCATION-11"] == [PASS, PASS]
    assert st["NR-SUBELEMENTS"] == [PASS, PASS]  # the Measurement Report subelements are judged apart
    bad = air(nr_request(1, None, meas), nr_response(1, with_reports(AP2, 6, 0x8f, 4, 4)
                                                     + with_reports(FAKE, 11, 0x0d, 3, 4)))
    st = statuses(run(evidence("rrm.neighbor_report", params, nr_facts(loc)), bad))
    assert st["NR-LOCATION-8"] == [FAIL, PASS] and st["NR-LOCATION-11"] == [PASS, PASS]
    # the DUT's events carry the reports it got (lci=/civic= on RRM-NEIGHBOR-REP-RECEIVED)
    lines = [DUT_LINES[0]] + [
        f"1.000000: wlan0: RRM-NEIGHBOR-REP-RECEIVED bssid={b} info=0x{i:x} op_class=81 chan={c} phy_type=7 "
        f"lci={(bytes([3]) + LCI_REP[1:]).hex()} civic={(bytes([4]) + CIVIC_REP[1:]).hex()}"
        for b, i, c in ((AP2, 0x8f, 6), (FAKE, 0x0d, 11))]
    st = statuses(run(evidence("rrm.neighbor_report", params, nr_facts(loc), lines), good))
    assert st["NR-DUT-LOCATION"] == [PASS, PASS]
    st = statuses(run(evidence("rrm.neighbor_report", params, nr_facts(loc)), good))
    assert st["NR-DUT-LOCATION"] == [FAIL, FAIL]  # the DUT's lines carried no location


def test_no_request_to_an_ap_without_neighbor_report_capability():
    nonr = {"nonr": ap("nonr", AP1, b"roamcert-nonr", 6)}
    facts = {"serving": "nonr", "command": "NEIGHBOR_REP_REQUEST", "reply": "FAIL\n", "dut_mark": 0}
    refusal = ["5.000000: wlan0: RRM: No network support for Neighbor Report."]
    quiet = air(beacon_frame(AP1, b"roamcert-nonr", bytes([0x70, 0, 0, 0, 0])))
    j = run(evidence("rrm.neighbor_report_unsupported", {}, facts, refusal, nonr), quiet)
    got = {v.rule: v for v in j.verdicts}
    assert got["NR-AP-CAPS"].status == PASS and got["NR-AP-CAPS"].layer == REFERENCE_AP
    assert got["NR-NOT-SENT"].status == PASS
    assert got["NR-CMD-REFUSED"].status == INFO and got["NR-CMD-REFUSED"].observed == "FAIL; " + refusal[0]
    asked = air(beacon_frame(AP1, b"roamcert-nonr", bytes([0x72, 0, 0, 0, 0])), nr_request(1))
    st = statuses(run(evidence("rrm.neighbor_report_unsupported", {}, facts, refusal, nonr), asked))
    assert st["NR-AP-CAPS"] == [FAIL] and st["NR-NOT-SENT"] == [FAIL]


# ---- beacon requests in table mode (rrm.beacon, BCN-TABLE-ALL) ------------------------------

def rm_request(dialog: int, meas_body: bytes) -> bytes:
    """Radio Measurement Request (9.6.6.2: Category 5, Action 0, Dialog Token, Number of
    Repetitions) with one Measurement Request element (9.4.2.20: token, mode, type 5)."""
    return mgmt(13, STA, AP1, AP1, bytes([5, 0, dialog, 0, 0]) + el(38, bytes([1, 0, 5]) + meas_body))


def table_request(subs: bytes = b"") -> bytes:
    """Beacon request fields (9.4.2.20.7): op class 81, channel 0, Randomization Interval 0,
    Duration 0, Measurement Mode 2 (table), wildcard BSSID; then subelements."""
    return bytes([81, 0]) + (0).to_bytes(2, "little") + (0).to_bytes(2, "little") + bytes([2]) + bytes([0xFF] * 6) + subs


def rm_report(dialog: int, reports: list[bytes]) -> bytes:
    """Radio Measurement Report (9.6.6.3: Category 5, Action 1, Dialog Token) with
    Measurement Report elements (9.4.2.21: token, report mode, type 5, report)."""
    return mgmt(13, AP1, STA, AP1, bytes([5, 1, dialog]) + b"".join(reports))


def beacon_report_element(report_mode: int, bssid: str | None = None, channel: int = 1) -> bytes:
    """A Measurement Report element of type Beacon; with a BSSID, the Beacon report fields
    (9.4.2.21.7): op class, channel, actual start time (8), duration (2), reported frame
    information, RCPI, RSNI, BSSID, antenna ID, parent TSF (4); detail 0, no subelements."""
    rep = b""
    if bssid is not None:
        rep = bytes([81, channel]) + bytes(8) + (0).to_bytes(2, "little") + bytes([0, 100, 0]) + m(bssid) \
            + bytes([0]) + bytes(4)
    return el(39, bytes([1, report_mode, 5]) + rep)


def table_evidence(scan_table):
    return evidence("rrm.beacon", {"mode": 2}, {"serving": "a", "token": 7, "ap_mark": 0, "scan_table": scan_table},
                    lines=[], aps={"a": ap("a", AP1, SSID, 1), "b": ap("b", AP2, SSID, 6)})


BEACONS = (beacon_frame(AP1, SSID, bytes(5)), beacon_frame(AP2, SSID, bytes(5)))
DETAIL0 = el(2, bytes([0]))  # Reporting Detail 0 (9.4.2.20.7): no frame body to compare


def test_table_mode_incapable_answer_to_a_reporting_condition_is_no_table_to_compare():
    # Beacon Reporting subelement (id 1): condition 1, threshold 2 - incapable is a lawful answer
    a = air(*BEACONS, rm_request(7, table_request(el(1, bytes([1, 2])))), rm_report(7, [beacon_report_element(0x02)]))
    st = statuses(run(table_evidence([AP1, AP2]), a))
    assert st["BCN-MODE"] == [PASS]
    assert st["BCN-TABLE-ALL"] == [INFO]
    assert FAIL not in [s for v in st.values() for s in v]


def test_table_mode_silence_to_a_malformed_request_is_no_table_to_compare():
    # a zero-length Reporting Detail subelement: malformed, silence is acceptable
    a = air(*BEACONS, rm_request(7, table_request(el(2, b""))))
    st = statuses(run(table_evidence([AP1, AP2]), a))
    assert st["BCN-PRESENT"] == [PASS] and st["BCN-TABLE-ALL"] == [INFO]


def test_table_mode_report_missing_a_stored_bss_still_fails():
    a = air(*BEACONS, rm_request(7, table_request(DETAIL0)), rm_report(7, [beacon_report_element(0, AP1, 1)]))
    st = statuses(run(table_evidence([AP1, AP2]), a))
    assert st["BCN-TABLE-ALL"] == [FAIL]
    both = air(*BEACONS, rm_request(7, table_request(DETAIL0)),
               rm_report(7, [beacon_report_element(0, AP1, 1), beacon_report_element(0, AP2, 6)]))
    assert statuses(run(table_evidence([AP1, AP2]), both))["BCN-TABLE-ALL"] == [PASS]


def test_request_lost_by_the_capture_is_the_labs_when_hostapd_saw_it_acked():
    """The DUT's report is on the air but the request is not: with hostapd's
    BEACON-REQ-TX-STATUS ack=1 for that token the capture lost the frame (lab); without it
    the reference AP did not send it."""
    a = air(*BEACONS, rm_report(7, [beacon_report_element(0, AP1, 1)]))
    sent = ap("a", AP1, SSID, 1)
    sent.ap_events = [(100.0, f"<3>BEACON-REQ-TX-STATUS {STA} 7 ack=1")]
    ev = evidence("rrm.beacon", {"mode": 2}, {"serving": "a", "token": 7, "ap_mark": 0, "scan_table": None},
                  lines=[], aps={"a": sent, "b": ap("b", AP2, SSID, 6)})
    (v,) = [v for v in run(ev, a).verdicts if v.rule == "BCN-REQUEST-SENT"]
    assert v.status == FAIL and v.layer == "lab" and "capture lost it" in v.message
    (w,) = [v for v in run(table_evidence(None), a).verdicts if v.rule == "BCN-REQUEST-SENT"]
    assert w.status == FAIL and w.layer == REFERENCE_AP


def test_beacon_request_after_a_measurement_pause_is_found_and_judged():
    """A Measurement Pause element (type 255, Pause Time 10 x 10 TU) before the Beacon request
    in one Radio Measurement Request: the request is still read and the report judged."""
    pause = el(38, bytes([1, 0, 255]) + (10).to_bytes(2, "little"))
    beacon_req = el(38, bytes([2, 0, 5]) + table_request(DETAIL0))
    frame = mgmt(13, STA, AP1, AP1, bytes([5, 0, 7, 0, 0]) + pause + beacon_req)
    a = air(*BEACONS, frame, rm_report(7, [beacon_report_element(0, AP1, 1), beacon_report_element(0, AP2, 6)]))
    st = statuses(run(table_evidence([AP1, AP2]), a))
    assert st["BCN-REQUEST-SENT"] == [PASS] and st["BCN-TABLE-ALL"] == [PASS]


def test_an_ap_without_a_beacon_in_the_capture_is_the_labs_gap_not_a_crash():
    """AP2 answered probes but the capture holds none of its Beacons: the case is judged,
    the gap is a FAIL of the lab, the DUT's report of AP2 is judged for its BSSID only."""
    a = air(BEACONS[0], rm_request(7, table_request(DETAIL0)),
            rm_report(7, [beacon_report_element(0, AP1, 1), beacon_report_element(0, AP2, 6)]))
    j = run(table_evidence([AP1, AP2]), a)
    (gap,) = [v for v in j.verdicts if v.rule == "BCN-GROUND-TRUTH"]
    # detail 0: no body to judge, so the gap costs nothing and is only noted
    assert gap.status == INFO and gap.layer == "lab" and AP2 in gap.observed
    st = statuses(j)
    assert st["BCN-TABLE-ALL"] == [PASS] and FAIL not in st["BCN-BSSID-MAY"]
    assert not [v for v in j.verdicts if v.status == FAIL]


def test_a_reported_body_without_ground_truth_fails_on_the_lab():
    """A detail-2 report of AP2 carries a frame body (subelement 1: fixed fields and an SSID
    element) but the capture has no Beacon of AP2: the lab fails, the DUT is not blamed."""
    body = bytes(8) + (100).to_bytes(2, "little") + (0x1011).to_bytes(2, "little") + el(0, SSID)
    rep = el(39, bytes([1, 0, 5]) + bytes([81, 6]) + bytes(8) + bytes(2) + bytes([0, 100, 0]) + m(AP2)
             + bytes([0]) + bytes(4) + el(1, body))
    a = air(BEACONS[0], rm_request(7, table_request()), rm_report(7, [rep]))
    j = run(table_evidence([AP2]), a)
    fails = [v for v in j.verdicts if v.status == FAIL]
    assert [(v.rule, v.layer) for v in fails] == [("BCN-GROUND-TRUTH", "lab")], [v.describe() for v in fails]
