"""IND-1..IND-9 on hand-built traces. Each trace's expected verdicts come from the
quoted guideline sentence named in the test, not from running the checker."""
from pathlib import Path

import pytest

from engine import indications as I
from engine.clauses import GUIDELINES_FILE, RULES, render
from engine.events import FAILURE, SUCCESS, Ind, Indication
from engine.verdict import FAIL, INFO, PASS
from shared_data import SHARED

SEED = Path(str(SHARED) + "/seeds") / GUIDELINES_FILE
A, B, X = "02:00:00:00:00:0a", "02:00:00:00:00:0b", "02:00:00:00:00:0c"


def ind(t, kind, bssid=None, status=None, reason=None):
    return Indication(t, Ind[kind], bssid, status, reason, f"hand:{t}")


def connected(t=0.0, bssid=A):
    return [ind(t, "CONNECTION_START"), ind(t + 0.1, "ASSOCIATION_START", bssid),
            ind(t + 0.2, "ASSOCIATION_COMPLETION", bssid, SUCCESS),
            ind(t + 0.3, "CONNECTION_COMPLETION", bssid, SUCCESS), ind(t + 0.4, "MEDIA_CONNECT", bssid)]


def roam(t, target=B, ok=True, reason="low rssi"):
    st = SUCCESS if ok else FAILURE
    return [ind(t, "ROAMING_START", reason=reason), ind(t + 0.1, "ASSOCIATION_START", target),
            ind(t + 0.2, "ASSOCIATION_COMPLETION", target, st), ind(t + 0.3, "ROAMING_COMPLETION", target, st)]


def by_rule(vs, rid):
    return [v for v in vs if v.rule == rid]


def statuses(vs, rid):
    return {v.status for v in by_rule(vs, rid)}


GOOD = connected() + roam(10.0)


# ---- the clause registry ----

def test_every_quote_is_verbatim_in_the_seed():
    text = SEED.read_text(encoding="utf-8")
    assert set(RULES) == {f"IND-{n}" for n in range(1, 10)}
    for r in RULES.values():
        assert r.quotes, r.id
        for q in r.quotes:
            assert q in text, (r.id, q)


def test_rendered_quote_drops_markdown():
    assert render("an [NDIS\\_STATUS\\_X](https://e/x) indication") == "an NDIS_STATUS_X indication"
    assert "](" not in RULES["IND-2"].clause and "\\_" not in RULES["IND-2"].clause


# ---- a clean roam: every rule that applies passes ----

def test_clean_roam_passes_every_applicable_rule():
    vs = I.check(GOOD, {0: [B]})
    for rid in ("IND-1", "IND-2", "IND-3", "IND-4", "IND-5", "IND-6", "IND-7", "IND-9"):
        assert statuses(vs, rid) == {PASS}, rid
    assert statuses(vs, "IND-8") == {INFO}  # no failed roam: not applicable
    assert all(v.clause.startswith("Native 802.11") for v in vs)


def test_no_candidates_means_ind4_and_ind9_not_judged():
    vs = I.check(GOOD)
    assert statuses(vs, "IND-4") == {INFO} and statuses(vs, "IND-9") == {INFO}


# ---- IND-1: "must have previously completed a connection operation ... OP state" ----

def test_ind1_roam_without_connection_fails():
    vs = I.check(roam(1.0))
    f = by_rule(vs, "IND-1")
    assert [v.status for v in f] == [FAIL]
    assert f[0].evidence == ("indication 0 at t=1.000000, source=hand:1.0",)


def test_ind1_roam_after_failed_connection_fails():
    tr = [ind(0, "CONNECTION_START"), ind(1, "CONNECTION_COMPLETION", status=FAILURE)] + roam(2.0)
    assert statuses(I.check(tr), "IND-1") == {FAIL}


