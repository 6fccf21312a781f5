"""BTM prediction and validation (IEEE 802.11-2020 11.24.7, 9.6.13.9/10, Table 9-428).
Expected outcomes are derived from the standard's rules named in each test."""
import pytest

from engine import btm
from engine.candidates import Profile, ScanEntry
from engine.models import BTMRequest, BTMResponse, NeighborEntry
from engine.verdict import FAIL, INFO, PASS

SSID = b"lab"
CUR, X, Y, Z = "02:00:00:00:00:01", "02:00:00:00:00:0a", "02:00:00:00:00:0b", "02:00:00:00:00:0c"
PROFILE = Profile(SSID, frozenset({"PSK"}))
VIEW = [ScanEntry(b, SSID, 2412, 1, -50, ("PSK",)) for b in (CUR, X, Y, Z)]


def nr(b, pref):
    return NeighborEntry(b, 0, 81, 1, 7, preference=pref)


def req(cands, mode=0x01, token=7, validity=0):
    return BTMRequest(token, mode, 0, validity, tuple(cands))


def st(vs, rule):
    return [v.status for v in vs if v.rule == rule]


# ---- real data: shared/data/esp32/roaming_example_btm_roam.log, read by eye ----
# "BSS Transition Management Request: dialog_token=1 request_mode=0x1 disassoc_timer=0 validity_interval=1"
# "0: b4:e6:2d:eb:1d:76 info=0x0 op_class=81 chan=1 phy=7 pref=255"
# "BSS: Add new id 12 BSSID b4:e6:2d:eb:1d:76 SSID 'roaming_test123' chan 6", WPA2-PSK, rssi -7
# "Send BSS Transition Management Response to 50:3e:aa:26:35:42 dialog_token=1 status=0" at 382009 ms,
# "state: init -> auth" at 384689 ms, "connected with roaming_test123 ... bssid = b4:e6:2d:eb:1d:76"
# "Candidate list valid for 102 ms", "AP's beacon interval = 102400 us"
def test_esp32_log_exchange():
    tgt = "b4:e6:2d:eb:1d:76"
    r = BTMRequest(1, 0x1, 0, 1, (NeighborEntry(tgt, 0, 81, 1, 7, preference=255),))
    view = [ScanEntry(tgt, b"roaming_test123", 2437, 6, -7, ("PSK",))]
    p = btm.predict(r, "50:3e:aa:26:35:42", view, Profile(b"roaming_test123", frozenset({"PSK"})))
    assert p.accept_targets == {tgt} and p.preferred_targets == {tgt}
    assert round(p.valid_for_s * 1000) == 102  # the DUT's own "valid for 102 ms"
    tl = btm.Timeline(379.479, 382.009, 384.689, tgt)
    vs = btm.validate(r, BTMResponse(1, 0, target=tgt), p, tl)
    for rule in ("BTM-TOKEN", "BTM-STATUS", "BTM-TARGET-PRESENT", "BTM-TARGET-ALLOWED", "BTM-ORDER",
                 "BTM-ROAM-TARGET"):
        assert st(vs, rule) == [PASS], rule
    assert st(vs, "BTM-VALIDITY") == [INFO]  # answered 2.5 s after a 102 ms list: noted, not judged


# ---- prediction ----

def test_preference_zero_is_excluded():
    # 9.4.2.36: a Preference of 0 marks an excluded BSS.
    p = btm.predict(req([nr(X, 0), nr(Y, 100)]), CUR, VIEW, PROFILE)
    assert X not in p.accept_targets and Y in p.accept_targets
    vs = btm.validate(req([nr(X, 0), nr(Y, 100)]), BTMResponse(7, 0, target=X), p)
    assert st(vs, "BTM-TARGET-ALLOWED") == [FAIL]


