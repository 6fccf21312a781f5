"""The certification report of one DUT: runs/<id>/certificate-<dut>.html (and .pdf).

Rendered from Jinja2 templates (reports/templates/) with autoescaping on: every string
that came from a DUT, the air or a log is text. Inline CSS and inline SVG timelines, no
external URL; one tiny inline script unfolds every case for printing. The certificate
states the profile (id, version, SHA-256), the verdict under it (reports.profile), the
known finding of each failure, the layer of every FAIL, and the manifest hash
(reports.manifest) that anchors the evidence.

A run with several DUTs gets one certificate per DUT and index.html linking them
(reports.publish builds them all); a case recorded without a DUT goes to certificate.html.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from reports import metrics as mx
from reports import profile as pf
from reports import summary as sm

TEMPLATES = Path(__file__).resolve().parent / "templates"
_ORDER = {"error": 0, "failed": 1, "skipped": 2, "passed": 3}
_BADGE = {"passed": "PASSED", "failed": "FAILED", "skipped": "SKIPPED", "error": "ERROR"}


def _vclass(v) -> str:
    """A CSS class from a verdict word: letters and dashes only."""
    return re.sub(r"[^a-z-]", "", str(v).lower().split(" ")[0])


def css_string(text: str) -> Markup:
    """A CSS string literal: quotes, backslashes, newlines and '<' escaped (no </style> break-out)."""
    out = []
    for ch in str(text):
        if ch == "\n":
            out.append("\\a ")  # a line break in CSS content (with white-space: pre)
        elif ch in '"\\<>&' or ord(ch) < 0x20 or ord(ch) == 0x7f:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return Markup('"' + "".join(out) + '"')


def human(value, unit: str) -> str:
    """A measured value for people: µs of a second or more in s, of a millisecond or more in
    ms (1000000 µs -> "1 s", 165200 µs -> "165.2 ms"); other units as mx.fmt gives them."""
    x = float(value)
    if unit == "µs" and abs(x) >= 1_000_000:
        return f"{x / 1e6:.3g} s"
    if unit == "µs" and abs(x) >= 1000:
        return f"{x / 1000:.1f} ms"
    return f"{mx.fmt(x)} {unit}".rstrip()


def describe_human(d, unit: str) -> str:
    return f"n={d.n} p50={human(d.p50, unit)} p95={human(d.p95, unit)} max={human(d.max, unit)}"


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False)
    env.filters.update(vclass=_vclass, anchor=sm.anchor, fmt=lambda x: mx.fmt(float(x)), human=human,
                       describe=describe_human,
                       unit=lambda n: mx.UNITS.get(n, ""), metric_title=lambda n: mx.TITLES.get(n, n))
    return env


def file_name(dut: str, suffix: str = ".html") -> str:
    """certificate-<dut>.html; certificate.html for cases recorded without a DUT."""
    return f"certificate-{sm.anchor(dut)}{suffix}" if dut else f"certificate{suffix}"


def dut_names(data: dict) -> list[str]:
    """The DUTs of a run, in order of first appearance among its cases (then identities)."""
    out: list[str] = []
    for c in data.get("cases") or []:
        d = str(c.get("dut") or "")
        if d not in out:
            out.append(d)
    for ident in (data.get("run") or {}).get("duts") or []:
        d = str(ident.get("name") if isinstance(ident, dict) else ident)
        if d and d not in out and not any(c.get("dut") for c in data.get("cases") or [] if str(c.get("dut")) == d):
            out.append(d)
    named = [d for d in out if d]
    # Cases recorded without a DUT (plain tests beside the suite) get no certificate of their
    # own when DUTs exist; index.html lists them.
    return named or [""]


def identity(run: dict, dut: str) -> dict | None:
    for d in run.get("duts") or ([run["dut"]] if run.get("dut") else []):
        ident = d if isinstance(d, dict) else {"name": d}
        if str(ident.get("name") or "") == dut:
            return ident
    return None


def _capabilities() -> dict:
    try:
        from devices.base import CAPABILITIES
        return dict(CAPABILITIES)
    except ImportError:
        return {}


def _dut_context(ident: dict | None):
    if ident is None:
        return None
    caps = _capabilities()
    declared = ident.get("capabilities") or []
    if isinstance(declared, str):
        declared = [declared]
    declared = [str(c) for c in declared]
    rows = [("Name", ident.get("name")), ("MAC", ident.get("mac"))]
    for key, label in (("firmware", "Firmware"), ("version", "Version")):
        if ident.get(key):
            rows.append((label, ident.get(key)))
    rows += [(k, _text(v)) for k, v in ident.items() if k not in ("name", "mac", "firmware", "version", "capabilities")]
    return {"rows": rows,
            "caps": [{"name": c, "declared": c in declared, "meaning": caps.get(c, "")}
                     for c in list(caps) + [c for c in declared if c not in caps]]}


def _text(v) -> str:
    import json

    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v, default=str, ensure_ascii=False)
    return str(v)


def _case_anchor(c: dict) -> str:
    return sm.anchor(f'{c.get("case_id")}-{c.get("dut") or ""}-{c.get("nodeid")}')


def _evidence_href(path: str, run_dir: Path) -> str | None:
    """A relative link when the file exists inside the run folder, else None."""
    p = Path(path)
    full = p if p.is_absolute() else run_dir / p
    try:
        rel = full.resolve().relative_to(run_dir.resolve())
        if not full.is_file():
            return None
    except (ValueError, OSError):
        return None
    return quote(rel.as_posix())


_SVG_BAD = re.compile(r"<\s*(script|foreignObject|iframe|image|style)|\son\w+\s*="
                      r"|href\s*=\s*([\"']?)\s*(?![\s\"'#])|url\(\s*([\"']?)\s*(?![\s\"'#])", re.I)
_MPL_STYLE = re.compile(r"<style[^>]*>\s*\*\s*\{[^<{}]*\}\s*</style>")


def svg_inline(text: str) -> str | None:
    i = text.find("<svg")
    if i < 0:
        return None
    text = re.sub(r"<metadata>.*?</metadata>", "", text[i:], flags=re.S)
    # matplotlib's one rule sets stroke joins for "*": inline, it would leak onto the page.
    text = _MPL_STYLE.sub("", text)
    if _SVG_BAD.search(text):
        return None  # not our picture; link it instead of inlining it
    return text


def _timelines(c: dict, run_dir: Path) -> list[dict]:
    out = []
    for t in c.get("timelines") or []:
        href = _evidence_href(t, run_dir)
        p = run_dir / t if not Path(t).is_absolute() else Path(t)
        svg = None
        if href and p.is_file():
            svg = svg_inline(p.read_text(encoding="utf-8", errors="replace"))
        if svg:
            out.append({"svg": Markup(svg), "href": href, "name": t})
        elif href:
            out.append({"svg": None, "href": href, "name": t})
    if not out and c.get("roams"):
        from reports import timeline

        for i, roam in enumerate(c["roams"], 1):
            try:
                svg = svg_inline(timeline.svg(roam))
                out.append({"svg": Markup(svg) if svg else None, "href": None,
                            "name": "" if svg else f"roam {i}: timeline not inlined"})
            except Exception as e:  # bad roam data is shown as such, never a traceback
                out.append({"svg": None, "href": None, "name": f"roam {i}: no timeline: {e}"})
    return out


def _case_context(c: dict, run_dir: Path) -> dict:
    v = str(c.get("verdict", "error"))
    verdicts = []
    for x in c.get("verdicts") or []:
        if not isinstance(x, dict):
            continue
        verdicts.append({"status": str(x.get("status", "")), "rule": x.get("rule"), "clause": x.get("clause"),
                         "layer": x.get("layer") or "DUT", "expected": x.get("expected"),
                         "observed": x.get("observed"), "message": x.get("message"),
                         "evidence": ", ".join(str(e) for e in x.get("evidence") or [])})
    evidence = []
    for att in c.get("attachments") or []:
        evidence.append({"href": _evidence_href(str(att.get("path", "")), run_dir), "name": att.get("name"),
                         "path": att.get("path"), "mime": att.get("mime")})
    metrics = c.get("metrics") if isinstance(c.get("metrics"), dict) else {}
    reason = str(c.get("reason") or "")
    return {**_condensed(verdicts, reason, c),"anchor": _case_anchor(c), "verdict": v, "badge": _BADGE.get(v, v), "case_id": c.get("case_id"),
            "title": c.get("title"), "dut": c.get("dut"),
            "path": " / ".join(str(x) for x in (c.get("family"), c.get("feature"), c.get("story")) if x),
            "requirements": [str(r) for r in c.get("requirements") or []], "severity": c.get("severity"),
            "duration": float(c.get("duration_s") or 0), "nodeid": c.get("nodeid"),
            "needs": [str(n) for n in c.get("needs") or []], "reason": c.get("reason"),
            "findings": c.get("known_findings") or [], "verdicts": verdicts,
            "metrics": [(k, _text(m)) for k, m in metrics.items()],
            "timelines": _timelines(c, run_dir), "evidence": evidence,
            "steps": [{"status": s.get("status"), "name": s.get("name")} for s in c.get("steps") or []
                      if isinstance(s, dict)]}


PRINT_REASON_LINES = 12  # of a failure's message, on paper (the HTML has all of it)
PRINT_MESSAGE_CHARS = 400
PRINT_REASON_CHARS = 1500
# a cell of a printed FAIL row: the clause's quote and the evidence list are in the HTML in full
PRINT_CELL_CHARS = {"clause": 140, "expected": 300, "observed": 300, "evidence": 200}


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n].rstrip() + " …"


def _condensed(verdicts: list[dict], reason: str, c: dict) -> dict:
    """What the printed certificate shows of a case: its FAIL rules (a rule that failed the
    same way on every roam once, with the count), the verdict counts, the first lines of its
    failure message and its measurements in one line each."""
    fails, seen = [], {}
    for v in verdicts:
        if v["status"] != "fail":
            continue
        key = (v["rule"], v["clause"], v["layer"], str(v["expected"]))
        if key in seen:
            seen[key]["repeat"] += 1
            continue
        row = dict(v, repeat=1, message=_clip(str(v["message"] or ""), PRINT_MESSAGE_CHARS))
        seen[key] = row
        fails.append(row)
    failed_rules: OrderedDict[tuple, int] = OrderedDict()
    for v in verdicts:
        if v["status"] == "fail":
            failed_rules[(v["rule"], v["layer"])] = failed_rules.get((v["rule"], v["layer"]), 0) + 1
    counts: OrderedDict[str, int] = OrderedDict()
    for v in verdicts:
        counts[v["status"] or "?"] = counts.get(v["status"] or "?", 0) + 1
    lines = reason.splitlines()
    # With FAIL verdicts the message repeats them (their table follows): its first line says
    # enough. Without (an error, a setup failure), its first lines are the evidence.
    keep = 1 if fails else PRINT_REASON_LINES
    short = _clip("\n".join(lines[:keep]), PRINT_REASON_CHARS)
    if len(lines) > keep:
        short += f"\n… {len(lines) - keep} more line(s) in the HTML certificate"
    for row in fails:
        for k, n in PRINT_CELL_CHARS.items():
            row[k] = _clip(str(row[k] if row[k] is not None else ""), n)
    metric_lines = []
    for name in mx.NAMES:
        d = mx.Distribution.of(mx.samples(c, name)) if name != "duration_s" else None
        if d:
            metric_lines.append((name, f"{mx.TITLES[name]}: {describe_human(d, mx.UNITS[name])}" if d.n > 1
                                 else f"{mx.TITLES[name]}: {human(d.max, mx.UNITS[name])}"))
    return {"fails": fails, "failed_rules": [(r, l, n) for (r, l), n in failed_rules.items()],
            "verdict_counts": ", ".join(f"{n} {k}" for k, n in counts.items()) or "none",
            "reason_short": short, "reason_line": (lines[0][:160] if lines else ""),
            "metric_lines": metric_lines}


def _families(cases) -> list:
    fams: OrderedDict[str, list] = OrderedDict()
    for c in cases:
        fams.setdefault(c.get("family") or "(none)", []).append(c)
    rows = [(f, sm.totals(cs), len(cs)) for f, cs in fams.items()]
    return rows + [("All", sm.totals(cases), len(cases))]


def _requirements(cases) -> list[dict]:
    reqs: OrderedDict[str, list] = OrderedDict()
    for c in cases:
        for r in c.get("requirements") or []:
            reqs.setdefault(str(r), []).append(c)
    out = []
    for r, cs in sorted(reqs.items()):
        worst = min((c.get("verdict", "error") for c in cs), key=lambda v: _ORDER.get(v, 0))
        if all(c.get("verdict") == "skipped" for c in cs):
            status = "not tested"
        else:
            status = _BADGE.get(worst, worst).lower() if worst != "skipped" else "passed"
        # the first line of a failure's message: the whole message is in the case's own section
        items = [{"anchor": _case_anchor(c), "case_id": c["case_id"], "verdict": c.get("verdict"),
                  "why": (str(c.get("reason")).splitlines() or [""])[0][:200]
                  if c.get("reason") and c.get("verdict") != "passed" else ""}
                 for c in sorted(cs, key=lambda c: _ORDER.get(c.get("verdict"), 0))]
        out.append({"name": r, "status": status, "cases": items})
    return out


def _coverage(cases) -> tuple[list[dict], str]:
    """The coverage matrix of the suites' tables with this run's counts, and a note when the
    tables could not be read (then only the run's own cases make rows)."""
    from reports import coverage_matrix as cov
    try:
        subs = cov.matrix()
        note = ""
    except Exception as e:  # a broken suite module must not cost the certificate
        subs, note = [], f"The suites' case tables could not be read ({type(e).__name__}: {e}); only this run's cases are shown."
    return cov.run_coverage(cases, subs), note


def profile_for(data: dict, asked: str | Path | None = None) -> tuple[pf.Profile | None, list[str]]:
    """The profile to judge a run by: the one asked for, else the one the run recorded.
    Returns it and notes for the certificate (e.g. the file changed since the run)."""
    notes = []
    rec = (data.get("run") or {}).get("profile")
    if asked is None and not rec:
        return None, []
    name = asked or (rec.get("id") if isinstance(rec, dict) else rec)
    prof = pf.load(name)
    if asked is None and isinstance(rec, dict) and rec.get("sha256") and rec["sha256"] != prof.sha256:
        notes.append(f"The profile file changed since the run: the run recorded {rec.get('id')} "
                     f"{rec.get('version')} (SHA-256 {rec['sha256']}); judged here by the current file.")
    if asked is not None and isinstance(rec, dict) and rec.get("id") and rec.get("id") != prof.id:
        notes.append(f"The run was made under profile {rec.get('id')}; this certificate judges it by {prof.id}.")
    return prof, notes


def context(data: dict, run_dir: Path, dut: str, profile: pf.Profile | None, manifest_hash: str | None = None,
            profile_notes=(), all_open: bool = False, printed: bool = False) -> dict:
    """printed: the PDF's document (a verdict table and the failed verdicts of the cases that
    did not pass, instead of every verdict, timeline and evidence link of every case)."""
    run = data.get("run") or {}
    cases = [c for c in data.get("cases") or [] if str(c.get("dut") or "") == dut]
    for c in cases:
        if c.get("verdict") == "failed" and "known_findings" not in c:
            sm.label_findings(c)  # summaries written before the registry existed
    ident = identity(run, dut)
    a = pf.assess(cases, profile, dut, ident, run)
    known = {"id", "start", "end", "duration_s", "command", "git_rev", "duts", "dut", "lab", "versions",
             "interrupted", "complete", "profile"}
    run_rows = [("Run", run.get("id")), ("Start (UTC)", run.get("start")),
                ("End (UTC)", run.get("end") or "not finished"),
                ("Duration", f'{float(run.get("duration_s") or 0):.1f} s'),
                ("Command", run.get("command")), ("Suite revision", run.get("git_rev") or "unknown")]
    run_rows += [(k, _text(v)) for k, v in run.items() if k not in known]
    # Two lines: a 64-digit hash does not fit beside the rest on A4.
    footer = ("profile " + (f"{profile.id} {profile.version}" if profile else "none")
              + f" · DUT {dut or 'unknown'} · run {run.get('id') or ''}"
              + f"\nmanifest SHA-256 {manifest_hash or 'not sealed'}")
    ctx_cases = [_case_context(c, run_dir) for c in cases]
    coverage, coverage_note = _coverage(cases)
    return {"run": {"id": run.get("id")}, "dut_name": dut, "dut": _dut_context(ident), "a": a, "profile": profile,
            # a twin (esp32-twin) is a simulation that proves the adapter; its findings are its
            # backing supplicant's, never a device's
            "simulation": (ident or {}).get("simulation"), "backing": (ident or {}).get("backing"),
            # a DUT broken or slowed on purpose (linux-wpas:slow, :no-btm...): never a certificate
            "test_mutant": (ident or {}).get("test_mutant"),
            "profile_notes": list(profile_notes), "manifest_hash": manifest_hash, "totals": sm.totals(cases),
            "not_applicable": sum(1 for c in cases if c.get("verdict") == "skipped")
            if a.verdict != pf.NOT_CONFORMANT else 0,
            "lab": [(k, _text(v)) for k, v in (run.get("lab") or {}).items()],
            "run_rows": run_rows, "versions": [(k, _text(v)) for k, v in (run.get("versions") or {}).items()],
            "families": _families(cases), "coverage": coverage, "coverage_note": coverage_note,
            "outcomes": sm.OUTCOMES, "requirements": _requirements(cases),
            "requirement_names": {str(r) for c in cases for r in c.get("requirements") or []},
            "cases": ctx_cases, "anchors": {str(c.get("case_id")): _case_anchor(c) for c in cases},
            "css": Markup((TEMPLATES / "certificate.css").read_text(encoding="utf-8")),
            "css_footer": css_string(footer), "all_open": all_open, "printed": printed,
            "html_name": file_name(dut),
            "generated": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def render(data: dict, run_dir: Path, dut: str | None = None, profile: pf.Profile | None = None,
           manifest_hash: str | None = None, profile_notes=(), all_open: bool = False,
           printed: bool = False) -> str:
    """The certificate HTML of one DUT of a loaded summary (the only DUT when dut is None);
    printed: the condensed document the PDF is printed from."""
    if dut is None:
        names = dut_names(data)
        if len(names) != 1:
            raise ValueError(f"the run has {len(names)} DUTs ({', '.join(names)}): say which")
        dut = names[0]
    html = environment().get_template("certificate.html.j2").render(
        **context(data, Path(run_dir), dut, profile, manifest_hash, profile_notes, all_open, printed))
    return html


def write_text_atomic(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def build(run_dir: str | Path, dut: str | None = None, profile: str | Path | None = None,
          manifest_hash: str | None = None) -> Path:
    """Write the HTML certificate of one DUT (the only one when dut is None) from summary.json.
    Raises summary.SummaryError, profile.ProfileError. reports.publish builds every DUT's."""
    run_dir = Path(run_dir)
    if run_dir.name == "summary.json":
        run_dir = run_dir.parent
    data = sm.load(run_dir)
    if dut is None:
        names = dut_names(data)
        if len(names) != 1:
            raise ValueError(f"the run has {len(names)} DUTs ({', '.join(names)}): say which")
        dut = names[0]
    prof, notes = profile_for(data, profile)
    return write_text_atomic(run_dir / file_name(dut),
                             render(data, run_dir, dut, prof, manifest_hash, notes))
