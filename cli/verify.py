"""`roamcert verify RUN`: is this run's evidence what the certificate says it is?

1. Rechecks every file against manifest.json: edited, added and removed files; a manifest
   whose evidence section no longer hashes to the recorded manifest hash; certificates
   (HTML, and PDF text when pdftotext is installed) that do not show that hash.
2. Re-judges the evidence offline (reports.rejudge.rejudge_run): the oracle run again on
   each case's recorded evidence, compared with the recorded verdict.

Exit 0 when every hash matches and every re-judged case agrees; 1 when a file changed or
a re-judged case disagrees; 2 when the run or its manifest cannot be read.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from reports import manifest
from reports import summary as sm

ROOT = Path(__file__).resolve().parents[1]


def _rejudge(run: Path, out) -> int | None:
    """0 all agree, 1 some differ, None when this build has no re-judging."""
    try:
        mod = importlib.import_module("reports.rejudge")
    except ImportError as e:  # ModuleNotFoundError, or None in sys.modules
        if getattr(e, "name", None) != "reports.rejudge":
            raise
        out("re-judge: not available in this build (reports/rejudge.py is missing); "
            "only the hashes were checked")
        return None
    results = list(mod.rejudge_run(run))
    if not results:
        out("re-judge: no case folder holds evidence.json (a run recorded before the one-judge format): "
            "nothing was re-judged")
        return None
    differ = [r for r in results if not r.same]
    for r in results:
        mark = "same" if r.same else "DIFFERENT"
        out(sm.printable(f"re-judge: {r.case} [{r.dut}]: {mark}" + (f" — {r.detail}" if r.detail else "")))
    out(f"re-judge: {len(results) - len(differ)} of {len(results)} case(s) agree with the recorded verdicts")
    return 1 if differ else 0


def main(argv=None, out=print) -> int:
    ap = argparse.ArgumentParser(prog="roamcert verify", description="recheck a run's hashes and re-judge it")
    ap.add_argument("run", nargs="?", default=str(ROOT / "runs" / "latest"), help="run folder (default: runs/latest)")
    ap.add_argument("--no-rejudge", action="store_true", help="check the hashes only")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    run = Path(args.run)
    if run.name in ("summary.json", manifest.NAME):
        run = run.parent
    try:
        res = manifest.check(run)
    except manifest.ManifestError as e:
        out(f"verify: error: {e}")
        return 2
    for line in manifest.describe(res):
        out(sm.printable(line))
    out(f"hashes: {'OK' if res.ok else 'MISMATCH'} ({len(res.edited)} edited, {len(res.added)} added, "
        f"{len(res.removed)} removed" + (", manifest edited" if not res.digest_ok else "")
        + (f", {len(res.not_showing)} certificate(s) without the hash" if res.not_showing else "") + ")")
    code = 0 if res.ok else 1
    if not args.no_rejudge:
        rj = _rejudge(run, out)
        if rj:
            code = 1
    out(f"verify: {'OK' if code == 0 else 'FAILED'}")
    return code


if __name__ == "__main__":
    sys.exit(main())
