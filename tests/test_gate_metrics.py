"""The gate on doctored copies of a small fake run: a new failure, metric regressions beyond
the relative and the absolute limit, a waived regression, an expired waiver; percentiles
checked against hand-computed nearest-rank values."""
from __future__ import annotations

import json

import pytest

import fake_runs as fr
from cli.gate import main as gate_main
from reports import metrics as mx

TODAY = "2026-06-15"
# Ten roams of the baseline FT-02 (µs). Sorted: 4000 4100 4200 4300 4300 4400 4500 4600 4800 5200.
BASE_ROAMS = [4100, 4300, 4200, 4500, 4400, 4000, 4600, 4800, 4300, 5200]


def test_nearest_rank_percentiles_by_hand():
    assert mx.percentile(BASE_ROAMS, 50) == 4300  # rank ceil(0.5*10) = 5
    assert mx.percentile(BASE_ROAMS, 95) == 5200  # rank ceil(9.5) = 10
    assert mx.percentile(BASE_ROAMS, 90) == 4800  # rank 9
    assert mx.percentile([7], 95) == 7
    assert mx.percentile(list(range(1, 21)), 95) == 19  # rank 19 of 20
    with pytest.raises(ValueError):
        mx.percentile([], 50)


def test_samples_ignore_junk():
    c = {"verdict": "passed", "duration_s": 3.5,
         "metrics": {"ft_latency_us": [1, "x", None, float("nan"), True, 2.5], "ping_lost_per_roam": 4}}
    assert mx.samples(c, "roam_time_us") == [1.0, 2.5]
    assert mx.samples(c, "data_outage_pings") == [4.0]
    assert mx.samples(c, "duration_s") == [3.5]
    assert mx.samples({"verdict": "skipped", "duration_s": 0.1}, "duration_s") == []
    # The test body's time when recorded: the first case's setup also boots the lab.
    assert mx.samples({"verdict": "passed", "duration_s": 67.3, "call_s": 3.7}, "duration_s") == [3.7]


@pytest.fixture
def runs(tmp_path):
    base = fr.write_run(tmp_path / "base", fr.basic_cases(roam_us=BASE_ROAMS))

    def current(name="cur", roam_us=BASE_ROAMS, change=None):
        cases = fr.basic_cases(roam_us=roam_us)
        if change:
            change(cases)
        return fr.write_run(tmp_path / name, cases)

    return base, current


def gate(capsys, base, cur, *extra):
    rc = gate_main(["--baseline", str(base), "--current", str(cur), "--today", TODAY, *extra])
    return rc, capsys.readouterr().out


def waivers(tmp_path, *ws):
    p = tmp_path / "waivers.json"
    p.write_text(json.dumps(list(ws)))
    return str(p)


def test_same_run_passes(runs, capsys):
    base, current = runs
    rc, out = gate(capsys, base, current())
    assert rc == 0, out
    assert "result: PASS — 0 unwaived regression(s)" in out
    assert "metric limits: profile roaming-basic 1.1.0" in out


def test_new_failure(runs, capsys):
    base, current = runs

    def fail_btm(cases):
        i = next(i for i, c in enumerate(cases) if c["case_id"] == "BTM-01")
        cases[i] = fr.case("BTM-01", "failed", fails=[("BTM-TOKEN", "DUT")], reason="dialog token 8, expected 7")

    rc, out = gate(capsys, base, current(change=fail_btm))
    assert rc == 1
    assert "BTM-01 [linux-wpas]: passed -> failed — dialog token 8, expected 7" in out


def test_roam_time_regression_beyond_the_relative_limit(runs, capsys):
    base, current = runs
    # p95 5200 -> 9000: allowed 5200 * 1.2 + 2000 = 8240.
    slow = [x + 400 for x in BASE_ROAMS[:-1]] + [9000]
    rc, out = gate(capsys, base, current(roam_us=slow))
    assert rc == 1
    assert "Metric regressions against the baseline: 1" in out
    assert ("FT-02 [linux-wpas]: roam time on the air p95 5200 -> 9000 µs (+73 %; allowed +20 % + 2000 µs = "
            "8240 µs)") in out
    assert "baseline n=10 p50=4300 µs p95=5200 µs max=5200 µs; now n=10 p50=4700 µs p95=9000 µs" in out


def test_growth_within_the_allowance_passes(runs, capsys):
    base, current = runs
    rc, out = gate(capsys, base, current(roam_us=[x + 2000 for x in BASE_ROAMS]))  # p95 7200 <= 8240
    assert rc == 0, out


