"""BSS Transition Management (IEEE 802.11-2020 11.24.7): predict the acceptable answers
to a BTM request, then judge the real answer.

The prediction is a set of allowed outcomes, never a single guess. Where the standard
leaves the STA free (which candidate, whether to reject), everything it allows is in
the set; what a well-behaved STA would pick is kept apart in `preferred_targets`.

The scan view is the air: a listed candidate that is not on it is no acceptable target.
A request whose candidate list is malformed (BTMRequest.problems) may go unanswered or be
rejected; an accept must still name a decoded candidate on the air. ESS Disassociation
Imminent without candidates may be accepted with Target BSSID 00:00:00:00:00:00 (see
docs/calibration.md for the hostap test evidence).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from engine import candidates as cand
from engine import clauses as C
from engine.models import BTMRequest, BTMResponse
from engine.verdict import FAIL, INFO, PASS, REFERENCE_AP, Verdict, check

TU = 1.024e-3  # seconds
NO_BSSID = "00:00:00:00:00:00"
MALFORMED = "IEEE 802.11-2020 9.4.2.36 (Neighbor Report element), 9.6.13.9 (BSS Transition Management Request)"


@dataclass(frozen=True)
class DutSettings:
    btm_supported: bool = True
    reject_status: int | None = None  # the DUT is configured to reject with this code
    strict_preference: bool = False  # a lower-preference target is a FAIL, not an INFO
    beacon_interval_tu: int = 100  # of the current BSS, for the validity interval


@dataclass(frozen=True)
class Prediction:
    response_required: bool
    accept_targets: frozenset[str]  # status 0 is allowed with one of these as Target BSSID
    preferred_targets: frozenset[str]  # the highest-preference joinable ones among them
    reject_statuses: frozenset[int]  # non-zero status codes allowed
    must_not_roam: bool  # no target can be accepted: the DUT must not move because of this request
    should_roam: bool  # disassociation imminent / BSS termination: moving is expected (should, not shall)
    stay_acceptable: bool  # the current BSS is among the best listed
    valid_for_s: float | None  # candidate list validity, seconds
    ranking: tuple[tuple[str, int | None], ...] = ()  # (bssid, preference) best first
    notes: tuple[str, ...] = ()
    strict_preference: bool = False
    current: str | None = None  # the BSS the request came from
    # ESS Disassociation Imminent without candidates: status 0 with Target BSSID
    # 00:00:00:00:00:00 (no BSS to name) is an acceptance of leaving (see predict).
    accept_without_target: bool = False
    malformed: tuple[str, ...] = ()  # the request's problems; then silence is acceptable

    @property
    def may_accept(self) -> bool:
        return bool(self.accept_targets) or self.accept_without_target

    def allowed_statuses(self) -> frozenset[int]:
        return self.reject_statuses | ({0} if self.may_accept else set())


@dataclass(frozen=True)
class Timeline:
    """When things happened around the exchange (seconds, one clock)."""
    request_t: float | None = None
    response_t: float | None = None
    reassoc_t: float | None = None  # first (re)association/authentication toward the new BSS
    joined_bssid: str | None = None  # the BSS the DUT ended on after the exchange, None if it stayed
    disassociated_t: float | None = None  # the AP disassociated the DUT (disassoc imminent / termination)


def predict(request: BTMRequest, current_bssid: str, scan_view: Iterable[cand.ScanEntry],
            profile: cand.Profile, settings: DutSettings | None = None) -> Prediction:
    s = settings or DutSettings()
    cur = current_bssid.lower()
    notes = []
    valid = request.validity_interval * s.beacon_interval_tu * TU if request.validity_interval else None
    if not s.btm_supported:
        return Prediction(False, frozenset(), frozenset(), frozenset(), True, False, True, valid,
                          notes=("DUT does not support BTM: no response expected, no move",))

    # 11.24.7.3 / 9.6.13.9: preference 0 marks an excluded BSS; with Abridged = 1 every BSS
    # not in the list is given preference 0.
    cl = cand.build(scan_view, profile, request.candidates, (), abridged=request.abridged,
                    current_bssid=cur)
    listed = {n.bssid.lower(): n.preference for n in request.candidates}
    targets = set()
    for c in cl.entries:
        if c.bssid == cur:
            continue
        if "btm" in c.sources:
            if not c.seen:
                # the scan view is the air: a BSS that is not on it cannot be joined, so
                # accepting a transition to it is no transition at all
                notes.append(f"{c.bssid} listed but not on the air: not an acceptable target")
                continue
            targets.add(c.bssid)
        elif not request.abridged:
            targets.add(c.bssid)  # not listed, not abridged: no preference given, the STA may choose it
    ranked = sorted(((b, p) for b, p in listed.items() if p != 0), key=lambda bp: -(bp[1] or 0))
    joinable = [(b, p) for b, p in ranked if b in targets or b == cur]
    seen = [(b, p) for b, p in joinable if cl.get(b) is not None and cl.get(b).seen]
    pool = seen or joinable
    best = max((p or 0) for _, p in pool) if pool else None
    preferred = {b for b, p in pool if (p or 0) == best} if pool else set(targets)
    if request.candidates and not request.pref_list:
        # 9.6.13.9: the Preferred Candidate List Included bit says whether the entries are
        # the AP's preferred candidates. With it 0 they rank nothing, so no acceptable target
        # is a "lower preference" one (wpa_supplicant ignores such entries and rejects,
        # hostap test_wnm_bss_tm "not claimed as Preferred Candidate List"). The entries'
        # exclusions (preference 0, Abridged) still narrow what is acceptable.
        preferred = set(targets)
        notes.append("Preferred Candidate List Included is 0: the entries are no preference order")
    stay_ok = cur in preferred or not listed or listed.get(cur, -1) == best
    # The current BSS listed with a non-zero preference is itself a candidate: accepting it
    # (status 0, Target BSSID = the current BSS) is the STA staying on a BSS the AP offered.
    # With the best preference that is where the AP prefers it (hostap test_wnm_bss_tm "two
    # matches, no roam needed"); with a lower one it is a lower-preference choice, judged as
    # any other lower-preference target (BTM-PREFERENCE: INFO, FAIL only when strict).
    stay_listed = bool(listed.get(cur))
    if not stay_listed:
        preferred.discard(cur)
    if stay_ok and cur in listed:
        notes.append("the current BSS is listed with the best preference: staying is acceptable")
    elif stay_listed:
        notes.append("the current BSS is listed with a lower, non-zero preference: accepting it "
                     "(staying) is a lower-preference choice")
    if cur in listed and listed[cur] == 0:
        notes.append("the current BSS is listed with preference 0: the AP wants the DUT gone")

    rejects = {1, 2, 3, 6, 7, 8}  # Table 9-428: open to any STA
    if request.bss_term_included:
        rejects |= {4, 5}  # only meaningful when BSS termination is announced
    accept = frozenset(targets | ({cur} if stay_listed else set()))
    if s.reject_status is not None:
        rejects = {s.reject_status}
        accept = frozenset()
        notes.append(f"DUT configured to reject with status {s.reject_status}")
    should_roam = bool(request.disassoc_imminent or request.bss_term_included or request.ess_disassoc_imminent)
    if should_roam and not accept:
        notes.append("disassociation imminent with no acceptable target: the DUT may be disassociated")
    # ESS Disassociation Imminent with no candidate list: the whole ESS is going away, so
    # there is no BSS to transition to. wpa_supplicant accepts with status 0 and Target
    # BSSID 00:00:00:00:00:00 (the field must be present with status 0, 9.6.13.10) and
    # hostap's test_wnm_bss_tm_req asserts status 0 for it. No clause forbids accepting
    # an ESS disassociation; status 8 (Leaving ESS) and the other rejects stay allowed.
    no_target = request.ess_disassoc_imminent and not request.candidates and s.reject_status is None
    if no_target:
        notes.append("ESS disassociation imminent without candidates: status 0 with Target BSSID "
                     f"{NO_BSSID} (accepting to leave) is allowed")
    problems = tuple(request.problems)
    if problems:
        notes.append("malformed request (" + "; ".join(problems) + "): a reject status or no response "
                     "is acceptable, an accept only toward a candidate that decoded and is on the air")
    return Prediction(not problems, accept, frozenset(preferred & accept), frozenset(rejects),
                      not (accept - {cur}), should_roam, stay_ok, valid, tuple(ranked), tuple(notes),
                      s.strict_preference, cur, no_target, problems)


def validate(request: BTMRequest, response: BTMResponse | None, prediction: Prediction,
             timeline: Timeline | None = None, evidence: tuple[str, ...] = ()) -> list[Verdict]:
    tl = timeline or Timeline()
    ev = tuple(evidence)
    out = []
    if prediction.malformed:
        out.append(Verdict("BTM-REQUEST-FORMAT", MALFORMED, INFO, "a well-formed BSS Transition Management Request",
                           "; ".join(prediction.malformed), ev, "the reference AP sent a malformed request "
                           "(a test stimulus when deliberate): a reject status or silence is acceptable",
                           layer=REFERENCE_AP))
    if response is None:
        out.append(check("BTM-RESPONSE", C.BTM_REQUEST, not prediction.response_required,
                         "a BSS Transition Management Response" if prediction.response_required
                         else "no response (the request is malformed)" if prediction.malformed
                         else "no response (BTM unsupported)", "no response", ev,
                         "A non-AP STA that supports BSS transition management shall respond to an "
                         "individually addressed BSS Transition Management Request frame"))
        if tl.joined_bssid and prediction.must_not_roam and not tl.disassociated_t:
            out.append(Verdict("BTM-NO-ROAM", C.BTM_REQUEST, FAIL, "no move", f"moved to {tl.joined_bssid}", ev))
        return out
    out.append(check("BTM-TOKEN", C.BTM_RESPONSE_FRAME, response.dialog_token == request.dialog_token,
                     f"dialog token {request.dialog_token} (echo of the request)",
                     f"dialog token {response.dialog_token}", ev))
    st = response.status
    allowed = prediction.allowed_statuses()
    name = C.BTM_STATUS.get(st, "reserved")
    out.append(check("BTM-STATUS", C.BTM_STATUS_TABLE, st in allowed,
                     f"status in {sorted(allowed)}", f"status {st} ({name})", ev,
                     "; ".join(prediction.notes)))
    has_t = bool(response.target)
    out.append(check("BTM-TARGET-PRESENT", C.BTM_RESPONSE_FRAME, has_t == (st == 0),
                     "Target BSSID present iff status is 0",
                     f"status {st}, target {'present' if has_t else 'absent'}", ev))
    if st == 0 and has_t and prediction.accept_without_target and response.target.lower() == NO_BSSID:
        out.append(Verdict("BTM-TARGET-ALLOWED", C.BTM_RESPONSE_FRAME, PASS,
                           f"a target, or {NO_BSSID} when the whole ESS is going away",
                           f"target {NO_BSSID}", ev, "accepted ESS disassociation without naming a BSS"))
    elif st == 0 and has_t:
        tgt = response.target.lower()
        out.append(check("BTM-TARGET-ALLOWED", C.BTM_REQUEST, tgt in prediction.accept_targets,
                         f"target in {sorted(prediction.accept_targets) or 'nothing'}", f"target {tgt}", ev,
                         "; ".join(n for n in prediction.notes if tgt in n)))
        if tgt in prediction.accept_targets and prediction.preferred_targets \
                and tgt not in prediction.preferred_targets:
            out.append(Verdict("BTM-PREFERENCE", C.CANDIDATE_PREFERENCE,
                               FAIL if prediction.strict_preference else INFO,
                               f"highest-preference target {sorted(prediction.preferred_targets)}",
                               f"target {tgt}", ev, "a lower-preference candidate was chosen"))
    if st == 6:
        out.append(check("BTM-CANDIDATE-LIST", C.BTM_RESPONSE_FRAME, bool(response.candidates),
                         "status 6 carries the STA's BSS Transition Candidate List",
                         f"{len(response.candidates)} candidate(s)", ev))
    # ordering: the response goes to the current AP, so it precedes the move
    if st == 0 and tl.response_t is not None and tl.reassoc_t is not None:
        out.append(check("BTM-ORDER", C.BTM_RESPONSE, tl.response_t <= tl.reassoc_t,
                         "response sent before the (re)association with the target",
                         f"response at t={tl.response_t:g}, reassociation at t={tl.reassoc_t:g}", ev))
    if tl.joined_bssid is not None:
        j = tl.joined_bssid.lower()
        forced = tl.disassociated_t is not None and (tl.reassoc_t is None or tl.disassociated_t <= tl.reassoc_t)
        if st == 0 and has_t and forced and j != response.target.lower():
            # the AP ended the association first: what followed is a new connection, not this transition
            out.append(Verdict("BTM-ROAM-TARGET", C.BTM_RESPONSE, INFO,
                               f"moved to the announced target {response.target.lower()}", f"moved to {j}", ev,
                               "moved only after the AP disassociated it"))
        elif st == 0 and has_t:
            out.append(check("BTM-ROAM-TARGET", C.BTM_RESPONSE, j == response.target.lower(),
                             f"moved to the announced target {response.target.lower()}", f"moved to {j}", ev))
        elif st != 0:
            out.append(Verdict("BTM-NO-ROAM", C.BTM_RESPONSE, INFO if forced else FAIL,
                               f"no move after rejecting with status {st}", f"moved to {j}", ev,
                               "moved only after the AP disassociated it" if forced else ""))
    elif st != 0 and tl.response_t is not None:
        out.append(Verdict("BTM-NO-ROAM", C.BTM_RESPONSE, PASS, f"no move after status {st}", "stayed", ev))
    if st == 0 and tl.joined_bssid is None and tl.response_t is not None and tl.reassoc_t is None:
        if has_t and prediction.accept_without_target and response.target.lower() == NO_BSSID:
            out.append(Verdict("BTM-ROAM-TARGET", C.BTM_RESPONSE, PASS, "no move: no BSS was named",
                               "stayed until disassociated", ev))
        elif has_t and prediction.current and response.target.lower() == prediction.current:
            out.append(Verdict("BTM-ROAM-TARGET", C.BTM_RESPONSE, PASS, "stay on the current BSS it accepted",
                               "stayed", ev))
        else:
            out.append(Verdict("BTM-ROAM-TARGET", C.BTM_RESPONSE, INFO, "a move to the accepted target",
                               "no move seen in the timeline", ev))
    if prediction.valid_for_s and tl.request_t is not None and tl.response_t is not None \
            and tl.response_t - tl.request_t > prediction.valid_for_s:
        out.append(Verdict("BTM-VALIDITY", C.BTM_REQUEST_FRAME, INFO,
                           f"answer within the validity interval ({prediction.valid_for_s:.3f} s)",
                           f"answered after {tl.response_t - tl.request_t:.3f} s", ev))
    return out

