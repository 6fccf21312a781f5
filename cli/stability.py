"""./roamcert bench stability: do identical runs give identical verdicts per (case, DUT)?

  bench stability [--runs N] [--all-rules] [RUN ARGS ...]
      Runs `./roamcert run RUN ARGS` N times (default 3; no RUN ARGS: the full default run),
      then compares the N run folders.
  bench stability --from RUN RUN [RUN ...] [--all-rules]
      Compares run folders that exist already, in the order given.

Prints per (case, DUT) the outcome and each rule's status across the runs, every flip as a
FLAKY line with its flip count and the findings-registry entry that explains it (if any),
a MISSING line for a case some run lacks, and the total. Exit 0: no flip; 1: any flip or
missing case; 2: bad arguments or unreadable run folders.
A flip is never rerun into a pass: the comparison is reports/stability.py.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from reports import stability as st
from reports.summary import SummaryError

ROOT = Path(__file__).resolve().parent.parent
RUN_FOLDER_LINE = re.compile(r"^roamcert: run folder (\S+)", re.M)


def exit_code(cmp: st.Comparison) -> int:
    return 1 if cmp.differs else 0


def _one_run(run_args: list[str], i: int, n: int) -> Path | None:
    """One `roamcert run`; its folder (from the line cli/run.py prints), or None."""
    print(f"stability: run {i}/{n}: ./roamcert run {' '.join(run_args)}", flush=True)
    p = subprocess.run([str(ROOT / "roamcert"), "run", *run_args], cwd=ROOT, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    m = RUN_FOLDER_LINE.search(p.stdout)
    last = [ln for ln in p.stdout.splitlines() if ln.strip()][-1:] or [""]
    print(f"stability: run {i}/{n} exit {p.returncode}; {m.group(1) if m else 'no run folder'}", flush=True)
    if m is None or not (Path(m.group(1)) / "summary.json").is_file():
        print(f"stability: run {i} wrote no summary: {last[0]}", file=sys.stderr)
        return None
    return Path(m.group(1))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="roamcert bench stability", add_help=True)
    ap.add_argument("--runs", type=int, default=3, help="how many identical runs (default 3)")
    ap.add_argument("--from", dest="from_", nargs="+", metavar="RUN", help="compare these run folders")
    ap.add_argument("--all-rules", action="store_true", help="one line per rule, stable ones too")
    try:
        a, run_args = ap.parse_known_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    if a.from_:
        if run_args:
            print(f"roamcert bench stability: --from takes run folders only; not {' '.join(run_args)}",
                  file=sys.stderr)
            return 2
        folders = [Path(f) for f in a.from_]
    else:
        if a.runs < 2:
            print("roamcert bench stability: --runs needs at least 2", file=sys.stderr)
            return 2
        folders = []
        for i in range(1, a.runs + 1):
            f = _one_run(run_args, i, a.runs)
            if f is None:
                return 2
            folders.append(f)
    if len(folders) < 2:
        print("roamcert bench stability: at least two runs to compare", file=sys.stderr)
        return 2
    try:
        runs = [st.load_run(f) for f in folders]
    except SummaryError as e:
        print(f"roamcert bench stability: {e}", file=sys.stderr)
        return 2
    cmp = st.compare(runs)
    print("\n".join(st.format_comparison(cmp, all_rules=a.all_rules)))
    return exit_code(cmp)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
