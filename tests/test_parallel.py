"""`./roamcert run -n N` (issue 12 item 1, issue 13 item 4): parallel labs under pytest-xdist.

No VM here: a fake suite shaped like suites/ (a session `lab`, a module-scoped DUT session
parametrized by DUT, CaseRecords with verdicts, one failing and one skipped case) is run
once serially and once with -n 2 through the real reports plugin; the -n run's run folder
must hold what the serial one holds (one summary.json with the same rows, one junit.xml with
the same cases and properties, the Allure results, a manifest that verifies), each worker's
lab files apart, and every module x DUT on one worker.
"""
from __future__ import annotations

import json
import os
import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cli import run as run_cmd
from fixtures import parallel as par
from test_reports_fakesuite import run_pytest

CONFTEST = '''
import os
import pytest
from fixtures.case import CaseRecord, CaseSpec
from fixtures.run_folder import RECORD_KEY, run_dir, safe_name, set_run_info

pytest_plugins = ["fixtures.parallel", "reports.plugin"]
WHO = os.environ["ROAMCERT_TEST_WHO"]  # where each case notes the worker that ran it

def pytest_configure(config):
    config.addinivalue_line("markers", "case: the case spec")

def pytest_generate_tests(metafunc):
    if "dut_name" in metafunc.fixturenames:
        metafunc.parametrize("dut_name", ["linux-wpas", "esp32-twin"], scope="module")

@pytest.fixture(scope="session")
def lab(request):
    from fixtures.parallel import lab_dir, worker_id
    # a lab per worker, as fixtures.plugin opens one: its own files under lab/gwN
    folder = run_dir(request.config) / lab_dir(worker_id(request.config))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "console.log").write_text(f"lab of {{os.getpid()}}\\n")
    set_run_info(request.config, lab={{"kind": "fake", "hostapd": "v2.10", "pid": os.getpid()}})
    return folder

@pytest.fixture(scope="module")
def dut_session(request, lab, dut_name):
    set_run_info(request.config, dut={{"name": dut_name, "mac": "02:00:00:00:02:00", "capabilities": ["btm"]}})
    return dut_name

@pytest.fixture
def record(request, dut_session):
    spec = request.node.callspec.params["spec"]
    folder = safe_name(f"{{spec.id}}-{{dut_session}}")
    rec = CaseRecord(spec=spec, nodeid=request.node.nodeid, dut=dut_session,
                     evidence_dir=run_dir(request.config) / "cases" / folder)
    request.node.stash[RECORD_KEY] = rec
    with open(WHO, "a") as f:
        f.write(f"{{request.node.nodeid}}\\t{{os.environ.get('PYTEST_XDIST_WORKER', 'serial')}}\\n")
    return rec
'''

MODULE = '''
import pytest
from engine.verdict import check
from fixtures.case import CaseSpec

SPECS = [CaseSpec("{p}-0{{i}}".format(i=i), "case {{i}}".format(i=i), "{fam}", "feature", "story",
                  ("IEEE 802.11-2020 11.24.7.3", "IND-6")) for i in (1, 2, 3)]

@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_case(record, spec, dut_name):
    if spec.id.endswith("3") and dut_name == "esp32-twin":
        pytest.skip("esp32-twin does not claim it")
    p = record.evidence_dir
    p.mkdir(parents=True, exist_ok=True)
    record.attach_text("air", "frames of " + spec.id)
    ok = not (spec.id == "{p}-02" and dut_name == "esp32-twin")
    record.add(check("{p}-RULE", "IEEE 802.11-2020 11.24.7.3", ok, "token 1", "token 1" if ok else "token 2",
                     ["frame 9"]))
    record.metrics["roam_ms"] = 7.5
    record.judge()
'''


def write_suite(where: Path) -> None:
    where.mkdir(parents=True, exist_ok=True)
    (where / "conftest.py").write_text(textwrap.dedent(CONFTEST.format()))
    (where / "test_one.py").write_text(MODULE.format(p="ONE", fam="802.11v"))
    (where / "test_two.py").write_text(MODULE.format(p="TWO", fam="802.11k"))
    (where / "pytest.ini").write_text("[pytest]\n")


