"""bench stability: the comparison of identical runs (reports/stability.py) on hand-written
run folders (tests/fake_runs.py), and the CLI's --from path with its exit code."""
from __future__ import annotations

import json

import pytest

from cli import stability as cli_stability
from reports import stability as st
from reports.summary import SummaryError
from tests import fake_runs as fr

BSSID_MAY = "BCN-BSSID-MAY"


def _bcn20(outcome: str, dut: str = "linux-wpas") -> dict:
    fails = ((BSSID_MAY, "supplicant"),) if outcome == "failed" else ()
    c = fr.case("BCN-20", outcome, dut=dut, fails=fails, family="802.11k")
    if not fails:
        c["verdicts"].append(fr.verdict(BSSID_MAY, "pass", layer="supplicant"))
    return c


def _run(tmp_path, name, *cases, verdicts_json=False):
    folder = fr.write_run(tmp_path / name, list(cases), profile=None)
    if verdicts_json:  # the case folder's verdicts.json, as a real run writes it
        for c in cases:
            (folder / "cases" / f"{c['case_id']}-{c['dut']}" / "verdicts.json").write_text(
                json.dumps(c["verdicts"]))
    return folder


def test_identical_runs_have_no_flips(tmp_path):
    runs = [st.load_run(_run(tmp_path, f"r{i}", *fr.basic_cases())) for i in range(3)]
    cmp = st.compare(runs)
    assert cmp.flips == 0 and cmp.flaky == []
    assert len(cmp.rows) == len(fr.basic_cases())
    assert cli_stability.exit_code(cmp) == 0
    assert "stable: 0 flips over 3 runs" in st.format_comparison(cmp)[-1]


def test_fail_pass_fail_is_two_flips_named_by_the_registry(tmp_path):
    runs = [st.load_run(_run(tmp_path, n, _bcn20(o), fr.case("FT-01"), verdicts_json=True))
            for n, o in (("r1", "failed"), ("r2", "passed"), ("r3", "failed"))]
    cmp = st.compare(runs)
    flaky = {(t.case_id, t.what): t for t in cmp.flaky}
    assert set(flaky) == {("BCN-20", "outcome"), ("BCN-20", BSSID_MAY)}
    rule = flaky[("BCN-20", BSSID_MAY)]
    assert rule.values == ["fail", "pass", "fail"] and rule.flips == 2
    # the real registry's entry for this intermittent report
    assert rule.finding == "WPAS-BCN-SERVING-BSS-UNREQUESTED-CHANNEL"
    assert flaky[("BCN-20", "outcome")].values == ["failed", "passed", "failed"]
    assert flaky[("BCN-20", "outcome")].finding == "WPAS-BCN-SERVING-BSS-UNREQUESTED-CHANNEL"
    assert cmp.flips == 4 and cli_stability.exit_code(cmp) == 1
    text = "\n".join(st.format_comparison(cmp))
    assert "FLAKY BCN-20 [linux-wpas] BCN-BSSID-MAY: fail pass fail flips=2; explained by " \
           "WPAS-BCN-SERVING-BSS-UNREQUESTED-CHANNEL" in text
    assert "FT-01 [linux-wpas]  outcome: passed passed passed\n" in text + "\n"


def test_a_flip_no_entry_explains_says_so(tmp_path):
    runs = [st.load_run(_run(tmp_path, n, fr.case("FT-03", o, fails=(("FT-MIC", "supplicant"),)
                                                          if o == "failed" else ())))
            for n, o in (("r1", "passed"), ("r2", "failed"))]
    cmp = st.compare(runs)
    (t,) = [t for t in cmp.flaky if t.what == "FT-MIC"]
    assert t.values == ["unchecked", "fail"] and t.flips == 1 and t.finding is None
    assert "no registry entry explains it" in "\n".join(st.format_comparison(cmp))


def test_verdicts_json_is_what_is_compared(tmp_path):
    """A case folder's verdicts.json (what analyze re-judges) wins over the summary's copy."""
    a = _run(tmp_path, "a", _bcn20("passed"), verdicts_json=True)
    b = _run(tmp_path, "b", _bcn20("passed"), verdicts_json=True)
    vj = b / "cases" / "BCN-20-linux-wpas" / "verdicts.json"
    vs = json.loads(vj.read_text())
    next(v for v in vs if v["rule"] == BSSID_MAY)["status"] = "fail"
    vj.write_text(json.dumps(vs))
    cmp = st.compare([st.load_run(a), st.load_run(b)])
    assert [(t.what, t.values) for t in cmp.flaky] == [(BSSID_MAY, ["pass", "fail"])]


