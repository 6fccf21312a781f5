"""The release gate over hand-written summaries."""
from __future__ import annotations

import json

import pytest

from cli.gate import main

TODAY = "2026-06-15"


def case(cid, verdict, dut="esp32", rules_failed=(), reason=""):
    vs = [{"rule": r, "clause": "IEEE 802.11-2020 11.24.7.3", "status": "fail", "expected": "a", "observed": "b",
           "evidence": [], "message": ""} for r in rules_failed]
    return {"case_id": cid, "dut": dut, "verdict": verdict, "reason": reason, "verdicts": vs}


def write(tmp_path, name, cases):
    d = tmp_path / name
    d.mkdir()
    (d / "summary.json").write_text(json.dumps({"run": {"id": name}, "totals": {}, "cases": cases}))
    return d


BASE = [case("BTM-01", "passed"), case("BTM-02", "passed"), case("FT-01", "failed", rules_failed=["FT-MIC-5"]),
        case("NR-01", "passed"), case("BTM-01", "passed", dut="linux-wpas")]


def gate(capsys, *args):
    rc = main(list(args) + ["--today", TODAY])
    return rc, capsys.readouterr().out


def test_identical_runs_pass(tmp_path, capsys):
    a, b = write(tmp_path, "a", BASE), write(tmp_path, "b", BASE)
    rc, out = gate(capsys, "--baseline", str(a), "--current", str(b))
    assert rc == 0
    assert "Still failing: 1" in out and "FT-01 [esp32]" in out
    assert "result: PASS" in out


def test_doctored_regression_fails(tmp_path, capsys):
    cur = [dict(c) for c in BASE]
    cur[1] = case("BTM-02", "failed", rules_failed=["BTM-TOKEN"], reason="dialog token 8, expected 7")
    a, b = write(tmp_path, "a", BASE), write(tmp_path, "b", cur)
    rc, out = gate(capsys, "--baseline", str(a / "summary.json"), "--current", str(b))
    assert rc == 1
    assert "New failures: 1" in out
    assert "BTM-02 [esp32]: passed -> failed — dialog token 8, expected 7" in out
    assert "result: FAIL — 1 unwaived regression(s), 0 waived" in out


def test_per_dut_keys(tmp_path, capsys):
    cur = [dict(c) for c in BASE]
    cur[4] = case("BTM-01", "error", dut="linux-wpas", reason="setup: hostapd died")
    a, b = write(tmp_path, "a", BASE), write(tmp_path, "b", cur)
    rc, out = gate(capsys, "--baseline", str(a), "--current", str(b))
    assert rc == 1
    assert "BTM-01 [linux-wpas]: passed -> error" in out
    assert "BTM-01 [esp32]" not in out


def test_fixed_new_skip_missing_changed(tmp_path, capsys):
    cur = [case("BTM-01", "passed"), case("BTM-02", "skipped", reason="DUT lacks btm"),
           case("FT-01", "passed"), case("BTM-01", "passed", dut="linux-wpas"), case("NEW-1", "passed")]
    # NR-01 is gone.
    a, b = write(tmp_path, "a", BASE), write(tmp_path, "b", cur)
    rc, out = gate(capsys, "--baseline", str(a), "--current", str(b))
    assert rc == 1
    assert "Fixed: 1" in out and "FT-01 [esp32]: failed -> passed" in out
    assert "New skips (passed in the baseline): 1" in out and "BTM-02 [esp32]: passed -> skipped — DUT lacks btm" in out
    assert "Missing (passed in the baseline, not run now): 1" in out and "NR-01 [esp32]: passed -> absent" in out
    assert "New cases: 1" in out and "NEW-1 [esp32]: absent -> passed" in out
    assert "2 unwaived regression(s)" in out  # the new skip and the missing case


def test_changed_failure_rules_is_reported_not_gating(tmp_path, capsys):
    cur = [dict(c) for c in BASE]
    cur[2] = case("FT-01", "failed", rules_failed=["FT-MIC-6"])
    a, b = write(tmp_path, "a", BASE), write(tmp_path, "b", cur)
    rc, out = gate(capsys, "--baseline", str(a), "--current", str(b))
    assert rc == 0
    assert "Changed: 1" in out and "['FT-MIC-5'] -> ['FT-MIC-6']" in out


