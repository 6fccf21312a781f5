"""certificate.html from hand-written summaries: escaping, offline-ness, links, verdict stamp."""
from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from reports import certificate
from reports.summary import SummaryError

H = "<script>alert(1)</script>\"'&"


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)


def parse(html: str) -> Page:
    p = Page()
    p.feed(html)
    return p


def hostile_summary(tmp_path, verdicts=("failed",), interrupted=False):
    run = tmp_path / "run"
    (run / "evidence" / "C1").mkdir(parents=True)
    (run / "evidence" / "C1" / "air.pcap").write_bytes(b"\xd4\xc3\xb2\xa1")
    cases = []
    for i, v in enumerate(verdicts):
        cases.append({
            "nodeid": f"suites/test_x.py::test_{i}[{H}]", "case_id": f"C{i + 1}-{H}", "title": "title " + H,
            "family": "802.11v " + H, "feature": "feat " + H, "story": "story " + H,
            "requirements": ["IEEE 802.11-2020 11.24.7.3", "REQ " + H], "needs": ["btm", H],
            "severity": "critical " + H, "verdict": v, "reason": ("" if v == "passed" else "reason " + H),
            "duration_s": 1.25, "dut": "dut " + H,
            "verdicts": [{"rule": "BTM-TOKEN " + H, "clause": "clause " + H, "status": "fail" if v == "failed" else "pass",
                          "expected": "exp " + H, "observed": "obs " + H, "evidence": ["frame 5 " + H],
                          "message": "msg " + H}],
            "attachments": [{"name": "air " + H, "path": "evidence/C1/air.pcap", "mime": "application/vnd.tcpdump.pcap"},
                            {"name": "outside", "path": "/etc/passwd", "mime": "text/plain"},
                            {"name": "sneaky", "path": "../../etc/passwd", "mime": "text/plain"},
                            {"name": "js", "path": "javascript:alert(1)", "mime": "text/plain"}],
            "steps": [{"name": "step " + H, "start": 1.0, "stop": 2.0, "status": "passed"}],
            "metrics": {"ssid " + H: H}, "roams": [], "timelines": [],
        })
    data = {"schema": 1,
            "run": {"id": "20260101T000000Z", "start": "2026-01-01T00:00:00+00:00", "end": "2026-01-01T00:10:00+00:00",
                    "duration_s": 600, "command": "pytest " + H, "git_rev": "abc " + H,
                    "interrupted": interrupted, "complete": not interrupted,
                    "duts": [{"name": "dut " + H, "mac": "02:00:00:00:02:00 " + H, "firmware": "fw " + H,
                              "capabilities": ["btm", H], "extra " + H: H}],
                    "lab": {"kernel": "k " + H, "hostapd": "h " + H, "radios": [{"phy": H}]},
                    "versions": {"pytest": "9 " + H}, "operator " + H: H},
            "totals": {}, "cases": cases}
    (run / "summary.json").write_text(json.dumps(data))
    return run


def test_hostile_strings_are_text_everywhere(tmp_path):
    run = hostile_summary(tmp_path)
    html = certificate.build(run).read_text()
    assert H not in html
    assert "<script>alert" not in html
    page = parse(html)
    # The only script is our own print helper; the hostile one never became a tag.
    assert [t for t, _ in page.tags].count("script") == 1
    assert "beforeprint" in page.scripts[0] and "alert" not in page.scripts[0]
    text = "".join(page.text)
    # Every field shows the string verbatim as text.
    for field in ["title " + H, "reason " + H, "BTM-TOKEN " + H, "clause " + H, "exp " + H, "obs " + H,
                  "frame 5 " + H, "msg " + H, "air " + H, "step " + H, "ssid " + H, "dut " + H, "fw " + H,
                  "k " + H, "h " + H, "pytest " + H, "abc " + H, "9 " + H, "operator " + H, "REQ " + H,
                  "802.11v " + H, "feat " + H, "story " + H, "critical " + H, "C1-" + H, "extra " + H]:
        assert field in text, field
    # Attribute values are quoted and escaped: no attribute was broken out of.
    for tag, attrs in page.tags:
        for k, v in attrs.items():
            assert not k.startswith("on"), (tag, k)