def test_abridged_gives_unlisted_preference_zero():
    # 9.6.13.9 Abridged = 1: BSSs not in the list get preference 0; = 0: no preference given.
    ab = btm.predict(req([nr(Y, 100)], mode=0x03), CUR, VIEW, PROFILE)
    assert ab.accept_targets == {Y}
    free = btm.predict(req([nr(Y, 100)], mode=0x01), CUR, VIEW, PROFILE)
    assert free.accept_targets == {X, Y, Z} and free.preferred_targets == {Y}


def test_lower_preference_target_is_info_or_fail_when_strict():
    r = req([nr(X, 50), nr(Y, 200)])
    p = btm.predict(r, CUR, VIEW, PROFILE)
    assert p.preferred_targets == {Y}
    assert st(btm.validate(r, BTMResponse(7, 0, target=X), p), "BTM-PREFERENCE") == [INFO]
    ps = btm.predict(r, CUR, VIEW, PROFILE, btm.DutSettings(strict_preference=True))
    assert st(btm.validate(r, BTMResponse(7, 0, target=X), ps), "BTM-PREFERENCE") == [FAIL]
    assert st(btm.validate(r, BTMResponse(7, 0, target=Y), ps), "BTM-PREFERENCE") == []


def test_listed_candidate_not_on_the_air_cannot_be_accepted():
    # The scan view is the air. Status 0 names the BSS the STA transitions to (9.6.13.10);
    # a BSS that is not on the air cannot be joined, so "accepting" it is no transition.
    far = "02:00:00:00:00:99"
    r = req([nr(far, 255), nr(Y, 100)])
    p = btm.predict(r, CUR, VIEW, PROFILE)
    assert far not in p.accept_targets and p.preferred_targets == {Y}
    vs = btm.validate(r, BTMResponse(7, 0, target=far), p)
    assert st(vs, "BTM-TARGET-ALLOWED") == [FAIL]
    assert st(btm.validate(r, BTMResponse(7, 0, target=Y), p), "BTM-TARGET-ALLOWED") == [PASS]
    # the only listed candidate is off the air: no acceptable target, so status 0 itself fails
    r1 = req([nr(far, 255)], mode=0x03)
    p1 = btm.predict(r1, CUR, VIEW, PROFILE)
    assert st(btm.validate(r1, BTMResponse(7, 0, target=far), p1), "BTM-STATUS") == [FAIL]


def test_current_listed_best_means_staying_is_fine():
    p = btm.predict(req([nr(CUR, 255), nr(Y, 10)], mode=0x03), CUR, VIEW, PROFILE)
    assert p.stay_acceptable and 7 in p.reject_statuses


def test_all_excluded_abridged_means_no_accept():
    r = req([nr(X, 0)], mode=0x03 | 0x04)
    p = btm.predict(r, CUR, VIEW, PROFILE)
    assert p.must_not_roam and not p.may_accept and p.should_roam
    assert st(btm.validate(r, BTMResponse(7, 0, target=X), p), "BTM-STATUS") == [FAIL]
    assert st(btm.validate(r, BTMResponse(7, 7), p), "BTM-STATUS") == [PASS]


@pytest.mark.parametrize("mode,status,ok", [
    (0x01, 4, False), (0x01, 5, False),  # termination codes need the BSS Termination Included bit
    (0x09, 4, True), (0x09, 5, True),
    (0x01, 9, False), (0x01, 255, False),  # reserved in Table 9-428
    (0x01, 1, True), (0x01, 8, True),
])
def test_status_set(mode, status, ok):
    r = req([nr(Y, 100)], mode=mode)
    p = btm.predict(r, CUR, VIEW, PROFILE)
    vs = btm.validate(r, BTMResponse(7, status, candidates=(nr(Y, 1),) if status == 6 else ()), p)
    assert st(vs, "BTM-STATUS") == [PASS if ok else FAIL]


def test_dut_configured_to_reject():
    p = btm.predict(req([nr(Y, 100)]), CUR, VIEW, PROFILE, btm.DutSettings(reject_status=1))
    assert p.allowed_statuses() == {1}


