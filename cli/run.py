"""./roamcert run: a conformance run on the lab, into runs/<UTC timestamp>/."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from fixtures.run_folder import new_run_dir

ROOT = Path(__file__).resolve().parent.parent



def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    run_dir = new_run_dir(Path(os.environ.get("ROAMCERT_RUNS") or ROOT / "runs"))
    args = [
        str(ROOT / "suites"),
        f"--run-dir={run_dir}",
        f"--junitxml={run_dir / 'junit.xml'}",
        f"--alluredir={run_dir / 'allure-results'}",
        "--durations=15",
        "-o", "testpaths=suites",
        *argv,
    ]
    print(f"roamcert: run folder {run_dir}", flush=True)
    code = pytest.main(args)
    # The reports come after the verdicts, and their trouble never changes the exit code.
    from cli import report
    print("roamcert: building the certificate and the single-file Allure report ...", flush=True)
    report.main([str(run_dir)])
    print(f"roamcert: summary {run_dir / 'summary.json'}; junit {run_dir / 'junit.xml'}")
    return int(code)
