"""The 802.11r (FT-PSK) cases' judges: the initial mobility domain association, one FT roam
(over the air or over the DS, with the row's PMF and reassociation-deadline checks), repeated
roams (and a tour of three APs), a target in another mobility domain, FT over the DS where the
MDE forbids it, an R0KH/R1KH key mismatch, a target that cannot pull PMK-R1, FT after a BTM
request, and ping loss across roams.

Each reads only its evidence: the facts the scenario recorded (times, marks, command
replies, the supplicant's STATUS at the end, ping results), the DUT's events and
indication trace, the APs' identities and the frames on the air."""
from __future__ import annotations

import dataclasses

from engine.air import Air
from engine.clauses import rule
from engine.evidence import CaseEvidence
from engine.ft import frame as ft_frame
from engine.ft.exchange import find_exchanges
from engine.ft.transition import MFPC, announced_deadline, deadline_verdicts, pmf_verdicts, refusal_verdicts, rsne_of
from engine.ies import split
from engine.indications import Observation
from engine.judges import judge
from engine.judges.bss_transition import final_bssid
from engine.judges.common import R, judge_btm, judge_ft_roam, roam_timeline, secrets
from engine.judges.roaming import (roam_commands, DS_CLAUSE, MD_CLAUSE, auth_algorithm, indication_rules, latency_summary,
                                   mde_of_beacon, sent_by, state_of)
from engine.outage import DutPacket, OutageError, decompose, unanswered_runs
from engine.verdict import DUT, FAIL, INFO, REFERENCE_AP, STIMULUS, Verdict, check

LOSS_LIMIT = 25  # lost 10 ms pings per roam (ChromeOS tast wificell)
LOSS_CLAUSE = (f"{R} 13.1 (FT keeps the loss of connectivity during a transition small); "
               f"ChromeOS tast wificell: at most {LOSS_LIMIT} lost 10 ms pings per roam")


@judge("ft.initial_association")
def initial_association(ev: CaseEvidence, air: Air, j) -> None:
    dut, bssid = ev.dut, ev.facts["connected_to"]
    ft = find_exchanges(air.frames, secrets(ev.profile))
    j.attach_json("ft-analysis", ft.to_dict())
    mine = [i for i in ft.initial if i.sta == dut.mac]
    j.add(check("FT-INITIAL", f"{R} 13.4", len(mine) == 1,
                "one initial mobility domain association (MDE and FT AKM in the Association Request)",
                f"{len(mine)}", tuple(f"frame {i.request.index}" for i in mine)))
    for i in mine:
        j.add(check("FT-INITIAL-MDE", f"{R} 13.4, 9.4.2.46", i.request.mde is not None,
                    "an MDE in the Association Request", "present" if i.request.mde else "absent",
                    (f"frame {i.request.index}",)))
        h = i.handshake
        ids = []
        if h is not None and h.m2 is not None:
            ids = [e.id for e in split(h.m2.key_data, what="M2 Key Data")[0]]
        j.add(check("FT-INITIAL-FTE", f"{R} 13.4.2, 9.4.2.47", 55 in ids and 54 in ids,
                    "MDE and FTE in the Key Data of 4-way message 2",
                    f"element ids {ids}" if h and h.m2 else "no message 2",
                    tuple(f"frame {x}" for x in (h.messages.get(2, []) if h else []))))
    hs = [h for h in ft.handshakes if h.sta == dut.mac]
    j.add(check("FT-4WAY-ONCE", f"{R} 13.4", len(hs) == 1, "exactly one 4-way handshake", f"{len(hs)}"))
    j.add(ft.verdicts())
    j.add(check("CONNECTED", f"{R} 13.4", bssid in {ap.bssid for ap in ev.aps.values()},
                "connected to a lab AP", bssid))
    if ev.params.get("pmf"):  # the AP requires MFP: the STA's Association Request advertises MFPC
        for i in mine:
            idx, r = beacon_rsne(air, i.ap)
            j.add(pmf_verdicts(i.request, r, idx, initial=True))
    indication_rules(j, dut, commands=roam_commands(ev), focus=("IND-3",))


