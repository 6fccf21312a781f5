"""Native 802.11 roaming indications (IND-1..9) of the DUT in roams that succeed, fail,
are cut short by a disconnect or a radio going down, or must not start at all."""
from __future__ import annotations

import pytest

from devices.base import WaitTimeout
from engine.clauses import rule
from engine.frames import mac
from engine.indications import Observation, OsRequest
from engine.verdict import check
from fixtures.case import CaseSpec
from lab.hostapd import BSSConfig
from lab.network import FT_AP1, FT_AP2, KEY_A, KEY_B
from lab.wpas import Profile
from engine.air import Air
from suites.roam_steps import ind, judge_rules, roam_cmd, sent_by
from suites.steps import (LAB_FREQS, PROFILE, R, connect_first, judge_btm, judge_ft_roam, roam_timeline,
                          settle, wait_connected)

AP1, AP2 = FT_AP1, FT_AP2
ABSENT = "02:00:00:00:aa:aa"  # no radio of the lab has this address
EPIC, FEAT = "Native 802.11", "Roaming indications"
# A client that roams on its own: background scans every 2 s while the signal is below -40 dBm.
ROAMER = Profile(scan_freqs=LAB_FREQS, extra={"bgscan": '"simple:2:-40:30"'})


def spec(id, title, story, reqs, needs, severity, **params):
    return CaseSpec(id, title, EPIC, FEAT, story, reqs, needs, severity, params)


CASES = [
    spec("IND-01", "ROAM to a BSS that is not on the air", "Empty candidate list: no roam",
         ind("IND-4"), ("commands",), "critical", kind="absent_target"),
    spec("IND-02", "BTM request naming only unknown candidates", "Empty candidate list: no roam",
         (*ind("IND-4"), f"{R} 11.24.7.3"), ("btm",), "critical", kind="btm_unknown"),
    spec("IND-03", "Disconnect request during a roam", "A disconnect request fails the roam",
         ind("IND-8", "IND-2"), ("ft_over_air", "commands"), "critical", kind="disconnect"),
    spec("IND-04", "Radio off during a roam", "PHYs off fail the roam",
         ind("IND-8", "IND-2"), ("ft_over_air", "commands", "radio_control"), "critical", kind="radio_off"),
    spec("IND-05", "Failed roam: stay in OP and retry", "After a failed roam the station retries",
         ind("IND-8", "IND-7"), ("ft_over_ds", "commands"), "critical", kind="retry"),
    spec("IND-06", "No media indications across an FT roam", "A successful roam keeps the link",
         (*ind("IND-6", "IND-2", "IND-7"), f"{R} 13.5.4"), ("ft_over_ds", "commands"), "blocker",
         kind="media"),
    spec("IND-07", "Roam only after a completed connection", "Roaming starts in OP only",
         ind("IND-1", "IND-3"), ("ft_over_air", "commands"), "critical", kind="after_connection"),
]


@pytest.mark.parametrize("spec", CASES, ids=lambda s: s.id)
def test_indications(spec, record, dut, aps, air, lab):
    kind = spec.params["kind"]
    if kind in ("absent_target", "btm_unknown"):
        aps.drop("b")  # one AP: the DUT's candidate list (other BSSs of the ESS) is empty
        cur = aps.get("a", AP1)
        {"absent_target": absent_target, "btm_unknown": btm_unknown}[kind](spec, record, dut, air, lab, cur)
    else:
        c1, c2 = (AP1, AP2) if kind != "retry" else (
            BSSConfig(channel=1, bridge="br1", ft_psk_generate_local=False, ft_key=KEY_A),
            BSSConfig(channel=6, bridge="br2", ft_psk_generate_local=False, ft_key=KEY_B))
        ap_a, ap_b = aps.get("a", c1), aps.get("b", c2)
        {"disconnect": mid_roam, "radio_off": mid_roam, "retry": retry, "media": media,
         "after_connection": after_connection}[kind](spec, record, dut, air, lab, ap_a, ap_b)
    record.judge()


def alone_on_air(record, a: Air, cur, t0: float):
    """The scenario: from t0 no other BSS beacons, so the candidate list is empty."""
    others = sorted({mac(f.raw[16:22]) for f, k in zip(a.frames, a.kinds) if k == "beacon" and f.t >= t0}
                    - {cur.bssid})
    record.add(check("SCENARIO-ONE-BSS", rule("IND-4").clause, not others,
                     f"only {cur.bssid} beacons", f"also {others}" if others else "only it"))


