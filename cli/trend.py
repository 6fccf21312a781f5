"""`roamcert trend RUN... [--dut NAME] [--out DIR]`: pass rates per family and roam-time /
data-outage percentiles across runs, as trend.png and trend.html (default DIR: trend/
beside the runs, outside any run folder). Runs are shown in the order given.

Exit 0 when written, 2 when a run cannot be read or the output cannot be written.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reports import summary as sm
from reports import trend


def main(argv=None, out=print) -> int:
    ap = argparse.ArgumentParser(prog="roamcert trend", description="trends across runs")
    ap.add_argument("runs", nargs="+", help="run folders (or summary.json), oldest first")
    ap.add_argument("--dut", help="only this DUT's cases")
    ap.add_argument("--out", help="output folder (default: trend/ beside the last run)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        points = trend.load_points(args.runs, args.dut)
    except sm.SummaryError as e:
        out(f"trend: error: {e}")
        return 2
    dest = Path(args.out) if args.out else sm.summary_path(args.runs[-1]).parent.resolve().parent / "trend"
    try:
        png, html = trend.write(points, dest)
    except OSError as e:
        out(f"trend: error: cannot write {dest}: {e}")
        return 2
    for p in points:
        rates = ", ".join(f"{f} {r[1]}/{r[2]}" for f, r in sorted(p.pass_rates.items()))
        rt = p.metrics.get("roam_time_us")
        out(sm.printable(f"{p.run}: {rates}" + (f"; roam time {rt.describe('µs')}" if rt else "")))
    out(f"picture: {png}")
    out(f"html:    {html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
