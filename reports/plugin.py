"""pytest plugin: the run folder, summary.json, Allure enrichment, JUnit properties, console lines.

Register it from conftest.py with `pytest_plugins = ["reports.plugin"]`. Cases put
their fixtures.case.CaseRecord at item.stash[RECORD_KEY]; everything here reads it.

With --run-dir DIR, the run writes into DIR (created): summary.json (rewritten
after every case, atomically), junit.xml and allure-results/ (unless --junitxml or
--alluredir say otherwise), timelines/*.svg, and at the end manifest.json, one
certificate-<dut>.html per DUT and index.html (reports.publish; --profile names the
certification profile).
Without --run-dir (or $ROAMCERT_RUN_DIR), the folder runs/<UTC timestamp>/ is made
on first use of run_dir(config), and runs/latest points at it.

Under pytest-xdist (-n N) one process still writes summary.json, junit.xml and the
manifest: the controller. A case's summary row is made where the case ran and rides on its
teardown report (with the worker's lab and DUT facts) to the controller, whose
pytest_runtest_logreport adds it, as a serial run adds its own (fixtures/parallel.py).
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import shlex
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from fixtures.case import CaseRecord
from fixtures.run_folder import safe_name  # noqa: E402
from fixtures.run_folder import RECORD_KEY, RunState, keep_evidence, peek_state, run_dir, set_run_info  # noqa: F401 (re-exported for plugins)
from fixtures.run_folder import jsonable
from fixtures.run_folder import state as _state
from fixtures.parallel import CASE_ATTR, RUN_ATTR, is_worker, merge_worker_facts, worker_facts
from reports import summary as sm

def pytest_addoption(parser):
    g = parser.getgroup("roamcert", "roamcert reports")
    g.addoption("--run-dir", dest="run_dir", default=None,
                help="run folder for summary.json, junit.xml, allure-results and evidence "
                     "(default: runs/<UTC timestamp>, made when first needed)")
    g.addoption("--profile", dest="roamcert_profile", default=None,
                help="certification profile (profiles/<id>.toml or a path) the certificates judge by")
    g.addoption("--keep-evidence", dest="keep_evidence", action="store_true", default=False,
                help="keep captures and logs of passing cases too")


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("pytest", "allure-pytest", "scapy", "matplotlib", "pyserial", "esptool"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    st = _state(config)
    st.info["command"] = "pytest " + shlex.join(str(a) for a in config.invocation_params.args)
    st.info["git_rev"] = sm.git_rev(Path(config.rootpath))
    st.info["versions"].update(_versions())
    prof = config.getoption("roamcert_profile", None)
    if prof:
        from reports import profile as pf
        try:
            st.info["profile"] = pf.load(prof).stamp()
        except pf.ProfileError as e:
            raise pytest.UsageError(f"--profile: {e}") from None
    asked = config.getoption("run_dir", None) or os.environ.get("ROAMCERT_RUN_DIR")
    if asked:
        d = run_dir(config)
        # Default the other outputs into the run folder; junitxml and allure read these later in configure.
        # Under pytest-xdist the controller writes junit.xml and each worker its Allure results.
        if getattr(config.option, "xmlpath", "unset") is None and not is_worker(config):
            config.option.xmlpath = str(d / "junit.xml")
        if getattr(config.option, "allure_report_dir", "unset") is None:
            config.option.allure_report_dir = str(d / "allure-results")
    if not is_worker(config):
        config.pluginmanager.register(_CaseRows(config), "roamcert-case-rows")


def _record(item) -> CaseRecord | None:
    return item.stash.get(RECORD_KEY, None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    rec = _record(item)
    if call.when == "teardown" and rec is not None and rec.spec is not None:
        # junitxml writes the teardown report's user_properties as <property> elements.
        have = set(item.user_properties)
        props = [("case_id", rec.spec.id), ("family", rec.spec.epic)]
        props += [("requirement", r) for r in rec.spec.requirements]
        if rec.dut:
            props.append(("dut", rec.dut))
        item.user_properties.extend(p for p in props if p not in have)
    report = yield
    st = _state(item.config)
    ph = st.phases.setdefault(item.nodeid, {"reports": {}, "timelines": []})
    ph["reports"][report.when] = report
    if report.when == "teardown":
        # The case's summary row rides on its teardown report: under pytest-xdist the report
        # goes to the controller, which alone writes summary.json (pytest_runtest_logreport).
        setattr(report, CASE_ATTR, _case_row(item, st, st.phases.pop(item.nodeid)))
        if is_worker(item.config):
            setattr(report, RUN_ATTR, worker_facts(item.config, st.info))
    return report


def _outcome(reports: dict) -> tuple[str, str]:
    """passed/failed/skipped/error and a one-line reason, from the setup/call/teardown reports."""
    setup, call, teardown = (reports.get(w) for w in ("setup", "call", "teardown"))

    def why(rep) -> str:
        if rep is None:
            return ""
        if rep.skipped and isinstance(rep.longrepr, tuple):
            return str(rep.longrepr[2]).removeprefix("Skipped: ")
        if hasattr(rep, "wasxfail"):
            return "xfail: " + str(rep.wasxfail)
        crash = getattr(rep.longrepr, "reprcrash", None)
        if crash is not None:
            return crash.message
        return str(rep.longrepr or "")

    fault = _fault(reports)
    if fault is not None:  # the lab died under the case: an error, headed by the fault's own line
        return "error", "\n".join(x for x in (fault["headline"], fault.get("detail")) if x)
    if setup is not None and setup.failed:
        return "error", "setup: " + why(setup)
    if setup is not None and setup.skipped:
        return "skipped", why(setup)
    if call is not None and call.skipped:
        return "skipped", why(call)
    if call is not None and call.failed:
        return "failed", why(call)
    if teardown is not None and teardown.failed:
        return "error", "teardown: " + why(teardown)
    if call is None:
        return "error", "the case did not run to its end"
    return "passed", ""


def _fault(reports: dict) -> dict | None:
    """The lab fault that took the case down (fixtures/lab_faults.py), from the first phase it hit."""
    for w in ("setup", "call", "teardown"):
        f = getattr(reports.get(w), "roamcert_fault", None)
        if f:
            return f
    return None


def _render_timelines(item, rec: CaseRecord) -> list[Path]:
    if not rec.roams:
        return []
    from reports import timeline

    out = []
    base = run_dir(item.config) / "timelines"
    stem = safe_name(rec.spec.id if rec.spec else item.nodeid)
    if rec.dut:
        stem += "-" + safe_name(rec.dut)
    for i, roam in enumerate(rec.roams, 1):
        path = base / f"{stem}-roam{i}.svg"
        try:
            timeline.render(roam, path)
        except timeline.TimelineError as e:
            path.parent.mkdir(parents=True, exist_ok=True)
            (path.with_suffix(".txt")).write_text(f"no timeline: {e}\n", encoding="utf-8")
            continue
        out.append(path)
    return out


_PCAP = "application/vnd.tcpdump.pcap"


def _attach_kind(path: Path, mime: str) -> tuple[str, str]:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("pcap", "pcapng", "cap"):
        return _PCAP, suffix
    return mime or "application/octet-stream", suffix or "txt"


def _cert_name(dut: str) -> str:
    from reports.certificate import file_name  # one naming rule for the links and the files

    return file_name(dut or "")


def _apply_allure(item, rec: CaseRecord, timelines: list[Path]) -> None:
    """Labels, parameter, links, steps and attachments through allure-pytest's public API."""
    import allure

    spec = rec.spec
    if spec is not None:
        allure.dynamic.title(f"{spec.id} {spec.title}")
        allure.dynamic.epic(spec.epic)
        allure.dynamic.feature(spec.feature)
        allure.dynamic.story(spec.story)
        allure.dynamic.severity(spec.severity)
        allure.dynamic.id(spec.id)
        allure.dynamic.tag(spec.id, *spec.needs)
        for req in spec.requirements:
            # A relative link to the requirement in the DUT's certificate of the same run: no remote fetch.
            allure.dynamic.link(_cert_name(rec.dut) + "#req-" + sm.anchor(req), link_type="requirement", name=req)
    if rec.dut:
        allure.dynamic.parameter("dut", rec.dut)

    listener = item.config.pluginmanager.get_plugin("allure_listener")
    for s in rec.steps:
        try:
            with allure.step(s.name):
                if s.status != "passed":
                    raise _StepFailed(f"step {s.status}")
        except _StepFailed:
            pass
        try:  # put back the step's real times (allure stamps it now)
            res = listener.allure_logger.get_test(None).steps[-1]
            res.start = int(s.start * 1000)
            res.stop = int((s.stop or s.start) * 1000)
        except (AttributeError, IndexError, TypeError):
            pass

    rd = run_dir(item.config)
    for a in rec.attachments:
        p = Path(a.path)
        if not p.is_absolute():
            p = rd / p
        if not p.is_file():
            allure.attach(f"missing attachment: {a.path}\n", name=a.name + " (missing)",
                          attachment_type=allure.attachment_type.TEXT)
            continue
        mime, ext = _attach_kind(p, a.mime)
        allure.attach.file(str(p), name=a.name, attachment_type=mime, extension=ext)
    if rec.verdicts:
        allure.attach(json.dumps([v.to_dict() for v in rec.verdicts], indent=2), name="verdicts",
                      attachment_type=allure.attachment_type.JSON)
        allure.attach("\n".join(v.describe() for v in rec.verdicts) + "\n", name="oracle",
                      attachment_type=allure.attachment_type.TEXT)
    for i, t in enumerate(timelines, 1):
        allure.attach.file(str(t), name=f"roam timeline {i}", attachment_type=allure.attachment_type.SVG)


