"""The oracle on the BTM requests of the coverage rows (suites/test_11v.py BTM-19..46): large
candidate lists over two bands, entries without a preference, the current BSS listed, a
candidate of other security, the Request Mode bits stated explicitly, and malformed lists.

Every request here is written octet by octet from the IEEE 802.11-2020 field layouts named
beside it (9.6.13.9 BSS Transition Management Request, 9.4.2.36 Neighbor Report element and
its subelements, 9.6.13.10 Response); nothing is built with engine/frames/build.py, so the
decoder and the prediction are checked against the layout, not against the oracle's own
builders. Where hostap's tests/hwsim/test_wnm.py asserts what wpa_supplicant 2.10 answers to
the same input, the test names it."""
import pytest

from engine import btm, mbo
from engine.candidates import Profile, ScanEntry
from engine.frames import btm_request_from, btm_response_from
from engine.verdict import FAIL, INFO, PASS

STA = "020000000100"
CUR, A, B = "020000000a00", "020000000b00", "020000000c00"  # 2.4 GHz, channels 1, 6, 11
D0, D1, D2 = "020000000d00", "020000000d01", "020000000d02"  # 5 GHz channel 36, VHT80
OPEN5 = "020000000d04"  # same SSID, open: other security
GHOST, GHOST5 = "02deadbeef01", "02deadbeef05"  # on no radio
SSID = b"roamcert"
PSK = frozenset({2})  # AKM suite 2, PSK
PROFILE = Profile(SSID, PSK)


def mac(h: str) -> str:
    return ":".join(h[i:i + 2] for i in range(0, 12, 2))


def entry(h, freq, ch, akms=PSK):
    return ScanEntry(mac(h), SSID, freq, ch, -30, akms)


AIR = [entry(CUR, 2412, 1), entry(A, 2437, 6), entry(B, 2462, 11), entry(D0, 5180, 36),
       entry(D1, 5180, 36), entry(D2, 5180, 36), entry(OPEN5, 5180, 36, frozenset())]


def el(eid: int, body: bytes) -> bytes:
    """Element / subelement (9.4.2.1, 9.4.3): ID 1 octet, Length 1 octet, body."""
    return bytes([eid, len(body)]) + body


def neighbor(bssid: str, subs: bytes = b"", op_class=81, channel=1, phy=7) -> bytes:
    """Neighbor Report element (ID 52, 9.4.2.36): BSSID 6, BSSID Information 4 (little
    endian; 0x8F = reachable, security, key scope, spectrum management), Operating Class 1,
    Channel Number 1, PHY Type 1, then optional subelements."""
    return el(52, bytes.fromhex(bssid) + (0x8F).to_bytes(4, "little") + bytes([op_class, channel, phy]) + subs)


def pref(p: int) -> bytes:
    return el(3, bytes([p]))  # BSS Transition Candidate Preference subelement (id 3), length 1


def wide80(seg0=42) -> bytes:
    # Wide Bandwidth Channel subelement (id 6): Channel Width, Center Frequency Segment 0, 1
    return el(6, bytes([1, seg0, 0]))


def tsf(offset=0, interval=100) -> bytes:
    return el(1, offset.to_bytes(2, "little") + interval.to_bytes(2, "little"))  # TSF Information


def btm_req(mode: int, tail: bytes = b"", token=7) -> bytes:
    """Management header (9.3.3.1: Frame Control d0 00, Duration, DA, SA, BSSID, Sequence
    Control), then the BTM Request body: Category 10, Action 7, Dialog Token, Request Mode,
    Disassociation Timer (2), Validity Interval, candidate list."""
    hdr = bytes.fromhex("d000" + "0000" + STA + CUR + CUR + "1000")
    return hdr + bytes([10, 7, token, mode]) + (0).to_bytes(2, "little") + bytes([255]) + tail


def btm_resp(status: int, target: str | None = None, token=7) -> bytes:
    """BTM Response (9.6.13.10): Category 10, Action 8, Dialog Token, Status Code, BSS
    Termination Delay, Target BSSID (with status 0)."""
    hdr = bytes.fromhex("d000" + "0000" + CUR + STA + CUR + "1000")
    return hdr + bytes([10, 8, token, status, 0]) + (bytes.fromhex(target) if target else b"")


