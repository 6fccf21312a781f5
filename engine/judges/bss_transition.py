"""The 802.11v BSS Transition Management judges: the DUT answers the reference AP's BTM
requests and queries, and moves (or stays) as the standard allows. The prediction and the
response checks are engine.btm's; this module finds the case's own exchanges on the air and
adds the checks a row asks for (disassociation timer, BSS termination, ESS disassociation,
excluded candidates, the DUT's own query)."""
from __future__ import annotations

from engine import btm
from engine import clauses as C
from engine import mbo
from engine.air import Air, ap_events
from engine.evidence import CaseEvidence
from engine.frames import convert
from engine.judges import judge
from engine.judges.common import R, judge_btm, judge_indications, roam_timeline
from engine.verdict import FAIL, INFO, LAB, PASS, REFERENCE_AP, STIMULUS, Verdict, check

REQ = f"{R} 11.24.7.3"  # BSS transition management request
RESP = f"{R} 11.24.7.4"  # BSS transition management response
F_REQ, F_QRY = f"{R} 9.6.13.9", f"{R} 9.6.13.8"
NR = f"{R} 9.4.2.36"


# ---- the exchanges on the air -------------------------------------------------------------

def btm_queries(air: Air, sta: str):
    return [(f, convert.btm_query_from(f.raw)) for f in air.of_kind("btm_query") if f.src == sta]


def requests_to(air: Air, sta: str):
    return [(f, r) for f, r in air.btm_requests() if f.dst == sta]


def responses_from(air: Air, sta: str):
    return [(f, r) for f, r in air.btm_responses() if f.src == sta]


def final_bssid(dut, since: int, cur_bssid: str) -> str | None:
    """The BSS the DUT is connected to at the end, if it is not the one it started on."""
    last = None
    for e in dut.events()[since:]:
        if e.kind == "connected":
            last = e.get("bssid")
        elif e.kind == "disconnected":
            last = None
    return last if last and last != cur_bssid else None


def mine(air: Air, dut, tokens, t0: float):
    """The case's own requests on the air, found by dialog token (a DUT may cause others, e.g.
    an ESP32 app's query on connect): [(index among the DUT's requests, frame, request)]."""
    out, all_reqs = [], requests_to(air, dut.mac)
    for tok in tokens:
        hit = next(((i, f, q) for i, (f, q) in enumerate(all_reqs) if f.t >= t0 and q.dialog_token == tok), None)
        if hit:
            out.append(hit)
    return out


def current(ev: CaseEvidence):
    """The AP the DUT was on when the stimulus came (facts["cur"] names its role)."""
    return ev.ap(ev.facts["cur"])


# ---- the judge ----------------------------------------------------------------------------------

@judge("btm.exchange")
def btm_exchange(ev: CaseEvidence, air: Air, j) -> None:
    """The AP's request(s) (or the DUT's query) and everything the DUT did after them."""
    p, f = ev.params, ev.facts
    dut, cur = ev.dut, current(ev)
    aps = list(ev.aps.values())  # in the order the case started them
    roles = f["roles"]  # role -> [bssid, op class, channel], as the scenario named them
    m, mm, t0 = f["dut_mark"], f["ap_mark"], f["t0"]
    joined = final_bssid(dut, m, cur.bssid)
    settings = btm.DutSettings(btm_supported="btm" in dut.capabilities,
                               strict_preference=p.get("strict_preference", False),
                               beacon_interval_tu=cur.config.beacon_int)
    tokens = [r["token"] for r in p.get("reqs", [])]
    if p.get("query"):
        judge_query(j, air, ev, aps, settings, joined)
    elif p.get("disable_btm"):
        judge_negative_control(j, air, ev, aps, settings, joined)
    else:
        found = mine(air, dut, tokens, t0)
        missing = [t for t in tokens if t not in {q.dialog_token for _, _, q in found}]
        j.add(check("BTM-REQUEST-SENT", REQ, not missing, "each request of the case on the air",
                    f"missing dialog token(s) {missing}" if missing else f"{len(found)} request(s)",
                    layer=REFERENCE_AP))
        received = received_but_not_captured(air, dut, cur, mm, found[0][1].t) if len(found) == 1 else None
        for n, (i, _, _) in enumerate(found):
            judge_btm(j, air, dut, cur, aps, ev.profile, settings=settings,
                      joined=joined if n == len(found) - 1 else None, request_index=i, received=received)
    judge_hostapd_events(j, air, dut, cur, mm, t0)
    judge_specifics(j, air, ev, roles, joined, [(fr, q) for _, fr, q in mine(air, dut, tokens, t0)])
    if not p.get("disable_btm"):
        judge_indications(j, dut)
    target = ev.by_bssid(joined) or ev.ap(f["others"][0])
    roam_timeline(j, air, dut, cur, target, ev.title, t0)
    j.metrics["joined"] = joined or "stayed"


