"""A run stopped in the middle keeps what it measured: summary.json and junit.xml are written as
cases finish, SIGTERM and Ctrl-C (SIGINT) leave a summary marked interrupted with the cases
done so far, and `roamcert report` builds a certificate marked INCOMPLETE from it.

The signals are sent once the run has shown (in its files) that a case finished and the next
one started: no sleeping on timing luck."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest



def default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)

ROOT = Path(__file__).resolve().parent.parent

CONFTEST = '''
pytest_plugins = ["fixtures.esp32_options", "fixtures.labgrid_options", "fixtures.plugin", "reports.plugin"]
'''

CASES = '''
import time
import pytest
from engine.verdict import check
from fixtures.case import CaseSpec
from reports.plugin import run_dir


def case(cid):
    return pytest.mark.parametrize("spec", [CaseSpec(cid, "case " + cid, "802.11k", "Neighbor Report", "request",
                                                     ("IEEE 802.11-2020 11.10.10.2",))], ids=[cid])


@case("NR-01")
def test_done(spec, record):
    record.add(check("NR-TOKEN", "IEEE 802.11-2020 9.6.6.7", True, "token 1", "token 1"))
    record.judge()


@case("NR-02")
def test_stopped(spec, record, request):
    (run_dir(request.config) / "nr-02-started").write_text("")
    while True:  # until the run is stopped from outside
        time.sleep(0.1)


@case("NR-03")
def test_never(spec, record):
    pass
'''


def wait_for(what, cond, proc, deadline_s: float):
    """Poll an observable condition (a file, a line) until it holds, the process ends, or a
    generous deadline passes."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"the run ended (exit {proc.returncode}) before {what}:\n{out[-4000:]}")
        time.sleep(0.2)
    pytest.fail(f"no {what} within {deadline_s:.0f} s")


def report(run: Path, *args: str) -> subprocess.CompletedProcess:
    """`roamcert report RUN`, as ./roamcert runs it once its venv is set up."""
    return subprocess.run([sys.executable, "-m", "cli", "report", str(run), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_sigterm_leaves_a_partial_summary_junit_and_an_incomplete_certificate(tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(CONFTEST)
    (suite / "test_stop.py").write_text(CASES)
    (suite / "pytest.ini").write_text("[pytest]\n")
    run = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    for k in ("PYTEST_ADDOPTS", "ROAMCERT_RUN_DIR"):
        env.pop(k, None)
    p = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(suite),
                          f"--run-dir={run}", f"--junitxml={run / 'junit.xml'}", "--profile=roaming-basic"],
                         cwd=suite, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for("start of NR-02", lambda: (run / "nr-02-started").exists(), p, 120)
        # written as NR-01 finished, before the run ends
        during = json.loads((run / "summary.json").read_text())
        assert [c["case_id"] for c in during["cases"]] == ["NR-01"] and during["run"]["end"] is None
        cases = ET.parse(run / "junit.xml").getroot().iter("testcase")
        assert [c.get("name") for c in cases] == ["test_done[NR-01]"]
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 2, out[-3000:]  # pytest's "interrupted"
    s = json.loads((run / "summary.json").read_text())
    assert s["run"]["interrupted"] is True and s["run"]["complete"] is False
    assert [(c["case_id"], c["verdict"]) for c in s["cases"]] == [("NR-01", "passed")]
    # (pytest's junitxml may add a nameless entry for the case it was in when stopped)
    named = [c.get("name") for c in ET.parse(run / "junit.xml").getroot().iter("testcase") if c.get("name")]
    assert named == ["test_done[NR-01]"]
    r = report(run, "--no-pdf", "--no-allure")
    assert r.returncode == 0, r.stdout + r.stderr
    page = (run / "certificate.html").read_text() if (run / "certificate.html").exists() else \
        next(run.glob("certificate-*.html")).read_text()
    assert "INCOMPLETE RUN" in page and "NR-01" in page


@pytest.mark.lab
def test_ctrl_c_during_a_smoke_run_keeps_the_cases_done(tmp_path):
    env = dict(os.environ, ROAMCERT_RUNS=str(tmp_path))
    # Ctrl-C at a terminal reaches a foreground process whose SIGINT is the default; a test
    # runner started in the background (nohup, `&` without job control) ignores SIGINT and
    # its children inherit that, so the child gets the default back first.
    p = subprocess.Popen([str(ROOT / "roamcert"), "run", "-m", "smoke", "--dut", "linux-wpas"], cwd=ROOT, env=env,
                         preexec_fn=default_sigint,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    summary = tmp_path / "latest" / "summary.json"

    def first_case_done():
        try:
            return json.loads(summary.read_text())["cases"]
        except (OSError, ValueError, KeyError):
            return None
    try:
        done = wait_for("first finished case in summary.json", first_case_done, p, 900)
        p.send_signal(signal.SIGINT)  # ./roamcert execs python: this is Ctrl-C to the run
        out, _ = p.communicate(timeout=600)
    finally:
        if p.poll() is None:
            p.kill()
    run = summary.parent.resolve()
    assert p.returncode == 2, out[-3000:]
    s = json.loads(summary.read_text())
    assert s["run"]["interrupted"] is True and s["run"]["complete"] is False
    assert 1 <= len(s["cases"]) < 5 and [c["case_id"] for c in s["cases"]][:len(done)] == \
        [c["case_id"] for c in done]
    assert all(c["verdict"] in ("passed", "failed", "error", "skipped") for c in s["cases"])
    assert ET.parse(run / "junit.xml").getroot().find(".//testcase") is not None
    r = report(run, "--no-allure")
    assert r.returncode == 0, r.stdout + r.stderr
    page = (run / "certificate-linux-wpas.html").read_text()
    assert "INCOMPLETE RUN" in page and s["cases"][0]["case_id"] in page
    left = subprocess.run(["pgrep", "-f", f"qemu-system.*{run}"], capture_output=True, text=True)
    assert left.stdout.strip() == "", left.stdout