def comparable(row: dict) -> dict:
    """A summary row less what differs between any two runs (times)."""
    row = {k: v for k, v in row.items() if k not in ("duration_s", "call_s", "host_load")}
    row["steps"] = [{k: v for k, v in s.items() if k not in ("start", "stop")} for s in row["steps"]]
    return row


def junit_cases(path: Path) -> dict:
    root = ET.parse(path).getroot()
    out = {}
    for tc in root.iter("testcase"):
        props = sorted((p.get("name"), p.get("value")) for p in tc.iter("property"))
        kinds = sorted(ch.tag for ch in tc if ch.tag in ("failure", "error", "skipped"))
        out[(tc.get("classname"), tc.get("name"))] = (props, kinds)
    return out


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The fake suite, serially and with -n 2; each run's folder, process and worker notes."""
    pytest.importorskip("xdist")
    tmp = tmp_path_factory.mktemp("parallel")
    suite = tmp / "suite"
    write_suite(suite)
    out = {}
    for name, extra in (("serial", ()), ("parallel", ("-n", "2", "--dist", "loadscope"))):
        run = tmp / "runs" / name
        who = tmp / f"{name}-who.tsv"
        os.environ["ROAMCERT_TEST_WHO"] = str(who)
        try:
            # --run-dir=DIR, one argument: as two, pytest takes the (existing) folder for a
            # path to test when an xdist worker starts, and misses the suite's conftest
            proc = run_pytest(suite, f"--run-dir={run}", *extra, timeout=300)
        finally:
            del os.environ["ROAMCERT_TEST_WHO"]
        ran = dict(line.split("\t") for line in who.read_text().splitlines())
        out[name] = (run, proc, ran)
    return out


def test_parallel_summary_has_the_serial_rows(two_runs):
    (srun, sproc, _), (prun, pproc, _) = two_runs["serial"], two_runs["parallel"]
    assert sproc.returncode == pproc.returncode == 1, pproc.stdout + pproc.stderr  # failing cases
    s = json.loads((srun / "summary.json").read_text())
    p = json.loads((prun / "summary.json").read_text())
    assert len(s["cases"]) == 12
    srows = sorted((comparable(c) for c in s["cases"]), key=lambda c: c["nodeid"])
    prows = sorted((comparable(c) for c in p["cases"]), key=lambda c: c["nodeid"])
    assert prows == srows
    assert p["totals"] == s["totals"] == {**p["totals"], "passed": 8, "failed": 2, "skipped": 2}
    assert p["run"]["complete"] is True and p["run"]["interrupted"] is False
    # the run facts each worker learnt (its lab, its DUTs) reached the controller's summary
    assert sorted(d["name"] for d in p["run"]["duts"]) == ["esp32-twin", "linux-wpas"]
    assert p["run"]["workers"] == ["gw0", "gw1"]
    lab = p["run"]["lab"]
    assert lab["kind"] == "fake" and lab["hostapd"] == "v2.10"  # the same on both labs: once
    assert set(lab["pid"]) == {"gw0", "gw1"} and lab["pid"]["gw0"] != lab["pid"]["gw1"]  # differs: per worker
    assert "workers" not in s["run"]
    # the failing row says what failed, as in the serial run
    bad = sorted((c for c in p["cases"] if c["verdict"] == "failed"), key=lambda c: c["case_id"])
    assert [(c["case_id"], c["dut"]) for c in bad] == [("ONE-02", "esp32-twin"), ("TWO-02", "esp32-twin")]
    assert [[v["status"] for v in c["verdicts"]] for c in bad] == [["fail"], ["fail"]]
    # the console line of a worker's case names its DUT and worker (workers interleave); serial's does not
    assert re.search(r"\[802\.11v\] ONE-02 esp32-twin on gw[01]  FAILED", pproc.stdout), pproc.stdout
    assert "[802.11v] ONE-02  FAILED" in sproc.stdout


