"""Beacon request / report (IEEE 802.11-2020 11.10.9.3, 9.4.2.20.7, 9.4.2.21.7).
Ground-truth beacon bodies are written out byte by byte from the Beacon frame body
layout (9.3.3.2: Timestamp 8, Beacon Interval 2, Capability 2, then elements) and the
element formats (9.4.2.1: ID, Length, body)."""
import pytest

from engine import beacon as bc
from engine.models import AirBSS, BeaconReport, BeaconRequest
from engine.verdict import FAIL, INFO, PASS

A, B, C, D = "02:00:00:00:00:0a", "02:00:00:00:00:0b", "02:00:00:00:00:0c", "02:00:00:00:00:0d"
W = "ff:ff:ff:ff:ff:ff"

TS = bytes.fromhex("0807060504030201")  # timestamp, varies per beacon
INTERVAL = bytes.fromhex("6400")  # 100 TU
CAP = bytes.fromhex("1104")  # ESS | Privacy | Short Slot Time
SSID_LAB = bytes.fromhex("00036c6162")  # SSID "lab"
SSID_OTHER = bytes.fromhex("00056f74686572")  # SSID "other"
RATES = bytes.fromhex("010882848b960c121824")
DS = {1: bytes.fromhex("030101"), 6: bytes.fromhex("030106"), 36: bytes.fromhex("030124")}
TIM = bytes.fromhex("050400020000")  # DTIM count 0, DTIM period 2, bitmap control 0, PVB 00
# RSN: version 1, group CCMP, 1 pairwise CCMP, 1 AKM PSK (00-0F-AC:2), capabilities 0x000c
RSN = bytes.fromhex("3014" "0100" "000fac04" "0100" "000fac04" "0100" "000fac02" "0c00")
VENDOR200 = bytes([221, 200]) + bytes([0x00, 0x50, 0xF2, 0x99]) + bytes(196)


def body(ssid_el, ch, *extra):
    return TS + INTERVAL + CAP + ssid_el + RATES + DS[ch] + TIM + RSN + b"".join(extra)


AIR = [
    AirBSS(A, b"lab", 6, 81, 2437, body(SSID_LAB, 6)),
    AirBSS(B, b"lab", 1, 81, 2412, body(SSID_LAB, 1)),
    AirBSS(C, b"other", 6, 81, 2437, body(SSID_OTHER, 6)),
    AirBSS(D, b"lab", 36, 115, 5180, body(SSID_LAB, 36)),
]
BODY = {a.bssid: a.beacon_body for a in AIR}
CH = {a.bssid: (a.op_class, a.channel) for a in AIR}


def rq(mode=0, op=81, ch=6, bssid=W, ssid=None, detail=None, ids=None, apcr=(), last=False, duration=100):
    return BeaconRequest(token=5, op_class=op, channel=ch, randomization_interval=0, duration=duration,
                         mode=mode, bssid=bssid, ssid=ssid, reporting_detail=detail, request_ids=ids,
                         ap_channel_reports=apcr, last_indication=last)


def rep(b, body_=None, token=5, mode=0, chan=None, frag=None, last=None):
    op, ch = CH.get(b, (81, 6))
    return BeaconReport(token=token, mode=mode, op_class=op, channel=ch if chan is None else chan, bssid=b,
                        frame_body=BODY.get(b) if body_ is None else body_, frame_body_fragment=frag,
                        last_indication=last)


def st(vs, rule):
    return [v.status for v in vs if v.rule == rule]


def judge(request, reports, dut=None, air=AIR):
    p = bc.predict(request, air, dut)
    return p, bc.validate(request, reports, p)


# ---- which BSSIDs (11.10.9.3: report every BSS found on the measured channel(s) that matches
# the BSSID and SSID fields; the BSSID field is wildcard or one BSSID) ----

def test_passive_on_one_channel():
    p, vs = judge(rq(), [rep(A), rep(C)])
    assert p.must == {A, C} == p.may
    assert set(st(vs, "BCN-BSSID-MUST")) == {PASS} and set(st(vs, "BCN-BSSID-MAY")) == {PASS}
    assert set(st(vs, "BCN-BODY-ELEMENTS")) == {PASS} and set(st(vs, "BCN-TOKEN")) == {PASS}


