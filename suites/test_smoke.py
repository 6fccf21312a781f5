"""The five smoke cases: they prove the lab, the DUT and the oracle work end to end.
They judge the frames and the daemons; the Native 802.11 indication rules are judged by
the roaming cases of the full suites (test_11r, test_11v, test_native). Each row names its
scenario (a function below) and its judge (engine/judges/smoke.py)."""
from __future__ import annotations

import pytest

from fixtures.case import CaseSpec
from lab.network import FT_AP1, FT_AP2, PROFILE
from suites.ft_native_steps import roam_cmd
from suites.steps import R, connect, connect_first, observe, settle, wait_connected

pytestmark = pytest.mark.smoke


def ft_initial_association(spec, record, dut, ap_a, ap_b, air, lab):
    """Connect with FT-PSK; the judge checks the initial mobility domain association."""
    bssid = connect(dut, record)
    return "smoke.ft_assoc", {"a": ap_a, "b": ap_b}, {"connected_to": bssid}, air.stop()


def ft_roam_by_command(spec, record, dut, ap_a, ap_b, air, lab):
    """Connect, then tell the DUT to roam with FT (ROAM or FT_DS) to the other AP."""
    over_ds = spec.params["over_ds"]
    cur, other = connect_first(dut, record, ap_a, ap_b)
    m = dut.mark()
    t0 = lab.now()
    with record.step("trigger " + roam_cmd(over_ds, other.bssid)):
        r = dut.ctrl(roam_cmd(over_ds, other.bssid))
        record.metrics["command_reply"] = r
    with record.step("observe"):
        moved = observe(record, "roam to the target", wait_connected, dut, other.bssid, m, 10)
    facts = {"t0": t0, "moved": bool(moved), "command_reply": r}
    return "smoke.ft_roam", {"cur": cur, "other": other}, facts, air.stop()


def btm_to_named_candidate(spec, record, dut, ap_a, ap_b, air, lab):
    """The AP sends a BTM request naming the other AP with preference 255."""
    cur, other = connect_first(dut, record, ap_a, ap_b)
    m, mm = dut.mark(), cur.mark()
    t0 = lab.now()
    with record.step("send BTM request"):
        cur.ctrl_ok(f"BSS_TM_REQ {dut.mac} dialog_token={spec.params['token']} pref=1 "
                    f"neighbor={other.bssid},0x0000,{other.op_class},{other.config.channel},7,0301ff")
    with record.step("observe"):
        observe(record, "BSS-TM-RESP", cur.wait_event, "BSS-TM-RESP", 10, since=mm)
        moved = observe(record, "roam to the candidate", wait_connected, dut, other.bssid, m, 10)
    facts = {"t0": t0, "moved": bool(moved), "ap_mark": mm}
    return "smoke.btm", {"cur": cur, "other": other}, facts, air.stop()


def beacon_request_table_mode(spec, record, dut, ap_a, ap_b, air, lab):
    """The AP asks for a table-mode beacon report on every channel of op class 81."""
    cur, other = connect_first(dut, record, ap_a, ap_b)
    mm = cur.mark()
    with record.step("send beacon request (table mode)"):
        token = int(cur.ctrl_ok(f"REQ_BEACON {dut.mac} " + "5100" + "0000" + "0000" + "02" + "ff" * 6))
    with record.step("observe"):
        observe(record, "BEACON-RESP-RX", cur.wait_event, r"BEACON-RESP-RX", 10, since=mm)
        settle(2)  # the DUT may send more than one report frame
    facts = {"token": token, "ap_mark": mm}
    return "smoke.beacon_table", {"cur": cur, "a": ap_a, "b": ap_b}, facts, air.stop()


CASES = [
    CaseSpec("SMOKE-01", "FT-PSK initial association", "802.11r", "FT-PSK", "Initial mobility domain association",
             (f"{R} 13.4", f"{R} 12.7.1.7"), ("ft_psk",), "blocker", {}, ft_initial_association),
    CaseSpec("SMOKE-02", "FT over-the-air roam", "802.11r", "FT-PSK", "Over-the-air FT protocol",
             (f"{R} 13.5", f"{R} 13.8.4", ), ("ft_over_air", "commands"), "blocker",
             {"over_ds": False}, ft_roam_by_command),
    CaseSpec("SMOKE-03", "BTM request to a named candidate", "802.11v", "BSS Transition Management",
             "Solicited transition to a preferred candidate",
             (f"{R} 11.24.7.3", f"{R} 9.6.13.10"), ("btm",), "blocker", {"token": 7}, btm_to_named_candidate),
    CaseSpec("SMOKE-04", "FT over-the-DS roam", "802.11r", "FT-PSK", "Over-the-DS FT protocol",
             (f"{R} 13.6", f"{R} 13.8.4", ), ("ft_over_ds", "commands"), "blocker",
             {"over_ds": True}, ft_roam_by_command),
    CaseSpec("SMOKE-05", "Table-mode beacon request", "802.11k", "Beacon report", "Table mode reports every known BSS",
             (f"{R} 11.10.9.3", f"{R} 9.4.2.21.7"), ("rrm_beacon_table",), "critical", {},
             beacon_request_table_mode),
]


@pytest.fixture
def two_aps(aps):
    return aps.get("a", FT_AP1), aps.get("b", FT_AP2)


@pytest.mark.parametrize("spec", CASES, ids=lambda s: s.id)
def test_smoke(spec, record, dut, two_aps, air, lab):
    judge, roles, facts, pcap = spec.scenario(spec, record, dut, *two_aps, air, lab)
    with record.step("judge"):
        record.judge_evidence(judge, dut, roles, PROFILE, facts, pcap)
