"""Native 802.11 roaming indications (IND-1..9) of the DUT in roams that succeed, fail,
are cut short by a disconnect or a radio going down, or must not start at all.

Each row names its reference APs and its scenario (a function below: the stimulus only).
The scenario returns the judge (engine/judges/native.py), the APs by role, the facts of
what it did (times, requests made of the DUT's OS, replies), and the capture."""
from __future__ import annotations

import pytest

from devices.base import WaitTimeout
from fixtures.case import CaseSpec
from lab.network import FT_AP1, FT_AP2, LAB_FREQS
from lab.wpas import Profile
from suites.ft_native_steps import (ROLES, KEYS_DIFFER, PROFILE, R, connect_first, ind, roam_cmd, settle, start_aps,
                               status_fact, wait_connected)

ABSENT = "02:00:00:00:aa:aa"  # no radio of the lab has this address
EPIC, FEAT = "Native 802.11", "Roaming indications"
# A client that roams on its own: background scans every 2 s while the signal is below -40 dBm.
ROAMER = Profile(scan_freqs=LAB_FREQS, extra={"bgscan": '"simple:2:-40:30"'})


def roam_to_absent_bss(spec, record, dut, cur, air, lab):
    """One AP on the air; ROAM to a BSSID no radio has."""
    with record.step("connect"):
        assert dut.connect(PROFILE) == cur.bssid
        dut.scan((cur.freq,))
    t0 = lab.now()
    with record.step(f"trigger ROAM {ABSENT}"):
        reply = dut.ctrl(roam_cmd(False, ABSENT))
    settle(3)
    t1 = lab.now()
    record.attach_text("roam-reply", reply)
    return "native.roam_to_absent_bss", {"cur": cur}, {"t0": t0, "t1": t1, "command_reply": reply}, air.stop()


def btm_naming_only_absent_bss(spec, record, dut, cur, air, lab):
    """One AP on the air; it sends a BTM request whose only candidate is a BSSID no radio has."""
    with record.step("connect"):
        assert dut.connect(PROFILE) == cur.bssid
    mm = cur.mark()
    t0 = lab.now()
    with record.step("send BTM request naming only an absent BSS"):
        cur.ctrl_ok(f"BSS_TM_REQ {dut.mac} dialog_token={spec.params['token']} pref=1 "
                    f"neighbor={ABSENT},0x0000,81,11,7,0301ff")
    with record.step("observe"):
        try:
            cur.wait_event("BSS-TM-RESP", 15, since=mm)
        except Exception as e:  # no response is for the judge to judge
            record.attach_text("no-btm-response", str(e))
        settle(2)
    t1 = lab.now()
    return "native.btm_unknown_candidates", {"cur": cur}, {"t0": t0, "t1": t1, "ap_mark": mm}, air.stop()


def cut_roam_short(spec, record, dut, ap_a, ap_b, air, lab):
    """Command a roam; once it has visibly started, DISCONNECT, or switch the radio off for
    2 s and on again (then wait for the DUT to reconnect)."""
    cut = spec.params["cut"]
    cur, other = connect_first(dut, record, ap_a, ap_b)
    m = dut.mark()
    t0 = lab.now()
    reqs = []
    with record.step(f"trigger ROAM, then {'DISCONNECT' if cut == 'disconnect' else 'radio off'}"):
        reply = dut.ctrl(roam_cmd(False, other.bssid))
        # cut in once the roam has visibly started
        dut.wait_for(lambda e: e.kind in ("connect_attempt", "associating"), 5, since=m)
        t_req = lab.now()
        if cut == "disconnect":
            dut.ctrl("DISCONNECT")
            reqs.append({"t": t_req, "kind": "disconnect", "how": "ctrl DISCONNECT"})
        else:
            lab.radio(dut.iface, False)
            reqs.append({"t": t_req, "kind": "phy_off", "how": f"ip link set {dut.iface} down"})
    with record.step("observe"):
        settle(2)
        if cut == "radio_off":
            t_on = lab.now()
            lab.radio(dut.iface, True)
            reqs.append({"t": t_on, "kind": "phy_on", "how": f"ip link set {dut.iface} up"})
            try:
                dut.wait_for(lambda e: e.kind == "connected", 20, since=m)
            except WaitTimeout as e:
                record.attach_text("no-reconnect", str(e))
            settle(1)
    t_end = lab.now()
    record.attach_text("roam-reply", reply)
    facts = {"t0": t0, "dut_mark": m, "command_reply": reply, "t_request": t_req, "os_requests": reqs,
             "t_end": t_end, "status": status_fact(dut)}
    return "native.roam_cut_short", {"cur": cur, "other": other}, facts, air.stop()


