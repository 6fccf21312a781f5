"""Trends across runs: pass rate per family, and roam-time / data-outage percentiles.

Pass rate = passed / (passed + failed + error) of the family's cases (skips are not
applicable, not passes). Percentiles are nearest-rank over every sample of the run
(all its cases and DUTs, or one DUT when asked). One PNG (matplotlib) and an HTML page
with the same picture inline (SVG) and the numbers as a table.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from reports import certificate
from reports import metrics as mx
from reports import summary as sm


@dataclass
class Point:
    run: str
    start: str
    pass_rates: dict = field(default_factory=dict)  # family -> (rate or None, passed, judged)
    metrics: dict = field(default_factory=dict)  # metric -> Distribution | None


def point(data: dict, folder: Path, dut: str | None = None) -> Point:
    run = data.get("run") or {}
    cases = [c for c in data["cases"] if dut is None or str(c.get("dut") or "") == dut]
    p = Point(str(run.get("id") or folder.name), str(run.get("start") or ""))
    fams: dict[str, list] = {}
    for c in cases:
        fams.setdefault(str(c.get("family") or "(none)"), []).append(c)
    for fam, cs in fams.items():
        judged = [c for c in cs if c.get("verdict") in ("passed", "failed", "error")]
        passed = sum(1 for c in judged if c.get("verdict") == "passed")
        p.pass_rates[fam] = (passed / len(judged) if judged else None, passed, len(judged))
    for m in ("roam_time_us", "data_outage_pings"):
        p.metrics[m] = mx.Distribution.of(mx.pooled(cases, m))
    return p


def figure(points: list[Point]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = list(range(len(points)))
    labels = [p.run for p in points]
    fig, axes = plt.subplots(3, 1, figsize=(10, 10), sharex=True)
    ax = axes[0]
    fams = sorted({f for p in points for f in p.pass_rates})
    for fam in fams:
        ys = [p.pass_rates.get(fam, (None,))[0] for p in points]
        ax.plot(xs, [y * 100 if y is not None else float("nan") for y in ys], marker="o", label=fam)
    ax.set_ylabel("pass rate %")
    ax.set_ylim(-5, 105)
    ax.set_title("Pass rate per family (skips excluded)")
    if fams:
        ax.legend(fontsize=8, loc="lower left")
    for ax, m in zip(axes[1:], ("roam_time_us", "data_outage_pings")):
        for stat, style in (("p50", "o-"), ("p95", "s--"), ("max", "^:")):
            ys = [getattr(p.metrics[m], stat) if p.metrics.get(m) else float("nan") for p in points]
            ax.plot(xs, ys, style, label=stat)
        ax.set_ylabel(mx.UNITS[m])
        ax.set_title(f"{mx.TITLES[m]} across runs (nearest-rank percentiles)")
        ax.legend(fontsize=8)
    axes[-1].set_xticks(xs)
    axes[-1].set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    fig.tight_layout()
    return fig


def write(points: list[Point], out_dir: Path) -> tuple[Path, Path]:
    import matplotlib.pyplot as plt
    from markupsafe import Markup

    out_dir.mkdir(parents=True, exist_ok=True)
    fig = figure(points)
    png = out_dir / "trend.png"
    fig.savefig(png, dpi=110)
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = certificate.svg_inline(buf.getvalue())  # the certificate's sanitiser
    fams = sorted({f for p in points for f in p.pass_rates})
    page = certificate.environment().get_template("trend.html.j2").render(
        points=points, fams=fams, svg=Markup(svg) if svg else None, metrics=("roam_time_us", "data_outage_pings"),
        css=Markup((certificate.TEMPLATES / "certificate.css").read_text(encoding="utf-8")))
    html = certificate.write_text_atomic(out_dir / "trend.html", page)
    return png, html


def load_points(runs, dut: str | None = None) -> list[Point]:
    """Raises summary.SummaryError."""
    return [point(sm.load(r), sm.summary_path(r).parent, dut) for r in runs]
