"""The certification report: runs/<id>/certificate.html, one file that opens offline.

Inline CSS and inline SVG timelines, no external URL; one tiny inline script unfolds
every case for printing. Every string that
came from a DUT, the air or a log goes through esc().
"""
from __future__ import annotations

import html
import json
import re
from collections import OrderedDict
from pathlib import Path
from urllib.parse import quote

from reports import summary as sm

_ORDER = {"error": 0, "failed": 1, "skipped": 2, "passed": 3}
_BADGE = {"passed": "PASSED", "failed": "FAILED", "skipped": "SKIPPED", "error": "ERROR"}


def esc(v) -> str:
    if v is None:
        return ""
    if not isinstance(v, str):
        v = json.dumps(v, default=str, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v)
    return html.escape(v, quote=True)


def _kv_table(rows, cls="kv") -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="{cls}">{body}</table>' if body else '<p class="muted">none recorded</p>'


def _capabilities() -> dict:
    try:
        from devices.base import CAPABILITIES
        return dict(CAPABILITIES)
    except ImportError:
        return {}


def _overall(run: dict, totals: dict, n: int) -> tuple[str, str]:
    if n == 0:
        return "NO RESULTS", "bad"
    if run.get("interrupted") or run.get("complete") is False:
        return "INCOMPLETE RUN", "bad"
    if totals.get("failed") or totals.get("error"):
        return "NOT CONFORMANT", "bad"
    return "CONFORMANT", "good"


def _dut_section(duts) -> str:
    caps = _capabilities()
    if not duts:
        return '<p class="muted">No DUT identity was recorded.</p>'
    out = []
    for d in duts:
        if not isinstance(d, dict):
            d = {"name": d}
        declared = d.get("capabilities") or []
        if isinstance(declared, str):
            declared = [declared]
        declared = [str(c) for c in declared]
        rows = [("Name", esc(d.get("name"))), ("MAC", f'<code>{esc(d.get("mac"))}</code>')]
        for key, label in (("firmware", "Firmware"), ("version", "Version")):
            if d.get(key):
                rows.append((label, esc(d.get(key))))
        for k, v in d.items():
            if k not in ("name", "mac", "firmware", "version", "capabilities"):
                rows.append((k, esc(v)))
        cap_rows = "".join(
            f'<tr><td><code>{esc(c)}</code></td><td class="{"yes" if c in declared else "no"}">'
            f'{"declared" if c in declared else "not declared"}</td><td>{esc(caps.get(c, ""))}</td></tr>'
            for c in list(caps) + [c for c in declared if c not in caps])
        out.append(f'<div class="dut">{_kv_table(rows)}'
                   f'<table class="grid caps"><tr><th>Capability</th><th>Status</th><th>Meaning</th></tr>'
                   f'{cap_rows}</table></div>')
    return "".join(out)


def _counts_row(label_html: str, cs: list[dict]) -> str:
    t = sm.totals(cs)
    cells = "".join(f'<td class="num {k if t[k] else ""}">{t[k]}</td>' for k in sm.OUTCOMES)
    return f"<tr><td>{label_html}</td>{cells}<td class='num'>{len(cs)}</td></tr>"


def _family_table(cases) -> str:
    fams: OrderedDict[str, list] = OrderedDict()
    for c in cases:
        fams.setdefault(c.get("family") or "(none)", []).append(c)
    head = "<tr><th>Family</th><th>Passed</th><th>Failed</th><th>Skipped</th><th>Error</th><th>Total</th></tr>"
    rows = "".join(_counts_row(esc(f), cs) for f, cs in fams.items())
    return f'<table class="grid">{head}{rows}{_counts_row("<b>All</b>", cases)}</table>'


def _req_table(cases) -> str:
    reqs: OrderedDict[str, list] = OrderedDict()
    for c in cases:
        for r in c.get("requirements") or []:
            reqs.setdefault(str(r), []).append(c)
    if not reqs:
        return '<p class="muted">No requirement was named by the cases.</p>'
    rows = []
    for r, cs in sorted(reqs.items()):
        worst = min((c.get("verdict", "error") for c in cs), key=lambda v: _ORDER.get(v, 0))
        if all(c.get("verdict") == "skipped" for c in cs):
            status = "not tested"
        else:
            status = _BADGE.get(worst, worst).lower() if worst != "skipped" else "passed"
        items = []
        for c in sorted(cs, key=lambda c: _ORDER.get(c.get("verdict"), 0)):
            why = f' — {esc(c.get("reason"))}' if c.get("reason") and c.get("verdict") != "passed" else ""
            items.append(f'<li><a href="#case-{esc(_case_anchor(c))}">{esc(c["case_id"])}</a>'
                         f'{" [" + esc(c.get("dut")) + "]" if c.get("dut") else ""} '
                         f'<span class="v {esc(c.get("verdict"))}">{esc(c.get("verdict"))}</span>{why}</li>')
        rows.append(f'<tr id="req-{esc(sm.anchor(r))}"><td>{esc(r)}</td>'
                    f'<td><span class="v {status.split()[0]}">{esc(status)}</span></td>'
                    f'<td><ul class="plain">{"".join(items)}</ul></td></tr>')
    return ('<table class="grid"><tr><th>Requirement</th><th>Result</th><th>Cases</th></tr>'
            + "".join(rows) + "</table>")


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