class _StepFailed(Exception):
    pass


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        rec = _record(item)
        if rec is not None:
            ph = _state(item.config).phases.setdefault(item.nodeid, {"reports": {}, "timelines": []})
            t0 = time.monotonic()
            try:
                ph["timelines"] = _render_timelines(item, rec)
            except Exception as e:  # a picture must never lose the case's verdict
                ph["timeline_error"] = f"{type(e).__name__}: {e}"
            if item.config.pluginmanager.get_plugin("allure_listener") is not None:
                try:
                    _apply_allure(item, rec, ph["timelines"])
                except Exception as e:
                    ph["allure_error"] = f"{type(e).__name__}: {e}"
            ph["overhead"] = time.monotonic() - t0  # report work is not the case's time


_COLOURS = {"passed": "green", "failed": "red", "error": "red", "skipped": "yellow"}


def host_load() -> dict | None:
    """{"load1": the 1-minute load average, "cpus": the host's CPU count}, or None where the
    platform has no load average."""
    try:
        load1 = os.getloadavg()[0]
    except (AttributeError, OSError):
        return None
    return {"load1": round(load1, 2), "cpus": os.cpu_count() or 0}


def _case_row(item, st: RunState, ph: dict) -> dict:
    """The case's summary row, from its setup/call/teardown reports and its CaseRecord."""
    verdict, reason = _outcome(ph["reports"])
    rec = _record(item)
    dur = max(0.0, sum(r.duration for r in ph["reports"].values()) - ph.get("overhead", 0.0))
    entry = sm.case_entry(item.nodeid, rec, verdict, reason, dur, st.dir, ph["timelines"])
    call = ph["reports"].get("call")
    if call is not None:
        # The case's own time: the first case's setup also boots the lab (a session fixture).
        entry["call_s"] = round(max(0.0, call.duration), 3)
    for k in ("timeline_error", "allure_error"):
        if k in ph:
            entry[k] = ph[k]
    load = host_load()
    if load is not None:
        # The host's load as the case ends: a lab VM starved of CPU answers late, so a verdict
        # that flips between runs is read next to it (bench stability prints it).
        entry["host_load"] = load
    fault = _fault(ph["reports"])
    if fault is not None:
        entry["fault"] = fault  # headline, layer, side, what recovery it needed
    # "recorded": the case had a CaseRecord, so it is announced on the console; popped on arrival.
    entry["recorded"] = rec is not None
    return jsonable(entry)  # plain data: it crosses to the xdist controller as it is


