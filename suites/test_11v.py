"""802.11v BSS Transition Management: the DUT answers the reference AP's BTM requests and
queries, and moves (or stays) as the standard allows. Every verdict comes from engine.btm
(through suites.steps.judge_btm) or from engine.verdict.check on frames and events."""
from __future__ import annotations

import pytest

from devices.base import WaitTimeout
from engine import btm
from engine import clauses as C
from engine.frames import mac
from engine.verdict import FAIL, INFO, PASS, Verdict, check
from fixtures.case import CaseSpec
from lab.hostapd import WPA2_PSK, BSSConfig
from lab.wpas import Profile
from engine.air import Air, ap_events
from suites.steps import LAB_FREQS, R, connect_first, judge_indications, roam_timeline, settle
from suites.v_steps import (GHOST, GHOST_CHANNEL, bss_tm_req, btm_queries, candidate, final_bssid,
                            judge_request, requests_to, responses_from, wait_responses, wait_settled)

# WPA2-PSK, not FT: BTM is judged on its own (the 802.11r suite covers FT). Under TCG load an FT
# auth retried by mac80211 makes hostapd answer twice with two ANonces, and the reassociation
# then fails with status 55 whatever the DUT's BTM logic did.
AP1 = BSSConfig(channel=1, security=WPA2_PSK)
AP2 = BSSConfig(channel=6, security=WPA2_PSK)
AP3 = BSSConfig(channel=11, security=WPA2_PSK)
PROFILE = Profile(security=WPA2_PSK, scan_freqs=LAB_FREQS)

EPIC, FEAT = "802.11v", "BSS Transition Management"
REQ = f"{R} 11.24.7.3"  # BSS transition management request
RESP = f"{R} 11.24.7.4"  # BSS transition management response
QRY = f"{R} 11.24.7.2"  # BSS transition management query
F_REQ, F_RESP, F_QRY = f"{R} 9.6.13.9", f"{R} 9.6.13.10", f"{R} 9.6.13.8"
T428 = f"{R} Table 9-428"
NR = f"{R} 9.4.2.36"
IND = ("IND-1", "IND-2", "IND-6", "IND-7", "IND-9")


def rq(token, cands, opts=""):
    """One request: dialog token, [(role, preference)], extra BSS_TM_REQ options."""
    return {"token": token, "cands": cands, "opts": opts}


def case(n, title, story, reqs, extra=(), needs=("btm",), severity="critical", **params):
    return CaseSpec(f"BTM-{n:02d}", title, EPIC, FEAT, story,
                    (REQ, RESP, F_REQ, F_RESP, T428) + tuple(extra), needs, severity,
                    {"reqs": reqs, **params})