def test_no_external_urls_and_links_stay_in_the_run(tmp_path):
    run = hostile_summary(tmp_path)
    html = certificate.build(run).read_text()
    assert "http://" not in html and "https://" not in html
    page = parse(html)
    assert not [a for t, a in page.tags if "src" in a]
    assert not [t for t, _ in page.tags if t in ("link", "img", "iframe", "object", "embed")]
    hrefs = [a["href"] for t, a in page.tags if t == "a"]
    evidence = [h for h in hrefs if not h.startswith("#")]
    assert evidence == ["evidence/C1/air.pcap"]  # /etc/passwd, ../.. and javascript: are not linked
    ids = {a["id"] for _, a in page.tags if "id" in a}
    for h in hrefs:
        if h.startswith("#"):
            assert h[1:] in ids, h  # every in-page link lands somewhere


def test_verdict_stamp(tmp_path):
    page = lambda d: "".join(parse(certificate.build(d).read_text()).text)  # noqa: E731
    assert "NOT CONFORMANT" in page(hostile_summary(tmp_path / "a", ("passed", "failed")))
    ok = page(hostile_summary(tmp_path / "b", ("passed", "skipped")))
    assert "CONFORMANT" in ok and "NOT CONFORMANT" not in ok and "1 case(s) not applicable" in ok
    assert "INCOMPLETE RUN" in page(hostile_summary(tmp_path / "c", ("passed",), interrupted=True))


def test_requirement_summary(tmp_path):
    run = hostile_summary(tmp_path, ("passed", "skipped"))
    data = json.loads((run / "summary.json").read_text())
    data["cases"][1]["requirements"] = ["IND-9"]
    (run / "summary.json").write_text(json.dumps(data))
    html = certificate.build(run).read_text()
    page = parse(html)
    rows = {a["id"]: a for t, a in page.tags if t == "tr" and "id" in a}
    assert {"req-IEEE_802.11-2020_11.24.7.3", "req-IND-9"} <= set(rows)
    i = html.index('id="req-IND-9"')
    assert "not tested" in html[i:html.index("</tr>", i)]


def test_timeline_is_inlined_from_the_roam_data(tmp_path):
    run = hostile_summary(tmp_path, ("passed",))
    data = json.loads((run / "summary.json").read_text())
    data["cases"][0]["roams"] = [{"title": "roam " + H, "frames": [
        {"t": 1.0, "src": "current", "dst": "dut", "label": "BTM Request", "index": 3}]}]
    (run / "summary.json").write_text(json.dumps(data))
    html = certificate.build(run).read_text()
    assert html.count("<svg") == 1 and "BTM Request" in html and "&lt;script&gt;" in html
    assert H not in html


def test_bad_roam_data_is_a_note_not_a_crash(tmp_path):
    run = hostile_summary(tmp_path, ("passed",))
    data = json.loads((run / "summary.json").read_text())
    data["cases"][0]["roams"] = [{"frames": [{"t": "soon " + H}]}]
    (run / "summary.json").write_text(json.dumps(data))
    html = certificate.build(run).read_text()
    assert "roam 1: no timeline: frame #0 t: not a number" in "".join(parse(html).text)


def test_foreign_svg_file_is_linked_not_inlined(tmp_path):
    run = hostile_summary(tmp_path, ("passed",))
    (run / "timelines").mkdir()
    (run / "timelines" / "x.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>')
    data = json.loads((run / "summary.json").read_text())
    data["cases"][0]["timelines"] = ["timelines/x.svg"]
    (run / "summary.json").write_text(json.dumps(data))
    html = certificate.build(run).read_text()
    assert "onload" not in html and 'href="timelines/x.svg"' in html


def test_missing_or_bad_summary_raises_clear_error(tmp_path):
    with pytest.raises(SummaryError, match="no such file"):
        certificate.build(tmp_path)
    (tmp_path / "summary.json").write_text("[1, 2]")
    with pytest.raises(SummaryError, match="not a roamcert summary"):
        certificate.build(tmp_path)