def _svg_inline(text: str) -> str | None:
    i = text.find("<svg")
    if i < 0:
        return None
    text = re.sub(r"<metadata>.*?</metadata>", "", text[i:], flags=re.S)
    # matplotlib's one rule sets stroke joins for "*": inline, it would leak onto the page.
    text = _MPL_STYLE.sub("", text)
    if _SVG_BAD.search(text):
        return None  # not our picture; link it instead of inlining it
    return text


def _timelines(c: dict, run_dir: Path) -> str:
    out = []
    for t in c.get("timelines") or []:
        href = _evidence_href(t, run_dir)
        p = run_dir / t if not Path(t).is_absolute() else Path(t)
        svg = None
        if href and p.is_file():
            svg = _svg_inline(p.read_text(encoding="utf-8", errors="replace"))
        if svg:
            out.append(f'<figure class="timeline">{svg}</figure>')
        elif href:
            out.append(f'<p><a href="{href}">{esc(t)}</a> (timeline not inlined)</p>')
    if not out and c.get("roams"):
        from reports import timeline

        for i, roam in enumerate(c["roams"], 1):
            try:
                out.append(f'<figure class="timeline">{timeline.svg(roam)}</figure>')
            except Exception as e:  # bad roam data is shown as such, never a traceback
                out.append(f'<p class="muted">roam {i}: no timeline: {esc(e)}</p>')
    return "".join(out)


def _verdicts(vs) -> str:
    if not vs:
        return '<p class="muted">The oracle gave no verdict.</p>'
    rows = []
    for v in vs:
        st = str(v.get("status", ""))
        ev = ", ".join(str(e) for e in v.get("evidence") or [])
        msg = f'<div class="msg">{esc(v.get("message"))}</div>' if v.get("message") else ""
        rows.append(f'<tr class="{esc(st)}"><td><span class="v {esc(st)}">{esc(st.upper())}</span></td>'
                    f'<td><code>{esc(v.get("rule"))}</code></td><td>{esc(v.get("clause"))}</td>'
                    f'<td>{esc(v.get("expected"))}</td><td>{esc(v.get("observed"))}{msg}</td>'
                    f'<td class="ev">{esc(ev)}</td></tr>')
    return ('<table class="grid verdicts"><tr><th>Status</th><th>Rule</th><th>Clause</th><th>Expected</th>'
            '<th>Observed</th><th>Evidence</th></tr>' + "".join(rows) + "</table>")


