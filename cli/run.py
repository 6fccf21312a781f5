"""./roamcert run: a conformance run on the lab, into runs/<UTC timestamp>/."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def new_run_dir(base: Path) -> Path:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    d = base / stamp
    n = 1
    while d.exists():
        n += 1
        d = base / f"{stamp}-{n}"
    d.mkdir(parents=True)
    latest = base / "latest"
    tmp = base / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(d.name)
    os.replace(tmp, latest)
    return d


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