def _regressed(tmp_path):
    cur = [dict(c) for c in BASE]
    cur[1] = case("BTM-02", "failed", rules_failed=["BTM-TOKEN"])
    return write(tmp_path, "a", BASE), write(tmp_path, "b", cur)


def test_valid_waiver_returns_zero(tmp_path, capsys):
    a, b = _regressed(tmp_path)
    w = tmp_path / "waivers.json"
    w.write_text(json.dumps([{"case_id": "BTM-02", "reason": "vendor bug #123", "expires": "2026-06-15"}]))
    rc, out = gate(capsys, "--baseline", str(a), "--current", str(b), "--waivers", str(w))
    assert rc == 0
    assert "[waived until 2026-06-15: vendor bug #123]" in out
    assert "result: PASS — 0 unwaived regression(s), 1 waived" in out


def test_expired_waiver_does_not_apply(tmp_path, capsys):
    a, b = _regressed(tmp_path)
    w = tmp_path / "waivers.json"
    w.write_text(json.dumps({"waivers": [{"case_id": "BTM-02", "reason": "vendor bug #123",
                                          "expires": "2026-06-14"}]}))
    rc, out = gate(capsys, "--baseline", str(a), "--current", str(b), "--waivers", str(w))
    assert rc == 1
    assert "waiver for BTM-02 expired on 2026-06-14: it does not apply (vendor bug #123)" in out
    assert "1 unwaived regression(s)" in out


def test_waiver_for_another_dut_does_not_apply(tmp_path, capsys):
    a, b = _regressed(tmp_path)
    w = tmp_path / "waivers.json"
    w.write_text(json.dumps([{"case_id": "BTM-02", "dut": "linux-wpas", "reason": "r", "expires": "2030-01-01"}]))
    rc, out = gate(capsys, "--baseline", str(a), "--current", str(b), "--waivers", str(w))
    assert rc == 1
    assert "note: waiver for BTM-02 matched no regression" in out


@pytest.mark.parametrize("content, msg", [
    ("{not json", "not valid JSON"),
    ('[{"case_id": "X", "reason": "r"}]', "lacks expires"),
    ('[{"case_id": "X", "reason": "r", "expires": "31/12/2026"}]', "expires must be YYYY-MM-DD"),
    ('{"waiver": []}', "expected a list"),
])
def test_bad_waiver_file_is_exit_2(tmp_path, capsys, content, msg):
    a, b = _regressed(tmp_path)
    w = tmp_path / "waivers.json"
    w.write_text(content)
    rc, out = gate(capsys, "--baseline", str(a), "--current", str(b), "--waivers", str(w))
    assert rc == 2 and msg in out


@pytest.mark.parametrize("content, msg", [
    (None, "no such file"),
    ("{broken", "not valid JSON"),
    ('{"cases": []}', "not a roamcert summary"),
    ('{"run": {}, "cases": [{"verdict": "passed"}]}', "lacks case_id or verdict"),
    (b"\xff\xfe\x00", "cannot read"),
])
def test_unreadable_summary_is_exit_2(tmp_path, capsys, content, msg):
    a = write(tmp_path, "a", BASE)
    b = tmp_path / "b"
    b.mkdir()
    if isinstance(content, bytes):
        (b / "summary.json").write_bytes(content)
    elif content is not None:
        (b / "summary.json").write_text(content)
    rc, out = gate(capsys, "--baseline", str(a), "--current", str(b))
    assert rc == 2 and msg in out


def test_bad_arguments_are_exit_2(capsys):
    assert main(["--baseline", "x"]) == 2
    assert main(["--baseline", "x", "--current", "y", "--today", "soon"]) == 2


def test_terminal_escapes_from_the_air_are_neutralised(tmp_path, capsys):
    cur = [dict(c) for c in BASE]
    cur[1] = case("BTM-02", "failed", reason="SSID \x1b[2J\x1b]0;owned\x07 gone")
    a, b = write(tmp_path, "a", BASE), write(tmp_path, "b", cur)
    rc, out = gate(capsys, "--baseline", str(a), "--current", str(b))
    assert rc == 1
    assert "\x1b" not in out and "\x07" not in out
    assert "SSID \\x1b[2J\\x1b]0;owned\\x07 gone" in out
