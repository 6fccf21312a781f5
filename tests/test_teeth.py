"""Teeth: the suites must catch a non-conformant DUT. Deliberately broken configurations
of the reference DUT (devices/linux_wpas.py VARIANTS) declare the same capabilities as
linux-wpas; the cases they break must fail, in the oracle's words, with the right rule."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.lab

# variant -> {case id: the rule whose FAIL verdict must be in the failure message}
EXPECT = {
    "no-btm": {"SMOKE-03": "BTM-RESPONSE"},
    # the lab's APs offer FT-PSK only, so a DUT without FT cannot even join
    "no-ft": {"SMOKE-01": "CONNECT", "SMOKE-02": "CONNECT", "SMOKE-04": "CONNECT"},
    "pinned": {"SMOKE-03": "BTM-ACCEPT-PREFERRED"},
    "filtered": {"SMOKE-03": "BTM-ACCEPT-PREFERRED", "SMOKE-02": "ROAM-COMPLETED"},
    "wrong-psk": {"SMOKE-01": "CONNECT", "SMOKE-03": "CONNECT"},
}


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("teeth")
    duts = [a for v in EXPECT for a in ("--dut", f"linux-wpas:{v}")]
    env = dict(os.environ, ROAMCERT_RUNS=str(base))
    p = subprocess.run([str(ROOT / "roamcert"), "run", "-m", "smoke", *duts], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=1800)
    run = (base / "latest").resolve()
    return p, json.loads((run / "summary.json").read_text()), run


def test_broken_duts_make_the_run_fail(broken_run):
    p, _, _ = broken_run
    assert p.returncode == 1, p.stdout[-2000:]


@pytest.mark.parametrize("variant,case,rule", [(v, c, r) for v, m in EXPECT.items() for c, r in m.items()])
def test_case_fails_with_the_right_rule(broken_run, variant, case, rule):
    _, summary, _ = broken_run
    got = [c for c in summary["cases"] if c["case_id"] == case and c["dut"] == f"linux-wpas-{variant}"]
    assert got, f"{case} did not run against linux-wpas-{variant}"
    c = got[0]
    assert c["verdict"] in ("failed", "error"), f"{case} {c['verdict']} against {variant}"
    assert f"[FAIL] {rule} (" in c["reason"], \
        f"{case} against {variant} failed without the oracle naming {rule}: {c['reason'][:500]}"


def test_every_case_keeps_its_judged_evidence_and_passes_drop_raw_logs(broken_run):
    _, summary, run = broken_run
    failed = [c for c in summary["cases"] if c["verdict"] == "failed"]
    passed = [c for c in summary["cases"] if c["verdict"] == "passed"]
    assert failed and passed
    for c in failed:
        pcaps = [a for a in c["attachments"] if a["name"] == "air.pcap"]
        assert pcaps, f"{c['case_id']} against {c['dut']} lost its capture"
        assert (run / pcaps[0]["path"]).stat().st_size > 1000
    for c in passed:
        # the capture and evidence.json are what the verdicts are judged from: always kept
        assert [a for a in c["attachments"] if a["name"] == "air.pcap"], c["case_id"]
        assert [a for a in c["attachments"] if a["name"] == "evidence"], c["case_id"]
        assert not [a for a in c["attachments"] if a["name"].endswith("-debug.log")], c["case_id"]
        assert any(n.endswith("-debug.log") for n in c["metrics"].get("evidence_not_kept", [])), c["case_id"]
        assert any(a["name"].endswith("-events") for a in c["attachments"]), c["case_id"]
