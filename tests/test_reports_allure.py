"""The Allure single-file page: remote-reference scan, analytics removal, `roamcert report`."""
from __future__ import annotations

import base64
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from cli.report import main as report_main
from reports import allure_html
from reports.certificate import file_name

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("reports_fakesuite", HERE / "test_reports_fakesuite.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)


def b64(kind: str, text: str) -> str:
    return f"data:{kind};base64," + base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("page", [
    '<script src="https://cdn.example.com/a.js"></script>',
    "<link rel=stylesheet href='//fonts.example.com/x.css'>",
    '<img alt="" src="http://10.0.0.1/pixel.png">',
    '<style>body{background:url( "https://x.example/bg.png")}</style>',
    '<style>@import "https://x.example/a.css";</style>',
    '<iframe src="https://x.example/"></iframe>',
    f'<script src="{b64("text/javascript", "fetch(`https://api.example.com/t`)")}"></script>',
    '<script src="' + b64("text/javascript", "x.open('POST', 'https://api.example.com/t')") + '"></script>',
    '<script src="' + b64("text/javascript", "navigator.sendBeacon('https://a.example/c')") + '"></script>',
    '<link rel=stylesheet href="' + b64("text/css", "a{background:url(http://a.example/i.png)}") + '">',
])
def test_remote_refs_found(page):
    assert allure_html.remote_refs(page)


@pytest.mark.parametrize("page", [
    '<a href="https://allurereport.org">Powered by Allure</a>',  # a link is only followed on a click
    '<svg xmlns="http://www.w3.org/2000/svg"><use href="#g"/></svg>',
    f'<script src="{b64("text/javascript", "fetch(dataUrl); const u = `https://docs.example/`;")}"></script>',
    '<img src="data:image/png;base64,iVBORw0KGgo=">',
    '<a href="certificate.html#req-IND-6">IND-6</a>',
])
def test_remote_refs_not_found(page):
    assert allure_html.remote_refs(page) == []


# The analytics block of Allure 3.18's awesome template, as it appears in a generated page.
GTAG = """    <script>window.allure = window.allure || {};</script>
    <script async src="https://www.googletagmanager.com/gtag/js?id=G-LNDJ3J7WT0"></script>
    <script>
        window.dataLayer = window.dataLayer || [];
        function gtag(){dataLayer.push(arguments);}
        gtag('js', new Date());
        gtag('config', 'G-LNDJ3J7WT0', {
          "report": "awesome",
          "single_file": "true"
        });
    </script>
    <script>window.reportData = 1;</script>"""


def test_strip_analytics_removes_exactly_the_gtag_block():
    assert allure_html.remote_refs(GTAG)
    out = allure_html.strip_analytics(GTAG)
    assert "googletagmanager" not in out and "gtag" not in out and "dataLayer" not in out
    assert "window.allure = window.allure" in out and "window.reportData = 1" in out
    assert allure_html.remote_refs(out) == []


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    run, proc = fake.make_run(tmp_path_factory.mktemp("allure"))
    assert (run / "allure-results").is_dir(), proc.stdout + proc.stderr
    return run


def test_report_command_builds_both_pages(run, capsys):
    try:
        allure_html.allure_cli()
    except allure_html.AllureError as e:
        pytest.skip(str(e))
    cert = run / file_name("dut-" + fake.HOSTILE)
    cert.unlink()
    assert report_main([str(run / "summary.json")]) == 0
    out = capsys.readouterr().out
    assert f"certificate: {cert}" in out and f"allure:      {run / 'allure-report.html'}" in out
    page = (run / "allure-report.html").read_text()
    assert "googletagmanager" not in page
    assert allure_html.remote_refs(page) == []
    # It is the single-file flavour: the app and the results are inside the page.
    assert 'src="data:text/javascript;base64,' in page
    assert not list(run.glob("allure-report/*"))
    assert cert.is_file() and cert.with_suffix(".pdf").is_file()


def test_report_without_allure_results_still_writes_the_certificate(run, tmp_path, capsys):
    other = tmp_path / "run"
    other.mkdir()
    shutil.copy(run / "summary.json", other / "summary.json")
    assert report_main([str(other)]) == 1
    out = capsys.readouterr().out
    assert "no Allure results" in out
    assert (other / file_name("dut-" + fake.HOSTILE)).is_file()
    assert report_main([str(other), "--no-allure"]) == 0


def test_report_on_unreadable_run_is_exit_2(tmp_path, capsys):
    assert report_main([str(tmp_path / "nope")]) == 2
    (tmp_path / "summary.json").write_text(json.dumps({"cases": "x"}))
    assert report_main([str(tmp_path)]) == 2
    assert "not a roamcert summary" in capsys.readouterr().out