@judge("ft.roam")
def one_roam(ev: CaseEvidence, air: Air, j) -> None:
    """One commanded FT roam (ROAM over the air, FT_DS over the DS) that must succeed."""
    dut, cur, other = ev.dut, ev.ap("cur"), ev.ap("other")
    over_ds, reply, done = ev.params["over_ds"], ev.facts["command_reply"], ev.facts["outcome"]
    j.add(check("ROAM-ACCEPTED", f"{R} 13.5.1", reply.startswith("OK"), "OK", reply.strip()))
    j.add(check("ROAM-COMPLETED", f"{R} 13.5.1", done == "connected", f"connected to {other.bssid}", done))
    ft, mine = judge_ft_roam(j, air, dut, over_ds, other, ev.profile)
    hs = [h for h in ft.handshakes if h.sta == dut.mac and h.ap == other.bssid]
    j.add(check("FT-NO-4WAY-TARGET", f"{R} 13.5.1", not hs,
                "no 4-way handshake with the target", f"{len(hs)} handshake(s)"))
    lat = mine[0].latency_us if mine else None
    j.metrics["ft_latency"] = latency_summary([x.latency_us for x in mine if x.latency_us])
    transition_checks(j, air, ev, dut, mine, ft)
    indication_rules(j, dut, commands=roam_commands(ev), focus=("IND-2", "IND-6", "IND-7"))
    roam_timeline(j, air, dut, cur, other, ev.title, ev.facts["t0"], {"ft": lat} if lat else None)


def beacon_rsne(air: Air, bssid: str):
    """(frame index, RSNE) of the last beacon of bssid that carries one."""
    out = (None, None)
    for f in air.of_kind("beacon"):
        if f.addr3 == bssid.lower():
            r = rsne_of(f.raw)
            if r is not None:
                out = (f.index, r)
    return out


def transition_checks(j, air: Air, ev: CaseEvidence, dut, mine, ft) -> None:
    """The row's further FT duties: the reassociation deadline (params reassociation_deadline),
    management frame protection (params pmf): MFPC toward a target that requires MFP, and FT
    Action frames only protected once the association uses PMF."""
    p = ev.params
    if p.get("reassociation_deadline"):
        for x in mine:
            first = x._msgs()[0].t if x._msgs() else float("inf")
            before = [a for a in ft.initial if a.sta == dut.mac and a.request.t < first and a.handshake is not None
                      and a.handshake.complete]
            announced = announced_deadline(before[-1], secrets(ev.profile)) if before else (None, None)
            j.add(deadline_verdicts(x, announced))
    if p.get("pmf"):
        for x in mine:
            idx, r = beacon_rsne(air, x.target)
            j.add(pmf_verdicts(x.reassoc_req, r, idx))
        # with PMF in use every FT Action frame is a robust management frame: none goes out in clear
        plain = sent_by(air, dut.mac, ev.facts.get("t0", 0), "ft_action_req", "ft_action_confirm")
        idx, cur_rsne = beacon_rsne(air, ev.ap("cur").bssid)
        if cur_rsne is not None and cur_rsne.capabilities is not None and cur_rsne.capabilities & MFPC:
            j.add(check("FT-PMF-ACTION-PROTECTED", PMF_ACTION_CLAUSE, not plain,
                        "no unprotected FT Action frame from the DUT (PMF in use: FT is a robust Action category)",
                        f"{len(plain)} unprotected FT Action frame(s)", tuple(f"frame {f.index}" for f in plain)))


PMF_ACTION_CLAUSE = f"{R} 9.4.1.11 (Action field: the Category values table marks Fast BSS Transition robust)"


