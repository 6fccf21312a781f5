"""802.11v BSS Transition Management: the DUT answers the reference AP's BTM requests and
queries, and moves (or stays) as the standard allows.

Each row names its scenario (what the test does: a plain request, a request after the DUT's
BSS table was flushed, a request while its radio is busy, the DUT's own query, a request to a
DUT with BTM switched off). Every verdict comes from the judge "btm.exchange"
(engine/judges/bss_transition.py) on the case's recorded evidence."""
from __future__ import annotations

import pytest

from devices.base import WaitTimeout
from engine.btm import TU
from fixtures.case import CaseSpec
from lab.hostapd import WPA2_PSK, BSSConfig
from lab.wpas import Profile
from suites.steps import LAB_FREQS, R, connect_first, settle
from suites.btm_steps import GHOST, GHOST_CHANNEL, bss_tm_req, candidate, wait_responses, wait_settled

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


def case(n, title, story, reqs, extra=(), needs=("btm",), severity="critical", scenario=None, **params):
    return CaseSpec(f"BTM-{n:02d}", title, EPIC, FEAT, story,
                    (REQ, RESP, F_REQ, F_RESP, T428) + tuple(extra), needs, severity,
                    {"reqs": reqs, **params}, scenario or request_from_the_ap)



# ---- scenarios: what the test does; the judge is btm.exchange for all of them ---------------

def request_from_the_ap(spec, record, dut, three_aps, lab):
    """Connect, learn every AP, then the current AP sends the row's BTM request(s)."""
    return btm_case(spec, record, dut, three_aps, lab)


def request_after_flushing_the_bss_table(spec, record, dut, three_aps, lab):
    """As request_from_the_ap, but the DUT's BSS table is aged and flushed first, so it must
    scan for the candidate."""
    return btm_case(spec, record, dut, three_aps, lab, prepare=flush_bss_table)


def request_while_the_radio_is_busy(spec, record, dut, three_aps, lab):
    """Flush the BSS table and keep the DUT's radio busy with a passive scan it did not ask
    for: wpa_supplicant cannot start its own scan until that one ends, well after the
    candidate list's validity interval."""
    def prepare(dut, roles, lab):
        """flush the BSS table and keep the DUT's radio busy with a passive scan"""
        flush_bss_table(dut, roles, lab)
        lab.agent.run(["iw", "dev", dut.iface, "scan", "trigger", "freq", *map(str, LAB_FREQS), "passive"])
    return btm_case(spec, record, dut, three_aps, lab, prepare=prepare)


def query_from_the_dut(spec, record, dut, three_aps, lab):
    """The DUT sends a BTM query (reason, optional candidate list); the AP answers it."""
    def trigger(dut, cur, roles):
        assert dut.ctrl(f"WNM_BSS_QUERY {spec.params['query']}").strip() == "OK"
        return 1
    return btm_case(spec, record, dut, three_aps, lab, trigger=trigger)


def request_to_a_dut_with_btm_off(spec, record, dut, three_aps, lab):
    """A deliberately non-conformant DUT: BTM declared but switched off. The oracle must catch it."""
    def prepare(dut, roles, lab):
        """disable BTM in the DUT (deliberately non-conformant)"""
        assert dut.ctrl("SET disable_btm 1").strip() == "OK"
    return btm_case(spec, record, dut, three_aps, lab, prepare=prepare)


def flush_bss_table(dut, roles, lab):
    """age and flush the DUT's BSS table"""
    settle(2.5)  # wpa_supplicant reuses driver scan results younger than 2 s (WNM_SCAN_RESULT_AGE)
    dut.ctrl("BSS_FLUSH 0")
    gone = [b for r in ("other", "third") if dut.bss_known(b := roles[r][0])]
    assert not gone, f"precondition: BSS_FLUSH 0 left {gone} in the DUT's table"


def send_requests(spec, roles):
    def trigger(dut, cur, _roles):
        for r in spec.params["reqs"]:
            cands = [candidate(*roles[role], pref) for role, pref in r["cands"]]
            cur.ctrl_ok(bss_tm_req(dut.mac, cands, r["token"], r["opts"]))
        return len(spec.params["reqs"])
    return trigger


def btm_case(spec, record, dut, three_aps, lab, prepare=None, trigger=None):
    """Connect among the three APs, prepare, trigger, observe; returns what the judge needs."""
    cur, others = connect_among(dut, record, three_aps)
    roles = roles_of(cur, others)
    if prepare is not None:
        with record.step(prepare.__doc__.splitlines()[0] if prepare.__doc__ else "prepare"):
            prepare(dut, roles, lab)
    m, mm = dut.mark(), cur.mark()
    t0 = lab.now()
    with record.step("trigger"):
        n_resp = (trigger or send_requests(spec, roles))(dut, cur, roles)
    observe(spec, dut, cur, m, mm, n_resp, record)
    by_role = dict(zip("abc", three_aps))
    facts = {"cur": next(k for k, a in by_role.items() if a is cur),
             "others": [next(k for k, a in by_role.items() if a is o) for o in others],
             "roles": {k: list(v) for k, v in roles.items()}, "dut_mark": m, "ap_mark": mm, "t0": t0}
    return by_role, facts


CASES = [
    case(1, "Preferred candidate in the scan cache: accept and roam to it",
         "Solicited transition to a preferred candidate",
         [rq(7, [("other", 255)], "pref=1 abridged=1 valid_int=255")], IND, severity="blocker", expect="roam"),
    case(2, "Candidate missing from the scan cache: scan, then decide",
         "Transition to a candidate the DUT must scan for",
         [rq(8, [("other", 255)], "pref=1 abridged=1 valid_int=255")], IND, needs=("btm", "commands"),
         flush=True, expect="roam", scenario=request_after_flushing_the_bss_table),
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
         flush=True, busy_radio=True, expect="any", severity="normal", scenario=request_while_the_radio_is_busy),
    case(13, "DUT-initiated BTM query answered by the AP", "BSS transition management query",
         [], (QRY, F_QRY) + IND, needs=("btm", "btm_query", "commands"), expect="any", query="16",
         scenario=query_from_the_dut),
    case(14, "DUT-initiated BTM query carrying the DUT's candidate list", "BSS transition management query",
         [], (QRY, F_QRY, NR), needs=("btm", "btm_query", "commands"), expect="any", query="19 list",
         severity="normal", scenario=query_from_the_dut),
    case(15, "Negative control: a BTM-declaring DUT with BTM disabled is failed by the oracle",
         "Negative control: silent DUT", [rq(19, [("other", 255)], "pref=1 abridged=1 valid_int=255")],
         needs=("btm", "commands"), expect="silent", disable_btm=True, severity="normal",
         scenario=request_to_a_dut_with_btm_off),
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
    roles, facts = spec.scenario(spec, record, dut, three_aps, lab)
    pcap = air.stop()
    with record.step("judge"):
        record.judge_evidence("btm.exchange", dut, roles, PROFILE, facts, pcap)


def observe(spec, dut, cur, m, mm, n_resp, record):
    """Wait for what the DUT does; never decides anything (the oracle judges what came)."""
    p = spec.params
    expect = p["expect"]
    with record.step("observe"):
        if expect == "silent":
            settle(5)
            return
        timer_s = p.get("timer", 0) * cur.config.beacon_int * TU
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
