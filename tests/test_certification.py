"""Certification profiles, the three verdicts, known findings, FAIL layers, one certificate
per DUT with an index, and the printed certificate (PDF footer read back with pdftotext)."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

import fake_runs as fr
from reports import certificate, manifest
from reports import profile as pf
from reports import summary as sm

ROOT = Path(__file__).resolve().parents[1]


class Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.links = [], []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_data(self, data):
        self.parts.append(data)

    @property
    def text(self):
        return " ".join(" ".join(self.parts).split())


def page(path: Path) -> Text:
    t = Text()
    t.feed(path.read_text(encoding="utf-8"))
    return t


# --- profiles -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["roaming-basic", "roaming-full"])
def test_shipped_profiles_load_and_are_hashed(name):
    p = pf.load(name)
    raw = (ROOT / "profiles" / f"{name}.toml").read_bytes()
    assert p.id == name and p.version == {"roaming-basic": "1.2.0", "roaming-full": "1.2.0"}[name]
    assert p.sha256 == hashlib.sha256(raw).hexdigest()
    assert p.mandatory and p.conditional and p.limits["roam_time_us"].max is not None


def test_profile_case_ids_exist_in_the_suites():
    """Every case a shipped profile names is a case of suites/ (a typo would make it 'did not run' forever)."""
    import re

    text = "\n".join(p.read_text() for p in (ROOT / "suites").glob("test_*.py"))
    ids = set(re.findall(r'"((?:SMOKE|FT|IND|NR|BCN)-\d\d)"', text))
    ids |= {f"BTM-{n:02d}" for n in map(int, re.findall(r"^    case\((\d+),", text, re.M))}
    for name in ("roaming-basic", "roaming-full"):
        p = pf.load(name)
        named = set(p.mandatory) | set(p.optional) | {c for cs in p.conditional.values() for c in cs}
        assert named - ids == set(), name


@pytest.mark.parametrize("text, msg", [
    ("[cases]\nmandatory = ['A']\n", "needs a [profile] table"),
    ("[profile]\nid='x'\nversion='1'\n[conditional.teleport]\ncases=['A']\n", "not a DUT capability"),
    ("[profile]\nid='x'\nversion='1'\n[cases]\nmandatory=['A']\noptional=['A']\n", "listed under both"),
    ("[profile]\nid='x'\nversion='1'\n[metrics.speed]\nmax=1\n", "unknown metric"),
    ("[profile]\nid='x'\nversion='1'\n[metrics.roam_time_us]\nmax='fast'\n", "must be a number"),
    ("[profile\n", "not valid TOML"),
])
def test_bad_profiles_are_clear_errors(tmp_path, text, msg):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(pf.ProfileError) as e:
        pf.load(p)
    assert msg in str(e.value)


def test_unknown_profile_names_the_known_ones():
    with pytest.raises(pf.ProfileError, match="roaming-basic"):
        pf.load("no-such-profile")


# --- the verdict --------------------------------------------------------------------------

def _assess(cases, profile="roaming-basic", caps=fr.CAPS):
    return pf.assess(cases, pf.load(profile) if profile else None, "linux-wpas",
                     {"name": "linux-wpas", "capabilities": caps}, {"complete": True})


def test_all_required_cases_pass_is_conformant():
    a = _assess(fr.basic_cases())
    assert a.verdict == pf.CONFORMANT, a.reasons
    roles = {r.case_id: r.role for r in a.rows}
    assert roles["SMOKE-01"] == "mandatory" and roles["BTM-01"] == "mandatory: declares btm"
    assert roles["SMOKE-04"] == "not applicable: ft_over_ds not declared"
    assert roles["FT-08"] == "optional"


def test_missing_mandatory_case_is_not_conformant():
    cases = [c for c in fr.basic_cases() if c["case_id"] != "FT-01"]
    a = _assess(cases)
    assert a.verdict == pf.NOT_CONFORMANT
    assert a.reasons == ["FT-01 (mandatory) did not run"]
    # a case that steers the DUT by command is mandatory only for a DUT that takes commands
    cases = [c for c in fr.basic_cases() if c["case_id"] != "SMOKE-02"]
    assert _assess(cases).reasons == ["SMOKE-02 (mandatory: declares commands) did not run"]
    assert _assess(cases, caps=["ft_psk", "ft_over_air", "btm"]).verdict == pf.CONFORMANT


def test_capability_decides_whether_a_case_is_required():
    cases = [c for c in fr.basic_cases() if c["case_id"] != "BTM-01"]
    assert _assess(cases).verdict == pf.NOT_CONFORMANT
    assert _assess(cases, caps=["ft_psk", "ft_over_air", "commands"]).verdict == pf.CONFORMANT


def test_skipped_mandatory_case_is_not_conformant():
    cases = fr.basic_cases()
    cases[0] = fr.case("SMOKE-01", "skipped", reason="DUT lacks ft_psk")
    a = _assess(cases)
    assert a.verdict == pf.NOT_CONFORMANT and a.reasons == ["SMOKE-01 (mandatory) was skipped: DUT lacks ft_psk"]


def test_mandatory_requirement_untested():
    cases = [c for c in fr.basic_cases() if "IND-7" not in c["requirements"]]
    a = _assess(cases)
    assert "requirement IND-7 is mandatory and no case naming it ran" in a.reasons


def test_optional_failure_is_reported_not_counted():
    cases = fr.basic_cases()
    cases[-1] = fr.case("FT-08", "failed", reqs=("IND-6",), fails=[("DP-LOSS-1", "supplicant")])
    a = _assess(cases)
    # FT-08 names IND-6, a mandatory requirement: that makes its failure count after all.
    assert a.verdict == pf.NOT_CONFORMANT and any("FT-08 failed: DP-LOSS-1" in r for r in a.reasons)
    cases[-1]["requirements"] = []
    assert _assess(cases).verdict == pf.CONFORMANT


def test_metric_beyond_the_profile_limit_is_not_conformant():
    cases = fr.basic_cases(roam_us=[4000] * 19 + [1500000])  # p95 of 20 is the 19th sample: 4000
    assert _assess(cases).verdict == pf.CONFORMANT
    cases = fr.basic_cases(roam_us=[4000] * 18 + [1500000, 1500000])  # now the 19th is 1500000
    a = _assess(cases)
    assert a.verdict == pf.NOT_CONFORMANT
    assert a.reasons == ["roam time on the air: p95 = 1500000 µs exceeds the profile's limit 1000000 µs"]


def test_known_findings_decide_between_deviations_and_not_conformant(monkeypatch):
    minor = fr.finding("F-IND6-DORMANT", "minor")
    cases = fr.basic_cases()
    i = next(i for i, c in enumerate(cases) if c["case_id"] == "FT-02")
    cases[i] = fr.case("FT-02", "failed", reqs=("IND-6",), fails=[("IND-6", "supplicant")])
    fr.registry(monkeypatch)
    cases[i].pop("known_findings", None)
    sm.label_findings(cases[i])
    assert cases[i]["known_findings"] == []
    a = _assess(cases)
    assert a.verdict == pf.NOT_CONFORMANT and "not a known finding" in a.reasons[0]
    assert "[layer: supplicant]" in a.reasons[0]

    fr.registry(monkeypatch, minor)
    sm.label_findings(cases[i])
    assert [f["id"] for f in cases[i]["known_findings"]] == ["F-IND6-DORMANT"]
    assert cases[i]["known_findings"][0]["layer"] == "supplicant"
    assert cases[i]["known_findings"][0]["upstream"] == "https://example.invalid/bug/1"
    a = _assess(cases)
    assert a.verdict == pf.DEVIATIONS and a.reasons == []
    assert [(cid, f["id"]) for cid, f in a.deviations] == [("FT-02", "F-IND6-DORMANT")]
    assert dict(a.requirements)["IND-6"] == "deviation"

    fr.registry(monkeypatch, fr.finding("F-IND6-DORMANT", "major"))
    sm.label_findings(cases[i])
    a = _assess(cases)
    assert a.verdict == pf.NOT_CONFORMANT
    assert a.reasons == ["FT-02 failed: known finding F-IND6-DORMANT (major, layer supplicant)"]


def test_a_case_is_known_only_when_every_fail_is(monkeypatch):
    fr.registry(monkeypatch, fr.finding("F1", "minor", rules=("IND-6",)))
    c = fr.case("FT-02", "failed", fails=[("IND-6", "supplicant"), ("FT-MIC-5", "DUT")])
    assert sm.known_findings(c) == []
    c = fr.case("FT-02", "failed", fails=[("IND-6", "supplicant")])
    assert [f["id"] for f in sm.known_findings(c)] == ["F1"]
    c["dut"] = "esp32"  # the finding applies to linux-wpas only
    assert sm.known_findings(c) == []


def test_case_entry_labels_known_findings_in_the_summary(monkeypatch):
    from engine.verdict import check
    from fixtures.case import CaseRecord, CaseSpec

    fr.registry(monkeypatch, fr.finding("F1", "info", rules=("IND-6",)))
    rec = CaseRecord(spec=CaseSpec("FT-02", "t", "802.11r", "f", "s", ("IND-6",)), nodeid="n", dut="linux-wpas")
    rec.add(check("IND-6", "IND-6", False, "no media disconnect", "DORMANT", layer="supplicant"))
    e = sm.case_entry("n", rec, "failed", "r", 1.0)
    assert e["known_findings"][0]["id"] == "F1" and e["verdicts"][0]["layer"] == "supplicant"


def test_no_profile_counts_every_case_that_ran():
    cases = [fr.case("X-1"), fr.case("X-2", "skipped", reason="DUT lacks btm")]
    a = _assess(cases, profile=None)
    assert a.verdict == pf.CONFORMANT
    cases.append(fr.case("X-3", "error", reason="setup: hostapd died"))
    assert _assess(cases, profile=None).verdict == pf.NOT_CONFORMANT


# --- the documents -----------------------------------------------------------------------

@pytest.fixture
def two_dut_run(tmp_path, monkeypatch):
    fr.registry(monkeypatch, fr.finding("F-DORMANT", "minor", applies_to=("esp32-twin",)))
    twin = fr.basic_cases("esp32-twin")
    i = next(i for i, c in enumerate(twin) if c["case_id"] == "FT-02")
    twin[i] = fr.case("FT-02", "failed", dut="esp32-twin", reqs=("IND-6", "IND-7"), fails=[("IND-6", "supplicant")],
                      metrics={"ft_latency_us": [5000, 5100]})
    run = fr.write_run(tmp_path / "20260601T100000Z", fr.basic_cases() + twin, duts=("linux-wpas", "esp32-twin"))
    return run, fr.seal(run)


def test_a_twin_certificate_says_simulation_and_a_device_certificate_does_not(two_dut_run):
    run, pub = two_dut_run
    twin = (run / "certificate-esp32-twin.html").read_text()
    assert "SIMULATION" in twin and "proves the adapter, not a device" in twin and "wpa_supplicant 2.10" in twin
    assert "SIMULATION" not in (run / "certificate-linux-wpas.html").read_text()


def test_one_certificate_per_dut_and_an_index(two_dut_run):
    run, pub = two_dut_run
    assert sorted(p.name for p in pub.certificates.values()) == ["certificate-esp32-twin.html",
                                                                   "certificate-linux-wpas.html"]
    assert pub.verdicts == {"linux-wpas": pf.CONFORMANT, "esp32-twin": pf.DEVIATIONS}
    idx = page(run / "index.html")
    assert {"certificate-linux-wpas.html", "certificate-esp32-twin.html"} <= set(idx.links)
    assert "CONFORMANT WITH DEVIATIONS" in idx.text
    twin = page(run / "certificate-esp32-twin.html").text
    wpas = page(run / "certificate-linux-wpas.html").text
    # Each certificate holds only its DUT's cases.
    assert "[esp32-twin]" in twin and "[linux-wpas]" not in twin and "[esp32-twin]" not in wpas
    prof = pf.load("roaming-basic")
    for t in (twin, wpas):
        assert f"roaming-basic 1.2.0" in t and prof.sha256 in t and pub.manifest_hash in t
    # The deviation is listed with the finding, its severity, layer and upstream; the FAIL shows its layer.
    assert "Deviations (known findings of severity minor or info)" in twin
    assert "known finding F-DORMANT · minor · layer supplicant · upstream https://example.invalid/bug/1" in twin
    assert "FAIL IND-6 IEEE 802.11-2020 13.5 supplicant" in twin


def test_summary_path_and_names_survive_hostile_dut_names(tmp_path):
    hostile = "<b>x</b>\"';/../"
    run = fr.write_run(tmp_path / "r", [fr.case("SMOKE-01", dut=hostile)], duts=(hostile,), profile=None)
    pub = fr.seal(run)
    (cert,) = pub.certificates.values()
    assert cert.parent == run and "/" not in cert.name[len("certificate-"):]
    html = cert.read_text()
    assert "<b>x</b>" not in html and hostile in page(cert).text


def test_every_in_page_link_lands(tmp_path):
    """A mandatory requirement no case named is listed without a dangling #req- link."""
    cases = [c for c in fr.basic_cases() if "IND-7" not in c["requirements"]]
    run = fr.write_run(tmp_path / "r", cases)
    (cert,) = fr.seal(run).certificates.values()
    html = cert.read_text()
    ids = set(__import__("re").findall(r'id="([^"]+)"', html))
    hrefs = [h[1:] for h in page(cert).links if h and h.startswith("#")]
    assert hrefs and [h for h in hrefs if h not in ids] == []
    assert "IND-7" in page(cert).text