def test_missing_bss_and_bss_from_other_channel_fail():
    _, vs = judge(rq(), [rep(A), rep(B)])
    assert st(vs, "BCN-BSSID-MUST") == [FAIL]  # C missing
    assert FAIL in st(vs, "BCN-BSSID-MAY")  # B is on channel 1


def test_ssid_and_bssid_filters():
    p, vs = judge(rq(ssid=b"lab"), [rep(A), rep(C)])
    assert p.must == {A} and FAIL in st(vs, "BCN-BSSID-MAY")
    p, _ = judge(rq(bssid=C), [])
    assert p.must == {C}


def test_channel_zero_iterates_the_op_class_and_255_uses_ap_channel_report():
    assert bc.predict(rq(ch=0), AIR).must == {A, B, C}
    assert bc.predict(rq(ch=255, apcr=((81, (1,)),)), AIR).must == {B}
    assert bc.predict(rq(op=115, ch=0), AIR).must == {D}


def test_short_passive_dwell_makes_it_may():
    p = bc.predict(rq(duration=50), AIR)  # 50 TU < 100 TU beacon interval
    assert p.must == set() and p.may == {A, C}


def test_unknown_op_class_or_unadvertised_mode_allows_only_incapable_or_refused():
    p, vs = judge(rq(op=99, ch=0), [rep(A)])
    assert p.allowed_modes == {bc.REPORT_INCAPABLE, bc.REPORT_REFUSED}
    assert st(vs, "BCN-MODE") == [FAIL]
    _, vs = judge(rq(op=99, ch=0), [BeaconReport(token=5, mode=bc.REPORT_INCAPABLE)])
    assert st(vs, "BCN-MODE") == [PASS]
    # 11.10.6: a STA may refuse; incapable is wrong for a mode it advertised and an op class it knows
    assert st(judge(rq(), [BeaconReport(token=5, mode=bc.REPORT_REFUSED)])[1], "BCN-MODE") == [INFO]
    assert st(judge(rq(), [BeaconReport(token=5, mode=bc.REPORT_INCAPABLE)])[1], "BCN-MODE") == [FAIL]
    dut = bc.BeaconDut(modes=frozenset({bc.PASSIVE}))
    _, vs = judge(rq(mode=bc.TABLE), [BeaconReport(token=5, mode=bc.REPORT_REFUSED)], dut)
    assert st(vs, "BCN-MODE") == [PASS]


def test_table_mode_is_may_only_and_rejects_phantoms():
    p, vs = judge(rq(mode=bc.TABLE, ch=0), [rep(B)], bc.BeaconDut(cache=frozenset({A, B})))
    assert p.must == set() and p.may == {A, B}
    assert st(vs, "BCN-BSSID-MUST") == [PASS] and st(vs, "BCN-BSSID-MAY") == [PASS]
    _, vs = judge(rq(mode=bc.TABLE), [rep("02:00:00:00:00:99", TS + INTERVAL + CAP)])
    assert FAIL in st(vs, "BCN-BSSID-MAY")


def test_empty_report_only_when_nothing_is_due():
    empty = BeaconReport(token=5, mode=0)
    assert st(judge(rq(mode=bc.TABLE), [empty])[1], "BCN-BSSID-MUST") == [PASS]
    assert st(judge(rq(), [empty])[1], "BCN-BSSID-MUST") == [FAIL]


def test_token_channel_and_op_class():
    _, vs = judge(rq(bssid=A), [rep(A, token=6, chan=7)])
    assert st(vs, "BCN-TOKEN") == [FAIL] and st(vs, "BCN-CHANNEL") == [FAIL]
    r = BeaconReport(token=5, mode=0, op_class=115, channel=6, bssid=A, frame_body=BODY[A])
    assert st(judge(rq(bssid=A), [r])[1], "BCN-OPCLASS") == [FAIL]  # 115 holds no channel 6