class _CaseRows:
    """In the process that writes summary.json (not an xdist worker): each case's row, as its
    teardown report arrives, here or from a worker."""

    def __init__(self, config):
        self.config = config

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report):
        _case_done(self.config, report)


def _case_done(config, report) -> None:
    """A case ends: its row joins the summary, which is rewritten, and its line goes to the
    console. A case interrupted before its teardown has no row; a worker that died mid-case
    sends a report without one (when "???"), which becomes an error row."""
    st = _state(config)
    facts = getattr(report, RUN_ATTR, None)
    if facts:
        merge_worker_facts(st.info, st.worker_labs, facts)
    entry = getattr(report, CASE_ATTR, None)
    if entry is None and report.when == "???" and report.failed:
        entry = dict(sm.case_entry(report.nodeid, None, "error", str(report.longrepr or "worker crashed"),
                                   report.duration, st.dir), recorded=True)  # the worker's own message
    if entry is None:
        return
    entry = dict(entry)
    recorded = entry.pop("recorded", False)
    st.cases.append(entry)
    if recorded or st.dir is not None:
        _write(st)
        _write_junit(config)
    if recorded:
        tr = config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None:
            verdict, reason, dur = entry["verdict"], entry["reason"], entry["duration_s"]
            tr.ensure_newline()
            first = reason.strip().splitlines()[0][:100] if reason.strip() and verdict != "passed" else ""
            # workers finish cases of different DUTs in any order: their lines name the DUT and worker
            where = f" {entry['dut']} on {facts['worker']}" if facts and entry.get("dut") else ""
            tr.write_line(sm.printable(f"[{entry['family'] or '-'}] {entry['case_id']}{where}  {verdict.upper()}  {dur:.1f}s"
                                       + (f"  ({first})" if first else "")), **{_COLOURS[verdict]: True})