def _case(c: dict, run_dir: Path) -> str:
    v = c.get("verdict", "error")
    reqs = ", ".join(f'<a href="#req-{esc(sm.anchor(r))}">{esc(r)}</a>' for r in c.get("requirements") or [])
    meta = [("Family / feature / story", esc(" / ".join(x for x in (c.get("family"), c.get("feature"),
                                                                     c.get("story")) if x))),
            ("Requirements", reqs or '<span class="muted">none</span>'),
            ("DUT", esc(c.get("dut"))), ("Severity", esc(c.get("severity"))),
            ("Duration", f'{float(c.get("duration_s") or 0):.2f} s'),
            ("Test", f'<code>{esc(c.get("nodeid"))}</code>')]
    if c.get("needs"):
        meta.append(("Needs", esc(", ".join(map(str, c["needs"])))))
    reason = (f'<div class="reason {esc(v)}"><b>{esc(_BADGE.get(v, v))}:</b> <pre>{esc(c.get("reason"))}</pre></div>'
              if c.get("reason") else "")
    metrics = ""
    if c.get("metrics"):
        metrics = "<h4>Measurements</h4>" + _kv_table([(k, esc(m)) for k, m in c["metrics"].items()])
    ev = []
    for a in c.get("attachments") or []:
        href = _evidence_href(str(a.get("path", "")), run_dir)
        name = esc(a.get("name"))
        mime = esc(a.get("mime"))
        if href:
            ev.append(f'<li><a href="{href}">{name}</a> <span class="muted">{esc(a.get("path"))} · {mime}</span></li>')
        else:
            ev.append(f'<li>{name} <span class="muted">{esc(a.get("path"))} (not in the run folder) · {mime}</span></li>')
    evidence = f'<h4>Evidence</h4><ul class="plain">{"".join(ev)}</ul>' if ev else ""
    steps = ""
    if c.get("steps"):
        items = "".join(f'<li><span class="v {esc(s.get("status"))}">{esc(s.get("status"))}</span> '
                        f'{esc(s.get("name"))}</li>' for s in c["steps"])
        steps = f'<h4>Steps</h4><ol class="steps">{items}</ol>'
    tl = _timelines(c, run_dir)
    tl = f"<h4>Roam timeline</h4>{tl}" if tl else ""
    open_ = "" if v == "passed" else " open"
    return (f'<details class="case {esc(v)}" id="case-{esc(_case_anchor(c))}"{open_}>'
            f'<summary><span class="v {esc(v)}">{esc(_BADGE.get(v, v))}</span> '
            f'<b>{esc(c.get("case_id"))}</b> {esc(c.get("title"))}'
            f'{" <span class=muted>[" + esc(c.get("dut")) + "]</span>" if c.get("dut") else ""}</summary>'
            f'<div class="body">{_kv_table(meta)}{reason}<h4>Verdicts</h4>{_verdicts(c.get("verdicts"))}'
            f'{metrics}{tl}{steps}{evidence}</div></details>')


_CSS = """
*{box-sizing:border-box}
body{font:13px/1.45 "DejaVu Sans",Helvetica,Arial,sans-serif;color:#1d2329;margin:0;background:#fff}
main{max-width:1180px;margin:0 auto;padding:28px 32px}
h1{font-size:22px;margin:0}h2{font-size:16px;border-bottom:2px solid #1d2329;padding-bottom:3px;margin:28px 0 10px}
h3{font-size:14px;margin:16px 0 6px}h4{font-size:12.5px;margin:14px 0 5px;color:#37474f}
header.top{display:flex;justify-content:space-between;align-items:flex-start;border-bottom:3px double #1d2329;padding-bottom:12px}
.sub{color:#555;margin-top:4px}
.stamp{border:3px solid;padding:8px 16px;font-size:18px;font-weight:bold;letter-spacing:1px;text-align:center;border-radius:4px}
.stamp.good{color:#1b5e20;border-color:#1b5e20}.stamp.bad{color:#b00020;border-color:#b00020}
.stamp small{display:block;font-size:11px;font-weight:normal;letter-spacing:0;color:#333}
table{border-collapse:collapse;margin:4px 0 8px}
table.kv th{text-align:left;font-weight:600;padding:2px 14px 2px 0;vertical-align:top;color:#37474f;white-space:nowrap}
table.kv td{padding:2px 0;vertical-align:top;word-break:break-word}
table.grid{width:100%}table.grid th,table.grid td{border:1px solid #cfd6dd;padding:4px 7px;vertical-align:top;text-align:left}
table.grid th{background:#eef1f4;font-weight:600}
td.num{text-align:right;width:70px}td.num.failed,td.num.error{color:#b00020;font-weight:bold}
td.yes{color:#1b5e20}td.no{color:#888}
table.verdicts td{word-break:break-word}td.ev{font-family:monospace;font-size:11.5px}
tr.fail td{background:#fdecee}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:24px}
.v{display:inline-block;font-size:10.5px;font-weight:bold;padding:1px 6px;border-radius:3px;text-transform:uppercase;border:1px solid}
.v.passed,.v.pass{color:#1b5e20;border-color:#1b5e20}.v.failed,.v.fail,.v.error{color:#fff;background:#b00020;border-color:#b00020}
.v.skipped,.v.not{color:#8a6d00;border-color:#c9a400}.v.info{color:#0d47a1;border-color:#0d47a1}
details.case{border:1px solid #cfd6dd;border-left:5px solid #1b5e20;margin:8px 0;border-radius:3px;page-break-inside:avoid}
details.case.failed,details.case.error{border-left-color:#b00020}details.case.skipped{border-left-color:#c9a400}
details.case summary{cursor:pointer;padding:6px 10px;background:#f6f7f9}
details.case .body{padding:6px 12px 10px}
.reason pre{white-space:pre-wrap;margin:4px 0;font-size:12px;background:#fafafa;border:1px solid #e3e3e3;padding:6px}
figure.timeline{margin:6px 0;overflow-x:auto}figure.timeline svg{max-width:100%;height:auto}
ul.plain{list-style:none;padding-left:0;margin:2px 0}ol.steps{margin:2px 0;padding-left:22px}
.muted{color:#777}code{font-size:12px}a{color:#0d47a1}
.sign{display:grid;grid-template-columns:1fr 1fr 1fr;gap:28px;margin-top:36px}
.sign div{border-top:1px solid #1d2329;padding-top:4px;color:#555;font-size:11.5px}
footer{margin-top:28px;color:#777;font-size:11px;border-top:1px solid #cfd6dd;padding-top:6px}
@media print{main{padding:0;max-width:none}details.case{break-inside:avoid}a{color:inherit;text-decoration:none}
 @page{size:A4;margin:14mm}}
"""