def no_attempt_on_air(record, a: Air, dut, t0):
    fs = sent_by(a, dut.mac, t0, "auth", "assoc_req", "reassoc_req", "ft_action_req")
    record.add(check("NO-ROAM-ON-AIR", rule("IND-4").clause, not fs,
                     "no Authentication, (Re)Association or FT Action Request from the DUT",
                     f"{len(fs)} frame(s)", tuple(f"frame {f.index}" for f in fs)))


def absent_target(spec, record, dut, air, lab, cur):
    with record.step("connect"):
        assert dut.connect(PROFILE) == cur.bssid
        dut.scan((cur.freq,))
    t0 = lab.now()
    with record.step(f"trigger ROAM {ABSENT}"):
        reply = dut.ctrl(roam_cmd(False, ABSENT))
    settle(3)
    t1 = lab.now()
    a = Air(air.stop())
    with record.step("judge"):
        alone_on_air(record, a, cur, t0)
        no_attempt_on_air(record, a, dut, t0)
        record.attach_text("roam-reply", reply)
        judge_rules(record, dut, focus=("IND-4",), observation=Observation(empty_candidate_windows=((t0, t1),)))


def btm_unknown(spec, record, dut, air, lab, cur):
    with record.step("connect"):
        assert dut.connect(PROFILE) == cur.bssid
    mm = cur.mark()
    t0 = lab.now()
    with record.step("send BTM request naming only an absent BSS"):
        cur.ctrl_ok(f"BSS_TM_REQ {dut.mac} dialog_token=9 pref=1 "
                    f"neighbor={ABSENT},0x0000,81,11,7,0301ff")
    with record.step("observe"):
        try:
            cur.wait_event("BSS-TM-RESP", 15, since=mm)
        except Exception as e:  # no response is for judge_btm to judge
            record.attach_text("no-btm-response", str(e))
        settle(2)
    t1 = lab.now()
    a = Air(air.stop())
    with record.step("judge"):
        alone_on_air(record, a, cur, t0)
        no_attempt_on_air(record, a, dut, t0)
        judge_btm(record, a, dut, cur, [cur])
        judge_rules(record, dut, focus=("IND-4",), observation=Observation(empty_candidate_windows=((t0, t1),)))


def mid_roam(spec, record, dut, air, lab, ap_a, ap_b):
    kind = spec.params["kind"]
    cur, other = connect_first(dut, record, ap_a, ap_b)
    m = dut.mark()
    t0 = lab.now()
    reqs = []
    with record.step(f"trigger ROAM, then {'DISCONNECT' if kind == 'disconnect' else 'radio off'}"):
        reply = dut.ctrl(roam_cmd(False, other.bssid))
        # cut in once the roam has visibly started
        dut.wait_for(lambda e: e.kind in ("connect_attempt", "associating"), 5, since=m)
        t_req = lab.now()
        if kind == "disconnect":
            dut.ctrl("DISCONNECT")
            reqs.append(OsRequest(t_req, "disconnect", "ctrl DISCONNECT"))
        else:
            lab.radio(dut.iface, False)
            reqs.append(OsRequest(t_req, "phy_off", f"ip link set {dut.iface} down"))
    with record.step("observe"):
        settle(2)
        if kind == "radio_off":
            t_on = lab.now()
            lab.radio(dut.iface, True)
            reqs.append(OsRequest(t_on, "phy_on", f"ip link set {dut.iface} up"))
            try:
                dut.wait_for(lambda e: e.kind == "connected", 20, since=m)
            except WaitTimeout as e:
                record.attach_text("no-reconnect", str(e))
            settle(1)
    t_end = lab.now()
    status = dut.sup.status()
    a = Air(air.stop())
    with record.step("judge"):
        record.attach_text("roam-reply", reply)
        record.attach_json("os-requests", [r.__dict__ for r in reqs])
        record.add(check("SCENARIO-ROAM-CUT", rule("IND-8").clause,
                         not any(e.kind == "connected" and e.get("bssid") == other.bssid and e.t <= t_req
                                 for e in dut.events()[m:]),
                         "the request came before the roam completed",
                         f"request at t={t_req:.3f}; DUT now {status.get('wpa_state')} with {status.get('bssid')}"))
        judge_rules(record, dut, focus=("IND-8",),
                    observation=Observation(os_requests=tuple(reqs), observed_until=t_end, retry_within_s=20))
        roam_timeline(record, a, dut, cur, other, spec.title, t0)