def judge_negative_control(j, air: Air, ev: CaseEvidence, aps, settings, joined) -> None:
    """BTM disabled in a DUT that declares it: the oracle must fail BTM-RESPONSE. The case
    passes when the oracle catches the deliberate fault, so a normal run counts no DUT
    failure here; the oracle's own verdicts on the faulty DUT are attached, not added."""
    from engine.judges import CaseJudgement
    dut, cur = ev.dut, current(ev)
    apart = CaseJudgement()
    _, rs = judge_btm(apart, air, dut, cur, aps, ev.profile, settings=settings, joined=joined)
    oracle = apart.verdicts
    j.attachments.update(apart.attachments)
    j.attach_json("oracle-verdicts-on-faulty-dut", [v.to_dict() for v in oracle])
    sent = responses_from(air, dut.mac)
    j.add(check("NEGCTL-SILENT", C.BTM_REQUEST, rs is None and not sent,
                "the faulty DUT sends no BTM response (the fault is in place)",
                f"{len(sent)} response frame(s)", layer=STIMULUS))
    caught = [v for v in oracle if v.rule == "BTM-RESPONSE" and v.status == FAIL]
    declared = "btm" in dut.capabilities
    j.add(check("NEGCTL-ORACLE", C.BTM_REQUEST, bool(caught) == declared,
                "the oracle fails BTM-RESPONSE" if declared else "the oracle accepts silence (BTM not declared)",
                "; ".join(v.describe() for v in oracle if v.rule == "BTM-RESPONSE") or "no BTM-RESPONSE verdict",
                layer=STIMULUS))


def judge_query(j, air: Air, ev: CaseEvidence, aps, settings, joined) -> None:
    dut, cur, p = ev.dut, current(ev), ev.params
    qs = btm_queries(air, dut.mac)
    j.add(check("BTM-QUERY-SENT", C.BTM_QUERY, bool(qs), "a BTM Query frame from the DUT",
                f"{len(qs)} query frame(s)"))
    if not qs:
        return
    qf, q = qs[0]
    j.attach_json("btm-query", {"frame": qf.index, "query": repr(q)})
    j.add(check("BTM-QUERY-TOKEN", F_QRY, q.dialog_token != 0, "a nonzero dialog token",
                f"dialog token {q.dialog_token}", (f"frame {qf.index}",)))
    reason = int(p["query"].split()[0])
    j.add(check("BTM-QUERY-REASON", F_QRY, q.reason == reason,
                f"BSS Transition Query Reason {reason} as asked", f"reason {q.reason}", (f"frame {qf.index}",)))
    if "list" in p["query"]:
        ess = {x.bssid for x in aps}
        listed = [c.bssid for c in q.candidates]
        j.add(check("BTM-QUERY-CANDIDATES", F_QRY, bool(listed) and set(listed) <= ess,
                    f"a candidate list of BSSs of the ESS {sorted(ess)}", f"{listed}", (f"frame {qf.index}",)))
    reqs = requests_to(air, dut.mac)
    idx = next((i for i, (f, r) in enumerate(reqs) if f.t >= qf.t and r.dialog_token == q.dialog_token), None)
    j.add(check("BTM-QUERY-ANSWERED", C.BTM_REQUEST, idx is not None,
                f"the AP answers with a BTM Request carrying the query's dialog token {q.dialog_token}",
                f"{[(f.index, r.dialog_token) for f, r in reqs]}", layer=REFERENCE_AP))
    if idx is not None:
        f, r = reqs[idx]
        j.metrics["query_answer"] = {"request_mode": r.request_mode, "candidates": len(r.candidates),
                                     "after_s": round(f.t - qf.t, 4)}
        judge_btm(j, air, dut, cur, aps, ev.profile, settings=settings, joined=joined, request_index=idx)


