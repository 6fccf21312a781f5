"""Tamper evidence: runs/<id>/manifest.json, the SHA-256 of every file of the run.

Two sections, written in two steps so that nothing has to contain its own hash:

  1. "evidence": {path: sha256} for every file of the run folder except the reports
     (REPORT_FILES) and manifest.json itself: summary.json, junit.xml, allure-results/,
     cases/, timelines/, lab/ ... Its digest, "evidence_digest" = SHA-256 of the section
     as canonical JSON (sorted keys, no spaces, UTF-8), is THE MANIFEST HASH: the
     certificates print it (in the page and in every PDF page footer).
  2. "reports": {path: sha256} for the certificates (HTML and PDF), index.html and the
     Allure page, written after them ("sealing").

`verify` recomputes both sections from the files, recomputes the digest from the evidence
section (so an edited manifest is caught), and checks that every certificate shows that
digest. The digest printed on a certificate someone holds is the anchor: whoever can
rewrite the whole folder can rewrite the manifest too, but not the copy already delivered.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from reports.summary import read_json

NAME = "manifest.json"
SCHEMA = 1
# Files made from the evidence after it is sealed: they go in the "reports" section.
REPORT_FILES = ("certificate.html", "certificate-*.html", "certificate.pdf", "certificate-*.pdf",
                "index.html", "allure-report.html", "allure-history.jsonl")


class ManifestError(Exception):
    """The manifest is missing, unreadable or malformed."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def digest(section: dict) -> str:
    canon = json.dumps(section, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def is_report(rel: str) -> bool:
    return "/" not in rel and any(fnmatch.fnmatchcase(rel, p) for p in REPORT_FILES)


def scan(run_dir: Path) -> tuple[dict, dict, list[str]]:
    """(evidence hashes, report hashes, notes) of the files in the run folder now.
    Symbolic links are not followed (noted): their target may lie outside the run."""
    run_dir = Path(run_dir)
    evidence, reports, notes = {}, {}, []
    for root, dirs, files in os.walk(run_dir):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            full = Path(root) / name
            rel = full.relative_to(run_dir).as_posix()
            if rel == NAME or (rel.startswith(".") and rel.endswith(".tmp")):
                continue
            if full.is_symlink():
                notes.append(f"{rel}: a symbolic link, not hashed")
                continue
            (reports if is_report(rel) else evidence)[rel] = sha256_file(full)
    return evidence, reports, notes


def load(run_dir: Path) -> dict:
    p = Path(run_dir) / NAME
    data = read_json(p, ManifestError, "no manifest (the run was not sealed)")
    if not isinstance(data, dict) or not isinstance(data.get("evidence"), dict) \
            or not isinstance(data.get("reports", {}), dict) or not isinstance(data.get("evidence_digest"), str):
        raise ManifestError(f"{p}: not a roamcert manifest (needs evidence, evidence_digest, reports)")
    return data


def _write(run_dir: Path, data: dict) -> None:
    p = Path(run_dir) / NAME
    tmp = p.with_name(f".{NAME}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(p)


def write_evidence(run_dir: Path) -> str:
    """Step 1: hash the evidence (and summary), write manifest.json; return the manifest hash."""
    evidence, _, _ = scan(run_dir)
    d = digest(evidence)
    _write(run_dir, {"schema": SCHEMA, "algorithm": "sha256", "evidence": evidence, "evidence_digest": d,
                     "reports": {}})
    return d


def seal(run_dir: Path) -> dict:
    """Step 2: add the hashes of the report files as they are now."""
    data = load(run_dir)
    _, reports, _ = scan(run_dir)
    data["reports"] = reports
    _write(run_dir, data)
    return data


@dataclass
class Check:
    digest: str = ""
    digest_ok: bool = True  # the evidence section still hashes to the recorded digest
    edited: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    not_showing: list[str] = field(default_factory=list)  # certificates that do not print the digest
    notes: list[str] = field(default_factory=list)

    @property
    def evidence_changed(self) -> bool:
        return bool(self.edited or self.added or self.removed) or not self.digest_ok

    @property
    def ok(self) -> bool:
        return not self.evidence_changed and not self.not_showing


def _pdf_text(path: Path) -> str | None:
    import shutil
    import subprocess

    exe = shutil.which("pdftotext")
    if exe is None:
        return None
    try:
        r = subprocess.run([exe, "-layout", str(path), "-"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout if r.returncode == 0 else None


def check(run_dir: Path, evidence_only: bool = False) -> Check:
    """Compare the run folder with its manifest. Raises ManifestError when there is none."""
    run_dir = Path(run_dir)
    data = load(run_dir)
    res = Check(digest=data["evidence_digest"])
    res.digest_ok = digest(data["evidence"]) == data["evidence_digest"]
    evidence, reports, res.notes = scan(run_dir)
    want = dict(data["evidence"])
    if not evidence_only:
        want.update(data.get("reports") or {})
        have = {**evidence, **reports}
    else:
        have = evidence
    for rel in sorted(set(want) | set(have)):
        if rel not in have:
            res.removed.append(rel)
        elif rel not in want:
            res.added.append(rel)
        elif want[rel] != have[rel]:
            res.edited.append(rel)
    if not evidence_only:
        for rel in sorted(reports):
            if not rel.startswith("certificate"):
                continue
            p = run_dir / rel
            if rel.endswith(".pdf"):
                text = _pdf_text(p)
                if text is None:
                    res.notes.append(f"{rel}: pdftotext unavailable or failed; its text was not checked")
                    continue
            else:
                text = p.read_text(encoding="utf-8", errors="replace")
            if res.digest not in "".join(text.split()):
                res.not_showing.append(rel)
    return res


def describe(res: Check) -> list[str]:
    lines = [f"manifest hash (evidence): {res.digest}"]
    if not res.digest_ok:
        lines.append("manifest.json edited: its evidence section no longer hashes to the recorded manifest hash")
    lines += [f"edited:  {p}" for p in res.edited]
    lines += [f"added:   {p}" for p in res.added]
    lines += [f"removed: {p}" for p in res.removed]
    lines += [f"certificate does not show the manifest hash: {p}" for p in res.not_showing]
    lines += [f"note: {n}" for n in res.notes]
    return lines