CASES = [
    case(1, "Preferred candidate in the scan cache: accept and roam to it",
         "Solicited transition to a preferred candidate",
         [rq(7, [("other", 255)], "pref=1 abridged=1 valid_int=255")], IND, severity="blocker", expect="roam"),
    case(2, "Candidate missing from the scan cache: scan, then decide",
         "Transition to a candidate the DUT must scan for",
         [rq(8, [("other", 255)], "pref=1 abridged=1 valid_int=255")], IND, needs=("btm", "commands"),
         flush=True, expect="roam"),
    case(3, "No candidate list: reject, no roam", "Request without candidates",
         [rq(9, [])], IND, expect="stay"),
    case(4, "Only an unknown candidate (not on the air): reject, no roam", "Request with unusable candidates",
         [rq(10, [("ghost", 255)], "pref=1 abridged=1 valid_int=255")], IND, expect="stay"),
    case(5, "Two acceptable candidates: the highest preference wins", "Candidate preference ordering",
         [rq(11, [("other", 100), ("third", 200)], "pref=1 abridged=1 valid_int=255")], IND + (NR,),
         expect="roam", strict_preference=True),
    case(6, "Current BSS listed as the best candidate: staying is acceptable", "Current BSS preferred",
         [rq(12, [("cur", 255), ("other", 10)], "pref=1 abridged=1 valid_int=255")], IND + (NR,),
         expect="stay"),
    case(7, "Disassociation imminent with a timer and a candidate: leave before the timer",
         "Disassociation imminent", [rq(13, [("other", 255)], "pref=1 disassoc_imminent=1 disassoc_timer=100")],
         IND, expect="roam", timer=100),
    case(8, "Disassociation imminent without candidates: the AP disassociates at the timer",
         "Disassociation imminent", [rq(14, [], "disassoc_imminent=1 disassoc_timer=30")], IND,
         expect="disassoc", timer=30, severity="normal"),
    case(9, "BSS termination included with a candidate", "BSS termination",
         [rq(15, [("other", 255)], "pref=1 disassoc_imminent=1 disassoc_timer=100 bss_term=0,2")], IND,
         expect="roam", timer=100, bss_term=2),
    case(10, "Abridged set: only the listed candidate is acceptable", "Abridged candidate list",
         [rq(16, [("other", 255)], "pref=1 abridged=1 valid_int=255")], IND, expect="roam"),
    case(11, "Abridged not set: unlisted BSSs of the ESS stay eligible", "Abridged candidate list",
         [rq(17, [("ghost", 255)], "pref=1 valid_int=255")], IND, expect="any"),
    case(12, "Validity interval expires before the DUT can act", "Candidate list validity interval",
         [rq(18, [("other", 255)], "pref=1 abridged=1 valid_int=1")], IND, needs=("btm", "commands", "radio_control"),
         flush=True, busy_radio=True, expect="any", severity="normal"),
    case(13, "DUT-initiated BTM query answered by the AP", "BSS transition management query",
         [], (QRY, F_QRY) + IND, needs=("btm", "btm_query", "commands"), expect="any", query="16"),
    case(14, "DUT-initiated BTM query carrying the DUT's candidate list", "BSS transition management query",
         [], (QRY, F_QRY, NR), needs=("btm", "btm_query", "commands"), expect="any", query="19 list",
         severity="normal"),
    case(15, "Negative control: a BTM-declaring DUT with BTM disabled is failed by the oracle",
         "Negative control: silent DUT", [rq(19, [("other", 255)], "pref=1 abridged=1 valid_int=255")],
         needs=("btm", "commands"), expect="silent", disable_btm=True, severity="normal"),
    case(16, "Two back-to-back requests with different dialog tokens", "Dialog token handling",
         [rq(21, []), rq(22, [("other", 255)], "pref=1 abridged=1 valid_int=255")], IND, expect="roam"),
    case(17, "ESS disassociation imminent with a session URL", "ESS disassociation imminent",
         [rq(23, [], "disassoc_imminent=1 disassoc_timer=30 url=http://portal.roamcert.test/session")], IND,
         expect="disassoc", timer=30, url="http://portal.roamcert.test/session", severity="normal"),
    case(18, "Three candidates, one excluded with preference 0, the best one not on the air",
         "Excluded candidates", [rq(24, [("other", 0), ("third", 100), ("ghost", 255)],
                                     "pref=1 abridged=1 valid_int=255")], IND + (NR,), expect="roam",
         excluded="other"),
]


@pytest.fixture
def three_aps(aps):
    return [aps.get("a", AP1), aps.get("b", AP2), aps.get("c", AP3)]


def connect_among(dut, record, all_aps):
    """Connect, learn every AP by a scan; returns (current, [the others, by channel])."""
    cur, _ = connect_first(dut, record, all_aps[0], all_aps[1], PROFILE)
    with record.step("scan every lab channel"):
        dut.scan(tuple(sorted({a.freq for a in all_aps})))
    return cur, [a for a in all_aps if a is not cur]