def retry(spec, record, dut, air, lab, ap_a, ap_b):
    """FT over the DS fails (the target cannot get PMK-R1); the current AP then turns weak and
    the DUT, configured to roam on its own (bgscan), should try again."""
    cur, other = connect_first(dut, record, ap_a, ap_b, ROAMER)
    m = dut.mark()
    t0 = lab.now()
    try:
        with record.step("trigger FT_DS to a target without keys"):
            reply = dut.ctrl(roam_cmd(True, other.bssid))
            try:
                dut.wait_for(lambda e: e.kind in ("auth_reject", "connected") and e.t >= t0, 10, since=m)
            except WaitTimeout as e:
                record.attach_text("no-ft-outcome", str(e))
        with record.step("weaken the current AP as far as hwsim goes (0 dBm) and observe 30 s"):
            lab.set_txpower(cur.iface, 0)
            settle(30)
        t_end = lab.now()
    finally:
        lab.set_txpower(cur.iface, 20)
    status = dut.sup.status()
    a = Air(air.stop())
    with record.step("judge"):
        record.attach_text("roam-reply", reply)
        record.add(check("STAYS-CONNECTED", rule("IND-8").clause, status.get("wpa_state") == "COMPLETED",
                         "COMPLETED at the end of the observation",
                         f"{status.get('wpa_state')} with {status.get('bssid')}"))
        judge_rules(record, dut, focus=("IND-8",), candidates_by_roam={0: [other.bssid]},
                    observation=Observation(observed_until=t_end, retry_within_s=25))
        roam_timeline(record, a, dut, cur, other, spec.title, t0)


def media(spec, record, dut, air, lab, ap_a, ap_b):
    cur, other = connect_first(dut, record, ap_a, ap_b)
    m = dut.mark()
    t0 = lab.now()
    with record.step("trigger FT_DS"):
        reply = dut.ctrl(roam_cmd(True, other.bssid))
    with record.step("observe"):
        wait_connected(dut, other.bssid, m)
        settle(1)
    a = Air(air.stop())
    with record.step("judge"):
        record.attach_text("roam-reply", reply)
        _, mine = judge_ft_roam(record, a, dut, True, other)
        judge_rules(record, dut, focus=("IND-6", "IND-2", "IND-7"))
        lat = mine[0].latency_us if mine else None
        roam_timeline(record, a, dut, cur, other, spec.title, t0, {"ft": lat} if lat else None)


def after_connection(spec, record, dut, air, lab, ap_a, ap_b):
    cur, other = connect_first(dut, record, ap_a, ap_b)
    reqs = []
    with record.step("DISCONNECT, then ROAM while not connected"):
        t_d = lab.now()
        dut.ctrl("DISCONNECT")
        reqs.append(OsRequest(t_d, "disconnect", "ctrl DISCONNECT"))
        settle(1)
        m = dut.mark()
        reply_idle = dut.ctrl(roam_cmd(False, other.bssid))
        settle(3)
    with record.step("reconnect"):
        m = dut.mark()
        dut.ctrl("RECONNECT")
        ev = dut.wait_for(lambda e: e.kind == "connected", 20, since=m)
        cur, other = (ap_a, ap_b) if ev.get("bssid") == ap_a.bssid else (ap_b, ap_a)
    t0 = lab.now()
    with record.step("ROAM once connected"):
        m = dut.mark()
        dut.ctrl(roam_cmd(False, other.bssid))
        wait_connected(dut, other.bssid, m)
        settle(0.5)
    a = Air(air.stop())
    with record.step("judge"):
        record.attach_text("roam-reply-while-disconnected", reply_idle)
        judge_rules(record, dut, focus=("IND-1", "IND-3"), observation=Observation(os_requests=tuple(reqs)))
        roam_timeline(record, a, dut, cur, other, spec.title, t0)