def test_css_footer_string_cannot_break_out_of_the_style():
    s = str(certificate.css_string('a"b\\c</style><script>\nline2'))
    assert "</style>" not in s and "<" not in s and s.count('"') == 2 and "\\a " in s


def test_report_refuses_to_recertify_changed_evidence(tmp_path):
    from cli.report import main as report_main

    run = fr.write_run(tmp_path / "r", fr.basic_cases())
    fr.seal(run)
    (run / "cases" / "FT-02-linux-wpas" / "air.txt").write_text("doctored\n")
    assert report_main([str(run), "--no-allure", "--no-pdf"]) == 3


def test_report_under_another_profile_says_so(tmp_path, capsys):
    from cli.report import main as report_main

    run = fr.write_run(tmp_path / "r", fr.basic_cases())
    fr.seal(run)
    assert report_main([str(run), "--no-allure", "--no-pdf", "--profile", "roaming-full"]) == 0
    out = capsys.readouterr().out
    assert "certificate-linux-wpas.html  [NOT CONFORMANT]" in out
    text = page(run / "certificate-linux-wpas.html").text
    assert "The run was made under profile roaming-basic; this certificate judges it by roaming-full." in text
    assert "FT-05 (mandatory) did not run" in text


@pytest.mark.skipif(not shutil.which("pdftotext") or not Path("/usr/bin/chromium").exists(),
                    reason="needs chromium and pdftotext (tools/setup.sh)")
