"""One judge on a real lab run: every case of a full linux-wpas run, judged again offline
from its case folder, gives the verdicts the live run gave (rule, clause, status, expected,
observed, evidence, message, layer). This is what makes a certificate reproducible by
anyone who holds the evidence."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.lab, pytest.mark.slow]


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    env = dict(os.environ, ROAMCERT_RUNS=str(base))
    # Verdicts may fail (the reference DUT has known findings); this test judges the judge.
    p = subprocess.run([str(ROOT / "roamcert"), "run", "--dut", "linux-wpas"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=3000)
    run = (base / "latest").resolve()
    assert (run / "summary.json").is_file(), p.stdout[-3000:] + p.stderr[-3000:]
    return run


def test_every_judged_case_of_a_full_run_rejudges_to_the_same_verdicts(full_run):
    summary = json.loads((full_run / "summary.json").read_text())
    judged = [c for c in summary["cases"] if c["verdicts"]]
    assert len(judged) >= 50, f"only {len(judged)} judged case(s) in the run"
    folders = sorted(p.parent.name for p in (full_run / "cases").glob("*/evidence.json"))
    assert len(folders) == len(judged), (len(folders), [c["case_id"] for c in judged])
    p = subprocess.run([str(ROOT / "roamcert"), "analyze", str(full_run)], cwd=ROOT,
                       capture_output=True, text=True, timeout=900)
    m = re.search(r"re-judged (\d+) case\(s\): (\d+) same, (\d+) different", p.stdout)
    assert m, p.stdout[-3000:] + p.stderr[-2000:]
    n, same, different = map(int, m.groups())
    print(f"re-judged {n} cases of a full linux-wpas run: {same} same, {different} different")
    assert (n, same, different) == (len(judged), len(judged), 0), \
        "\n".join(line for line in p.stdout.splitlines() if "DIFFERS" in line)[:4000]
    assert p.returncode == 0
