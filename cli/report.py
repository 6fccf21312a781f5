"""`roamcert report [RUN]`: rebuild a run's certificates (HTML and PDF, one per DUT), index.html
and the Allure single-file HTML, and reseal the run's manifest.

RUN is a run folder or its summary.json (default: runs/latest). The evidence is checked
against manifest.json first: a run whose evidence changed since it was sealed is not
certified again. Exit 0 when everything was written, 1 when a PDF or the Allure page could
not be made (the HTML certificates still are), 2 when the run or the profile cannot be
read, 3 when the evidence no longer matches the manifest.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reports import allure_html, manifest, publish
from reports import profile as pf
from reports import summary as sm

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="roamcert report", description="build the HTML/PDF reports of a run")
    ap.add_argument("run", nargs="?", default=str(ROOT / "runs" / "latest"),
                    help="run folder or summary.json (default: runs/latest)")
    ap.add_argument("--profile", help="judge by this profile (id or path) instead of the one the run recorded")
    ap.add_argument("--no-allure", action="store_true", help="skip the Allure single-file report")
    ap.add_argument("--no-pdf", action="store_true", help="skip the PDF certificates")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    run = Path(args.run)
    if run.name == "summary.json":
        run = run.parent
    prev = None if args.no_allure else allure_html.previous_run(run)
    try:
        pub = publish.publish(run, args.profile, pdf=not args.no_pdf, allure=not args.no_allure, history_from=prev)
    except (sm.SummaryError, pf.ProfileError, manifest.ManifestError) as e:
        print(f"report: error: {e}")
        return 2
    except publish.TamperedError as e:
        print(f"report: error: {e}")
        return 3
    except OSError as e:
        print(f"report: error: cannot write the reports: {e}")
        return 2
    for dut, cert in pub.certificates.items():
        print(f"certificate: {cert}  [{pub.verdicts.get(dut, '')}]")
        if dut in pub.pdfs:
            print(f"certificate: {pub.pdfs[dut]}")
    print(f"index:       {pub.index}")
    if pub.allure:
        print(f"allure:      {pub.allure}" + (f"  (history carried from {prev.name})" if prev else ""))
    print(f"manifest:    {run / manifest.NAME}  (hash {pub.manifest_hash})")
    for n in pub.notes:
        print(n)
    return 1 if pub.notes else 0


if __name__ == "__main__":
    sys.exit(main())