@judge("ft.repeated_roams")
def repeated_roams(ev: CaseEvidence, air: Air, j) -> None:
    """n over-the-air FT roams back and forth, each of which must succeed without a 4-way."""
    dut, first_cur, first_other = ev.dut, ev.ap("cur"), ev.ap("other")
    n, done, fails = ev.params["rounds"], ev.facts["succeeded"], ev.facts["failures"]
    j.add(check("FT-REPEAT", f"{R} 13.5.2", done == n and not fails,
                f"{n} successful roams, no failure", f"{done} succeeded; " + ("; ".join(fails) or "no failure")))
    ft, mine = judge_ft_roam(j, air, dut, bool(ev.params.get("over_ds")), None, ev.profile)
    ok = [x for x in mine if x.reassoc_status == 0 and x.ok]
    if len(ev.aps) > 2:  # a tour of every AP of the mobility domain, each reached by FT
        every = {ap.bssid for ap in ev.aps.values()}
        reached = {x.target for x in ok}
        j.add(check("FT-TOUR-EVERY-AP", f"{R} 13.5.1, 13.3", reached == every,
                    f"a successful FT roam into each of the {len(every)} APs of the mobility domain",
                    f"reached {sorted(reached)}; never {sorted(every - reached)}" if every - reached
                    else f"reached all {len(every)}"))
    j.add(check("FT-REPEAT-EXCHANGES", f"{R} 13.5.2, 13.8.4, 13.8.5", len(ok) == n,
                f"{n} FT exchanges that pass every check", f"{len(ok)} of {len(mine)}"))
    hs = [h for h in ft.handshakes if h.sta == dut.mac]
    j.add(check("FT-REPEAT-NO-4WAY", f"{R} 13.5.1", len(hs) == 1,
                "one 4-way handshake (the initial association) and none after any roam",
                f"{len(hs)} handshake(s)"))
    transition_checks(j, air, ev, dut, mine, ft)
    lats = [x.latency_us for x in mine if x.latency_us]
    j.metrics["ft_latency"] = latency_summary(lats)
    j.attach_json("ft-latencies-us", lats)
    indication_rules(j, dut, commands=roam_commands(ev), focus=("IND-2", "IND-6", "IND-7"))
    roam_timeline(j, air, dut, first_cur, first_other, ev.title + " (all roams)", ev.facts["t0"],
                  {"ft_median": int(latency_summary(lats)["median_ms"] * 1000)} if lats else None)


@judge("ft.other_mobility_domain")
def other_mobility_domain(ev: CaseEvidence, air: Air, j) -> None:
    """A roam to a BSS of another mobility domain: no FT; either a full (initial MD)
    association that completes, or no attempt and the current link kept."""
    dut, cur, other = ev.dut, ev.ap("cur"), ev.ap("other")
    t0, reply, status = ev.facts["t0"], ev.facts["command_reply"], ev.facts["status"]
    ft = find_exchanges(air.frames, secrets(ev.profile))
    j.attach_json("ft-analysis", ft.to_dict())
    # the exchange checks assume an FT roam should succeed; here only the MD rules apply
    j.add([v for i in ft.initial if i.sta == dut.mac for v in i.verdicts])
    md_cur, md_oth = mde_of_beacon(air, cur.bssid), mde_of_beacon(air, other.bssid)
    j.add(check("MD-DIFFERENT", f"{R} 9.4.2.46", bool(md_cur and md_oth and md_cur[:2] != md_oth[:2]),
                "the two APs advertise different MDIDs (the scenario)",
                f"{md_cur.hex() if md_cur else None} / {md_oth.hex() if md_oth else None}", layer=REFERENCE_AP))
    fts = [x for x in ft.exchanges if x.sta == dut.mac and x.target == other.bssid]
    j.add(check("FT-MD-NO-FT", MD_CLAUSE, not fts,
                "no FT exchange with a BSS of another mobility domain",
                f"{len(fts)} FT exchange(s)", tuple(f"frame {x._msgs()[0].index}" for x in fts if x._msgs())))
    auths = sent_by(air, dut.mac, t0, "auth", to=other.bssid)
    acts = sent_by(air, dut.mac, t0, "ft_action_req")
    j.add(check("FT-MD-NO-FT-ACTION", MD_CLAUSE, not acts, "no FT Action Request",
                f"{len(acts)}", tuple(f"frame {f.index}" for f in acts)))
    j.attach_json("auth-to-target", [{"frame": f.index, "algorithm": auth_algorithm(f)} for f in auths])
    open_auths = [f for f in auths if auth_algorithm(f) == 0]
    if open_auths:  # a full authentication: it must complete like an initial MD association
        hs = [h for h in ft.handshakes if h.sta == dut.mac and h.ap == other.bssid]
        j.add(check("FT-MD-4WAY", f"{R} 13.4, 12.7.6", any(h.complete for h in hs),
                    "a complete 4-way handshake with the target (initial MD association)",
                    "; ".join(str(h.to_dict()["messages"]) for h in hs) or "none"))
        j.add(check("FT-MD-JOINED", f"{R} 13.4", status.get("bssid") == other.bssid
                    and status.get("wpa_state") == "COMPLETED",
                    f"COMPLETED with {other.bssid}", state_of(status)))
    elif not auths:
        j.add(check("FT-MD-REFUSED-STAYS", MD_CLAUSE, status.get("bssid") == cur.bssid
                    and status.get("wpa_state") == "COMPLETED",
                    f"no transition attempted, still COMPLETED with {cur.bssid}",
                    f"ROAM answered {reply.strip()!r}; {state_of(status)}"))
    indication_rules(j, dut, commands=roam_commands(ev))
    roam_timeline(j, air, dut, cur, other, ev.title, t0)