def received_but_not_captured(air: Air, dut, cur, mm: int, t_request: float):
    """The one response hostapd received from the DUT after the case's request (t_request, the
    request frame's time) when the capture has none from then on: the monitor dropped it (seen
    under TCG load: the AP logs BSS-TM-RESP, the DUT moves, the pcap lacks the frame). None when
    the capture has a response, or hostapd logged none or several after the request. A response
    the DUT sent before the request (to an older one) is never taken for it."""
    if any(f.dst == cur.bssid and f.t >= t_request for f, _ in responses_from(air, dut.mac)):
        return None
    evs = [e.value for t, e in ap_events(cur, "BSS-TM-RESP", mm)
           if t >= t_request and (e.sta or "").lower() == dut.mac]
    return evs[0] if len(evs) == 1 else None


def judge_hostapd_events(j, air: Air, dut, cur, mm: int, t0: float) -> None:
    """The AP's BSS-TM-RESP events must say what the DUT put on the air (the lab reads both).
    Fewer frames than events, the captured ones matching, is the capture's loss (lab)."""
    frames = [r for f, r in responses_from(air, dut.mac) if f.dst == cur.bssid and f.t >= t0]
    # the same window for both: an event hostapd logged before t0 but that was read after the
    # AP's mark belongs to an earlier exchange, as its frame does
    evs = [e.value for t, e in ap_events(cur, "BSS-TM-RESP", mm) if t >= t0]
    def same(e, r):
        return e.status == r.status and (e.target or None) == (r.target or None)
    observed = f"events {[(e.status, e.target) for e in evs]}, frames {[(r.status, r.target) for r in frames]}"
    lost = len(frames) < len(evs) and all(any(same(e, r) for e in evs) for r in frames)
    if lost:
        j.add(Verdict("BTM-HOSTAPD-EVENT", RESP, INFO, "hostapd's BSS-TM-RESP events match the frames on the air",
                      observed, (), f"the capture lacks {len(evs) - len(frames)} response(s) the AP received",
                      layer=LAB))
        return
    j.add(check("BTM-HOSTAPD-EVENT", RESP, len(evs) == len(frames) and all(same(e, r) for e, r in zip(evs, frames)),
                "hostapd's BSS-TM-RESP events match the frames on the air", observed, layer=REFERENCE_AP))