def test_each_module_and_dut_runs_on_one_worker(two_runs):
    _, _, ran = two_runs["parallel"]
    assert len(ran) == 12
    groups: dict[str, set] = {}
    for nodeid, worker in ran.items():
        groups.setdefault(par.scope_of(nodeid, par.DEFAULT_DUTS), set()).add(worker)
    assert sorted(groups) == ["test_one.py::esp32-twin", "test_one.py::linux-wpas",
                              "test_two.py::esp32-twin", "test_two.py::linux-wpas"]
    assert all(len(w) == 1 for w in groups.values()), groups
    assert set().union(*groups.values()) == {"gw0", "gw1"}  # both labs worked


def test_parallel_run_folder_is_one_run(two_runs):
    (srun, _, _), (prun, pproc, _) = two_runs["serial"], two_runs["parallel"]
    # one summary, one junit (the controller's), one manifest: no per-worker copies anywhere
    for name in ("summary.json", "junit.xml", "manifest.json"):
        assert [p.relative_to(prun) for p in prun.rglob(name)] == [Path(name)]
    assert junit_cases(prun / "junit.xml") == junit_cases(srun / "junit.xml")
    assert len(junit_cases(prun / "junit.xml")) == 12
    # Allure: one result per case, written by the worker that ran it
    results = [json.loads(f.read_text()) for f in (prun / "allure-results").glob("*-result.json")]
    sresults = [json.loads(f.read_text()) for f in (srun / "allure-results").glob("*-result.json")]
    assert sorted((r["fullName"], r["status"]) for r in results) == \
        sorted((r["fullName"], r["status"]) for r in sresults)
    assert len(results) == 12
    # each worker's lab files apart; the serial run's lab/ has none of the gwN folders
    assert sorted(p.name for p in (prun / "lab").iterdir()) == ["gw0", "gw1"]
    assert [p.name for p in (srun / "lab").iterdir()] == ["console.log"]
    # the case folders are the serial run's
    assert sorted(p.name for p in (prun / "cases").iterdir()) == sorted(p.name for p in (srun / "cases").iterdir())


def test_parallel_run_verifies_and_gates_like_a_serial_one(two_runs):
    from cli import verify
    from reports import gate

    (srun, _, _), (prun, _, _) = two_runs["serial"], two_runs["parallel"]
    assert verify.main([str(prun)]) == 0
    assert verify.main([str(srun)]) == 0
    s = json.loads((srun / "summary.json").read_text())
    p = json.loads((prun / "summary.json").read_text())
    rows = lambda d: sorted((c["case_id"], c["dut"], v["rule"], v["status"])  # noqa: E731
                            for c in d["cases"] for v in c["verdicts"])
    assert rows(p) == rows(s) and rows(p)
    # the release gate reads either run against the other as the same verdicts
    assert gate.run(str(srun), str(prun)) == 0
    assert gate.run(str(prun), str(srun)) == 0


# -- the pieces, one by one ----------------------------------------------------------------

def test_dut_of_a_node_id():
    duts = ("linux-wpas", "linux-wpas:no-btm", "esp32-twin")
    assert par.dut_of("suites/test_11v.py::test_btm[linux-wpas-BTM-02]", duts) == "linux-wpas"
    assert par.dut_of("suites/test_11v.py::test_btm[linux-wpas:no-btm-BTM-02]", duts) == "linux-wpas:no-btm"
    assert par.dut_of("suites/test_smoke.py::test_smoke[esp32-twin]", duts) == "esp32-twin"
    assert par.dut_of("suites/test_smoke.py::test_plain", duts) is None
    assert par.dut_of("suites/test_x.py::test_y[esp32-twinkle-1]", duts) is None
    assert par.scope_of("suites/test_11v.py::test_btm[esp32-twin-BTM-02]", duts) == "suites/test_11v.py::esp32-twin"
    assert par.scope_of("suites/test_x.py::test_y[other]", duts) == "suites/test_x.py"
    # one board on this host's serial port: every module of it on one worker, never two at once
    boards = ("esp32:/dev/ttyUSB0", "esp32:lg:esp32-0")
    assert par.scope_of("suites/test_11v.py::test_btm[esp32:/dev/ttyUSB0-BTM-02]", boards) == \
        par.scope_of("suites/test_11r.py::test_ft[esp32:/dev/ttyUSB0-FT-01]", boards) == "dut::esp32:/dev/ttyUSB0"
    # a board of the worker's own labgrid place: per module, like the virtual DUTs
    assert par.scope_of("suites/test_11v.py::test_btm[esp32:lg:esp32-0-BTM-02]", boards) == \
        "suites/test_11v.py::esp32:lg:esp32-0"