def judge(req: bytes, resp: bytes | None, view=AIR):
    rq = btm_request_from(req)
    p = btm.predict(rq, mac(CUR), view, PROFILE)
    return rq, p, btm.validate(rq, btm_response_from(resp) if resp else None, p)


def st(vs, rule):
    return [v.status for v in vs if v.rule == rule]


def fails(vs):
    return [v for v in vs if v.status == FAIL]


PREF_ABRIDGED = 0x03  # Request Mode b0 Preferred Candidate List Included, b1 Abridged


def test_eight_entries_over_two_bands_decode_and_rank():
    # BTM-46: the seven other BSSs and one not on the air; 5 GHz ones in class 128 as VHT (9)
    lst = (neighbor(A, pref(60)) + neighbor(B, pref(50), channel=11)
           + neighbor(D0, wide80() + pref(200), 128, 36, 9) + neighbor(D1, wide80() + pref(120), 128, 36, 9)
           + neighbor(D2, wide80() + pref(40), 128, 36, 9) + neighbor(OPEN5, wide80() + pref(250), 128, 36, 9)
           + neighbor(GHOST5, pref(255), 115, 44) + neighbor(CUR, pref(20)))
    rq = btm_request_from(btm_req(PREF_ABRIDGED, lst))
    assert not rq.problems and len(rq.candidates) == 8
    d0 = next(c for c in rq.candidates if c.bssid == mac(D0))
    assert (d0.op_class, d0.channel, d0.phy_type, d0.preference) == (128, 36, 9, 200)
    p = btm.predict(rq, mac(CUR), AIR, PROFILE)
    # not on the air (GHOST5) and of other security (OPEN5) are no targets, even listed best;
    # the current BSS, listed with preference 20, is one (staying: a lower-preference choice)
    assert p.accept_targets == {mac(A), mac(B), mac(D0), mac(D1), mac(D2), mac(CUR)}
    assert p.preferred_targets == {mac(D0)}
    _, _, vs = judge(btm_req(PREF_ABRIDGED, lst), btm_resp(0, D1))
    assert st(vs, "BTM-TARGET-ALLOWED") == [PASS] and st(vs, "BTM-PREFERENCE") == [INFO]
    for bad in (GHOST5, OPEN5):
        _, _, vs = judge(btm_req(PREF_ABRIDGED, lst), btm_resp(0, bad))
        assert st(vs, "BTM-TARGET-ALLOWED") == [FAIL], bad


def test_other_security_candidate_alone_allows_no_accept():
    # BTM-43: the open BSS of the same SSID is not joinable with a PSK profile
    _, p, vs = judge(btm_req(PREF_ABRIDGED, neighbor(OPEN5, pref(255), 115, 36)), btm_resp(7))
    assert p.must_not_roam and not p.accept_targets and not fails(vs)
    _, _, vs = judge(btm_req(PREF_ABRIDGED, neighbor(OPEN5, pref(255), 115, 36)), btm_resp(0, OPEN5))
    assert st(vs, "BTM-STATUS") == [FAIL]


def test_entry_without_preference_is_a_candidate_ranked_below_one_with_a_preference():
    # BTM-19/20: 9.4.2.36 makes the Candidate Preference subelement optional
    _, p, _ = judge(btm_req(PREF_ABRIDGED, neighbor(A)), None)
    assert p.accept_targets == {mac(A)} and p.preferred_targets == {mac(A)}
    _, p, vs = judge(btm_req(PREF_ABRIDGED, neighbor(A) + neighbor(B, pref(100), channel=11)), btm_resp(0, A))
    assert p.accept_targets == {mac(A), mac(B)} and p.preferred_targets == {mac(B)}
    assert st(vs, "BTM-PREFERENCE") == [INFO] and not fails(vs)


def test_current_bss_listed_with_preference_zero_cannot_be_accepted():
    # BTM-22: preference 0 excludes the current BSS; accepting it (staying) fails
    lst = neighbor(CUR, pref(0)) + neighbor(A, pref(100))
    _, p, vs = judge(btm_req(PREF_ABRIDGED, lst), btm_resp(0, CUR))
    assert p.accept_targets == {mac(A)} and st(vs, "BTM-TARGET-ALLOWED") == [FAIL]
    _, _, vs = judge(btm_req(PREF_ABRIDGED, lst), btm_resp(0, A))
    assert not fails(vs)