def test_measurement_token_and_dialog_token_when_both_known():
    r = BeaconRequest(5, 81, 6, 0, 100, 0, bssid=A, dialog_token=9)
    good = BeaconReport(token=9, mode=0, op_class=81, channel=6, bssid=A, frame_body=BODY[A], measurement_token=5)
    bad = BeaconReport(token=9, mode=0, op_class=81, channel=6, bssid=A, frame_body=BODY[A], measurement_token=6)
    p = bc.predict(r, AIR)
    assert st(bc.validate(r, [good], p), "BCN-TOKEN") == [PASS, PASS]
    assert FAIL in st(bc.validate(r, [bad], p), "BCN-TOKEN")


# ---- frame bodies (9.4.2.21.7 Reported Frame Body; reporting detail 0/1/2) ----

def test_detail_zero_means_no_body():
    assert st(judge(rq(bssid=A, detail=0), [rep(A)])[1], "BCN-BODY") == [FAIL]
    r = BeaconReport(token=5, mode=0, op_class=81, channel=6, bssid=A)
    assert st(judge(rq(bssid=A, detail=0), [r])[1], "BCN-BODY") == [PASS]


def test_detail_one_carries_fixed_fields_and_requested_ids_only():
    want = TS + INTERVAL + CAP + SSID_LAB + RSN  # IDs 0 and 48, in frame order
    req = rq(bssid=A, detail=1, ids=(48, 0))
    assert st(judge(req, [rep(A, want)])[1], "BCN-BODY-ELEMENTS") == [PASS]
    with_rates = TS + INTERVAL + CAP + SSID_LAB + RATES + RSN
    assert st(judge(req, [rep(A, with_rates)])[1], "BCN-BODY-ELEMENTS") == [FAIL]
    swapped = TS + INTERVAL + CAP + RSN + SSID_LAB
    assert st(judge(req, [rep(A, swapped)])[1], "BCN-BODY-ELEMENTS") == [FAIL]
    forged = TS + INTERVAL + CAP + SSID_LAB + RSN[:-2] + bytes.fromhex("0000")
    assert st(judge(req, [rep(A, forged)])[1], "BCN-BODY-ELEMENTS") == [FAIL]
    missing = TS + INTERVAL + CAP + SSID_LAB  # RSN would have fitted
    assert st(judge(req, [rep(A, missing)])[1], "BCN-BODY-ELEMENTS") == [FAIL]


def test_detail_one_without_request_subelement_is_fixed_fields_only():
    # 9.4.2.20.7: detail 1 reports the fixed fields plus the elements the Request subelement
    # names; with no Request subelement no element is named, so only the 12 fixed octets remain.
    req = rq(bssid=A, detail=1, ids=None)
    assert st(judge(req, [rep(A, TS + INTERVAL + CAP)])[1], "BCN-BODY-ELEMENTS") == [PASS]
    assert st(judge(req, [rep(A, TS + INTERVAL + CAP + SSID_LAB)])[1], "BCN-BODY-ELEMENTS") == [FAIL]


def test_detail_two_fixed_fields():
    other_ts = bytes(8) + INTERVAL + CAP + BODY[A][12:]
    assert st(judge(rq(bssid=A), [rep(A, other_ts)])[1], "BCN-BODY-FIXED") == [PASS]  # timestamp moves
    other_cap = TS + INTERVAL + bytes.fromhex("0104") + BODY[A][12:]
    assert st(judge(rq(bssid=A), [rep(A, other_cap)])[1], "BCN-BODY-FIXED") == [FAIL]
    assert st(judge(rq(bssid=A), [rep(A, TS[:5])])[1], "BCN-BODY-FIXED") == [FAIL]


def test_tim_compares_only_the_dtim_period():
    count3 = BODY[A].replace(TIM, bytes.fromhex("050403020000"))
    assert st(judge(rq(bssid=A), [rep(A, count3)])[1], "BCN-BODY-ELEMENTS") == [PASS]
    period1 = BODY[A].replace(TIM, bytes.fromhex("050400010000"))
    assert st(judge(rq(bssid=A), [rep(A, period1)])[1], "BCN-BODY-ELEMENTS") == [FAIL]


