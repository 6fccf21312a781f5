"""Tamper evidence: manifest.json and `roamcert verify` on doctored copies of a sealed run."""
from __future__ import annotations

import hashlib
import json
import sys
import types

import pytest

import fake_runs as fr
from cli.verify import main as verify_main
from reports import manifest


@pytest.fixture(scope="module")
def sealed(tmp_path_factory):
    run = fr.write_run(tmp_path_factory.mktemp("sealed") / "20260601T100000Z", fr.basic_cases())
    pub = fr.seal(run)
    return run, pub


@pytest.fixture
def doctored(sealed, tmp_path):
    return fr.copy_run(sealed[0], tmp_path / "copy")


def verify(capsys, run, *extra):
    rc = verify_main([str(run), *extra])
    return rc, capsys.readouterr().out


def test_manifest_layout_and_hash(sealed):
    run, pub = sealed
    m = json.loads((run / "manifest.json").read_text())
    # Evidence: every file but the reports and the manifest, each with its own SHA-256.
    assert m["evidence"]["summary.json"] == hashlib.sha256((run / "summary.json").read_bytes()).hexdigest()
    assert "cases/FT-02-linux-wpas/air.txt" in m["evidence"] and "junit.xml" in m["evidence"]
    assert not [p for p in m["evidence"] if p.startswith(("certificate", "index")) or p == "manifest.json"]
    # The manifest hash is the SHA-256 of the evidence section in canonical JSON.
    canon = json.dumps(m["evidence"], sort_keys=True, separators=(",", ":")).encode()
    assert m["evidence_digest"] == hashlib.sha256(canon).hexdigest() == pub.manifest_hash
    # Reports section: the certificates and index written after, each hashed.
    assert set(m["reports"]) == {"certificate-linux-wpas.html", "index.html"}
    assert pub.manifest_hash in (run / "certificate-linux-wpas.html").read_text()


def test_untouched_run_verifies(sealed, capsys):
    rc, out = verify(capsys, sealed[0])
    assert rc == 0, out
    assert "hashes: OK (0 edited, 0 added, 0 removed)" in out
    assert "verify: OK" in out


def test_without_the_rejudge_module_verify_says_so(sealed, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "reports.rejudge", None)  # as in a build without reports/rejudge.py
    rc, out = verify(capsys, sealed[0])
    assert rc == 0
    assert "re-judge: not available in this build (reports/rejudge.py is missing); only the hashes were checked" in out


def test_edited_certificate_is_caught(doctored, capsys):
    cert = doctored / "certificate-linux-wpas.html"
    cert.write_text(cert.read_text().replace("CONFORMANT", "CONFORMANT!", 1))
    rc, out = verify(capsys, doctored)
    assert rc == 1
    assert "edited:  certificate-linux-wpas.html" in out and "verify: FAILED" in out


def test_edited_evidence_file_is_caught(doctored, capsys):
    (doctored / "cases" / "FT-02-linux-wpas" / "air.txt").write_text("other frames\n")
    rc, out = verify(capsys, doctored)
    assert rc == 1 and "edited:  cases/FT-02-linux-wpas/air.txt" in out


def test_edited_summary_is_caught(doctored, capsys):
    data = json.loads((doctored / "summary.json").read_text())
    data["cases"][1]["verdict"] = "passed"
    (doctored / "summary.json").write_text(json.dumps(data))
    rc, out = verify(capsys, doctored)
    assert rc == 1 and "edited:  summary.json" in out


def test_added_and_removed_files_are_caught(doctored, capsys):
    (doctored / "cases" / "BTM-01-linux-wpas" / "air.txt").unlink()
    (doctored / "cases" / "extra.pcap").write_bytes(b"\xd4\xc3\xb2\xa1")
    (doctored / "certificate-other.html").write_text("<p>CONFORMANT</p>")
    rc, out = verify(capsys, doctored)
    assert rc == 1
    assert "removed: cases/BTM-01-linux-wpas/air.txt" in out
    assert "added:   cases/extra.pcap" in out and "added:   certificate-other.html" in out
    assert "(0 edited, 2 added, 1 removed" in out


def test_manifest_edited_to_match_a_doctored_file_is_caught(doctored, capsys):
    f = doctored / "cases" / "FT-02-linux-wpas" / "air.txt"
    f.write_text("other frames\n")
    m = json.loads((doctored / "manifest.json").read_text())
    m["evidence"]["cases/FT-02-linux-wpas/air.txt"] = manifest.sha256_file(f)
    (doctored / "manifest.json").write_text(json.dumps(m))
    rc, out = verify(capsys, doctored)
    assert rc == 1 and "manifest.json edited" in out


def test_rewritten_manifest_no_longer_matches_the_certificate(doctored, capsys):
    """Doctor a file and recompute the whole manifest: the certificate still shows the old hash."""
    (doctored / "cases" / "FT-02-linux-wpas" / "air.txt").write_text("other frames\n")
    old = manifest.load(doctored)["evidence_digest"]
    manifest.write_evidence(doctored)
    manifest.seal(doctored)
    rc, out = verify(capsys, doctored)
    assert rc == 1
    assert "certificate does not show the manifest hash: certificate-linux-wpas.html" in out
    assert old in (doctored / "certificate-linux-wpas.html").read_text()


def test_no_manifest_is_exit_2(tmp_path, capsys):
    run = fr.write_run(tmp_path / "r", fr.basic_cases())
    rc, out = verify(capsys, run)
    assert rc == 2 and "no manifest" in out


def test_rejudge_results_are_reported_and_gate_the_exit(sealed, capsys, monkeypatch):
    """With reports.rejudge present (the lead's module), a disagreeing case fails verify."""
    from dataclasses import dataclass

    @dataclass
    class Cmp:
        case: str
        dut: str
        same: bool
        detail: str = ""

    calls = []
    mod = types.ModuleType("reports.rejudge")
    mod.rejudge_run = lambda run_dir: calls.append(run_dir) or [
        Cmp("FT-02", "linux-wpas", True), Cmp("BTM-01", "linux-wpas", False, "recorded pass, oracle now fails BTM-TOKEN")]
    monkeypatch.setitem(sys.modules, "reports.rejudge", mod)
    rc, out = verify(capsys, sealed[0])
    assert calls and rc == 1
    assert "re-judge: BTM-01 [linux-wpas]: DIFFERENT — recorded pass, oracle now fails BTM-TOKEN" in out
    assert "re-judge: 1 of 2 case(s) agree" in out
    mod.rejudge_run = lambda run_dir: [Cmp("FT-02", "linux-wpas", True)]
    rc, out = verify(capsys, sealed[0])
    assert rc == 0 and "hashes: OK" in out
