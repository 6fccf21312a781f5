"""The Native 802.11 cases' judges: the DUT's roaming indications (IND-1..9) in roams that
must not start (no candidate), are cut short by an OS request, fail and must be retried,
succeed without media indications, or are asked for before a connection completed.

The Observation the indication rules take is built here from the facts the scenario
recorded: when it asked the DUT's OS to disconnect or switched its radio, how long it
watched, when the DUT had no candidate."""
from __future__ import annotations

from engine.air import Air
from engine.clauses import rule
from engine.evidence import CaseEvidence
from engine.indications import Observation
from engine.judges import judge
from engine.judges.common import judge_btm, judge_ft_roam, roam_timeline
from engine.judges.roaming import roam_commands, indication_rules, os_requests, sent_by, state_of
from engine.verdict import INFO, LAB, STIMULUS, Verdict, check


def alone_on_air(j, air: Air, cur, t0: float) -> None:
    """The scenario: from t0 no other BSS beacons, so the candidate list is empty."""
    others = sorted({f.addr3 for f in air.of_kind("beacon") if f.t >= t0} - {cur.bssid})
    j.add(check("SCENARIO-ONE-BSS", rule("IND-4").clause, not others,
                f"only {cur.bssid} beacons", f"also {others}" if others else "only it", layer=LAB))


def no_attempt_on_air(j, air: Air, dut, t0: float) -> None:
    fs = sent_by(air, dut.mac, t0, "auth", "assoc_req", "reassoc_req", "ft_action_req")
    j.add(check("NO-ROAM-ON-AIR", rule("IND-4").clause, not fs,
                "no Authentication, (Re)Association or FT Action Request from the DUT",
                f"{len(fs)} frame(s)", tuple(f"frame {f.index}" for f in fs)))


def empty_candidates(ev: CaseEvidence) -> Observation:
    return Observation(empty_candidate_windows=((ev.facts["t0"], ev.facts["t1"]),))


@judge("native.roam_to_absent_bss")
def roam_to_absent_bss(ev: CaseEvidence, air: Air, j) -> None:
    """ROAM to a BSSID no radio has, with one BSS on the air: no roam may start."""
    dut, cur, t0 = ev.dut, ev.ap("cur"), ev.facts["t0"]
    alone_on_air(j, air, cur, t0)
    no_attempt_on_air(j, air, dut, t0)
    indication_rules(j, dut, commands=roam_commands(ev), focus=("IND-4",), observation=empty_candidates(ev))


@judge("native.btm_unknown_candidates")
def btm_unknown_candidates(ev: CaseEvidence, air: Air, j) -> None:
    """A BTM request naming only an absent BSS, with one BSS on the air: no roam may start."""
    dut, cur, t0 = ev.dut, ev.ap("cur"), ev.facts["t0"]
    alone_on_air(j, air, cur, t0)
    no_attempt_on_air(j, air, dut, t0)
    judge_btm(j, air, dut, cur, [cur], ev.profile, dialog_token=ev.params["token"])
    indication_rules(j, dut, commands=roam_commands(ev), focus=("IND-4",), observation=empty_candidates(ev))


@judge("native.roam_cut_short")
def roam_cut_short(ev: CaseEvidence, air: Air, j) -> None:
    """A roam interrupted by an OS request (disconnect, or the radio off and on again): the
    roam fails with the right indications, and the DUT retries where the radio came back."""
    dut, cur, other = ev.dut, ev.ap("cur"), ev.ap("other")
    f = ev.facts
    t_req, status = f["t_request"], f["status"]
    reqs = os_requests(f)
    j.attach_json("os-requests", [r.__dict__ for r in reqs])
    j.add(check("SCENARIO-ROAM-CUT", rule("IND-8").clause,
                not any(e.kind == "connected" and e.get("bssid") == other.bssid and e.t <= t_req
                        for e in dut.events()[f["dut_mark"]:]),
                "the request came before the roam completed",
                f"request at t={t_req:.3f}; DUT now {state_of(status)}", layer=STIMULUS))
    indication_rules(j, dut, commands=roam_commands(ev), focus=("IND-8",),
                     observation=Observation(os_requests=reqs, observed_until=f["t_end"], retry_within_s=20))
    roam_timeline(j, air, dut, cur, other, ev.title, f["t0"])


@judge("native.retry_after_failed_roam")
def retry_after_failed_roam(ev: CaseEvidence, air: Air, j) -> None:
    """The station's own roam to a target that refuses it, started because its AP turned weak:
    the DUT stays in OP and roams again. Judged only if the DUT did start such a roam; a DUT
    that did not roam on its own leaves IND-8 not applicable, with that reason."""
    dut, cur, other = ev.dut, ev.ap("cur"), ev.ap("other")
    status = ev.facts["status"]
    t0 = ev.facts["t0"]
    own_failed = [i for i in dut.indications() if i.kind.value == "ROAMING_COMPLETION" and i.t >= t0
                  and i.status == "failure"]
    j.add(check("STAYS-CONNECTED", rule("IND-8").clause, status.get("wpa_state") == "COMPLETED",
                "COMPLETED at the end of the observation", state_of(status)))
    obs = Observation(observed_until=ev.facts["t_end"], retry_within_s=25)
    if own_failed:
        indication_rules(j, dut, commands=roam_commands(ev), focus=("IND-8",), candidates_by_roam={0: [other.bssid]}, observation=obs)
    else:
        indication_rules(j, dut, commands=roam_commands(ev), candidates_by_roam={0: [other.bssid]}, observation=obs)
        j.add(Verdict("IND-8-APPLICABLE", rule("IND-8").clause, INFO,
                      "a roam the station started itself, and failed, to judge its retries by",
                      "no failed roam of the DUT's own in the observation (its AP at 0 dBm for 40 s, the lowest "
                      "tx power the lab sets, the target refusing it): IND-8's retry is not applicable to this "
                      "DUT here" + (" (mac80211_hwsim at 0 dBm still gives about -50 dBm; wpa_supplicant 2.10's "
                                   "log in this lab says 'Skip roam - Current BSS has good SNR (43 > 25)')"
                                   if dut.layer == "supplicant" else "")))
    roam_timeline(j, air, dut, cur, other, ev.title, t0)


@judge("native.media_across_roam")
def media_across_roam(ev: CaseEvidence, air: Air, j) -> None:
    """A successful FT roam over the DS: no media indications, the roam's indications in order."""
    dut, cur, other = ev.dut, ev.ap("cur"), ev.ap("other")
    _, mine = judge_ft_roam(j, air, dut, True, other, ev.profile)
    indication_rules(j, dut, commands=roam_commands(ev), focus=("IND-6", "IND-2", "IND-7"))
    lat = mine[0].latency_us if mine else None
    roam_timeline(j, air, dut, cur, other, ev.title, ev.facts["t0"], {"ft": lat} if lat else None)


@judge("native.roam_after_connection")
def roam_after_connection(ev: CaseEvidence, air: Air, j) -> None:
    """A roam asked for while disconnected must not start; once connected, it may."""
    dut, cur, other = ev.dut, ev.ap("cur"), ev.ap("other")
    indication_rules(j, dut, commands=roam_commands(ev), focus=("IND-1", "IND-3"), observation=Observation(os_requests=os_requests(ev.facts)))
    roam_timeline(j, air, dut, cur, other, ev.title, ev.facts["t0"])