# ---- validation of the response frame (9.6.13.10) ----

def test_token_must_echo():
    r = req([nr(Y, 100)])
    p = btm.predict(r, CUR, VIEW, PROFILE)
    assert st(btm.validate(r, BTMResponse(8, 0, target=Y), p), "BTM-TOKEN") == [FAIL]
    assert st(btm.validate(r, BTMResponse(7, 0, target=Y), p), "BTM-TOKEN") == [PASS]


def test_target_present_iff_status_zero():
    r = req([nr(Y, 100)])
    p = btm.predict(r, CUR, VIEW, PROFILE)
    assert st(btm.validate(r, BTMResponse(7, 0), p), "BTM-TARGET-PRESENT") == [FAIL]
    assert st(btm.validate(r, BTMResponse(7, 7, target=Y), p), "BTM-TARGET-PRESENT") == [FAIL]
    assert st(btm.validate(r, BTMResponse(7, 7), p), "BTM-TARGET-PRESENT") == [PASS]


def test_status_six_needs_a_candidate_list():
    r = req([nr(Y, 100)])
    p = btm.predict(r, CUR, VIEW, PROFILE)
    assert st(btm.validate(r, BTMResponse(7, 6), p), "BTM-CANDIDATE-LIST") == [FAIL]
    assert st(btm.validate(r, BTMResponse(7, 6, candidates=(nr(X, 9),)), p), "BTM-CANDIDATE-LIST") == [PASS]


def test_missing_response():
    r = req([nr(Y, 100)])
    assert st(btm.validate(r, None, btm.predict(r, CUR, VIEW, PROFILE)), "BTM-RESPONSE") == [FAIL]
    off = btm.predict(r, CUR, VIEW, PROFILE, btm.DutSettings(btm_supported=False))
    assert st(btm.validate(r, None, off), "BTM-RESPONSE") == [PASS]


# ---- ordering and the roam itself ----

def test_response_after_reassociation_fails():
    r = req([nr(Y, 100)])
    p = btm.predict(r, CUR, VIEW, PROFILE)
    vs = btm.validate(r, BTMResponse(7, 0, target=Y), p, btm.Timeline(1.0, 3.0, 2.0, Y))
    assert st(vs, "BTM-ORDER") == [FAIL]


def test_roam_to_other_than_announced_target_fails():
    r = req([nr(Y, 100)])
    p = btm.predict(r, CUR, VIEW, PROFILE)
    vs = btm.validate(r, BTMResponse(7, 0, target=Y), p, btm.Timeline(1.0, 1.1, 1.2, X))
    assert st(vs, "BTM-ROAM-TARGET") == [FAIL]


def test_roam_after_reject():
    r = req([nr(Y, 100)], mode=0x05)
    p = btm.predict(r, CUR, VIEW, PROFILE)
    assert st(btm.validate(r, BTMResponse(7, 7), p, btm.Timeline(1.0, 1.1, 1.5, Y)), "BTM-NO-ROAM") == [FAIL]
    forced = btm.Timeline(1.0, 1.1, 1.5, Y, disassociated_t=1.3)  # the AP threw it out first
    assert st(btm.validate(r, BTMResponse(7, 7), p, forced), "BTM-NO-ROAM") == [INFO]
    assert st(btm.validate(r, BTMResponse(7, 7), p, btm.Timeline(1.0, 1.1)), "BTM-NO-ROAM") == [PASS]