def weak_ap_and_refusing_target(spec, record, dut, ap_a, ap_b, air, lab):
    """The station's own failed roam: the target AP refuses the DUT (hostapd's deny ACL), then
    the current AP turns weak, so a DUT configured to roam on its own (bgscan) starts a roam,
    fails it, and should stay in OP and try again. No roam command is given: IND-8's retry is
    owed for roams the station starts itself, not for one the test forces."""
    cur, other = connect_first(dut, record, ap_a, ap_b, ROAMER)
    m = dut.mark()
    t0 = lab.now()
    txpower = []
    try:
        with record.step("the target refuses the DUT (DENY_ACL)"):
            other.ctrl_ok(f"DENY_ACL ADD_MAC {dut.mac}")
        with record.step("weaken the current AP as far as hwsim goes (0 dBm) and observe 40 s"):
            txpower.append({"t": lab.now(), "iface": cur.iface, "dbm": 0})
            lab.set_txpower(cur.iface, 0)
            settle(40)
        t_end = lab.now()
        status = status_fact(dut)
    finally:
        lab.set_txpower(cur.iface, 20)
        other.ctrl("DENY_ACL CLEAR")
    txpower.append({"t": lab.now(), "iface": cur.iface, "dbm": 20})
    facts = {"t0": t0, "dut_mark": m, "txpower": txpower, "t_end": t_end, "status": status,
             "refused_by_target": dut.mac}
    return "native.retry_after_failed_roam", {"cur": cur, "other": other}, facts, air.stop()


def ft_ds_roam(spec, record, dut, ap_a, ap_b, air, lab):
    """One FT roam over the DS that succeeds."""
    cur, other = connect_first(dut, record, ap_a, ap_b)
    m = dut.mark()
    t0 = lab.now()
    with record.step("trigger FT_DS"):
        reply = dut.ctrl(roam_cmd(True, other.bssid))
    with record.step("observe"):
        wait_connected(dut, other.bssid, m)
        settle(1)
    record.attach_text("roam-reply", reply)
    facts = {"t0": t0, "dut_mark": m, "command_reply": reply}
    return "native.media_across_roam", {"cur": cur, "other": other}, facts, air.stop()


def roam_while_disconnected_then_connected(spec, record, dut, ap_a, ap_b, air, lab):
    """DISCONNECT, ROAM while not connected, RECONNECT, then ROAM once connected."""
    cur, other = connect_first(dut, record, ap_a, ap_b)
    reqs = []
    with record.step("DISCONNECT, then ROAM while not connected"):
        t_d = lab.now()
        dut.ctrl("DISCONNECT")
        reqs.append({"t": t_d, "kind": "disconnect", "how": "ctrl DISCONNECT"})
        settle(1)
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
        reply = dut.ctrl(roam_cmd(False, other.bssid))
        wait_connected(dut, other.bssid, m)
        settle(0.5)
    record.attach_text("roam-reply-while-disconnected", reply_idle)
    facts = {"t0": t0, "os_requests": reqs, "reply_while_disconnected": reply_idle, "command_reply": reply}
    return "native.roam_after_connection", {"cur": cur, "other": other}, facts, air.stop()


def spec(id, title, story, reqs, needs, severity, scenario, aps=(FT_AP1, FT_AP2), **params):
    return CaseSpec(id, title, EPIC, FEAT, story, reqs, needs, severity, params, scenario, dict(zip(ROLES, aps)))


CASES = [
    # one AP: the DUT's candidate list (other BSSs of the ESS) is empty
    spec("IND-01", "ROAM to a BSS that is not on the air", "Empty candidate list: no roam",
         ind("IND-4"), ("commands",), "critical", roam_to_absent_bss, aps=(FT_AP1,)),
    spec("IND-02", "BTM request naming only unknown candidates", "Empty candidate list: no roam",
         (*ind("IND-4"), f"{R} 11.24.7.3"), ("btm",), "critical", btm_naming_only_absent_bss, aps=(FT_AP1,),
         token=9),
    spec("IND-03", "Disconnect request during a roam", "A disconnect request fails the roam",
         ind("IND-8", "IND-2"), ("ft_over_air", "commands"), "critical", cut_roam_short, cut="disconnect"),
    spec("IND-04", "Radio off during a roam", "PHYs off fail the roam",
         ind("IND-8", "IND-2"), ("ft_over_air", "commands", "radio_control"), "critical", cut_roam_short,
         cut="radio_off"),
    spec("IND-05", "The station's own failed roam: stay in OP and retry", "After a failed roam the station retries",
         ind("IND-8", "IND-7"), ("ft_over_air", "commands"), "critical", weak_ap_and_refusing_target),
    spec("IND-06", "No media indications across an FT roam", "A successful roam keeps the link",
         (*ind("IND-6", "IND-2", "IND-7"), f"{R} 13.5.4"), ("ft_over_ds", "commands"), "blocker", ft_ds_roam),
    spec("IND-07", "Roam only after a completed connection", "Roaming starts in OP only",
         ind("IND-1", "IND-3"), ("ft_over_air", "commands"), "critical", roam_while_disconnected_then_connected),
]


@pytest.mark.parametrize("spec", CASES, ids=lambda s: s.id)
def test_indications(spec, record, dut, aps, air, lab):
    judge, roles, facts, pcap = spec.scenario(spec, record, dut, *start_aps(aps, spec.aps), air, lab)
    with record.step("judge"):
        record.judge_evidence(judge, dut, roles, PROFILE, facts, pcap)
