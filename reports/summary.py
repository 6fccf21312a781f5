"""The run summary: runs/<id>/summary.json, its case entries, loading and atomic writes.

Layout (schema 1):

    {"schema": 1,
     "run": {"id", "start", "end", "duration_s", "command", "git_rev", "interrupted",
             "duts": [identity dicts: name, mac, version/firmware, capabilities, ...],
             "lab": {kernel, hostapd, wpa_supplicant, radios, ...},
             "versions": {python, pytest, ...}, ...extra keys given to set_run_info},
     "totals": {"passed", "failed", "skipped", "error"},
     "cases": [case entries, see case_entry()]}

The plugin adds "call_s" (the test body's time, without fixture setup/teardown) and
"host_load": {"load1", "cpus"} (the host's 1-minute load average as the case ended).
A failed case whose every FAIL verdict matches the findings registry (engine.findings)
carries "known_findings": [{id, title, severity, layer, upstream, rules, clause}].
Every verdict carries the layer whose behaviour it judges.
A case taken down by a lab fault (fixtures/lab_faults.py) is an "error" whose reason starts
with the fault's one line, and carries "fault": {headline, layer, side, restarts_lab,
rebuilds_dut, detail, when}.
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

from fixtures.run_folder import plain_json_default, jsonable  # noqa: F401 (one JSON form for run facts and cases)

SCHEMA = 1
OUTCOMES = ("passed", "failed", "skipped", "error")


class SummaryError(Exception):
    """A summary could not be read or is not a roamcert summary."""


def rel_to(path: str | os.PathLike, run_dir: Path | None) -> str:
    """A path relative to the run folder when it lies inside it, else as given."""
    p = Path(path)
    if run_dir is None or not p.is_absolute():
        return str(path)
    try:
        return str(p.resolve().relative_to(run_dir.resolve()))
    except ValueError:
        return str(path)




def case_entry(nodeid: str, record, verdict: str, reason: str, duration_s: float,
               run_dir: Path | None = None, timelines=()) -> dict:
    """One case of the summary. record is a fixtures.case.CaseRecord or None."""
    spec = getattr(record, "spec", None)
    entry = {
        "nodeid": nodeid,
        "case_id": spec.id if spec else nodeid,
        "title": spec.title if spec else nodeid.rsplit("::", 1)[-1],
        "family": spec.epic if spec else "",
        "feature": spec.feature if spec else "",
        "story": spec.story if spec else "",
        "requirements": list(spec.requirements) if spec else [],
        "needs": list(spec.needs) if spec else [],
        "severity": spec.severity if spec else "normal",
        "params": jsonable(spec.params) if spec else {},
        "verdict": verdict,
        "reason": reason,
        "duration_s": round(duration_s, 3),
        "dut": getattr(record, "dut", "") or "",
        "verdicts": [],
        "attachments": [],
        "steps": [],
        "metrics": {},
        "roams": [],
        "timelines": [rel_to(t, run_dir) for t in timelines],
    }
    if record is not None:
        entry["verdicts"] = [v.to_dict() for v in record.verdicts]
        entry["attachments"] = [{"name": a.name, "path": rel_to(a.path, run_dir), "mime": a.mime}
                                for a in record.attachments]
        entry["steps"] = [{"name": s.name, "start": s.start, "stop": s.stop, "status": s.status}
                          for s in record.steps]
        entry["metrics"] = jsonable(record.metrics)
        entry["roams"] = jsonable(record.roams)
    label_findings(entry)
    return entry


def _finding_label(f) -> dict:
    return {"id": f.id, "title": f.title, "severity": f.severity, "layer": f.layer,
            "upstream": f.upstream, "rules": list(f.rules), "clause": f.clause}


def known_findings(entry: dict) -> list[dict]:
    """The findings-registry entries that explain a failing case, when every FAIL verdict
    matches one; [] when any FAIL is unknown (or none failed). One label per distinct finding."""
    from engine import findings

    fails = [v for v in entry.get("verdicts") or [] if isinstance(v, dict) and v.get("status") == "fail"]
    if not fails:
        return []
    out: dict[str, dict] = {}
    for v in fails:
        f = findings.match(str(entry.get("case_id")), str(v.get("rule")), str(entry.get("dut") or ""),
                           v.get("layer") or None)
        if f is None:
            return []
        out.setdefault(f.id, _finding_label(f))
    return list(out.values())


def label_findings(entry: dict) -> dict:
    """Sets entry["known_findings"] (see known_findings) on a failing case; returns entry."""
    if entry.get("verdict") == "failed":
        try:
            entry["known_findings"] = known_findings(entry)
        except Exception as e:  # a broken registry must not lose the case's entry
            entry["known_findings"] = []
            entry["known_findings_error"] = f"{type(e).__name__}: {e}"
    return entry


def totals(cases) -> dict:
    t = dict.fromkeys(OUTCOMES, 0)
    for c in cases:
        v = c.get("verdict")
        if v in t:
            t[v] += 1
    return t


def write_atomic(path: Path, obj) -> None:
    """Write JSON so that a reader never sees half a file, even if we are killed mid-write."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, default=plain_json_default)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a summary is for everyone in the lab
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def summary_path(run: str | os.PathLike) -> Path:
    p = Path(run)
    return p / "summary.json" if p.is_dir() else p


def read_json(path, error: type[Exception], missing: str = "no such file"):
    """The JSON document in path; a missing, unreadable or malformed file raises `error`
    with a one-line message naming the file (the run's documents: summary, manifest, waivers)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise error(f"{path}: cannot read: {e}") from None
    except json.JSONDecodeError as e:
        raise error(f"{path}: not valid JSON: {e}") from None


def load(run: str | os.PathLike) -> dict:
    """Read a summary from a run folder or a summary.json path. Raises SummaryError."""
    p = summary_path(run)
    data = read_json(p, SummaryError)
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list) \
            or not isinstance(data.get("run"), dict):
        raise SummaryError(f"{p}: not a roamcert summary (needs 'run' and 'cases')")
    for i, c in enumerate(data["cases"]):
        if not isinstance(c, dict) or "case_id" not in c or "verdict" not in c:
            raise SummaryError(f"{p}: case #{i} lacks case_id or verdict")
    return data


def git_rev(root: Path) -> str:
    """The commit of the tree the suite ran from, with +dirty when it had local changes."""
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5)
        if rev.returncode != 0:
            return ""
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
        return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return ""


def anchor(text: str) -> str:
    """An HTML id fragment for a requirement or case name (the same in every report)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(text))[:120]


def printable(text) -> str:
    """Text safe for a terminal: control characters (ANSI escapes from a hostile SSID) shown as \\xNN."""
    return "".join(c if c.isprintable() or c == " " else f"\\x{ord(c):02x}" for c in str(text))