def test_preferred_list_bit_clear_ranks_nothing():
    # BTM-24/25: Request Mode with b0 = 0 carries entries that are not a preferred list.
    # hostap test_wnm_bss_tm "Neighbor list entry, but not claimed as Preferred Candidate
    # List" asserts wpa_supplicant does not accept (it rejects with status 1).
    lst = neighbor(A, pref(10)) + neighbor(B, pref(200), channel=11)
    for mode in (0x00, 0x02):
        _, p, vs = judge(btm_req(mode, lst), btm_resp(1))
        assert not fails(vs) and st(vs, "BTM-STATUS") == [PASS]
        assert p.preferred_targets == p.accept_targets and mac(A) in p.accept_targets
        _, _, vs = judge(btm_req(mode, lst), btm_resp(0, A))
        assert st(vs, "BTM-PREFERENCE") == [] and st(vs, "BTM-TARGET-ALLOWED") == [PASS]
    # the same entries with b0 = 1 do rank: A is the lower preference
    _, _, vs = judge(btm_req(0x01, lst), btm_resp(0, A))
    assert st(vs, "BTM-PREFERENCE") == [INFO]


def test_torn_last_entry_allows_silence_and_an_accept_of_a_decoded_candidate():
    # BTM-31: the last Neighbor Report's Length (200) runs past the frame's end. hostap's
    # test_wnm_bss_tm_req "truncated entry" expects no response from wpa_supplicant.
    torn = bytes([52, 200]) + bytes.fromhex(B) + (0x8F).to_bytes(4, "little") + bytes([81, 11, 7])
    req = btm_req(PREF_ABRIDGED, neighbor(A, pref(255)) + torn)
    rq, p, vs = judge(req, None)
    assert rq.problems and [c.bssid for c in rq.candidates] == [mac(A)]
    assert st(vs, "BTM-RESPONSE") == [PASS] and not fails(vs)
    assert [v.layer for v in vs if v.rule == "BTM-REQUEST-FORMAT"] == ["reference AP"]
    _, _, vs = judge(req, btm_resp(0, A))
    assert not fails(vs)
    _, _, vs = judge(req, btm_resp(0, B))  # the torn entry did not decode: no target
    assert st(vs, "BTM-TARGET-ALLOWED") == [FAIL]


@pytest.mark.parametrize("what,lst", [
    # BTM-28: a zero-length Neighbor Report before a good entry
    ("zero-length entry", el(52, b"") + neighbor(A, pref(255))),
    # BTM-29: TSF Information subelement with Length 4 and one octet: a torn subelement
    ("truncated subelement", neighbor(A, pref(255) + bytes([1, 4, 0]))),
    # BTM-30: Candidate Preference of Length 0, beside a good entry
    ("zero-length preference", neighbor(A, el(3, b"")) + neighbor(B, pref(100), channel=11)),
])
def test_malformed_lists_accept_reject_or_silence(what, lst):
    req = btm_req(PREF_ABRIDGED, lst)
    rq, p, vs = judge(req, None)
    assert rq.problems, what
    assert st(vs, "BTM-RESPONSE") == [PASS] and not fails(vs)
    for resp in (btm_resp(7), btm_resp(1), btm_resp(0, A)):
        _, _, vs = judge(req, resp)
        assert not fails(vs), (what, resp.hex())
    _, _, vs = judge(req, btm_resp(0, GHOST))  # never a BSS that is not on the air
    assert st(vs, "BTM-TARGET-ALLOWED") == [FAIL]


def test_valid_optional_subelements_are_not_malformed():
    # BTM-26: hostap "lots of valid optional subelements"; TSF Information and Condensed Country
    lst = neighbor(A, tsf() + el(2, b"US") + pref(200)) + neighbor(B, tsf() + pref(100), channel=11)
    rq, p, vs = judge(btm_req(PREF_ABRIDGED, lst), None)
    assert not rq.problems and [c.preference for c in rq.candidates] == [200, 100]
    assert st(vs, "BTM-RESPONSE") == [FAIL]  # well formed: an answer is owed