@judge("ft.over_ds_not_offered")
def over_ds_not_offered(ev: CaseEvidence, air: Air, j) -> None:
    """FT_DS where both APs' MDEs say FT over the DS = 0. The command forces an FT Request (the
    stimulus); the AP must not grant it; the DUT keeps its link. The roam the adapter opens
    at the forced FT Request is the stimulus's too: hostap's test_ap_ft_over_ds_disabled
    accepts the silence that follows, so it is not judged against the DUT."""
    dut, cur, other = ev.dut, ev.ap("cur"), ev.ap("other")
    t0, reply, status = ev.facts["t0"], ev.facts["command_reply"], ev.facts["status"]
    md_cur, md_oth = mde_of_beacon(air, cur.bssid), mde_of_beacon(air, other.bssid)
    j.add(check("MDE-NO-DS", f"{R} 9.4.2.46",
                bool(md_cur and md_oth) and not (md_cur[2] & 1) and not (md_oth[2] & 1),
                "both APs advertise FT over DS = 0 in their MDE (the scenario)",
                f"MDE {md_cur.hex() if md_cur else None} / {md_oth.hex() if md_oth else None}", layer=REFERENCE_AP))
    acts = sent_by(air, dut.mac, t0, "ft_action_req")
    # The test's FT_DS command forces an FT over the DS attempt: hostap's own
    # test_ap_ft_over_ds_disabled gives the same command with ft_over_ds=0 on both APs and
    # expects the request on the air and the AP to drop it. So the request is the stimulus's,
    # not the DUT's choice; what is judged is that the AP does not carry it out.
    j.add(Verdict("FT-DS-NOT-OFFERED", DS_CLAUSE, INFO,
                  "an FT over the DS attempt only because the test's FT_DS command forced it",
                  f"{len(acts)} FT Action Request(s) sent to {sorted({f.dst for f in acts})} after "
                  f"FT_DS (answered {reply.strip()!r})", tuple(f"frame {f.index}" for f in acts),
                  "forced by the test's command: not a DUT deviation", layer=STIMULUS))
    granted = [f for f in sent_by(air, cur.bssid, t0, "ft_action_resp", to=dut.mac)
               if len(f.body) >= 16 and int.from_bytes(f.body[14:16], "little") == 0]
    j.add(check("FT-DS-AP-DROPS", DS_CLAUSE, not granted,
                "the current AP, whose MDE says FT over the DS = 0, grants no FT Action Request",
                f"{len(granted)} FT Action Response(s) with status 0",
                tuple(f"frame {f.index}" for f in granted), layer=REFERENCE_AP))
    ft = find_exchanges(air.frames, secrets(ev.profile))
    j.attach_json("ft-analysis", ft.to_dict())
    j.add(check("FT-DS-KEEPS-LINK", rule("IND-8").clause, status.get("wpa_state") == "COMPLETED",
                "still COMPLETED (with either AP)", state_of(status)))
    before = len(j.verdicts)
    indication_rules(j, dut, commands=roam_commands(ev))
    # IND-2/IND-3 on the operation the adapter opened at the forced FT Request: no association
    # started (the STA stays COMPLETED) and the AP dropped the request as the scenario wants,
    # so whether it "closes" is the stimulus's doing, not the DUT's
    j.verdicts[before:] = [
        dataclasses.replace(v, status=INFO, layer=STIMULUS, message="; ".join(m for m in (
            v.message, "not judged: the roam was opened at the FT Request the test's FT_DS forced, which the AP "
            "dropped as the scenario intends (hostap's test_ap_ft_over_ds_disabled accepts the silence)") if m))
        if v.status == FAIL and v.rule in ("IND-2", "IND-3") else v for v in j.verdicts[before:]]
    roam_timeline(j, air, dut, cur, other, ev.title, t0)