def roles_of(cur, others):
    return {"cur": (cur.bssid, cur.op_class, cur.config.channel),
            "other": (others[0].bssid, others[0].op_class, others[0].config.channel),
            "third": (others[1].bssid, others[1].op_class, others[1].config.channel),
            "ghost": (GHOST, 81, GHOST_CHANNEL)}


@pytest.mark.parametrize("spec", CASES, ids=lambda s: s.id)
def test_btm(spec, record, dut, three_aps, air, lab):
    p = spec.params
    cur, others = connect_among(dut, record, three_aps)
    roles = roles_of(cur, others)
    by_bssid = {a.bssid: a for a in three_aps}
    if p.get("disable_btm"):
        with record.step("disable BTM in the DUT (deliberately non-conformant)"):
            assert dut.ctrl("SET disable_btm 1").strip() == "OK"
    if p.get("flush"):
        with record.step("age and flush the DUT's BSS table"):
            settle(2.5)  # wpa_supplicant reuses driver scan results younger than 2 s (WNM_SCAN_RESULT_AGE)
            dut.ctrl("BSS_FLUSH 0")
            gone = [b for r in ("other", "third") if dut.sup.bss_known(b := roles[r][0])]
            assert not gone, f"precondition: BSS_FLUSH 0 left {gone} in the DUT's table"
    if p.get("busy_radio"):
        with record.step("keep the DUT's radio busy with a passive scan it did not ask for"):
            # wpa_supplicant cannot start its own scan until this one ends, well after the
            # candidate list's validity interval
            lab.agent.run(["iw", "dev", dut.iface, "scan", "trigger", "freq", *map(str, LAB_FREQS), "passive"])
    m, mm = dut.mark(), cur.mark()
    t0 = lab.now()
    reqs = p["reqs"]
    with record.step("trigger"):
        if p.get("query"):
            assert dut.ctrl(f"WNM_BSS_QUERY {p['query']}").strip() == "OK"
            n_resp = 1
        else:
            for r in reqs:
                cands = [candidate(*roles[role], pref) for role, pref in r["cands"]]
                cur.ctrl_ok(bss_tm_req(dut.mac, cands, r["token"], r["opts"]))
            n_resp = len(reqs)
    observe(spec, dut, cur, m, mm, n_resp, record)
    joined = final_bssid(dut, m, cur.bssid)
    a = Air(air.stop())
    with record.step("judge"):
        settings = btm.DutSettings(btm_supported="btm" in dut.capabilities,
                                   strict_preference=p.get("strict_preference", False),
                                   beacon_interval_tu=cur.config.beacon_int)
        if p.get("query"):
            judge_query(record, a, dut, cur, three_aps, settings, joined, p)
        elif p.get("disable_btm"):
            judge_negative_control(record, a, dut, cur, three_aps, settings, joined)
        else:
            found = mine(a, dut, reqs, t0)
            missing = [r["token"] for r in reqs if r["token"] not in {q.dialog_token for _, _, q in found}]
            record.add(check("BTM-REQUEST-SENT", REQ, not missing, "each request of the case on the air",
                             f"missing dialog token(s) {missing}" if missing else f"{len(found)} request(s)"))
            for n, (i, _, _) in enumerate(found):
                judge_request(record, a, dut, cur, three_aps, PROFILE, index=i, settings=settings,
                              joined=joined if n == len(found) - 1 else None)
        judge_hostapd_events(record, a, dut, cur, mm, t0)
        judge_specifics(record, a, dut, cur, roles, p, m, joined, [(f, q) for _, f, q in mine(a, dut, reqs, t0)])
        if not p.get("disable_btm"):
            judge_indications(record, dut)
        target = by_bssid.get(joined) or others[0]
        roam_timeline(record, a, dut, cur, target, spec.title, t0)
        record.metrics["joined"] = joined or "stayed"
    record.judge()


