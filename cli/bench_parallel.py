"""`./roamcert bench parallel [--workers N] [run options]`: the same selection run serially and
with -n N (default 2), as two `./roamcert run`s; prints both wall times, their ratio, and
whether the verdicts per (case, DUT, rule) and the outcome per (case, DUT) are identical,
listing every difference. Figures are printed, never asserted (the brief's rule for timing).

Each run is a real run folder under runs/bench-parallel/ (runs/bench-parallel/latest is the
parallel one). Exit 0 when the verdicts are identical, 1 when they differ, 2 when a run could
not be made or read.
"""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "runs" / "bench-parallel"


def verdict_table(doc: dict) -> tuple[dict, dict]:
    """(case, DUT) -> outcome and (case, DUT, rule) -> verdict status, of a summary."""
    outcomes, rules = {}, {}
    for c in doc.get("cases") or []:
        key = (str(c.get("case_id")), str(c.get("dut") or ""))
        outcomes[key] = c.get("verdict")
        for v in c.get("verdicts") or []:
            rules[key + (str(v.get("rule")),)] = v.get("status")
    return outcomes, rules


def differences(serial: dict, parallel: dict) -> list[str]:
    """Every (case, DUT) outcome and (case, DUT, rule) verdict that the two runs disagree on,
    one line each; a missing one shows as 'absent'."""
    out = []
    for what, a, b in zip(("outcome", "verdict"), verdict_table(serial), verdict_table(parallel)):
        for key in sorted(set(a) | set(b)):
            sa, sb = a.get(key, "absent"), b.get(key, "absent")
            if sa != sb:
                out.append(f"{what} {' / '.join(key)}: serial {sa}, parallel {sb}")
    return out


def _run(label: str, args: list[str]) -> tuple[float, Path | None, int]:
    """One `./roamcert run` with args; its wall time, run folder and exit code."""
    env = dict(os.environ, ROAMCERT_RUNS=str(BASE))
    print(f"roamcert bench parallel: {label}: ./roamcert run {shlex.join(args)}", flush=True)
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "cli", "run", *args], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.monotonic() - t0
    folder = None
    for line in proc.stdout.splitlines():
        if line.startswith("roamcert: run folder "):
            folder = Path(line.removeprefix("roamcert: run folder ").strip())
    log = BASE / f"{label}.log"
    BASE.mkdir(parents=True, exist_ok=True)
    log.write_text(proc.stdout)
    print(f"roamcert bench parallel: {label}: exit {proc.returncode}, {wall:.1f} s wall; console in {log}",
          flush=True)
    return wall, folder, proc.returncode


def main(argv: list[str]) -> int:
    from reports.summary import load as load_summary

    p = argparse.ArgumentParser(prog="roamcert bench parallel", add_help=True,
                                description="serial against -n N wall time and verdicts of one selection")
    p.add_argument("--workers", type=int, default=2, help="labs of the parallel run (-n; default 2)")
    a, run_args = p.parse_known_args(argv)
    if a.workers < 1:
        print("roamcert bench parallel: --workers must be 1 or more", file=sys.stderr)
        return 2
    if any(x in ("-n", "--numprocesses") or x.startswith(("-n", "--numprocesses=")) for x in run_args):
        print("roamcert bench parallel: give the parallel run's labs with --workers, not -n", file=sys.stderr)
        return 2
    runs = {}
    for label, extra in (("serial", []), (f"n{a.workers}", ["-n", str(a.workers)])):
        wall, folder, code = _run(label, [*run_args, *extra])
        if folder is None or not (folder / "summary.json").is_file():
            print(f"roamcert bench parallel: the {label} run wrote no summary (see {BASE / label}.log)",
                  file=sys.stderr)
            return 2
        try:
            doc = load_summary(folder / "summary.json")
        except Exception as e:
            print(f"roamcert bench parallel: {folder / 'summary.json'}: {e}", file=sys.stderr)
            return 2
        runs[label] = (wall, folder, doc)
    (ws, fs, ds), (wp, fp, dp) = runs["serial"], runs[f"n{a.workers}"]
    print()
    print(f"machine:   {os.cpu_count()} CPUs ({os.environ.get('ROAMCERT_VM_CPUS', '1')} per VM)")
    print(f"serial:    {ws:8.1f} s wall  pytest session {float(ds['run'].get('duration_s') or 0):8.1f} s  {fs}")
    print(f"-n {a.workers}:      {wp:8.1f} s wall  pytest session {float(dp['run'].get('duration_s') or 0):8.1f} s  {fp}")
    print(f"ratio:     serial / parallel wall = {ws / wp:.2f}")
    diff = differences(ds, dp)
    outcomes, rules = verdict_table(ds)
    if diff:
        # the case outcomes on their own: an info verdict that depends on timing (a late
        # answer noted, not judged) can differ while every case's outcome agrees
        same_outcomes = not any(d.startswith("outcome ") for d in diff)
        print(f"outcomes:  {'identical' if same_outcomes else 'DIFFER'} ({len(outcomes)} case x DUT)")
        print(f"verdicts:  DIFFER in {len(diff)} place(s):")
        for line in diff:
            print("  " + line)
        return 1
    print(f"verdicts:  identical ({len(outcomes)} case x DUT outcomes, {len(rules)} case x DUT x rule verdicts)")
    return 0