# Passed cases start folded on screen; paper gets every case unfolded.
_PRINT_OPEN = ("<script>addEventListener('beforeprint',function(){document.querySelectorAll('details')"
               ".forEach(function(d){d.open=true})})</script>")


def render(data: dict, run_dir: Path) -> str:
    """The certificate HTML for a loaded summary."""
    run = data.get("run") or {}
    cases = data.get("cases") or []
    totals = sm.totals(cases)
    verdict, tone = _overall(run, totals, len(cases))
    duts = run.get("duts") or ([run["dut"]] if run.get("dut") else [])
    names = ", ".join(str(d.get("name") if isinstance(d, dict) else d) for d in duts) or "unknown DUT"
    lab = run.get("lab") or {}
    meta_rows = [("Run", esc(run.get("id"))), ("Start (UTC)", esc(run.get("start"))),
                 ("End (UTC)", esc(run.get("end") or "not finished")),
                 ("Duration", f'{float(run.get("duration_s") or 0):.1f} s'),
                 ("Command", f'<code>{esc(run.get("command"))}</code>'),
                 ("Suite revision", f'<code>{esc(run.get("git_rev") or "unknown")}</code>')]
    known = {"id", "start", "end", "duration_s", "command", "git_rev", "duts", "dut", "lab", "versions",
             "interrupted", "complete"}
    meta_rows += [(k, esc(v)) for k, v in run.items() if k not in known]
    versions = run.get("versions") or {}
    skipped = [c for c in cases if c.get("verdict") == "skipped"]
    skip_note = ""
    if verdict == "CONFORMANT" and skipped:
        skip_note = f"<small>{len(skipped)} case(s) not applicable (skipped)</small>"
    body = f"""
<header class="top">
 <div><h1>Wi-Fi Roaming Conformance Report</h1>
  <div class="sub">roamcert · 802.11k / 802.11v / 802.11r / Native 802.11 roaming indications</div>
  <div class="sub">Device under test: <b>{esc(names)}</b> · run <code>{esc(run.get("id"))}</code></div></div>
 <div class="stamp {tone}">{verdict}<small>{totals["passed"]} passed · {totals["failed"]} failed ·
  {totals["skipped"]} skipped · {totals["error"]} error</small>{skip_note}</div>
</header>
<h2>Device under test</h2>{_dut_section(duts)}
<div class="cols"><div><h2>Lab</h2>{_kv_table([(k, esc(v)) for k, v in lab.items()])}</div>
<div><h2>Run</h2>{_kv_table(meta_rows)}<h3>Versions</h3>{_kv_table([(k, esc(v)) for k, v in versions.items()])}</div></div>
<h2>Summary by family</h2>{_family_table(cases)}
<h2>Summary by requirement</h2>{_req_table(cases)}
<h2>Cases</h2>{"".join(_case(c, run_dir) for c in cases) or '<p class="muted">No case ran.</p>'}
<div class="sign"><div>Tested by (name, signature)</div><div>Reviewed by (name, signature)</div><div>Date</div></div>
<footer>Verdicts come from the roamcert reference engine; each names its source clause (IEEE 802.11-2020 or
the Native 802.11 General Roaming Operation Guidelines). Evidence links are relative to the run folder.</footer>"""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>Roaming conformance — {esc(names)} — {esc(run.get("id"))}</title>'
            f"<style>{_CSS}</style></head><body><main>{body}</main>{_PRINT_OPEN}</body></html>\n")


def build(run_dir: str | Path) -> Path:
    """Write run_dir/certificate.html from run_dir/summary.json. Raises summary.SummaryError."""
    run_dir = Path(run_dir)
    if run_dir.name == "summary.json":
        run_dir = run_dir.parent
    data = sm.load(run_dir)
    out = run_dir / "certificate.html"
    tmp = out.with_name(".certificate.html.tmp")
    tmp.write_text(render(data, run_dir), encoding="utf-8")
    tmp.replace(out)
    return out
