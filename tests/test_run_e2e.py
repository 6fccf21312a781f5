"""The main job end to end: `./roamcert run -m smoke` on the virtual lab writes a
complete run folder whose verdicts are backed by evidence."""
from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    env = dict(os.environ, ROAMCERT_RUNS=str(base))
    p = subprocess.run([str(ROOT / "roamcert"), "run", "-m", "smoke", "--dut", "linux-wpas", "--keep-evidence"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    run = (base / "latest").resolve()
    return p, run


def test_smoke_run_passes_and_prints_where_reports_are(smoke_run):
    p, run = smoke_run
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert f"certificate: {run / 'certificate-linux-wpas.html'}" in p.stdout
    assert f"certificate: {run / 'certificate-linux-wpas.pdf'}" in p.stdout
    assert f"allure:      {run / 'allure-report.html'}" in p.stdout
    assert (run / "allure-report.html").stat().st_size > 10000


def test_summary_lists_every_smoke_case_with_requirements_and_evidence(smoke_run):
    _, run = smoke_run
    s = json.loads((run / "summary.json").read_text())
    cases = {c["case_id"]: c for c in s["cases"]}
    assert set(cases) == {f"SMOKE-0{i}" for i in range(1, 6)}
    for cid, c in cases.items():
        assert c["verdict"] == "passed", (cid, c["reason"])
        assert c["requirements"] and c["dut"] == "linux-wpas"
        assert any(v["status"] == "pass" for v in c["verdicts"]), cid
        pcaps = [a for a in c["attachments"] if a["name"] == "air.pcap"]
        assert pcaps and (run / pcaps[0]["path"]).stat().st_size > 1000 or \
            Path(pcaps[0]["path"]).stat().st_size > 1000
    for cid in ("SMOKE-02", "SMOKE-03", "SMOKE-04"):
        assert cases[cid]["timelines"], f"{cid} has no roam timeline"
    assert s["run"]["lab"]["hostapd"] and s["run"]["duts"]


def test_junit_carries_requirement_ids(smoke_run):
    _, run = smoke_run
    root = ET.parse(run / "junit.xml").getroot()
    props = [(p.get("name"), p.get("value")) for p in root.iter("property")]
    assert ("case_id", "SMOKE-03") in props
    assert any(n == "requirement" and "11.24.7" in v for n, v in props)


def test_analyze_rejudges_the_smoke_run_to_the_same_verdicts(smoke_run):
    _, run = smoke_run
    p = subprocess.run([str(ROOT / "roamcert"), "analyze", str(run)], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    assert "re-judged 5 case(s): 5 same, 0 different" in p.stdout