def judge_specifics(j, air: Air, ev: CaseEvidence, roles: dict, joined, reqs) -> None:
    """The checks particular rows ask for, by their parameters."""
    p, dut, cur = ev.params, ev.dut, current(ev)
    evs = dut.events()[ev.facts["dut_mark"]:]
    if p.get("flush") and reqs:
        t_rq = reqs[0][0].t
        resp = [(f, r) for f, r in responses_from(air, dut.mac)
                if f.t >= t_rq and r.dialog_token == reqs[0][1].dialog_token]
        t_rs = resp[0][0].t if resp else None
        probes = [f for f in air.of_kind("probe_req") if f.src == dut.mac
                  and f.t >= t_rq and (t_rs is None or f.t <= t_rs)]
        after_scan = [e.get("after_new_scan") for e in evs if e.kind == "btm_transition"]
        j.metrics["scan_before_response"] = {"probe_requests": len(probes), "after_new_scan": after_scan}
        j.add(Verdict("BTM-SCAN", C.BTM_REQUEST, INFO, "the DUT may scan for a candidate it does not know",
                      f"{len(probes)} probe request(s) between request and response; "
                      f"DUT says after_new_scan={after_scan}"))
        if t_rs is not None:
            j.metrics["response_after_s"] = round(t_rs - t_rq, 4)
    if p.get("timer") and reqs:
        f, r = reqs[0]
        timer_s = r.disassoc_timer * cur.config.beacon_int * btm.TU
        dis = [x for x in air.between(cur.bssid, dut.mac, "disassoc", "deauth") if x.t >= f.t and x.src == cur.bssid]
        left = next((e.t for e in evs if e.kind in ("connect_attempt", "disconnected") and e.t >= f.t), None)
        if dis:
            outcome, at = "disassociated by the AP", dis[0].t - f.t
        elif joined:
            outcome, at = "left before the timer", (left - f.t) if left else None
        else:
            outcome, at = "still on the current BSS", None
        j.metrics["disassoc_imminent"] = {"outcome": outcome, "after_s": at, "timer_s": round(timer_s, 3)}
        j.add(Verdict("BTM-DISASSOC-OUTCOME", C.BTM_REQUEST, INFO, "leave before the disassociation timer",
                      f"{outcome}" + (f" after {at:.3f} s of {timer_s:.3f} s" if at is not None else "")))
        if dis:
            j.add(check("BTM-DISASSOC-TIMER-AP", F_REQ, dis[0].t - f.t >= timer_s - 0.05,
                        f"the AP disassociates no earlier than the timer ({timer_s:.3f} s)",
                        f"disassociated after {dis[0].t - f.t:.3f} s", (f"frame {dis[0].index}",), layer=REFERENCE_AP))
        j.add(check("BTM-DISASSOC-BIT", F_REQ, r.disassoc_imminent and r.disassoc_timer == p["timer"],
                    f"request with Disassociation Imminent and timer {p['timer']}",
                    f"mode 0x{r.request_mode:02x}, timer {r.disassoc_timer}", (f"frame {f.index}",), layer=REFERENCE_AP))
    if p.get("bss_term") and reqs:
        f, r = reqs[0]
        # BSS Termination Duration subelement body: BSS Termination TSF (8), Duration in minutes (2)
        dur = int.from_bytes(r.bss_termination[8:10], "little") if r.bss_termination else None
        j.add(check("BTM-BSS-TERM-FRAME", F_REQ, r.bss_term_included and dur == p["bss_term"],
                    f"BSS Termination Included with a {p['bss_term']}-minute duration",
                    f"mode 0x{r.request_mode:02x}, duration {dur}", (f"frame {f.index}",), layer=REFERENCE_AP))
    if p.get("url") and reqs:
        f, r = reqs[0]
        j.add(check("BTM-ESS-FRAME", F_REQ, bool(r.request_mode & 0x10) and r.url == p["url"],
                    f"ESS Disassociation Imminent with Session Information URL {p['url']}",
                    f"mode 0x{r.request_mode:02x}, url {r.url!r}", (f"frame {f.index}",), layer=REFERENCE_AP))
        seen = [e for e in evs if e.kind == "ess_disassoc_imminent"]
        j.add(Verdict("BTM-ESS-NOTICE", C.BTM_REQUEST, INFO, "the DUT passes the URL to its user",
                      f"{[e.get('url') for e in seen]}"))
    if p.get("mbo") and reqs:
        # Wi-Fi Alliance MBO attributes (engine/mbo.py): the AP's on the request, the DUT's on
        # its answer; the IEEE 802.11 answer itself is judged by engine/btm.py as for any request
        f, r = reqs[0]
        for v in mbo.check_request(r.vendor, p["mbo"], r.disassoc_imminent, (f"frame {f.index}",)):
            j.add(v)
        for rf, rs in responses_from(air, dut.mac):
            if rf.t >= f.t and rs.dialog_token == r.dialog_token:
                for v in mbo.check_response(rs.vendor, rs.status, (f"frame {rf.index}",)):
                    j.add(v)
                break
    tokens = {q.dialog_token for _, q in reqs}
    accepted = [r for _, r in responses_from(air, dut.mac) if r.status == 0 and r.target and r.dialog_token in tokens
                and r.target != cur.bssid and r.target in {x[0] for x in roles.values()}]
    if accepted:
        # 11.24.7.4: the Target BSSID is the BSS the STA transitions to. The DUT must at least try
        # it; whether the target AP then lets it in is the lab's side (judged INFO, with the cause).
        tgt = accepted[-1].target
        tried = [f for f in air.of_kind("auth", "assoc_req", "reassoc_req", "ft_action_req")
                 if f.src == dut.mac and f.dst == tgt]
        j.add(check("BTM-ROAM-ATTEMPT", RESP, bool(tried), f"an authentication/(re)association toward {tgt}",
                    f"{len(tried)} frame(s) from the DUT to the target", (f"frame {tried[0].index}",) if tried else ()))
        if tried:
            cause = [f"{e.kind} {dict(e.fields)}" for e in evs
                     if e.kind in ("assoc_reject", "auth_reject", "disconnected") and e.t >= tried[0].t][:2]
            j.add(Verdict("BTM-ROAM-DONE", RESP, PASS if joined == tgt else INFO,
                          f"associated with the accepted target {tgt}",
                          f"ended on {joined or cur.bssid + ' (the original BSS)'}", (),
                          "" if joined == tgt else f"the attempt did not complete: {cause or 'no cause logged'}"))
    if p.get("excluded") and joined:
        j.add(check("BTM-EXCLUDED-AVOIDED", NR, joined != roles[p["excluded"]][0],
                    "no move to the BSS listed with preference 0", f"moved to {joined}"))