BIG = TS + INTERVAL + CAP + SSID_LAB + RATES + DS[6] + TIM + VENDOR200  # 36 + 202 octets
BIG_AIR = [AirBSS(A, b"lab", 6, 81, 2437, BIG)]


def test_body_cut_where_the_next_element_does_not_fit():
    # 36 octets used; the 202-octet vendor element would take it to 238 > 224.
    ok = BIG[:36]
    assert st(judge(rq(bssid=A), [rep(A, ok)], air=BIG_AIR)[1], "BCN-BODY-ELEMENTS") == [PASS]
    short = BIG[:29]  # stops before the DS element, which would have fitted
    assert st(judge(rq(bssid=A), [rep(A, short)], air=BIG_AIR)[1], "BCN-BODY-ELEMENTS") == [FAIL]
    assert st(judge(rq(bssid=A), [rep(A, BIG)], air=BIG_AIR)[1], "BCN-BODY-SIZE") == [FAIL]


def test_fragmented_body_reassembles():
    # Fragment ID subelement data: Beacon Report ID, then Fragment ID Number (b0-6) | More (b7).
    f0 = rep(A, BIG[:36], frag=bytes([1, 0x80]))
    f1 = rep(A, VENDOR200, frag=bytes([1, 0x01]))
    _, vs = judge(rq(bssid=A), [f1, f0], air=BIG_AIR)
    assert st(vs, "BCN-BODY-ELEMENTS") == [PASS] and st(vs, "BCN-BODY-FRAGMENTS") == [PASS]
    _, vs = judge(rq(bssid=A), [f0], air=BIG_AIR)
    assert st(vs, "BCN-BODY-FRAGMENTS") == [FAIL]  # says more follow, none did


def test_active_mode_accepts_the_probe_response_body():
    probe = TS + INTERVAL + CAP + SSID_LAB + RATES + DS[6] + RSN  # no TIM in a probe response
    air = [AirBSS(A, b"lab", 6, 81, 2437, BODY[A], extra={"probe_response_body": probe})]
    assert st(judge(rq(mode=bc.ACTIVE, bssid=A), [rep(A, probe)], air=air)[1], "BCN-BODY-ELEMENTS") == [PASS]
    assert st(judge(rq(mode=bc.PASSIVE, bssid=A), [rep(A, probe)], air=air)[1], "BCN-BODY-ELEMENTS") == [FAIL]


def test_malformed_body_is_a_finding():
    torn = TS + INTERVAL + CAP + bytes.fromhex("0009616263")
    assert st(judge(rq(bssid=A), [rep(A, torn)])[1], "BCN-BODY-ELEMENTS") == [FAIL]
    _, vs = judge(rq(bssid=A), [rep(A, frag=b"\x01")])
    assert st(vs, "BCN-BODY") == [FAIL]


# ---- Last Beacon Report Indication (subelement 164): requested -> present, 1 on the last only ----

def test_last_indication():
    req = rq(last=True)
    assert st(judge(req, [rep(A, last=False), rep(C, last=True)])[1], "BCN-LAST") == [PASS, PASS]
    assert st(judge(req, [rep(A, last=True), rep(C, last=True)])[1], "BCN-LAST") == [FAIL, PASS]
    assert st(judge(req, [rep(A), rep(C)])[1], "BCN-LAST") == [FAIL, FAIL]
    assert st(judge(rq(), [rep(A, last=False), rep(C, last=True)])[1], "BCN-LAST") == [INFO]


def test_no_reports_at_all():
    assert st(judge(rq(), [])[1], "BCN-PRESENT") == [FAIL]


def test_bad_ground_truth_is_a_clear_error():
    with pytest.raises(bc.BeaconInputError, match="fixed fields"):
        bc.predict(rq(), [AirBSS(A, b"lab", 6, 81, 2437, b"\x00" * 5)])
