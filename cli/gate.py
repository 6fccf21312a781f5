"""`roamcert gate --baseline RUN_A --current RUN_B [--waivers FILE] [--profile P]
[--dut-baseline N] [--dut-current M] [--no-metrics]`: the release gate on verdicts and
metrics (reports/gate.py).

Exit 0 when no unwaived regression, 1 on a regression (verdict or metric), 2 on unreadable
input (summary, waiver file or profile).
"""
from __future__ import annotations

import argparse
import sys
from datetime import date

from reports import gate


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="roamcert gate", description="compare two runs case by case")
    ap.add_argument("--baseline", required=True, help="run folder or summary.json of the reference run")
    ap.add_argument("--current", required=True, help="run folder or summary.json of the run to judge")
    ap.add_argument("--waivers", help="JSON list of {case_id, reason, expires: YYYY-MM-DD[, dut][, metric]}")
    ap.add_argument("--profile", help="metric limits from this profile (default: the one the current run recorded)")
    ap.add_argument("--dut-baseline", help="gate only this DUT of the baseline run (its cases matched by case id)")
    ap.add_argument("--dut-current", help="gate only this DUT of the current run (default: --dut-baseline)")
    ap.add_argument("--no-metrics", action="store_true",
                    help="the verdict gate only: no metric limits or metric regressions")
    ap.add_argument("--today", help=argparse.SUPPRESS)  # fixes the date for expiry checks in tests
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    today = None
    if args.today:
        try:
            today = date.fromisoformat(args.today)
        except ValueError:
            print(f"gate: error: --today must be YYYY-MM-DD, got {args.today!r}")
            return 2
    return gate.run(args.baseline, args.current, args.waivers, today, profile=args.profile,
                    dut_baseline=args.dut_baseline, dut_current=args.dut_current, metrics=not args.no_metrics)


if __name__ == "__main__":
    sys.exit(main())
