"""Everything a finished run publishes, in the order tamper evidence needs:

  1. manifest.json, evidence section (every evidence file and summary.json) -> manifest hash;
  2. one HTML certificate per DUT (certificate-<dut>.html) showing that hash, and index.html;
  3. optionally a PDF of each certificate (headless Chromium) and the Allure page;
  4. manifest.json, reports section: the hashes of the files of steps 2-3.

fresh=True (the run itself, at its end) hashes the evidence anew. fresh=False (a later
`roamcert report`) first checks the evidence against the existing manifest and refuses
to certify a run whose evidence changed since it was sealed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reports import certificate, manifest
from reports import profile as pf
from reports import summary as sm


class TamperedError(Exception):
    """The run's evidence no longer matches its manifest."""


@dataclass
class Published:
    run_dir: Path
    manifest_hash: str
    profile: pf.Profile | None
    index: Path | None = None
    certificates: dict = field(default_factory=dict)  # dut -> Path (HTML)
    pdfs: dict = field(default_factory=dict)  # dut -> Path
    verdicts: dict = field(default_factory=dict)  # dut -> verdict string
    allure: Path | None = None
    notes: list[str] = field(default_factory=list)


def _index(pub: Published, data: dict) -> Path:
    entries = []
    for dut, html in pub.certificates.items():
        cases = [c for c in data["cases"] if str(c.get("dut") or "") == dut]
        ident = certificate.identity(data["run"], dut)
        a = pf.assess(cases, pub.profile, dut, ident, data["run"])
        pub.verdicts[dut] = a.verdict
        pdf = pub.pdfs.get(dut)
        entries.append({"dut": dut, "verdict": a.verdict, "tone": a.tone, "totals": sm.totals(cases),
                        "mutant": (ident or {}).get("test_mutant"),
                        "html": html.name, "pdf": pdf.name if pdf else None})
    from markupsafe import Markup

    page = certificate.environment().get_template("index.html.j2").render(
        run_id=(data["run"] or {}).get("id"), profile=pub.profile, manifest_hash=pub.manifest_hash,
        entries=entries, outcomes=sm.OUTCOMES,
        orphans=[c for c in data["cases"] if str(c.get("dut") or "") not in pub.certificates], allure=(pub.run_dir / "allure-report.html").is_file(),
        css=Markup((certificate.TEMPLATES / "certificate.css").read_text(encoding="utf-8")))
    return certificate.write_text_atomic(pub.run_dir / "index.html", page)


def publish(run_dir: str | Path, profile: str | Path | None = None, *, fresh: bool = False, pdf: bool = True,
            allure: bool = False, history_from: Path | None = None) -> Published:
    """Raises summary.SummaryError, profile.ProfileError, TamperedError, manifest.ManifestError."""
    run_dir = Path(run_dir)
    data = sm.load(run_dir)
    prof, notes = certificate.profile_for(data, profile)
    if fresh or not (run_dir / manifest.NAME).exists():
        h = manifest.write_evidence(run_dir)
    else:
        chk = manifest.check(run_dir, evidence_only=True)
        if chk.evidence_changed:
            raise TamperedError("the evidence changed since the run was sealed; not certifying it:\n  "
                                + "\n  ".join(manifest.describe(chk)[1:]))
        h = chk.digest
    pub = Published(run_dir, h, prof)
    for dut in certificate.dut_names(data):
        out = run_dir / certificate.file_name(dut)
        certificate.write_text_atomic(out, certificate.render(data, run_dir, dut, prof, h, notes))
        pub.certificates[dut] = out
        if pdf:
            from reports import chromium

            # The printed copy is the condensed document (every case's verdict, the failed
            # verdicts of the cases that did not pass); rendered from the same data and hash.
            tmp = run_dir / f".print-{out.name}"
            try:
                certificate.write_text_atomic(tmp, certificate.render(data, run_dir, dut, prof, h, notes,
                                                                      printed=True))
                pub.pdfs[dut] = chromium.print_pdf(tmp, out.with_suffix(".pdf"))
            except chromium.ChromiumError as e:
                pub.notes.append(f"{out.with_suffix('.pdf').name}: not written: {e}")
            finally:
                tmp.unlink(missing_ok=True)
    if allure:
        from reports import allure_html

        try:
            pub.allure = allure_html.build(run_dir, history_from=history_from)
        except allure_html.AllureError as e:
            pub.notes.append(f"allure: not written: {e}")
    pub.index = _index(pub, data)
    manifest.seal(run_dir)
    return pub
