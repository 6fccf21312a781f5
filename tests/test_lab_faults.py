"""Lab faults injected for real (fixtures/lab_faults.py): a tiny suite on the virtual lab, run
under pytest in a subprocess, whose cases each kill a piece of the lab in the middle and then
use it: hostapd killed, qemu killed, the VM frozen (SIGSTOP: its agent answers nothing), the
twin's serial socket closed, the twin rebooting; and two cases that fail on their own terms
(a judged FAIL, a plain assert) while the lab is dead or hung underneath, which must be
found out too (the dead AP, a ping that goes unanswered). Each faulted case must be an ERROR whose
first line names the fault, the next case must run on a rebuilt lab (or AP, or DUT), and
summary.json must hold every case. A last fault past --max-lab-restarts stops the run with
a partial, readable summary.

The faults are injected by the cases themselves, at a known point, and observed through the
lab's own signals (the agent's exit events, the closed link): no timing luck involved."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.lab

CONFTEST = '''
pytest_plugins = ["fixtures.esp32_options", "fixtures.labgrid_options", "fixtures.plugin", "reports.plugin"]
'''

COMMON = '''
import os
import signal
import socket
import pytest
from fixtures.case import CaseSpec
from lab.hostapd import OPEN, BSSConfig

AP = BSSConfig(ssid="faults", channel=1, security=OPEN)


def case(cid):
    return pytest.mark.parametrize("spec", [CaseSpec(cid, "fault " + cid, "Lab", "faults", "inject", ("lab",))],
                                   ids=[cid])
'''

LAB_CASES = COMMON + '''

@case("F-01")
def test_hostapd_killed(spec, record, aps, lab):
    ap = aps.get("AP1", AP)
    lab.agent.run(["sh", "-c", "kill -9 $(pidof hostapd)"])
    ap.wait_event("NEVER-SEEN", timeout=120)  # the agent's exit event ends the wait


@case("F-02")
def test_after_hostapd(spec, record, aps, lab):
    ap = aps.get("AP1", AP)  # the pool starts a new hostapd in place of the dead one
    assert ap.ctrl("PING") == "PONG" and ap.stream.exit is None
    assert lab.generation == 0


@case("H-01")
def test_hostapd_killed_under_a_judged_case(spec, record, aps, lab):
    from engine.verdict import check
    ap = aps.get("AP1", AP)
    lab.agent.run(["sh", "-c", "kill -9 $(pidof hostapd)"])
    assert lab.agent.wait(lambda: ap.stream.exit, 120)  # the agent reported the exit
    # the oracle would judge the DUT's missing roam: the AP's death is the cause
    record.add(check("ROAM-COMPLETED", "IEEE 802.11-2020 11.24.7", False, "a roam", "none"))
    record.judge()


@case("F-03")
def test_vm_killed(spec, record, aps, lab):
    aps.get("AP1", AP)
    os.kill(lab.carrier.proc.pid, signal.SIGKILL)
    lab.agent.run(["true"])


@case("F-04")
def test_after_vm(spec, record, aps, lab):
    assert lab.generation == 1  # a fresh VM
    assert aps.get("AP1", AP).ctrl("PING") == "PONG"


@case("F-05")
def test_vm_frozen(spec, record, aps, lab):
    aps.get("AP1", AP)
    os.kill(lab.carrier.proc.pid, signal.SIGSTOP)  # the agent (PID 1 in the VM) answers nothing
    lab.agent.run(["true"], timeout=5)


@case("P-01")
def test_vm_frozen_under_a_plain_failure(spec, record, aps, lab):
    aps.get("AP1", AP)
    os.kill(lab.carrier.proc.pid, signal.SIGSTOP)
    assert False, "a case that fails on its own while its lab hangs"


@case("F-06")
def test_after_frozen(spec, record, aps, lab):
    assert lab.generation == 3
    assert aps.get("AP1", AP).ctrl("PING") == "PONG"
'''

TWIN_CASES = COMMON + '''

SEEN = []  # the DUTs the cases got, kept alive so that `is` compares them


def twin_of(dut):
    return dut._owned[0]  # the twin behind the port (devices/registry.py)


@case("F-07")
def test_serial_closed(spec, record, dut):
    SEEN.append(dut)
    conn = twin_of(dut).endpoint.conn
    conn.shutdown(socket.SHUT_RDWR)
    conn.close()
    dut.wait_for(lambda e: False, 120)  # ends when the reader sees the socket close


@case("F-08")
def test_after_serial(spec, record, dut):
    assert dut is not SEEN[0]  # a new twin, read through a new socket
    dut.mark()


@case("F-09")
def test_twin_rebooted(spec, record, dut):
    twin_of(dut).reboot()
    dut.wait_for(lambda e: e.kind == "connected", 120)
'''

GIVE_UP_CASES = COMMON + '''

@case("F-10")
def test_vm_killed_again(spec, record, lab):
    os.kill(lab.carrier.proc.pid, signal.SIGKILL)
    lab.agent.run(["true"])


@case("F-11")
def test_never_runs(spec, record, lab):
    pass
'''


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory):
    where = tmp_path_factory.mktemp("faults")
    suite = where / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(CONFTEST)
    (suite / "test_a_lab.py").write_text(LAB_CASES)
    (suite / "test_b_twin.py").write_text(TWIN_CASES)
    (suite / "test_c_give_up.py").write_text(GIVE_UP_CASES)
    (suite / "pytest.ini").write_text("[pytest]\n")
    run = where / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    for k in ("PYTEST_ADDOPTS", "ROAMCERT_RUN_DIR"):
        env.pop(k, None)
    # three restarts allowed: F-03, F-05 and P-01 use them, F-10's is one too many
    p = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", str(suite),
                        f"--run-dir={run}", f"--junitxml={run / 'junit.xml'}", "--radios=3",
                        "--max-lab-restarts=3", "--dut", "esp32-twin"],
                       cwd=suite, env=env, capture_output=True, text=True, timeout=1500)
    (where / "pytest-output.txt").write_text(p.stdout + p.stderr)  # for whoever reads a failure
    summary = json.loads((run / "summary.json").read_text())
    cases = {c["case_id"]: c for c in summary["cases"]}
    assert {f"F-{i:02d}" for i in range(1, 11)} | {"H-01", "P-01"} <= set(cases), \
        p.stdout[-4000:] + p.stderr[-2000:]
    return p, run, cases, summary


def headline(case) -> str:
    return case["reason"].splitlines()[0]


def test_killed_hostapd_is_a_lab_error_and_the_pool_restarts_it(fault_run):
    p, _, cases, _ = fault_run
    c = cases["F-01"]
    assert c["verdict"] == "error", c["reason"]
    assert headline(c) == "lab fault: hostapd for ap-AP1 exited (exit code -9) during F-01", c["reason"]
    assert c["fault"]["layer"] == "lab" and c["fault"]["restarts_lab"] is False
    assert cases["F-02"]["verdict"] == "passed", cases["F-02"]["reason"] + p.stdout[-3000:]


def test_a_judged_failure_under_a_dead_ap_is_the_labs(fault_run):
    _, _, cases, _ = fault_run
    c = cases["H-01"]
    assert c["verdict"] == "error", c["reason"]
    assert headline(c) == "lab fault: hostapd for ap-AP1 exited (exit code -9) during H-01", c["reason"]
    assert "ROAM-COMPLETED" in c["reason"]  # the oracle's words follow the headline


def test_killed_vm_is_a_lab_error_and_the_next_case_gets_a_new_vm(fault_run):
    p, run, cases, _ = fault_run
    c = cases["F-03"]
    assert c["verdict"] == "error", c["reason"]
    assert headline(c) == "lab fault: the VM exited (qemu exit code -9) during F-03", c["reason"]
    assert c["fault"]["layer"] == "lab" and c["fault"]["restarts_lab"] is True
    assert "AgentGone" in c["fault"]["detail"] or "agent" in c["fault"]["detail"], c["fault"]
    assert cases["F-04"]["verdict"] == "passed", cases["F-04"]["reason"] + p.stdout[-3000:]
    assert (run / "lab" / "vm-console.0.log").is_file()  # the dead VM's console is kept


def test_frozen_vm_is_an_agent_timeout_and_the_lab_is_restarted(fault_run):
    p, _, cases, _ = fault_run
    c = cases["F-05"]
    assert c["verdict"] == "error", c["reason"]
    assert headline(c) == "lab fault: the lab agent did not answer 'run' in 10 s during F-05", c["reason"]


def test_a_hang_behind_a_plain_failure_is_found_by_a_ping(fault_run):
    p, _, cases, _ = fault_run
    c = cases["P-01"]
    assert c["verdict"] == "error", c["reason"]
    assert headline(c) == "lab fault: the lab agent did not answer 'ping' in 15 s during P-01", c["reason"]
    assert "a case that fails on its own" in c["reason"]
    assert cases["F-06"]["verdict"] == "passed", cases["F-06"]["reason"] + p.stdout[-3000:]


def test_closed_serial_socket_is_named_and_the_dut_is_rebuilt(fault_run):
    p, _, cases, _ = fault_run
    c = cases["F-07"]
    assert c["verdict"] == "error", c["reason"]
    assert headline(c).startswith("lab fault: the serial link to esp32-twin closed during F-07 (reading socket://"), \
        c["reason"]
    assert c["fault"]["rebuilds_dut"] is True
    assert cases["F-08"]["verdict"] == "passed", cases["F-08"]["reason"] + p.stdout[-3000:]


def test_twin_reboot_is_a_dut_fault_on_the_duts_own_layer(fault_run):
    _, _, cases, _ = fault_run
    c = cases["F-09"]
    assert c["verdict"] == "error", c["reason"]
    assert headline(c).startswith("DUT fault: esp32-twin rebooted (rst:0x7"), c["reason"]
    assert headline(c).endswith(" during F-09") and "TG0WDT_SYS_RESET" in headline(c), c["reason"]
    # the DUT's own layer: for a board its firmware, for the twin its backing wpa_supplicant
    assert c["fault"]["layer"] == "supplicant" and c["fault"]["side"] == "DUT"


def test_too_many_restarts_stop_the_run_with_a_partial_summary(fault_run):
    p, run, cases, summary = fault_run
    assert cases["F-10"]["verdict"] == "error"
    assert "F-11" not in cases
    r = summary["run"]
    assert r["interrupted"] is True and r["complete"] is False
    assert r["aborted"].startswith("lab fault: the lab was restarted 3 time(s) in this run"), r
    assert r["lab_restarts"] == 3
    assert "giving up" in p.stdout + p.stderr
    # the run's other outputs are there too, with the faults as errors
    import xml.etree.ElementTree as ET
    tc = next(t for t in ET.parse(run / "junit.xml").getroot().iter("testcase") if "[F-03]" in t.get("name", ""))
    failure = tc.find("failure")  # junit's kind follows pytest's phase; its message is the fault's line
    assert failure.get("message") == "lab fault: the VM exited (qemu exit code -9) during F-03"
    assert "AgentGone" in failure.text  # the traceback follows it
    assert (run / "index.html").is_file()


def test_pytest_counts_the_faults_as_errors(fault_run):
    p, _, _, _ = fault_run
    lines = p.stdout.splitlines()
    for cid in ("F-01", "H-01", "F-03", "F-05", "P-01", "F-07", "F-09", "F-10"):
        assert any(x.startswith("ERROR ") and cid in x for x in lines), (cid, p.stdout[-3000:])
    assert not any(x.startswith("FAILED ") for x in lines), p.stdout[-3000:]


def test_no_qemu_is_left_behind(fault_run):
    _, run, _, _ = fault_run
    out = subprocess.run(["pgrep", "-f", f"qemu-system.*{run}"], capture_output=True, text=True)
    assert out.stdout.strip() == "", out.stdout