def test_ind1_roam_after_os_disconnect_fails():
    obs = I.Observation(os_requests=(I.OsRequest(5.0, "disconnect"),))
    assert statuses(I.check(GOOD, observation=obs), "IND-1") == {FAIL}


def test_ind1_roam_inside_connection_operation_fails():
    tr = connected() + [ind(5, "CONNECTION_START")] + roam(6.0)
    assert FAIL in statuses(I.check(tr), "IND-1")


# ---- IND-2: enclose; "cannot start another roaming operation until ... COMPLETION" ----

def test_ind2_nested_start_fails():
    tr = connected() + [ind(10, "ROAMING_START", reason="r")] + roam(11.0)
    f = [v for v in by_rule(I.check(tr), "IND-2") if v.status == FAIL]
    assert len(f) == 1 and "second ROAMING_START" in f[0].observed
    assert len(f[0].evidence) == 2


def test_ind2_unclosed_and_orphan_completion_fail():
    tr = connected() + [ind(10, "ROAMING_COMPLETION", status=SUCCESS), ind(11, "ROAMING_START", reason="r")]
    obs = [v.observed for v in by_rule(I.check(tr), "IND-2")]
    assert any("no open ROAMING_START" in o for o in obs)
    assert any("never closed" in o for o in obs)


def test_ind2_unclosed_not_judged_when_trace_incomplete():
    tr = connected() + [ind(11, "ROAMING_START", reason="r")]
    vs = I.check(tr, observation=I.Observation(complete=False))
    assert statuses(vs, "IND-2") == {PASS}


# ---- IND-3: "must enclose the association operation between ... START and ... COMPLETION" ----

def test_ind3_association_outside_operation_fails():
    tr = connected() + [ind(5, "ASSOCIATION_START", B), ind(6, "ASSOCIATION_COMPLETION", B, SUCCESS)]
    f = by_rule(I.check(tr), "IND-3")
    assert [v.status for v in f] == [FAIL] and "outside" in f[0].observed


def test_ind3_roam_completes_with_association_open_fails():
    tr = connected() + [ind(10, "ROAMING_START", reason="r"), ind(10.1, "ASSOCIATION_START", B),
                        ind(10.3, "ROAMING_COMPLETION", B, FAILURE)]
    assert statuses(I.check(tr), "IND-3") == {FAIL}


def test_ind3_completion_for_other_bssid_fails():
    tr = connected() + [ind(10, "ROAMING_START", reason="r"), ind(10.1, "ASSOCIATION_START", B),
                        ind(10.2, "ASSOCIATION_COMPLETION", X, SUCCESS), ind(10.3, "ROAMING_COMPLETION", X, SUCCESS)]
    assert statuses(I.check(tr), "IND-3") == {FAIL}


# ---- IND-4: "If the candidate list is empty, the 802.11 station must not perform the roaming operation." ----

def test_ind4_roam_with_empty_list_fails():
    assert statuses(I.check(GOOD, {0: []}), "IND-4") == {FAIL}


def test_ind4_empty_window_without_roam_passes_and_with_roam_fails():
    quiet = I.Observation(empty_candidate_windows=((1.0, 5.0),))
    assert statuses(I.check(GOOD, observation=quiet), "IND-4") == {PASS}
    busy = I.Observation(empty_candidate_windows=((9.0, 12.0),))
    assert statuses(I.check(GOOD, observation=busy), "IND-4") == {FAIL}


def test_ind4_accepts_a_candidate_list_object():
    from engine.candidates import Candidate, CandidateList
    cl = CandidateList((Candidate(B, frozenset({"scan"})),))
    assert statuses(I.check(GOOD, [cl]), "IND-4") == {PASS}


# ---- IND-5: "provides information about the reason for the roaming operation" ----

@pytest.mark.parametrize("reason", [None, "", "  "])
def test_ind5_missing_reason_fails(reason):
    assert statuses(I.check(connected() + roam(10.0, reason=reason)), "IND-5") == {FAIL}