def test_one_slow_roam_among_many_does_not_move_the_median_but_moves_p95(runs, capsys):
    """Distributions, not single values: one outlier in 20 roams is the p95 of nothing (rank 19)."""
    base, current = runs
    many = BASE_ROAMS * 2
    b = fr.write_run(base.parent / "base20", fr.basic_cases(roam_us=many))
    rc, out = gate(capsys, b, current("one", roam_us=sorted(many)[:-1] + [40000]))
    assert rc == 0, out  # p95 is the 19th of 20: still 5200
    rc, out = gate(capsys, b, current("two", roam_us=sorted(many)[:-2] + [40000, 40000]))
    assert rc == 1 and "p95 5200 -> 40000 µs" in out


def test_absolute_limit_from_the_profile(runs, capsys):
    base, current = runs
    over = [1200000] * 10  # roaming-basic: p95 <= 1000000 µs
    b = fr.write_run(base.parent / "slowbase", fr.basic_cases(roam_us=over))
    rc, out = gate(capsys, b, current(roam_us=over))
    assert rc == 1
    assert "Metric limits exceeded: 1" in out
    assert "FT-02 [linux-wpas]: roam time on the air p95 = 1200000 µs exceeds the limit 1000000 µs" in out
    assert "Metric regressions" not in out  # no growth against this baseline


def test_data_outage_regression(runs, capsys):
    base, current = runs

    def lossy(cases):
        i = next(i for i, c in enumerate(cases) if c["case_id"] == "FT-08")
        cases[i]["metrics"]["ping_lost_per_roam"] = [3, 4, 2, 12]  # max 5 -> 12; allowed 5 * 1.2 + 2 = 8

    rc, out = gate(capsys, base, current(change=lossy))
    assert rc == 1 and "FT-08 [linux-wpas]: data outage per roam p100 5 -> 12 pings lost" in out


def test_case_duration_regression(runs, capsys):
    base, current = runs

    def slow(cases):
        cases[0]["duration_s"] = 9.5  # 2.0 -> 9.5 s; allowed 2 * 1.5 + 5 = 8

    rc, out = gate(capsys, base, current(change=slow))
    assert rc == 1 and "SMOKE-01 [linux-wpas]: case duration p95 2 -> 9.5 s" in out


def test_waived_metric_regression(runs, capsys, tmp_path):
    base, current = runs
    cur = current(roam_us=[x * 2 for x in BASE_ROAMS])
    w = waivers(tmp_path, {"case_id": "FT-02", "metric": "roam_time_us", "reason": "new crypto, vendor #77",
                           "expires": "2026-06-30"})
    rc, out = gate(capsys, base, cur, "--waivers", w)
    assert rc == 0, out
    assert "[waived until 2026-06-30: new crypto, vendor #77]" in out
    assert "result: PASS — 0 unwaived regression(s), 1 waived" in out


def test_verdict_waiver_does_not_cover_a_metric_regression(runs, capsys, tmp_path):
    base, current = runs
    cur = current(roam_us=[x * 2 for x in BASE_ROAMS])
    w = waivers(tmp_path, {"case_id": "FT-02", "reason": "verdict only", "expires": "2026-06-30"})
    rc, out = gate(capsys, base, cur, "--waivers", w)
    assert rc == 1 and "note: waiver for FT-02 matched no regression" in out


def test_expired_metric_waiver(runs, capsys, tmp_path):
    base, current = runs
    cur = current(roam_us=[x * 2 for x in BASE_ROAMS])
    w = waivers(tmp_path, {"case_id": "FT-02", "metric": "*", "reason": "new crypto", "expires": "2026-06-14"})
    rc, out = gate(capsys, base, cur, "--waivers", w)
    assert rc == 1
    assert "waiver for FT-02 metric * expired on 2026-06-14: it does not apply (new crypto)" in out
    assert "1 unwaived regression(s), 0 waived" in out


def test_bad_metric_waiver_and_profile_are_exit_2(runs, capsys, tmp_path):
    base, current = runs
    cur = current()
    w = waivers(tmp_path, {"case_id": "FT-02", "metric": "speed", "reason": "r", "expires": "2026-06-30"})
    rc, out = gate(capsys, base, cur, "--waivers", w)
    assert rc == 2 and "unknown metric 'speed'" in out
    rc, out = gate(capsys, base, cur, "--profile", "no-such-profile")
    assert rc == 2 and "no such profile" in out


def test_builtin_limits_without_a_profile(tmp_path, capsys):
    b = fr.write_run(tmp_path / "b", fr.basic_cases(roam_us=BASE_ROAMS), profile=None)
    c = fr.write_run(tmp_path / "c", fr.basic_cases(roam_us=[x * 2 for x in BASE_ROAMS]), profile=None)
    rc, out = gate(capsys, b, c)
    assert rc == 1 and "metric limits: built-in defaults (no profile)" in out