def observe(spec, dut, cur, m, mm, n_resp, record):
    """Wait for what the DUT does; never decides anything (the oracle judges what came)."""
    p = spec.params
    expect = p["expect"]
    with record.step("observe"):
        if expect == "silent":
            settle(5)
            return
        timer_s = p.get("timer", 0) * cur.config.beacon_int * btm.TU
        got = wait_responses(cur, n_resp, mm, 15 + timer_s)
        record.metrics["responses"] = len(got)
        if expect == "roam":
            try:
                dut.wait_for(lambda e: e.kind == "connected" and e.get("bssid") != cur.bssid, 15 + timer_s, since=m)
            except WaitTimeout as e:
                record.metrics["roam_wait"] = str(e).splitlines()[0]
        elif expect == "disassoc":
            try:
                dut.wait_for(lambda e: e.kind == "disconnected", timer_s + 10, since=m)
                dut.wait_for(lambda e: e.kind == "connected", 20, since=m)
            except WaitTimeout as e:
                record.metrics["disassoc_wait"] = str(e).splitlines()[0]
        wait_settled(dut, m, 10)


def judge_negative_control(record, a, dut, cur, aps, settings, joined):
    """BTM disabled in a DUT that declares it: the oracle must fail BTM-RESPONSE. The case passes
    when the oracle catches the deliberate fault, so a normal run counts no DUT failure here."""
    _, rs, oracle = judge_request(record, a, dut, cur, aps, PROFILE, settings=settings, joined=joined,
                                  keep_apart=True)
    record.attach_json("oracle-verdicts-on-faulty-dut", [v.to_dict() for v in oracle])
    record.add(check("NEGCTL-SILENT", C.BTM_REQUEST, rs is None and not responses_from(a, dut.mac),
                     "the faulty DUT sends no BTM response (the fault is in place)",
                     f"{len(responses_from(a, dut.mac))} response frame(s)"))
    caught = [v for v in oracle if v.rule == "BTM-RESPONSE" and v.status == FAIL]
    declared = "btm" in dut.capabilities
    record.add(check("NEGCTL-ORACLE", C.BTM_REQUEST, bool(caught) == declared,
                     "the oracle fails BTM-RESPONSE" if declared else "the oracle accepts silence (BTM not declared)",
                     "; ".join(v.describe() for v in oracle if v.rule == "BTM-RESPONSE") or "no BTM-RESPONSE verdict"))


def judge_query(record, a, dut, cur, aps, settings, joined, p):
    qs = btm_queries(a, dut.mac)
    record.add(check("BTM-QUERY-SENT", C.BTM_QUERY, bool(qs), "a BTM Query frame from the DUT",
                     f"{len(qs)} query frame(s)"))
    if not qs:
        return
    qf, q = qs[0]
    record.attach_json("btm-query", {"frame": qf.index, "query": repr(q)})
    record.add(check("BTM-QUERY-TOKEN", F_QRY, q.dialog_token != 0, "a nonzero dialog token",
                     f"dialog token {q.dialog_token}", (f"frame {qf.index}",)))
    reason = int(p["query"].split()[0])
    record.add(check("BTM-QUERY-REASON", F_QRY, q.reason == reason,
                     f"BSS Transition Query Reason {reason} as asked", f"reason {q.reason}", (f"frame {qf.index}",)))
    if "list" in p["query"]:
        ess = {x.bssid for x in aps}
        listed = [c.bssid for c in q.candidates]
        record.add(check("BTM-QUERY-CANDIDATES", F_QRY, bool(listed) and set(listed) <= ess,
                         f"a candidate list of BSSs of the ESS {sorted(ess)}", f"{listed}", (f"frame {qf.index}",)))
    reqs = requests_to(a, dut.mac)
    idx = next((i for i, (f, r) in enumerate(reqs) if f.t >= qf.t and r.dialog_token == q.dialog_token), None)
    record.add(check("BTM-QUERY-ANSWERED", C.BTM_REQUEST, idx is not None,
                     f"the AP answers with a BTM Request carrying the query's dialog token {q.dialog_token}",
                     f"{[(f.index, r.dialog_token) for f, r in reqs]}"))
    if idx is not None:
        f, r = reqs[idx]
        record.metrics["query_answer"] = {"request_mode": r.request_mode, "candidates": len(r.candidates),
                                          "after_s": round(f.t - qf.t, 4)}
        judge_request(record, a, dut, cur, aps, PROFILE, index=idx, settings=settings, joined=joined)


