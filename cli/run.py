"""./roamcert run: a conformance run on the lab, into runs/<UTC timestamp>/.

The certificates judge by --profile (default roaming-basic; profiles/<id>.toml). After
pytest, `roamcert report` writes one certificate per DUT (HTML and PDF), index.html and
the Allure page, and reseals manifest.json; their paths are printed.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from fixtures.run_folder import new_run_dir

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROFILE = "roaming-basic"


def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    run_dir = new_run_dir(Path(os.environ.get("ROAMCERT_RUNS") or ROOT / "runs"))
    has_profile = any(a == "--profile" or a.startswith("--profile=") for a in argv)
    args = [
        str(ROOT / "suites"),
        f"--run-dir={run_dir}",
        f"--junitxml={run_dir / 'junit.xml'}",
        f"--alluredir={run_dir / 'allure-results'}",
        "--durations=15",
        "-o", "testpaths=suites",
        *([] if has_profile else [f"--profile={DEFAULT_PROFILE}"]),
        *argv,
    ]
    print(f"roamcert: run folder {run_dir}", flush=True)
    code = pytest.main(args)
    # The reports come after the verdicts, and their trouble never changes the exit code.
    from cli import report
    print("roamcert: building the certificates (HTML, PDF) and the single-file Allure report ...", flush=True)
    report.main([str(run_dir)])
    print(f"roamcert: summary {run_dir / 'summary.json'}; junit {run_dir / 'junit.xml'}; "
          f"verify with ./roamcert verify {run_dir}")
    return int(code)