@judge("ft.key_mismatch")
def key_mismatch(ev: CaseEvidence, air: Air, j) -> None:
    """FT_DS to a target that cannot get PMK-R1: the roam fails and the DUT keeps its link."""
    dut, cur, other = ev.dut, ev.ap("cur"), ev.ap("other")
    reply, status = ev.facts["command_reply"], ev.facts["status"]
    ft = find_exchanges(air.frames, secrets(ev.profile))
    j.attach_json("ft-analysis", ft.to_dict())
    mine = [x for x in ft.exchanges if x.sta == dut.mac]
    joined = [x for x in mine if x.reassoc_status == 0]
    j.add(check("FT-KEYS-ROAM-FAILS", f"{R} 13.5.4, 13.7.2", not joined,
                "no successful FT reassociation (the target has no PMK-R1)",
                f"{len(joined)} successful of {len(mine)} exchange(s); FT_DS answered {reply.strip()!r}",
                tuple(f"frame {x.reassoc_resp.index}" for x in joined)))
    j.add(check("FT-KEYS-STAYS", rule("IND-8").clause,
                status.get("wpa_state") == "COMPLETED" and status.get("bssid") == cur.bssid,
                f"COMPLETED with the current AP {cur.bssid}", state_of(status)))
    # IND-8's "remain in the OP operating state" is FT-KEYS-STAYS above; its periodic retry is
    # owed for the station's own roams, not this commanded one (IND-05 judges that).
    indication_rules(j, dut, commands=roam_commands(ev), candidates_by_roam={0: [other.bssid]},
                     observation=Observation(observed_until=ev.facts["t_end"]))
    roam_timeline(j, air, dut, cur, other, ev.title, ev.facts["t0"])


def decompose_outages(j, air: Air, ev: CaseEvidence, first_cur: str, first_other: str) -> dict:
    """Each completed roam's data-plane outage, decomposed (engine/outage.py) from the air, the
    DUT's events and link events, and the DUT interface's own packets: an INFO verdict and an
    attachment per roam; {roam index: Outage}."""
    packets = [DutPacket(**p) for p in ev.facts.get("dut_packets", [])]
    events = ev.dut.all_events()
    out = {}
    for i, r in enumerate(ev.facts["roams"]):
        if not r["roamed"]:
            continue
        old, new = (first_cur, first_other) if i % 2 == 0 else (first_other, first_cur)
        try:
            o = decompose(air.frames, ev.dut.mac, old, new, events, packets,
                          answered=r["ping"]["answered"], transmitted=r["ping"]["transmitted"],
                          after=r["t_command"])
        except OutageError as e:
            j.add(Verdict(f"DP-OUTAGE-{i + 1}", LOSS_CLAUSE, INFO, "the roam's outage decomposed", str(e)))
            continue
        out[i] = o
        j.add(o.verdict(f"DP-OUTAGE-{i + 1}", LOSS_CLAUSE))
        j.attach_json(f"outage-roam-{i + 1}", o.to_dict())
        j.metrics.setdefault("outage_gap_ms", []).append(o.gap_ms)
    j.metrics["neigh_evict_nocarrier"] = not ev.facts.get("keep_neigh", False)
    return out


def ping_gaps(transmitted: int, answered: list[int]) -> list[tuple[int, int]]:
    """Runs of unanswered sequence numbers (first, last), within the transmitted range."""
    return unanswered_runs(transmitted, answered)