def test_worker_facts_merge():
    info = {"duts": [], "lab": {}}
    labs: dict = {}
    par.merge_worker_facts(info, labs, {"worker": "gw1", "lab": {"kind": "virtual", "boot_s": 31.0},
                                        "duts": [{"name": "esp32-twin", "mac": "a"}]})
    par.merge_worker_facts(info, labs, {"worker": "gw0", "lab": {"kind": "virtual", "boot_s": 29.5},
                                        "duts": [{"name": "linux-wpas", "mac": "b"}]})
    par.merge_worker_facts(info, labs, {"worker": "gw0", "lab": {"kind": "virtual", "boot_s": 29.5},
                                        "duts": [{"name": "linux-wpas", "mac": "b2"}]})
    assert info["workers"] == ["gw0", "gw1"]
    assert info["lab"] == {"kind": "virtual", "boot_s": {"gw0": 29.5, "gw1": 31.0}}
    assert info["duts"] == [{"name": "esp32-twin", "mac": "a"}, {"name": "linux-wpas", "mac": "b2"}]
    # a fact only one lab gave is that lab's, not everyone's
    assert par.merged_lab({"gw0": {"place": "a"}, "gw1": {}}) == {"place": {"gw0": "a"}}


def test_lab_dir_per_worker():
    assert par.lab_dir(None) == "lab"
    assert par.lab_dir("gw3") == "lab/gw3"


@pytest.mark.parametrize("value, problem", [
    ("0", "at least 1 worker"), ("-2", "at least 1 worker"), ("two", "give the number of labs"),
    ("auto", "give the number of labs")])
def test_parse_workers_refuses(value, problem):
    with pytest.raises(par.ParallelOptionError, match=problem):
        par.parse_workers(value)


def test_check_workers():
    assert par.parse_workers("2") == 2
    par.check_workers(4, "virtual", have_xdist=True)
    par.check_workers(1, "local", have_xdist=True)
    par.check_workers(2, "labgrid", "lab-a,lab-b", have_xdist=True)
    with pytest.raises(par.ParallelOptionError, match="not installed: run tools/setup.sh"):
        par.check_workers(2, "virtual", have_xdist=False)
    with pytest.raises(par.ParallelOptionError, match="this host's radios make one lab"):
        par.check_workers(2, "local", have_xdist=True)
    with pytest.raises(par.ParallelOptionError, match=r"--lg-place names 2 \(lab-a, lab-b\); name at least 3"):
        par.check_workers(3, "labgrid", "lab-a,lab-b", have_xdist=True)


def test_run_adds_loadscope_unless_told():
    assert run_cmd.parallel_args(["-n", "2", "-m", "smoke"]) == ["--dist=loadscope"]
    assert run_cmd.parallel_args(["-n2"]) == ["--dist=loadscope"]
    assert run_cmd.parallel_args(["--numprocesses=2"]) == ["--dist=loadscope"]
    assert run_cmd.parallel_args(["-n", "2", "--dist", "load"]) == []
    assert run_cmd.parallel_args(["-m", "smoke"]) == []