# ---- IND-6: "must not make a status indication of NDIS_STATUS_MEDIA_CONNECT" ----

def test_ind6_media_connect_inside_successful_roam_fails():
    r = roam(10.0)
    tr = connected() + r[:3] + [ind(10.25, "MEDIA_CONNECT", B)] + r[3:]
    assert statuses(I.check(tr), "IND-6") == {FAIL}


def test_ind6_media_connect_right_after_successful_roam_fails():
    tr = GOOD + [ind(10.5, "MEDIA_CONNECT", B)]
    assert statuses(I.check(tr), "IND-6") == {FAIL}


def test_ind6_link_loss_inside_successful_roam_fails():
    r = roam(10.0)
    tr = connected() + r[:1] + [ind(10.05, "MEDIA_DISCONNECT", A)] + r[1:]
    assert statuses(I.check(tr), "IND-6") == {FAIL}


def test_ind6_media_connect_after_failed_roam_is_not_ind6():
    tr = connected() + roam(10.0, ok=False) + [ind(11, "MEDIA_DISCONNECT"), ind(12, "MEDIA_CONNECT")]
    assert statuses(I.check(tr), "IND-6") == {INFO}


# ---- IND-7: success iff "successfully associated"; COMPLETION reports the status ----

def test_ind7_success_after_failed_association_fails():
    r = roam(10.0, ok=False)
    r[-1] = ind(10.3, "ROAMING_COMPLETION", B, SUCCESS)
    assert statuses(I.check(connected() + r), "IND-7") == {FAIL}


def test_ind7_success_without_association_fails_and_missing_status_fails():
    tr = connected() + [ind(10, "ROAMING_START", reason="r"), ind(11, "ROAMING_COMPLETION", status=SUCCESS),
                        ind(20, "ROAMING_START", reason="r"), ind(21, "ROAMING_COMPLETION")]
    f = [v for v in by_rule(I.check(tr), "IND-7") if v.status == FAIL]
    assert len(f) == 2


def test_ind7_failure_after_failed_association_passes():
    tr = connected() + roam(10.0, ok=False) + roam(20.0)
    assert statuses(I.check(tr), "IND-7") == {PASS}


# ---- IND-8: failure causes; "must remain in the OP operating state and must periodically perform other roaming operations" ----

def test_ind8_failure_then_retry_passes():
    tr = connected() + roam(10.0, ok=False) + roam(30.0)
    vs = I.check(tr, {0: [B], 1: [B]}, I.Observation(retry_within_s=60))
    assert statuses(vs, "IND-8") == {PASS}


def test_ind8_failure_without_retry_fails_when_observed_long_enough():
    tr = connected() + roam(10.0, ok=False)
    vs = I.check(tr, observation=I.Observation(retry_within_s=30, observed_until=100.0))
    assert statuses(vs, "IND-8") == {FAIL}


def test_ind8_no_retry_owed_for_a_roam_the_test_commanded():
    """IND-8's "periodically perform other roaming operations" is about the station's own
    roaming; a roam the test forced with a command (FT_DS, ROAM) that fails owes no retry."""
    tr = connected() + roam(10.0, ok=False)
    forced = I.Observation(retry_within_s=30, observed_until=100.0,
                           os_requests=(I.OsRequest(9.5, "roam_command", "FT_DS 02:00:00:00:02:00"),))
    v = by_rule(I.check(tr, observation=forced), "IND-8")
    assert [x.status for x in v] == [INFO] and "started by the test's roam command" in v[0].observed
    # the same failed roam, started by the station 5 s after a command: its retry is owed
    late = I.Observation(retry_within_s=30, observed_until=100.0, os_requests=(I.OsRequest(5.0, "roam_command"),))
    assert statuses(I.check(tr, observation=late), "IND-8") == {FAIL}