def air_gaps(air: Air, sta: str, exchanges) -> list[dict]:
    """For each FT exchange: the DUT's last data frame before it and first data frame
    after the Reassociation Response, on the air (frames are CCMP, so only timing)."""
    out = []
    data = sent_by(air, sta, 0, "data")
    for x in exchanges:
        ms = x._msgs()
        if not ms or x.reassoc_resp is None:
            continue
        start, end = ms[0].t, x.reassoc_resp.t
        before = [f for f in data if f.t < start]
        after = [f for f in data if f.t > end]
        out.append({"target": x.target, "ft_start_t": start, "reassoc_resp_t": end,
                    "last_data_before_ms": round((start - before[-1].t) * 1000, 1) if before else None,
                    "first_data_after_ms": round((after[0].t - end) * 1000, 1) if after else None,
                    "data_gap_ms": round((after[0].t - before[-1].t) * 1000, 1) if before and after else None})
    return out


@judge("ft.ping_loss")
def ping_loss(ev: CaseEvidence, air: Air, j) -> None:
    """Over-the-air FT roams under a 10 ms ping from the DUT to the distribution system:
    every roam completes and loses at most LOSS_LIMIT pings.

    facts["roams"][i]: roamed (bool), target, ping (transmitted, received, answered seqs,
    per-ping records); facts["warm_up"]: the ping before any roam."""
    dut, first_cur, first_other = ev.dut, ev.ap("cur"), ev.ap("other")
    roams, warm = ev.facts["roams"], ev.facts["warm_up"]
    for i, r in enumerate(roams):
        j.add(check(f"DP-ROAM-{i + 1}", f"{R} 13.5.2", r["roamed"], f"FT roam to {r['target']} completed",
                    "completed" if r["roamed"] else "no CTRL-EVENT-CONNECTED within 15 s"))
    j.add(check("DP-BASELINE", LOSS_CLAUSE, warm["received"] > 0,
                "pings answered before any roam (the data path works)",
                f"{warm['received']}/{warm['transmitted']}"))
    ft, mine = judge_ft_roam(j, air, dut, False, None, ev.profile)
    lats = [x.latency_us for x in mine if x.latency_us]
    outages = decompose_outages(j, air, ev, first_cur.bssid, first_other.bssid)
    for i, r in enumerate(roams):
        p = r["ping"]
        lost = p["transmitted"] - p["received"]
        o = outages.get(i)
        # whose the lost pings are: the layer with the most time in the decomposed outage
        # (engine/outage.py); without a decomposition, the DUT's as a whole
        by_layer: dict[str, float] = {}
        # the FT exchange itself (first FT frame -> Reassociation Response) is time every roam
        # spends, whoever keeps carrier: it is taken out of the carrier-down span before blaming
        exchange = None
        if o and o.at("reassoc_response") and (o.at("ft_auth_request") or o.at("reassoc_request")):
            exchange = (o.at("reassoc_response").t - (o.at("ft_auth_request") or o.at("reassoc_request")).t) * 1000
        for ph in (o.phases if o else ()):
            ms = ph.ms
            if exchange is not None and (ph.start, ph.end) == ("carrier_off", "carrier_on"):
                ms = max(0.0, ms - exchange)
            by_layer[ph.layer] = by_layer.get(ph.layer, 0.0) + ms
        worst_layer = max(by_layer, key=by_layer.get) if by_layer else None
        worst = max((ph for ph in o.phases if ph.layer == worst_layer), key=lambda ph: ph.ms) if worst_layer else None
        j.add(check(f"DP-LOSS-{i + 1}", LOSS_CLAUSE, lost <= LOSS_LIMIT,
                    f"at most {LOSS_LIMIT} of {p['transmitted']} pings lost across roam {i + 1}",
                    f"{lost} lost; unanswered seq runs {ping_gaps(p['transmitted'], p['answered'])}; FT exchange "
                    f"{lats[i] / 1000 if i < len(lats) else '?'} ms on the air" +
                    (f"; {worst_layer} spans {by_layer[worst_layer]:.1f} ms of the outage"
                     + (f" (the FT exchange's {exchange:.1f} ms on the air not counted)" if exchange is not None else "")
                     + f", the longest "
                     f"{worst.start} -> {worst.end} {worst.ms:.1f} ms ({worst.why})" if worst else ""),
                    (f"ping-roam-{i + 1}",) + ((f"outage-roam-{i + 1}",) if o else ()),
                    layer=worst_layer or DUT))
    j.metrics["ping_lost_per_roam"] = [r["ping"]["transmitted"] - r["ping"]["received"] for r in roams]
    j.metrics["ft_latency"] = latency_summary(lats)
    j.attach_json("air-gaps", air_gaps(air, dut.mac, mine))
    indication_rules(j, dut, commands=roam_commands(ev), focus=("IND-6",))
    roam_timeline(j, air, dut, first_cur, first_other, ev.title, ev.facts["t0"])