# ---- Wi-Fi Alliance MBO attributes (engine/mbo.py; BTM-32..35) ---------------------------------
# The MBO element is a Vendor Specific element (ID 221, IEEE 802.11-2020 9.4.2.25): OUI
# 50 6f 9a, OUI type 0x16, then attributes of Attribute ID 1, Length 1, body. IDs: 5 Cellular
# Data Connection Preference, 6 Transition Reason Code, 7 Transition Rejection Reason Code,
# 8 Association Retry Delay (2 octets, seconds) - the MBO Technical Specification's Table 4-5.



def mbo_el(*attrs: bytes) -> bytes:
    return el(221, bytes.fromhex("506f9a16") + b"".join(attrs))


def attr(aid: int, body: bytes) -> bytes:
    return bytes([aid, len(body)]) + body


def test_mbo_attributes_of_a_request_are_decoded_and_checked():
    # hostapd BSS_TM_REQ ... disassoc_imminent=1 mbo=3:5:1 (test_wnm_bss_tm_req_with_mbo_ie)
    tail = neighbor(A, pref(255)) + mbo_el(attr(6, b"\x03"), attr(8, (5).to_bytes(2, "little")),
                                          attr(5, b"\x01"))
    rq = btm_request_from(btm_req(0x05, tail))
    assert not rq.problems and len(rq.candidates) == 1 and len(rq.vendor) == 1
    vs = mbo.check_request(rq.vendor, {"reason": 3, "cell_pref": 1, "retry_delay": 5}, rq.disassoc_imminent)
    assert [(v.rule, v.status, v.layer) for v in vs] == [("BTM-MBO-REQUEST", PASS, "reference AP"),
                                                         ("BTM-MBO-RETRY-DELAY", PASS, "reference AP")]
    assert "not IEEE" in vs[0].clause
    # the same delay without Disassociation Imminent, a reserved reason, a torn attribute
    rq = btm_request_from(btm_req(0x01, tail))
    assert st(mbo.check_request(rq.vendor, {"reason": 3}, rq.disassoc_imminent), "BTM-MBO-RETRY-DELAY") == [FAIL]
    for bad in (mbo_el(attr(6, b"\x0a")), mbo_el(attr(6, b"\x03\x00")), mbo_el(bytes([6, 4, 3]))):
        rq = btm_request_from(btm_req(0x01, neighbor(A, pref(255)) + bad))
        assert st(mbo.check_request(rq.vendor, {}, False), "BTM-MBO-REQUEST") == [FAIL], bad.hex()
    # no MBO element at all, or another WFA element (OUI type 0x10): the AP did not send one
    for tail in (b"", el(221, bytes.fromhex("506f9a10") + b"\x00")):
        rq = btm_request_from(btm_req(0x01, neighbor(A, pref(255)) + tail))
        assert st(mbo.check_request(rq.vendor, {"reason": 3}, False), "BTM-MBO-REQUEST") == [FAIL]


def test_mbo_rejection_reason_belongs_to_a_reject():
    def resp(status, *attrs, target=None):
        r = btm_response_from(btm_resp(status, target) + mbo_el(*attrs))
        return r, mbo.check_response(r.vendor, r.status)
    r, vs = resp(7, attr(7, b"\x04"))  # low RSSI
    assert r.status == 7 and st(vs, "BTM-MBO-REJECT-REASON") == [PASS] and st(vs, "BTM-MBO-RESPONSE") == [PASS]
    _, vs = resp(0, attr(7, b"\x04"), target=A)  # a rejection reason with an accept
    assert st(vs, "BTM-MBO-REJECT-REASON") == [FAIL]
    _, vs = resp(7, attr(7, b"\x07"))  # 7 is not in Table 4-21 (0-6)
    assert FAIL in st(vs, "BTM-MBO-REJECT-REASON") + st(vs, "BTM-MBO-RESPONSE")
    # a response without an MBO element is no fault: the STA need not be an MBO STA
    r = btm_response_from(btm_resp(7))
    assert st(mbo.check_response(r.vendor, r.status), "BTM-MBO-RESPONSE") == [INFO]