def test_pdf_pages_carry_profile_hash_and_page_numbers(tmp_path):
    run = fr.write_run(tmp_path / "r", fr.basic_cases())
    pub = fr.seal(run, pdf=True)
    pdf = pub.pdfs["linux-wpas"]
    assert pdf.name == "certificate-linux-wpas.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 2
    for n, p in enumerate(pages, 1):
        assert f"page {n} of {len(pages)}" in p
        assert "profile roaming-basic 1.2.0" in p
        assert f"manifest SHA-256 {pub.manifest_hash}" in p
    # Every case has its row on paper, and the paper says where the full evidence is.
    for c in fr.basic_cases():
        assert c["case_id"] in text
    assert "certificate-linux-wpas.html" in text
    # The PDF is sealed in the manifest and verify reads the hash out of it.
    assert manifest.load(run)["reports"]["certificate-linux-wpas.pdf"] == manifest.sha256_file(pdf)
    assert manifest.check(run).ok


@pytest.mark.skipif(not shutil.which("pdftotext") or not Path("/usr/bin/chromium").exists(),
                    reason="needs chromium and pdftotext (tools/setup.sh)")
def test_pdf_condenses_evidence_to_the_failed_verdicts(tmp_path):
    """The printed certificate is a reviewable document: every case's row, the FAIL verdicts of
    the cases that did not pass (a rule failing the same way on every roam once, with its
    count), not the PASS verdicts or evidence lists of every case."""
    cases = fr.basic_cases()
    bad = fr.case("FT-04", "failed", fails=[("IND-6", "kernel/driver")] * 20, reqs=("IND-6",),
                  reason="FT-04: 20 rule(s) violated\n" + "\n".join(f"line {i}" for i in range(40)))
    cases.append(bad)
    # an error has no FAIL verdicts: its message's first lines are its evidence
    cases.append(fr.case("FT-05", "error", reason="\n".join(f"err {i}" for i in range(40))))
    run = fr.write_run(tmp_path / "r", cases)
    pub = fr.seal(run, pdf=True)
    text = subprocess.run(["pdftotext", "-layout", str(pub.pdfs["linux-wpas"]), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "FT-04-OK" not in text and "SMOKE-01-OK" not in text  # PASS rows stay in the HTML
    assert "×20" in text and "kernel/driver" in text
    # a failure's message repeats its FAIL verdicts: one line of it, the table follows
    assert "FT-04: 20 rule(s) violated" in text and "line 0" not in text and "40 more line(s)" in text
    assert "err 11" in text and "err 12" not in text and "28 more line(s)" in text
    assert "test_FT-04[linux-wpas]" in text
    html = (run / "certificate-linux-wpas.html").read_text()
    assert "FT-04-OK" in html and "SMOKE-01-OK" in html and "line 39" in html and "err 39" in html  # all of it
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) <= 9, len(pages)
