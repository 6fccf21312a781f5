"""`roamcert report [RUN]`: rebuild certificate.html and the Allure single-file HTML of a run.

RUN is a run folder or its summary.json (default: runs/latest). Exit 0 when both
were written, 1 when the Allure page could not be made (the certificate still is),
2 when the run cannot be read.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reports import allure_html, certificate
from reports import summary as sm

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="roamcert report", description="build the HTML reports of a run")
    ap.add_argument("run", nargs="?", default=str(ROOT / "runs" / "latest"),
                    help="run folder or summary.json (default: runs/latest)")
    ap.add_argument("--no-allure", action="store_true", help="only rebuild certificate.html")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    run = Path(args.run)
    if run.name == "summary.json":
        run = run.parent
    try:
        cert = certificate.build(run)
    except sm.SummaryError as e:
        print(f"report: error: {e}")
        return 2
    except OSError as e:
        print(f"report: error: cannot write the certificate: {e}")
        return 2
    print(f"certificate: {cert}")
    if args.no_allure:
        return 0
    try:
        page = allure_html.build(run)
    except allure_html.AllureError as e:
        print(f"allure: not written: {e}")
        return 1
    print(f"allure:      {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