@judge("ft.pull_failure")
def pull_failure(ev: CaseEvidence, air: Air, j) -> None:
    """A commanded FT roam to a target that cannot get PMK-R1 (no R0KH it knows): the target
    refuses message 2 (hostapd: status 53 INVALID_PMKID). The DUT sends no reassociation on
    that refusal, and ends connected to the ESS: it keeps its link (over the DS), or, having
    left it, comes back by a full authentication (an initial mobility domain association with
    its 4-way handshake) or by an FT roam to an AP that holds its keys. hostap's roam(...,
    fail_test=True) accepts both a kept link and a disconnection after a failed FT roam."""
    dut, cur, other = ev.dut, ev.ap("cur"), ev.ap("other")
    t0, reply, status = ev.facts["t0"], ev.facts["command_reply"], ev.facts["status"]
    over_ds = bool(ev.params.get("over_ds"))
    ft = find_exchanges(air.frames, secrets(ev.profile))
    j.attach_json("ft-analysis", ft.to_dict())
    j.add(check("ROAM-ACCEPTED", f"{R} 13.5.1", reply.startswith("OK"), "OK", reply.strip(), layer=STIMULUS))
    tried = [x for x in ft.exchanges if x.sta == dut.mac and x.target == other.bssid and x._msgs()
             and x._msgs()[0].t >= t0]
    j.add(check("FT-PULL-ATTEMPT", f"{R} {'13.5.4' if over_ds else '13.5.2'}", bool(tried),
                f"an FT {'Request' if over_ds else 'Authentication'} to the target (the command's roam)",
                f"{len(tried)} exchange(s)", tuple(f"frame {x._msgs()[0].index}" for x in tried)))
    answered = [x for x in tried if x.response is not None]
    refused = [x for x in answered if x.response.status != 0]
    # the scenario: the target has no R0KH for the DUT's PMK-R0 holder, so it must refuse
    j.add(check("FT-PULL-TARGET-REFUSES", f"{R} 13.8.3, 9.4.1.9", not answered or bool(refused),
                "the target refuses (non-zero status) or does not answer: it cannot get PMK-R1",
                "; ".join(f"status {x.response.status}" for x in answered) or "no answer",
                tuple(f"frame {x.response.index}" for x in answered), layer=REFERENCE_AP))
    for x in tried:
        j.add(refusal_verdicts(x))
    joined = [x for x in tried if x.reassoc_status == 0]
    j.add(check("FT-PULL-NO-FT-JOIN", f"{R} 13.5.1, 12.7.1.7", not joined,
                "no successful FT reassociation with the target (it has no PMK-R1)",
                f"{len(joined)} successful", tuple(f"frame {x.reassoc_resp.index}" for x in joined),
                layer=REFERENCE_AP))
    # after the refusal: kept link, or a way back that authenticates in full (or FT where keys exist)
    t_ref = max((x.response.t for x in refused), default=t0)
    left = sent_by(air, dut.mac, t_ref, "auth", "assoc_req", "reassoc_req")
    back_initial = [a for a in ft.initial if a.sta == dut.mac and a.request.t >= t_ref]
    back_ft = [x for x in ft.exchanges if x.sta == dut.mac and x.reassoc_req is not None
               and x.reassoc_req.t >= t_ref and x.reassoc_status == 0 and x.target != other.bssid]
    j.attach_json("after-refusal", {"frames_sent": [f.index for f in left],
                                    "initial_md_associations": [a.to_dict() for a in back_initial],
                                    "ft_roams": [x.to_dict() for x in back_ft]})
    ends = status.get("wpa_state") == "COMPLETED" and status.get("bssid") in {ap.bssid for ap in ev.aps.values()}
    j.add(check("FT-PULL-CONNECTED", rule("IND-8").clause, ends,
                "COMPLETED with an AP of the ESS at the end (kept link, or a fallback that completed)",
                state_of(status)))
    if back_initial:
        good = [a for a in back_initial if a.response is not None and a.response.status == 0
                and a.handshake is not None and a.handshake.complete]
        j.add(check("FT-PULL-FALLBACK-FULL", f"{R} 13.4, 12.7.6", bool(good),
                    "the fallback is a full authentication: an initial mobility domain association "
                    "whose 4-way handshake completes",
                    "; ".join(f"{a.ap}: status {a.response.status if a.response else None}, 4-way "
                              f"{sorted(a.handshake.messages) if a.handshake else 'none'}" for a in back_initial),
                    tuple(f"frame {a.request.index}" for a in back_initial)))
        j.add([v for a in back_initial for v in a.verdicts])
    elif back_ft:
        j.add(Verdict("FT-PULL-FALLBACK-FULL", f"{R} 13.5.1", INFO,
                      "a full authentication, or FT to an AP that holds the keys",
                      f"FT roam(s) to {sorted({x.target for x in back_ft})} after the refusal",
                      tuple(f"frame {x.reassoc_resp.index}" for x in back_ft)))
        j.add([v for x in back_ft for v in x.findings + x.verdicts])
    else:
        j.add(Verdict("FT-PULL-FALLBACK-FULL", f"{R} 13.5.1", INFO,
                      "a full authentication if the DUT left its BSS",
                      "no new association after the refusal: the DUT kept its link"))
    indication_rules(j, dut, commands=roam_commands(ev), candidates_by_roam={0: [other.bssid]},
                     observation=Observation(observed_until=ev.facts["t_end"]))
    roam_timeline(j, air, dut, cur, other, ev.title, t0)