# ---- the current BSS as the accepted target ----
# Independent truth: hostap's own hwsim test_wnm.py::test_wnm_bss_tm (hostap_2_10), "Preferred
# Candidate List with two matches, no roam needed": the STA on apdev[1] gets an abridged list
# with apdev[0] pref 1 and apdev[1] (its own BSS) pref 255 and must answer status_code=0
# target_bssid=<apdev[1]> with no reassociation.
def test_current_bss_listed_best_may_be_accepted_as_target():
    r = req([nr(X, 1), nr(CUR, 255)], mode=0x03)
    p = btm.predict(r, CUR, VIEW, PROFILE)
    assert CUR in p.accept_targets and p.preferred_targets == {CUR} and p.stay_acceptable
    vs = btm.validate(r, BTMResponse(7, 0, target=CUR), p, btm.Timeline(1.0, 1.1))
    for rule in ("BTM-STATUS", "BTM-TARGET-PRESENT", "BTM-TARGET-ALLOWED", "BTM-ROAM-TARGET"):
        assert st(vs, rule) == [PASS], rule
    assert st(vs, "BTM-PREFERENCE") == []
    # announcing the current BSS and then moving elsewhere is wrong
    moved = btm.validate(r, BTMResponse(7, 0, target=CUR), p, btm.Timeline(1.0, 1.1, 1.2, X))
    assert st(moved, "BTM-ROAM-TARGET") == [FAIL]


def test_current_bss_listed_below_the_best_is_a_lower_preference_target():
    # 9.4.2.36: a non-zero preference makes the listed BSS a candidate, the current one too;
    # choosing a lower-preference candidate is noted (INFO), failed only with strict_preference.
    # wpa_supplicant 2.10 does this when the better candidate is not in its scan results
    # (BTM-21 on esp32-twin: "Found an acceptable preferred transition candidate BSS <current>").
    r = req([nr(X, 255), nr(CUR, 1)], mode=0x03)
    p = btm.predict(r, CUR, VIEW, PROFILE)
    assert CUR in p.accept_targets and p.preferred_targets == {X} and not p.must_not_roam
    assert not p.stay_acceptable
    vs = btm.validate(r, BTMResponse(7, 0, target=CUR), p, btm.Timeline(1.0, 1.1))
    assert st(vs, "BTM-TARGET-ALLOWED") == [PASS] and st(vs, "BTM-PREFERENCE") == [INFO]
    assert st(vs, "BTM-ROAM-TARGET") == [PASS]
    strict = btm.predict(r, CUR, VIEW, PROFILE, btm.DutSettings(strict_preference=True))
    assert st(btm.validate(r, BTMResponse(7, 0, target=CUR), strict), "BTM-PREFERENCE") == [FAIL]
    # listed with preference 0 it is excluded: accepting it still fails
    r0 = req([nr(X, 255), nr(CUR, 0)], mode=0x03)
    p0 = btm.predict(r0, CUR, VIEW, PROFILE)
    assert st(btm.validate(r0, BTMResponse(7, 0, target=CUR), p0), "BTM-TARGET-ALLOWED") == [FAIL]


def test_move_after_the_ap_disassociated_is_not_the_transition():
    # 11.3 / 11.24.7.3: after the AP's Disassociation the STA has no association left; joining any
    # BSS afterwards is a new association, so it cannot break the accepted transition's target.
    r = req([nr(Y, 100)], mode=0x05)
    p = btm.predict(r, CUR, VIEW, PROFILE)
    forced = btm.Timeline(1.0, 1.1, 1.5, X, disassociated_t=1.3)
    vs = btm.validate(r, BTMResponse(7, 0, target=Y), p, forced)
    assert st(vs, "BTM-ROAM-TARGET") == [INFO]
    # the same move with no disassociation first is the transition, and the wrong target
    vs = btm.validate(r, BTMResponse(7, 0, target=Y), p, btm.Timeline(1.0, 1.1, 1.2, X))
    assert st(vs, "BTM-ROAM-TARGET") == [FAIL]
    # moving to the announced target after a disassociation still passes
    vs = btm.validate(r, BTMResponse(7, 0, target=Y), p, btm.Timeline(1.0, 1.1, 1.5, Y, disassociated_t=1.3))
    assert st(vs, "BTM-ROAM-TARGET") == [PASS]