def _document(st: RunState, final: bool) -> dict:
    now = time.time()
    run = {"id": st.dir.name if st.dir else "",
           "start": datetime.fromtimestamp(st.start, timezone.utc).isoformat(timespec="seconds"),
           "end": datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="seconds") if final else None,
           "duration_s": round(now - st.start, 3),
           "interrupted": st.interrupted,
           "complete": final and not st.interrupted}
    run.update(st.info)
    return {"schema": sm.SCHEMA, "run": run, "totals": sm.totals(st.cases), "cases": st.cases}


def _write(st: RunState, final: bool = False) -> None:
    if st.dir is None:
        # Cases without --run-dir: the folder is made now, so their results are not lost.
        run_dir(st.config)
    sm.write_atomic(st.dir / "summary.json", _document(st, final))


def _write_junit(config) -> None:
    """junit.xml of the cases so far, rewritten (atomically) as each case ends, so a run killed
    outright still leaves one; pytest's junitxml writes the final one at the end of the session.
    (Under xdist the workers have no junit writer: the controller writes it at the end.)"""
    from _pytest.junitxml import xml_key

    xml = config.stash.get(xml_key, None)
    if xml is None:
        return
    final = xml.logfile
    partial = os.path.join(os.path.dirname(final), "." + os.path.basename(final) + ".partial")
    try:
        xml.logfile = partial
        xml.pytest_sessionfinish()
        os.replace(partial, final)
    except OSError:
        pass  # the final junit still comes at the end of the session
    finally:
        xml.logfile = final


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if hasattr(config, "workerinput"):
        return
    st = _state(config)
    st.interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    if st.dir is None:  # nothing was recorded and no run folder was asked for
        return
    _write(st, final=True)
    try:
        from reports import publish

        # Manifest of the evidence, then the HTML certificates showing its hash, then the seal.
        # PDFs and the Allure page come from `roamcert report` (./roamcert run calls it).
        pub = publish.publish(st.dir, fresh=True, pdf=False)
        st.certificate = pub.index
        st.certificates = list(pub.certificates.values())
    except Exception as e:  # the summary stands even when the HTML cannot be made
        st.cert_error = f"{type(e).__name__}: {e}"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    st = peek_state(config)
    if st is None or st.dir is None:
        return
    tr = terminalreporter
    tr.section("roamcert reports")
    t = sm.totals(st.cases)
    tr.write_line(f"cases: {t['passed']} passed, {t['failed']} failed, {t['skipped']} skipped, "
                  f"{t['error']} error" + ("  (interrupted)" if st.interrupted else ""))
    tr.write_line(f"run folder:  {st.dir}")
    tr.write_line(f"summary:     {st.dir / 'summary.json'}")
    xml = getattr(config.option, "xmlpath", None)
    if xml:
        tr.write_line(f"junit:       {Path(xml).resolve()}")
    adir = getattr(config.option, "allure_report_dir", None)
    if adir:
        tr.write_line(f"allure:      {Path(adir).resolve()}  (HTML: ./roamcert report {st.dir})")
    if st.certificate:
        for c in st.certificates:
            tr.write_line(f"certificate: {c}")
        tr.write_line(f"index:       {st.certificate}")
        tr.write_line(f"manifest:    {st.dir / 'manifest.json'}  (./roamcert verify {st.dir})")
    elif st.cert_error:
        tr.write_line(f"certificate: not written: {st.cert_error}", red=True)