@judge("ft.btm_roam")
def btm_roam(ev: CaseEvidence, air: Air, j) -> None:
    """The current AP sends a BTM request whose preferred candidate is another AP of the
    mobility domain; the DUT answers (11.24.7.4) and makes the transition by FT: an FT
    exchange with the target that passes every check, with no 4-way handshake after it."""
    dut, cur, other = ev.dut, ev.ap("cur"), ev.ap("other")
    joined = final_bssid(dut, ev.facts["dut_mark"], cur.bssid)
    judge_btm(j, air, dut, cur, list(ev.aps.values()), ev.profile, joined=joined,
              dialog_token=ev.facts["token"])
    ft, mine = judge_ft_roam(j, air, dut, None, None, ev.profile)
    to_target = [x for x in mine if x.target == other.bssid and x.reassoc_status == 0]
    j.add(check("FT-BTM-BY-FT", MD_CLAUSE + ", 11.24.7.4", bool(to_target),
                f"the transition to the BTM target {other.bssid} made by FT (the target is in the DUT's "
                f"mobility domain and the DUT associated with the FT AKM)",
                "; ".join(f"FT to {x.target} ({'DS' if x.over_ds else 'air'}), reassociation status "
                          f"{x.reassoc_status}" for x in mine) or "no FT exchange",
                tuple(f"frame {x._msgs()[0].index}" for x in mine if x._msgs())))
    hs = [h for h in ft.handshakes if h.sta == dut.mac and h.ap == other.bssid]
    j.add(check("FT-NO-4WAY-TARGET", f"{R} 13.5.1", not hs, "no 4-way handshake with the target",
                f"{len(hs)} handshake(s)"))
    j.add(check("FT-BTM-JOINED", f"{R} 11.24.7.4", joined == other.bssid,
                f"connected to the BTM target {other.bssid} at the end (the DUT's events)",
                f"connected to {joined}" if joined else "still with (or back to) the current AP, or not connected"))
    j.metrics["ft_latency"] = latency_summary([x.latency_us for x in to_target if x.latency_us])
    indication_rules(j, dut, focus=("IND-2", "IND-7"))
    roam_timeline(j, air, dut, cur, other, ev.title, ev.facts["t0"])
