"""`roamcert compare` (two runs side by side) and `roamcert trend` (runs over time), and the
Allure history carried from the previous run."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

import fake_runs as fr
from cli.compare import main as compare_main
from cli.trend import main as trend_main
from reports import allure_html

ROAMS = [4100, 4300, 4200, 4500, 4400, 4000, 4600, 4800, 4300, 5200]


def text_of(path):
    parts = []

    class P(HTMLParser):
        def handle_data(self, d):
            parts.append(d)

    P().feed(path.read_text())
    return " ".join(" ".join(parts).split())


def test_compare_two_duts_side_by_side(tmp_path, capsys, monkeypatch):
    fr.registry(monkeypatch, fr.finding("F-DORMANT", "minor", applies_to=("esp32-twin",)))
    a = fr.write_run(tmp_path / "runs" / "A", fr.basic_cases("linux-wpas", roam_us=ROAMS), duts=("linux-wpas",))
    twin = fr.basic_cases("esp32-twin", roam_us=[x * 2 for x in ROAMS])
    i = next(i for i, c in enumerate(twin) if c["case_id"] == "FT-02")
    twin[i] = fr.case("FT-02", "failed", dut="esp32-twin", fails=[("IND-6", "supplicant")],
                      metrics={"ft_latency_us": [x * 2 for x in ROAMS]})
    b = fr.write_run(tmp_path / "runs" / "B", twin, duts=("esp32-twin",))
    html = tmp_path / "cmp.html"
    assert compare_main([str(a), str(b), "--html", str(html)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "linux-wpas @ A" in lines[0] and "esp32-twin @ B" in lines[0]
    row = next(l for l in lines if l.startswith("FT-02"))
    # Keyed by case id across the two DUTs; the difference is marked; percentiles by hand: p50 4300, p95 5200.
    assert row.startswith("FT-02 *") and "passed" in row and "failed" in row
    assert "p50 4300 p95 5200 (n=10)" in row and "p50 8600 p95 10400 (n=10)" in row
    assert "F-DORMANT (minor)" in row
    assert "1 of 12 case(s) differ" in out
    t = text_of(html)
    assert "Side by side: linux-wpas @ A · esp32-twin @ B" in t and "F-DORMANT (minor)" in t


def test_compare_picks_duts_of_a_two_dut_run(tmp_path, capsys):
    run = fr.write_run(tmp_path / "R", fr.basic_cases("linux-wpas") + fr.basic_cases("esp32-twin"),
                       duts=("linux-wpas", "esp32-twin"))
    assert compare_main([str(run), str(run), "--dut-a", "linux-wpas", "--dut-b", "esp32-twin",
                         "--html", str(tmp_path / "c.html")]) == 0
    out = capsys.readouterr().out
    assert "0 of 12 case(s) differ" in out
    assert compare_main([str(run), str(run), "--dut-a", "nope"]) == 2
    assert "DUT 'nope' is not in run" in capsys.readouterr().out


def test_compare_unreadable_run_is_exit_2(tmp_path, capsys):
    assert compare_main([str(tmp_path / "x"), str(tmp_path / "y")]) == 2
    assert "no such file" in capsys.readouterr().out


def test_trend_over_three_runs(tmp_path, capsys):
    runs = []
    for n, scale in enumerate((1, 1, 3)):
        cases = fr.basic_cases(roam_us=[x * scale for x in ROAMS])
        if n == 1:
            cases[0] = fr.case("SMOKE-01", "failed", fails=[("FT-MIC-5", "DUT")])
        runs.append(fr.write_run(tmp_path / "runs" / f"2026060{n + 1}T000000Z", cases))
    out_dir = tmp_path / "trend"
    assert trend_main([*map(str, runs), "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    png = out_dir / "trend.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10000
    assert "20260601T000000Z: 802.11r 12/12; roam time n=10 p50=4300 µs p95=5200 µs" in out
    assert "20260602T000000Z: 802.11r 11/12" in out
    assert "20260603T000000Z: 802.11r 12/12; roam time n=10 p50=12900 µs p95=15600 µs" in out
    t = text_of(out_dir / "trend.html")
    assert "92 % (11/12)" in t and "15600" in t
    html = (out_dir / "trend.html").read_text()
    assert html.count("<svg") == 1 and "<script" not in html


def test_trend_unreadable_run_is_exit_2(tmp_path, capsys):
    assert trend_main([str(tmp_path / "missing")]) == 2


def test_allure_history_comes_from_the_previous_run(tmp_path):
    base = tmp_path / "runs"
    older, prev, cur, newer = (base / n for n in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z",
                                                   "20260104T000000Z"))
    for d in (older, prev, cur, newer):
        d.mkdir(parents=True)
    (older / allure_html.HISTORY).write_text('{"old": 1}\n')
    (prev / allure_html.HISTORY).write_text('{"prev": 1}\n')
    (newer / allure_html.HISTORY).write_text('{"newer": 1}\n')
    (base / "latest").symlink_to(newer.name)
    assert allure_html.previous_run(cur) == prev.resolve()
    assert allure_html.previous_run(older) is None


def test_allure_report_carries_history(tmp_path):
    """Two reports in a row: the second one's history holds both runs' results."""
    import importlib.util
    from pathlib import Path

    try:
        allure_html.allure_cli()
    except allure_html.AllureError as e:
        pytest.skip(str(e))
    spec = importlib.util.spec_from_file_location("fakesuite", Path(__file__).with_name("test_reports_fakesuite.py"))
    fake = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake)
    first, _ = fake.make_run(tmp_path / "a")
    allure_html.build(first)
    h1 = (first / allure_html.HISTORY).read_text().splitlines()
    assert len(h1) == 1
    second = first.parent / "20260102T000000Z"
    import shutil
    shutil.copytree(first / "allure-results", second / "allure-results")
    assert allure_html.previous_run(second) == first.resolve()
    allure_html.build(second, history_from=first)
    h2 = (second / allure_html.HISTORY).read_text().splitlines()
    assert len(h2) == 2 and h2[0] == h1[0]
    # A rebuild starts again from the previous run's history: this run is not counted twice.
    allure_html.build(second, history_from=first)
    assert len((second / allure_html.HISTORY).read_text().splitlines()) == 2