def test_ind8_a_failed_roam_that_leaves_op_fails_on_the_layer_that_dropped_the_link():
    """'If the roaming operation fails, the miniport driver must remain in the OP operating
    state': a new connection operation after the failed roam is a FAIL, whoever started the
    roam, named after the layer whose MEDIA_DISCONNECT inside the roam took the link down."""
    r = roam(10.0, ok=False)
    drop = Indication(10.15, Ind.MEDIA_DISCONNECT, A, None, None, "link:7", layer="kernel/driver")
    tr = connected() + r[:2] + [drop] + r[2:] + connected(12.0)
    v = [x for x in by_rule(I.check(tr), "IND-8") if x.status == FAIL]
    assert len(v) == 1 and "left the OP state" in v[0].observed and v[0].layer == "kernel/driver"
    # commanded or not: remaining in OP is owed (only the retry is waived for a commanded roam)
    forced = I.Observation(os_requests=(I.OsRequest(9.9, "roam_command"),))
    assert [x.layer for x in by_rule(I.check(tr, observation=forced), "IND-8") if x.status == FAIL] == ["kernel/driver"]
    # the same failure followed by a new roam (the station stayed in OP): no such FAIL
    ok = connected() + r + roam(20.0)
    assert not [x for x in by_rule(I.check(ok), "IND-8") if "left the OP state" in x.observed]


def test_ind8_retry_not_judged_when_observation_short():
    tr = connected() + roam(10.0, ok=False)
    vs = I.check(tr, observation=I.Observation(retry_within_s=30, observed_until=20.0))
    v = by_rule(vs, "IND-8")
    assert [x.status for x in v] == [INFO] and "not judged" in v[0].observed


def test_ind8_failure_with_untried_candidate_fails():
    tr = connected() + roam(10.0, ok=False) + roam(20.0)
    vs = I.check(tr, {0: [B, X], 1: [B]})
    assert any("untried" in v.observed for v in by_rule(vs, "IND-8") if v.status == FAIL)


def test_ind8_success_despite_phy_off_fails_and_disconnect_owes_no_retry():
    obs = I.Observation(os_requests=(I.OsRequest(10.15, "phy_off"),))
    assert statuses(I.check(GOOD, observation=obs), "IND-8") == {FAIL}
    tr = connected() + roam(10.0, ok=False)
    obs = I.Observation(os_requests=(I.OsRequest(10.15, "disconnect"),), retry_within_s=5, observed_until=100)
    assert statuses(I.check(tr, observation=obs), "IND-8") == {PASS}


# ---- IND-9: "initiate an association operation with entries from the 802.11 station's candidate list" ----

def test_ind9_association_to_non_candidate_fails():
    f = by_rule(I.check(GOOD, {0: [X]}), "IND-9")
    assert [v.status for v in f] == [FAIL] and B in f[0].observed


# ---- input handling ----

def test_bad_input_is_a_clear_error():
    with pytest.raises(I.TraceError, match="item 1"):
        I.check([GOOD[0], "ROAMING_START"])
    with pytest.raises(I.TraceError):
        I.check(None)
    with pytest.raises(I.TraceError, match="unknown OS request"):
        I.check(GOOD, observation=I.Observation(os_requests=(I.OsRequest(1, "reboot"),)))
    with pytest.raises(I.TraceError, match="does not parse"):
        I.trace_from_json("{nope")
    with pytest.raises(I.TraceError, match="item 0"):
        I.trace_from_json('[{"t": 1, "kind": "ROAM"}]')


def test_json_round_trip_and_roam_spans():
    assert I.trace_from_json(I.trace_to_json(GOOD)) == GOOD
    rs = I.roams(connected() + [ind(9, "ROAMING_START", reason="r")] + roam(10.0))
    assert [(r.start, r.end) for r in rs] == [(5, None), (6, 9)]


def test_time_going_backwards_is_reported():
    tr = connected() + roam(10.0)
    tr[2], tr[1] = tr[1], tr[2]
    assert any(v.rule == "IND-TRACE" for v in I.check(tr))
