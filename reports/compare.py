"""Two runs side by side (two DUTs, or two builds of one): verdicts, known findings, failed
rules with their layer, and metric percentiles, per case. A terminal table and an HTML page.

Rows are keyed by case id when each side is one DUT (the only DUT of its run, or the one
chosen with dut_a/dut_b), else by case id and DUT.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reports import certificate
from reports import metrics as mx
from reports import summary as sm

METRICS = ("roam_time_us", "data_outage_pings", "duration_s")


@dataclass
class Side:
    verdict: str = "absent"
    findings: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "RULE (layer)"
    metrics: dict = field(default_factory=dict)  # name -> Distribution


@dataclass
class Row:
    case_id: str
    dut: str
    a: Side
    b: Side

    @property
    def differs(self) -> bool:
        return (self.a.verdict, self.a.findings, self.a.failed) != (self.b.verdict, self.b.findings, self.b.failed)


def _side(c: dict | None) -> Side:
    if c is None:
        return Side()
    if c.get("verdict") == "failed" and "known_findings" not in c:
        sm.label_findings(c)
    return Side(str(c.get("verdict")), [f"{f.get('id')} ({f.get('severity')})" for f in c.get("known_findings") or []],
                [f"{v.get('rule')} ({v.get('layer') or 'DUT'})" for v in c.get("verdicts") or []
                 if isinstance(v, dict) and v.get("status") == "fail"],
                {m: d for m in METRICS if (d := mx.Distribution.of(mx.samples(c, m)))})


def _pick(data: dict, dut: str | None) -> tuple[list[dict], str | None]:
    names = certificate.dut_names(data)
    if dut is not None:
        if dut not in names:
            raise sm.SummaryError(f"DUT {dut!r} is not in run {data['run'].get('id')} (has: {', '.join(names)})")
        return [c for c in data["cases"] if str(c.get("dut") or "") == dut], dut
    if len(names) == 1:
        return data["cases"], names[0]
    return data["cases"], None


def side_by_side(a: dict, b: dict, dut_a: str | None = None, dut_b: str | None = None) -> tuple[list[Row], bool]:
    """Rows, and whether they are keyed by case id alone."""
    ca, da = _pick(a, dut_a)
    cb, db = _pick(b, dut_b)
    by_case = da is not None and db is not None

    def key(c):
        return (str(c.get("case_id")), "" if by_case else str(c.get("dut") or ""))

    ia = {key(c): c for c in ca}
    ib = {key(c): c for c in cb}
    rows = [Row(k[0], k[1], _side(ia.get(k)), _side(ib.get(k))) for k in list(ia) + [k for k in ib if k not in ia]]
    return rows, by_case


def _m(side: Side, name: str) -> str:
    d = side.metrics.get(name)
    if d is None:
        return ""
    return f"p50 {mx.fmt(d.p50)} p95 {mx.fmt(d.p95)} (n={d.n})" if d.n > 1 else mx.fmt(d.p50)


def table(rows: list[Row], name_a: str, name_b: str) -> str:
    head = ["case", name_a, name_b, "roam time µs A", "roam time µs B", "outage A", "outage B",
            "duration s A", "duration s B", "findings / failed rules (A | B)"]
    body = []
    for r in rows:
        fa = "; ".join(r.a.findings or r.a.failed)
        fb = "; ".join(r.b.findings or r.b.failed)
        body.append([r.case_id + (f" [{r.dut}]" if r.dut else "") + (" *" if r.differs else ""),
                     r.a.verdict, r.b.verdict, _m(r.a, "roam_time_us"), _m(r.b, "roam_time_us"),
                     _m(r.a, "data_outage_pings"), _m(r.b, "data_outage_pings"),
                     _m(r.a, "duration_s"), _m(r.b, "duration_s"), f"{fa} | {fb}" if fa or fb else ""])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)] if body else [len(h) for h in head]
    fmt = lambda cells: "  ".join(sm.printable(str(c)).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(b) for b in body]
    out.append(f"{sum(r.differs for r in rows)} of {len(rows)} case(s) differ in verdict, findings or failed rules (*)")
    return "\n".join(out)


def html(rows: list[Row], name_a: str, name_b: str, run_a: dict, run_b: dict) -> str:
    from markupsafe import Markup

    return certificate.environment().get_template("compare.html.j2").render(
        rows=rows, name_a=name_a, name_b=name_b, run_a=run_a, run_b=run_b, metrics=METRICS,
        m=_m, css=Markup((certificate.TEMPLATES / "certificate.css").read_text(encoding="utf-8")))


def write_html(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return certificate.write_text_atomic(path, text)