def test_worst_status_of_a_rule_checked_twice():
    vs = [fr.verdict("BCN-TOKEN"), fr.verdict("BCN-TOKEN", "fail", layer="supplicant"), fr.verdict("X", "info")]
    assert st.rule_statuses(vs) == {"BCN-TOKEN": ("fail", "supplicant"), "X": ("info", None)}


def test_a_case_missing_from_a_run_is_listed_not_compared():
    c, d = fr.case("NR-01"), fr.case("NR-02")
    cmp = st.compare([("r1", [c, d]), ("r2", [d]), ("r3", [c, d])])
    assert [r.case_id for r in cmp.rows] == ["NR-02"] and cmp.flaky == []
    (m,) = cmp.missing
    assert (m.case_id, m.values) == ("NR-01", ["passed", "absent", "passed"])
    assert cmp.differs and cli_stability.exit_code(cmp) == 1
    text = st.format_comparison(cmp)
    assert "MISSING NR-01 [linux-wpas]: not in every run (passed absent passed); not compared" in text
    assert "the runs did not run the same cases" in text[-1]


def test_per_dut_rows(tmp_path):
    runs = [("r1", [_bcn20("failed"), _bcn20("failed", dut="esp32-twin")]),
            ("r2", [_bcn20("failed"), _bcn20("passed", dut="esp32-twin")])]
    cmp = st.compare(runs)
    assert [(t.dut, t.what) for t in cmp.flaky] == [("esp32-twin", "outcome"), ("esp32-twin", BSSID_MAY)]


def test_from_folders_cli(tmp_path, capsys):
    a = _run(tmp_path, "a", *fr.basic_cases())
    b = _run(tmp_path, "b", *fr.basic_cases())
    assert cli_stability.main(["--from", str(a), str(b)]) == 0
    assert "stable: 0 flips over 2 runs" in capsys.readouterr().out
    c = _run(tmp_path, "c", *fr.basic_cases()[:-1], fr.case("FT-08", "failed", fails=(("DP-LOSS", "DUT"),)))
    assert cli_stability.main(["--from", str(a), str(c)]) == 1
    assert "FLAKY FT-08 [linux-wpas] outcome: passed failed flips=1" in capsys.readouterr().out


def test_bad_run_folder_is_a_clear_error(tmp_path, capsys):
    a = _run(tmp_path, "a", fr.case("FT-01"))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "summary.json").write_text("{not json")
    assert cli_stability.main(["--from", str(a), str(tmp_path / "broken")]) == 2
    err = capsys.readouterr().err
    assert "summary.json: not valid JSON" in err
    assert cli_stability.main(["--from", str(a)]) == 2  # one run compares nothing
    with pytest.raises(SummaryError):
        st.load_run(tmp_path / "nowhere")


def test_a_flaky_line_carries_the_host_load_of_each_run(tmp_path):
    """A flip read next to the host's load: the case rows' host_load, one per run, in order."""
    cases = []
    for o, load in (("passed", 0.8), ("failed", 12.4)):
        c = fr.case("SMOKE-03", o, fails=(("BTM-ROAMED", "supplicant"),) if o == "failed" else ())
        c["host_load"] = {"load1": load, "cpus": 2}
        cases.append(c)
    runs = [st.load_run(_run(tmp_path, f"r{i}", c)) for i, c in enumerate(cases)]
    text = "\n".join(st.format_comparison(st.compare(runs)))
    assert "FLAKY SMOKE-03 [linux-wpas] outcome: passed failed flips=1" in text
    assert "host load at case end: 0.8 12.4 (2 CPUs)" in text


def test_runs_without_host_load_print_none():
    runs = [("r1", [fr.case("FT-03", "passed")]), ("r2", [fr.case("FT-03", "failed")])]
    text = "\n".join(st.format_comparison(st.compare(runs)))
    assert "FLAKY FT-03" in text and "host load" not in text
