"""`roamcert compare RUN_A RUN_B [--dut-a NAME] [--dut-b NAME] [--html FILE]`: two runs (two
DUTs or two builds) side by side: verdicts, known findings, failed rules and metrics.

Prints a terminal table and writes an HTML page (default: compare-<A>-vs-<B>.html beside
the runs, outside any run folder so no manifest changes). Exit 0 when both runs were read
(differences are information, the gate judges them), 2 when a run cannot be read.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reports import compare
from reports import summary as sm


def main(argv=None, out=print) -> int:
    ap = argparse.ArgumentParser(prog="roamcert compare", description="two runs side by side")
    ap.add_argument("run_a")
    ap.add_argument("run_b")
    ap.add_argument("--dut-a", help="the DUT of RUN_A to show (runs with several DUTs)")
    ap.add_argument("--dut-b", help="the DUT of RUN_B to show")
    ap.add_argument("--html", help="where to write the HTML page")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        a, b = sm.load(args.run_a), sm.load(args.run_b)
        rows, by_case = compare.side_by_side(a, b, args.dut_a, args.dut_b)
    except sm.SummaryError as e:
        out(f"compare: error: {e}")
        return 2
    ra, rb = sm.summary_path(args.run_a).parent, sm.summary_path(args.run_b).parent

    def name(run: dict, folder: Path, dut: str | None, data: dict) -> str:
        from reports.certificate import dut_names
        d = dut or (dut_names(data)[0] if by_case else "")
        return f"{d} @ {run.get('id') or folder.name}" if d else str(run.get("id") or folder.name)

    na, nb = name(a["run"], ra, args.dut_a, a), name(b["run"], rb, args.dut_b, b)
    out(compare.table(rows, na, nb))
    dest = Path(args.html) if args.html else ra.resolve().parent / f"compare-{ra.resolve().name}-vs-{rb.resolve().name}.html"
    try:
        compare.write_html(dest, compare.html(rows, na, nb, a["run"], b["run"]))
    except OSError as e:
        out(f"compare: error: cannot write {dest}: {e}")
        return 2
    out(f"html: {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