def mine(a, dut, reqs, t0):
    """The case's own requests on the air, found by dialog token (a DUT may cause others, e.g. an
    ESP32 app's query on connect): [(index among the DUT's requests, frame, request)]."""
    out, all_reqs = [], requests_to(a, dut.mac)
    for r in reqs:
        hit = next(((i, f, q) for i, (f, q) in enumerate(all_reqs)
                    if f.t >= t0 and q.dialog_token == r["token"]), None)
        if hit:
            out.append(hit)
    return out


def judge_hostapd_events(record, a, dut, cur, mm, t0):
    """The AP's BSS-TM-RESP events must say what the DUT put on the air (the lab reads both)."""
    frames = [r for f, r in responses_from(a, dut.mac) if mac(f.raw[4:10]) == cur.bssid and f.t >= t0]
    evs = [ev.value for _, ev in ap_events(cur, "BSS-TM-RESP", mm)]
    same = len(evs) == len(frames) and all(e.status == r.status and (e.target or None) == (r.target or None)
                                          for e, r in zip(evs, frames))
    record.add(check("BTM-HOSTAPD-EVENT", RESP, same, "hostapd's BSS-TM-RESP events match the frames on the air",
                     f"events {[(e.status, e.target) for e in evs]}, frames {[(r.status, r.target) for r in frames]}"))


