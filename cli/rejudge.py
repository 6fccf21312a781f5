"""./roamcert analyze RUN/cases/CASE [more folders] [--json]: judge recorded cases again.

Each folder is a case folder (evidence.json, air.pcap, verdicts.json) or a run folder (all
its cases). Prints each case's verdicts as the oracle gives them now and whether they equal
the run's own. Exit 0 when every case re-judges to the same verdicts, 1 when any differs,
2 when a folder holds no judgeable evidence.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from reports.rejudge import case_folders, rejudge_case


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="roamcert analyze", description=__doc__.split("\n\n")[0])
    p.add_argument("folders", nargs="+", type=Path, help="case folders or run folders")
    p.add_argument("--json", action="store_true", help="one JSON document: per case, the re-judged verdicts")
    args = p.parse_args(argv)
    folders = []
    for f in args.folders:
        if (f / "evidence.json").is_file():
            folders.append(f)
        elif (f / "cases").is_dir():
            folders.extend(case_folders(f))
        else:
            print(f"roamcert analyze: error: {f}: neither a case folder (evidence.json) nor a run folder (cases/)",
                  file=sys.stderr)
            return 2
    results = [rejudge_case(f) for f in folders]
    if args.json:
        print(json.dumps([{"folder": str(r.folder), "case": r.case, "dut": r.dut, "same": r.same,
                           "detail": r.detail, "verdicts": [v.to_dict() for v in r.rejudged]} for r in results],
                         indent=2))
    else:
        for r in results:
            print(f"{r.case} [{r.dut or '?'}] {r.folder}")
            for v in r.rejudged:
                print("  " + v.describe())
            print(f"  => {'same verdicts as the run' if r.same else 'DIFFERS: ' + r.detail}")
        same = sum(r.same for r in results)
        print(f"re-judged {len(results)} case(s): {same} same, {len(results) - same} different")
    if any(not r.rejudged and not r.same for r in results):
        return 2
    return 0 if all(r.same for r in results) else 1
