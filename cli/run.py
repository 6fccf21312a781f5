"""./roamcert run: a conformance run on the lab, into runs/<UTC timestamp>/.

The certificates judge by --profile (default roaming-basic; profiles/<id>.toml). After
pytest, `roamcert report` writes one certificate per DUT (HTML and PDF), index.html and
the Allure page, and reseals manifest.json; their paths are printed.

The DUTs, the lab kind and the serial ports are checked before anything boots: a run that
cannot work ends at once with one line naming the problem and the choices (exit 2). The
console shows roamcert's own line per case (reports/plugin.py) and a final summary, not
pytest's progress letters as well (-v brings pytest's lines back).

-n N runs N labs at once under pytest-xdist, each worker with its own VM (or labgrid place),
handed whole modules per DUT (fixtures/parallel.py); the one run folder, summary, junit,
Allure results and certificates come out as a serial run's do.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pytest

from fixtures.run_folder import new_run_dir

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROFILE = "roaming-basic"

class _Usage(Exception):
    pass


class _Options(argparse.ArgumentParser):
    def error(self, message):
        raise _Usage(message)


def preflight(argv: list[str]) -> str | None:
    """The problem with the run's options, in one line, or None."""
    from fixtures.esp32_options import dut_options_from
    from fixtures.parallel import ParallelOptionError, check_workers, parse_workers
    from fixtures.plugin import RunOptionError, check_run_options
    p = _Options(add_help=False)
    p.add_argument("--dut", action="append", default=[])
    p.add_argument("--lab", default=os.environ.get("ROAMCERT_LAB", "virtual"))
    p.add_argument("--radios", type=int, default=None)
    p.add_argument("--esp32-baud", type=int, default=115200)
    p.add_argument("-n", "--numprocesses", dest="workers", default=None)
    p.add_argument("--lg-place", default=os.environ.get("LG_PLACE"))
    try:
        a, _rest = p.parse_known_args(argv)
        check_run_options(a.dut, a.lab, a.radios, dut_options_from(esp32_baud=a.esp32_baud))
        if a.workers is not None:
            check_workers(parse_workers(a.workers), a.lab, a.lg_place)
    except (_Usage, RunOptionError, ParallelOptionError) as e:
        return str(e)
    return None


def parallel_args(argv: list[str]) -> list[str]:
    """With -n N and no --dist: --dist loadscope, whose unit under roamcert is a module on
    one DUT (fixtures/parallel.py), so each worker's lab and module AP pool serve many cases."""
    p = _Options(add_help=False)
    p.add_argument("-n", "--numprocesses", dest="workers", default=None)
    p.add_argument("--dist", default=None)
    a, _rest = p.parse_known_args(argv)
    return ["--dist=loadscope"] if a.workers is not None and a.dist is None else []


def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    problem = preflight(argv)
    if problem:
        print(f"roamcert run: {problem}", file=sys.stderr)
        return 2
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
        "-o", "console_output_style=classic",
        "-p", "cli.case_lines",
        *parallel_args(argv),
        *argv,
    ]
    print(f"roamcert: run folder {run_dir}", flush=True)
    code = pytest.main(args)
    if code == pytest.ExitCode.USAGE_ERROR:
        return 2
    # The reports come after the verdicts, and their trouble never changes the exit code.
    from cli import report
    print("roamcert: building the certificates (HTML, PDF) and the single-file Allure report ...", flush=True)
    report.main([str(run_dir)])
    print(f"roamcert: summary {run_dir / 'summary.json'}; junit {run_dir / 'junit.xml'}; "
          f"verify with ./roamcert verify {run_dir}")
    return int(code)