def judge_specifics(record, a, dut, cur, roles, p, m, joined, reqs):
    evs = dut.events()[m:]
    if p.get("flush") and reqs:
        t_rq = reqs[0][0].t
        resp = [(f, r) for f, r in responses_from(a, dut.mac)
                if f.t >= t_rq and r.dialog_token == reqs[0][1].dialog_token]
        t_rs = resp[0][0].t if resp else None
        probes = [f for f in a.of_kind("probe_req") if mac(f.raw[10:16]) == dut.mac
                  and f.t >= t_rq and (t_rs is None or f.t <= t_rs)]
        after_scan = [e.get("after_new_scan") for e in evs if e.kind == "btm_transition"]
        record.metrics["scan_before_response"] = {"probe_requests": len(probes), "after_new_scan": after_scan}
        record.add(Verdict("BTM-SCAN", C.BTM_REQUEST, INFO, "the DUT may scan for a candidate it does not know",
                           f"{len(probes)} probe request(s) between request and response; "
                           f"DUT says after_new_scan={after_scan}"))
        if t_rs is not None:
            record.metrics["response_after_s"] = round(t_rs - t_rq, 4)
    if p.get("timer") and reqs:
        f, r = reqs[0]
        timer_s = r.disassoc_timer * cur.config.beacon_int * btm.TU
        dis = [x for x in a.between(cur.bssid, dut.mac, "disassoc", "deauth")
               if x.t >= f.t and mac(x.raw[10:16]) == cur.bssid]
        left = next((e.t for e in evs if e.kind in ("connect_attempt", "disconnected") and e.t >= f.t), None)
        if dis:
            outcome, at = "disassociated by the AP", dis[0].t - f.t
        elif joined:
            outcome, at = "left before the timer", (left - f.t) if left else None
        else:
            outcome, at = "still on the current BSS", None
        record.metrics["disassoc_imminent"] = {"outcome": outcome, "after_s": at, "timer_s": round(timer_s, 3)}
        record.add(Verdict("BTM-DISASSOC-OUTCOME", C.BTM_REQUEST, INFO, "leave before the disassociation timer",
                           f"{outcome}" + (f" after {at:.3f} s of {timer_s:.3f} s" if at is not None else "")))
        if dis:
            record.add(check("BTM-DISASSOC-TIMER-AP", F_REQ, dis[0].t - f.t >= timer_s - 0.05,
                             f"the AP disassociates no earlier than the timer ({timer_s:.3f} s)",
                             f"disassociated after {dis[0].t - f.t:.3f} s", (f"frame {dis[0].index}",)))
        record.add(check("BTM-DISASSOC-BIT", F_REQ, r.disassoc_imminent and r.disassoc_timer == p["timer"],
                         f"request with Disassociation Imminent and timer {p['timer']}",
                         f"mode 0x{r.request_mode:02x}, timer {r.disassoc_timer}", (f"frame {f.index}",)))
    if p.get("bss_term") and reqs:
        f, r = reqs[0]
        # subelement body: BSS Termination TSF (8), Duration in minutes (2)
        dur = int.from_bytes(r.bss_termination[8:10], "little") if r.bss_termination else None
        record.add(check("BTM-BSS-TERM-FRAME", F_REQ, r.bss_term_included and dur == p["bss_term"],
                         f"BSS Termination Included with a {p['bss_term']}-minute duration",
                         f"mode 0x{r.request_mode:02x}, duration {dur}", (f"frame {f.index}",)))
    if p.get("url") and reqs:
        f, r = reqs[0]
        record.add(check("BTM-ESS-FRAME", F_REQ, bool(r.request_mode & 0x10) and r.url == p["url"],
                         f"ESS Disassociation Imminent with Session Information URL {p['url']}",
                         f"mode 0x{r.request_mode:02x}, url {r.url!r}", (f"frame {f.index}",)))
        seen = [e for e in evs if e.kind == "ess_disassoc_imminent"]
        record.add(Verdict("BTM-ESS-NOTICE", C.BTM_REQUEST, INFO, "the DUT passes the URL to its user",
                           f"{[e.get('url') for e in seen]}"))
    tokens = {q.dialog_token for _, q in reqs}
    accepted = [r for _, r in responses_from(a, dut.mac) if r.status == 0 and r.target and r.dialog_token in tokens
                and r.target != cur.bssid and r.target in {x[0] for x in roles.values()}]
    if accepted:
        # 11.24.7.4: the Target BSSID is the BSS the STA transitions to. The DUT must at least try
        # it; whether the target AP then lets it in is the lab's side (judged INFO, with the cause).
        tgt = accepted[-1].target
        tried = [f for f in a.of_kind("auth", "assoc_req", "reassoc_req", "ft_action_req")
                 if mac(f.raw[10:16]) == dut.mac and mac(f.raw[4:10]) == tgt]
        record.add(check("BTM-ROAM-ATTEMPT", RESP, bool(tried), f"an authentication/(re)association toward {tgt}",
                         f"{len(tried)} frame(s) from the DUT to the target",
                         (f"frame {tried[0].index}",) if tried else ()))
        if tried:
            cause = [f"{e.kind} {dict(e.fields)}" for e in evs
                     if e.kind in ("assoc_reject", "auth_reject", "disconnected") and e.t >= tried[0].t][:2]
            record.add(Verdict("BTM-ROAM-DONE", RESP, PASS if joined == tgt else INFO,
                               f"associated with the accepted target {tgt}",
                               f"ended on {joined or cur.bssid + ' (the original BSS)'}", (),
                               "" if joined == tgt else f"the attempt did not complete: {cause or 'no cause logged'}"))
    if p.get("excluded") and joined:
        record.add(check("BTM-EXCLUDED-AVOIDED", NR, joined != roles[p["excluded"]][0],
                         "no move to the BSS listed with preference 0", f"moved to {joined}"))