@pytest.mark.parametrize("argv, problem", [
    (["-n", "0"], "-n 0: at least 1 worker"),
    (["-n", "many"], "-n many: give the number of labs"),
    (["-n", "2", "--lab", "local"], "-n 2 with --lab local"),
    (["-n", "3", "--lab", "labgrid", "--lg-place", "a,b"], "-n 3 with --lab labgrid"),
])
def test_run_preflight_refuses_a_bad_n(argv, problem, monkeypatch, tmp_path, capsys):
    import lab.launch

    def boom(*a, **k):
        raise AssertionError("the lab was booted")
    monkeypatch.setattr(lab.launch, "open_lab", boom)
    monkeypatch.setenv("ROAMCERT_RUNS", str(tmp_path / "runs"))
    assert run_cmd.main([*argv, "-m", "smoke"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and problem in err, err
    assert not (tmp_path / "runs").exists()


def test_bench_parallel_lists_every_difference():
    from cli import bench_parallel as bp
    from fake_runs import case

    serial = {"cases": [case("FT-01"), case("FT-02", "failed", fails=[("FT-MIC", "DUT")]),
                        case("FT-03", dut="esp32-twin")]}
    same = json.loads(json.dumps(serial))
    same["cases"].reverse()  # a parallel run's rows come in the order the workers finish
    assert bp.differences(serial, same) == []
    other = json.loads(json.dumps(serial))
    other["cases"][1]["verdict"] = "passed"
    other["cases"][1]["verdicts"][1]["status"] = "pass"
    del other["cases"][2]
    assert bp.differences(serial, other) == [
        "outcome FT-02 / linux-wpas: serial failed, parallel passed",
        "outcome FT-03 / esp32-twin: serial passed, parallel absent",
        "verdict FT-02 / linux-wpas / FT-MIC: serial fail, parallel pass",
        "verdict FT-03 / esp32-twin / FT-03-OK: serial pass, parallel absent",
    ]


@pytest.mark.parametrize("argv, problem", [(["--workers", "0"], "--workers must be 1 or more"),
                                           (["-n", "2", "-m", "smoke"], "with --workers, not -n")])
def test_bench_parallel_refuses(argv, problem, capsys, monkeypatch):
    from cli import bench_parallel as bp

    def no_run(*a, **k):
        raise AssertionError("a run was started")
    monkeypatch.setattr(bp, "_run", no_run)
    assert bp.main(argv) == 2
    assert problem in capsys.readouterr().err


def test_a_worker_that_dies_leaves_an_error_row(tmp_path):
    """xdist's report for a case whose worker died (when "???", made on the controller, so it
    carries no row): the case becomes an error row naming the worker, the summary is written.
    (Not run through xdist itself: its loadscope hands the crashed case to the next worker,
    which a deterministic crash takes down as well, until the restarts run out.)"""
    from reports import plugin as rp

    class Config:  # what _case_done reads of pytest's config
        stash: dict = {}
        rootpath = tmp_path

        class pluginmanager:
            @staticmethod
            def get_plugin(name):
                return None

        def getoption(self, name, default=None):
            return str(tmp_path / "run") if name == "run_dir" else default

    config = Config()
    config.stash = pytest.Stash()
    rp.run_dir(config)
    msg = "worker 'gw1' crashed while running 'suites/test_11v.py::test_btm[linux-wpas-BTM-02]'"
    crash = pytest.TestReport("suites/test_11v.py::test_btm[linux-wpas-BTM-02]", ("suites/test_11v.py", None, ""),
                              {}, "failed", msg, "???")
    rp._case_done(config, crash)
    ok = pytest.TestReport("suites/test_11v.py::test_btm[linux-wpas-BTM-01]", ("suites/test_11v.py", None, ""),
                           {}, "passed", None, "teardown")
    rp._case_done(config, ok)  # a teardown report without a row (not a roamcert case): no row
    doc = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert [(c["nodeid"], c["verdict"], c["reason"]) for c in doc["cases"]] == [
        ("suites/test_11v.py::test_btm[linux-wpas-BTM-02]", "error", msg)]
    assert "recorded" not in doc["cases"][0]
    assert doc["totals"]["error"] == 1
