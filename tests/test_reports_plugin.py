"""The reports plugin in a real pytest session (subprocess) over the fake suite.

Expected values are the ones written by hand into the fake suite's cases.
"""
from __future__ import annotations

import importlib.util
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reports.certificate import file_name

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("reports_fakesuite", HERE / "test_reports_fakesuite.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)
H = fake.HOSTILE


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    run, proc = fake.make_run(tmp_path_factory.mktemp("plugin"))
    return run, proc


@pytest.fixture(scope="module")
def summary(ran):
    return json.loads((ran[0] / "summary.json").read_text())


def _case(summary, cid):
    [c] = [c for c in summary["cases"] if c["case_id"] == cid]
    return c


def test_exit_status_and_totals(ran, summary):
    assert ran[1].returncode == 1
    assert summary["totals"] == {"passed": 2, "failed": 1, "skipped": 1, "error": 1}
    assert summary["run"]["complete"] is True and summary["run"]["interrupted"] is False
    assert summary["run"]["id"] == "20260101T000000Z"
    assert summary["run"]["end"]


def test_run_info_from_set_run_info(summary):
    run = summary["run"]
    assert run["duts"] == [{"name": "dut-" + H, "mac": "02:00:00:00:02:00", "firmware": "fw " + H,
                            "capabilities": ["btm", "ft_over_air"]}]
    assert run["lab"]["hostapd"] == "hostapd v2.10"
    assert run["lab"]["ssid"] == H
    assert "--run-dir" in run["command"]
    assert run["versions"]["pytest"] == pytest.__version__


def test_passed_case_entry(summary):
    c = _case(summary, "BTM-01")
    assert c["verdict"] == "passed" and c["reason"] == ""
    assert (c["family"], c["feature"], c["story"], c["severity"]) == \
        ("802.11v", "BSS Transition Management", "accept", "critical")
    assert c["requirements"] == ["IEEE 802.11-2020 11.24.7.3", "IND-6"]
    assert c["dut"] == "dut-" + H
    assert [v["rule"] for v in c["verdicts"]] == ["IND-6", "ROAM-LAT"]
    assert c["verdicts"][0]["clause"] == "IND-6 " + H
    assert [(a["name"], a["path"], a["mime"]) for a in c["attachments"]] == [
        ("air capture", "evidence/BTM-01/air.pcap", "application/vnd.tcpdump.pcap"),
        ("wpas log", "evidence/BTM-01/wpas_log.log", "text/plain"),
        ("events", "evidence/BTM-01/events.json", "application/json")]
    assert [s["name"] for s in c["steps"]] == ["send BTM request", "wait for the roam " + H]
    assert c["metrics"] == {"roam_ms": 7.2, "ssid": H}
    assert c["roams"][0]["frames"][0]["label"] == "BTM Request"
    assert len(c["timelines"]) == 1 and c["timelines"][0].startswith("timelines/")
    # The duration leaves out the time the plugin spent drawing (about a second for matplotlib).
    assert c["duration_s"] < 0.5
    # The test body alone: part of the duration, without the fixtures' setup and teardown.
    assert 0 <= c["call_s"] <= c["duration_s"]
    assert c["host_load"]["cpus"] == os.cpu_count() and c["host_load"]["load1"] >= 0


def test_failed_skipped_error_entries(summary):
    f = _case(summary, "BTM-02")
    assert f["verdict"] == "failed"
    assert "BTM-TOKEN" in f["reason"] and "dialog token 8 " + H in f["reason"]
    assert f["verdicts"][0]["status"] == "fail"
    s = _case(summary, "FT-09")
    assert s["verdict"] == "skipped" and s["reason"] == "DUT lacks ft_over_ds " + H
    e = _case(summary, "LAB-01")
    assert e["verdict"] == "error" and e["reason"] == "setup: RuntimeError: hostapd did not start: " + H
    p = _case(summary, "test_fake.py::test_plain")
    assert p["verdict"] == "passed" and p["family"] == "" and p["verdicts"] == []


def test_console_lines(ran):
    out = ran[1].stdout
    assert "[802.11v] BTM-01  PASSED" in out
    assert "[802.11v] BTM-02  FAILED" in out
    assert "[802.11r] FT-09  SKIPPED" in out
    assert "[Lab] LAB-01  ERROR" in out
    assert "test_plain  PASSED" not in out  # only cases with a record get a line
    assert "roamcert reports" in out
    assert f"summary:     {ran[0] / 'summary.json'}" in out
    assert f"certificate: {ran[0] / file_name('dut-' + H)}" in out
    assert f"index:       {ran[0] / 'index.html'}" in out


def test_junit_properties(ran):
    root = ET.parse(ran[0] / "junit.xml").getroot()
    cases = {tc.get("name"): tc for tc in root.iter("testcase")}
    props = [(p.get("name"), p.get("value")) for p in cases["test_btm01"].iter("property")]
    assert props == [("case_id", "BTM-01"), ("family", "802.11v"), ("requirement", "IEEE 802.11-2020 11.24.7.3"),
                     ("requirement", "IND-6"), ("dut", "dut-" + H)]
    props = [(p.get("name"), p.get("value")) for p in cases["test_lab01"].iter("property")]
    assert ("requirement", "IND-1") in props
    assert list(cases["test_plain"].iter("property")) == []


def _allure_results(run):
    out = {}
    for p in (run / "allure-results").glob("*-result.json"):
        r = json.loads(p.read_text())
        out[r["name"]] = r
    return out


def test_allure_labels_links_parameters(ran):
    res = _allure_results(ran[0])
    r = res["BTM-01 BTM request accepted " + H]
    labels = [(lb["name"], lb["value"]) for lb in r["labels"]]
    for want in [("epic", "802.11v"), ("feature", "BSS Transition Management"), ("story", "accept"),
                 ("severity", "critical"), ("tag", "BTM-01"), ("tag", "btm")]:
        assert want in labels
    assert [(lk["name"], lk["type"]) for lk in r["links"]] == [
        ("IEEE 802.11-2020 11.24.7.3", "requirement"), ("IND-6", "requirement")]
    assert all(lk["url"].startswith(file_name("dut-" + H) + "#req-") for lk in r["links"])
    assert [p["name"] for p in r["parameters"]] == ["dut"]
    assert H in r["parameters"][0]["value"]
    assert [s["name"] for s in r["steps"]] == ["send BTM request", "wait for the roam " + H]
    assert r["status"] == "passed"
    assert res["BTM-02 BTM token echo"]["status"] == "failed"
    assert res["FT-09 FT over the DS"]["status"] == "skipped"


def test_allure_attachments(ran):
    run = ran[0]
    r = _allure_results(run)["BTM-01 BTM request accepted " + H]
    att = {a["name"]: a for a in r["attachments"]}
    assert set(att) == {"air capture", "wpas log", "events", "verdicts", "oracle", "roam timeline 1"}
    assert att["air capture"]["type"] == "application/vnd.tcpdump.pcap"
    assert att["air capture"]["source"].endswith(".pcap")
    assert (run / "allure-results" / att["air capture"]["source"]).read_bytes() == fake.PCAP_HEADER
    assert att["wpas log"]["type"] == "text/plain"
    assert "SSID='" + H in (run / "allure-results" / att["wpas log"]["source"]).read_text()
    assert att["events"]["type"] == "application/json"
    verdicts = json.loads((run / "allure-results" / att["verdicts"]["source"]).read_text())
    assert [(v["rule"], v["status"]) for v in verdicts] == [("IND-6", "pass"), ("ROAM-LAT", "info")]
    assert att["roam timeline 1"]["type"] == "image/svg+xml"
    svg = (run / "allure-results" / att["roam timeline 1"]["source"]).read_text()
    assert svg.startswith("<svg") and "BTM Request" in svg


def test_interrupted_session_keeps_finished_cases(tmp_path):
    suite = tmp_path / "suite"
    fake.write_suite(suite, fake.INTERRUPTED)
    proc = fake.run_pytest(suite)  # no --run-dir: runs/<UTC time> under the rootdir
    assert proc.returncode == 2, proc.stdout + proc.stderr  # pytest's "interrupted"
    latest = suite / "runs" / "latest"
    assert latest.is_symlink()
    data = json.loads((latest / "summary.json").read_text())
    assert [(c["case_id"], c["verdict"]) for c in data["cases"]] == [("NR-01", "passed")]
    assert data["run"]["interrupted"] is True and data["run"]["complete"] is False
    # The summary was already on disk, with the first case, while the second one ran.
    seen = json.loads((latest / "seen-during-run.json").read_text())
    assert [c["case_id"] for c in seen["cases"]] == ["NR-01"]
    assert seen["run"]["end"] is None
    assert not list((latest).glob(".summary.json.*"))  # no temporary file left behind


def test_no_run_folder_without_cases(tmp_path):
    suite = tmp_path / "suite"
    fake.write_suite(suite, "def test_x():\n    assert True\n")
    proc = fake.run_pytest(suite)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not (suite / "runs").exists()
