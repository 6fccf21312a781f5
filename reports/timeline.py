"""Roam timeline pictures: a sequence chart of one roam, in the spirit of the figure in
the Native 802.11 roaming guidelines (lanes for the station and the two APs, frames as
arrows, the station's indications bracketing the operation).

One item of CaseRecord.roams is a dict (all keys but "frames"/"indications" optional):

    {"title": "BTM roam AP1 -> AP2",
     "dut":     {"name": "linux-wpas", "mac": "02:00:00:00:02:00"} | "<mac>",
     "current": {"name": "AP1", "bssid": "02:00:00:00:00:00"}   | "<bssid>",
     "target":  {"name": "AP2", "bssid": "02:00:00:00:01:00"}   | "<bssid>",
     "frames": [{"t": 12.3456,          # seconds, capture clock
                 "src": "dut" | "current" | "target" | "<mac>",
                 "dst": same,
                 "label": "BTM Request",   # "FT Auth (seq 1)", "Reassoc Req", "EAPOL 1/4", ...
                 "index": 812,             # frame number in the pcap (1-based), optional
                 "ok": True}],             # False draws the arrow red (a refused status, a bad MIC)
     "indications": [Indication.to_dict(), ...],   # t on the same clock as the frames
     "latencies": {"roam": 23400.0,                         # microseconds, listed under the chart
                   "ft": {"us": 4100.0, "start": 12.35, "end": 12.3541}},  # also drawn as a span
     "t0": 12.3}                           # zero of the time column; default: earliest time

A MAC in src/dst is matched to the lanes by the dut mac / current bssid / target
bssid; an address that matches none goes to an extra "other" lane. Rows are in time
order, one per frame or indication (equal spacing, real times printed on the left),
because the interesting frames of a roam are milliseconds apart and the indications
seconds apart.
"""
from __future__ import annotations

import io
import math
from pathlib import Path

LANES = ("dut", "current", "target")
_TITLES = {"dut": "Station (DUT)", "current": "Current AP", "target": "Target AP", "other": "Other"}
_BRACKETS = {"ROAMING": 0, "CONNECTION": 1, "ASSOCIATION": 2}  # outermost first


class TimelineError(ValueError):
    """The roam data cannot be drawn."""


def _lane_info(roam: dict, key: str) -> tuple[str, str]:
    """(name, address) of a lane."""
    v = roam.get(key)
    if isinstance(v, dict):
        addr = v.get("mac") or v.get("bssid") or ""
        return str(v.get("name") or ""), str(addr).lower()
    if isinstance(v, str):
        return "", v.lower()
    return "", ""


def _num(v, what: str) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise TimelineError(f"{what}: not a number: {v!r}") from None
    if not math.isfinite(f):
        raise TimelineError(f"{what}: not finite: {v!r}")
    return f


def _rows(roam: dict) -> tuple[list[dict], list[str]]:
    """Frames and indications as rows in time order, and the lanes they need."""
    if not isinstance(roam, dict):
        raise TimelineError(f"a roam must be a dict, got {type(roam).__name__}")
    frames = roam.get("frames") or []
    inds = roam.get("indications") or []
    if not isinstance(frames, list) or not isinstance(inds, list):
        raise TimelineError("frames and indications must be lists")
    if not frames and not inds:
        raise TimelineError("nothing to draw: no frames and no indications")
    addr = {}
    for k in LANES:
        a = _lane_info(roam, k)[1]
        if a:
            addr.setdefault(a, k)
    lanes = list(LANES)
    rows = []

    def lane_of(x) -> str:
        s = str(x or "").lower()
        if s in LANES:
            return s
        if s in addr:
            return addr[s]
        if "other" not in lanes:
            lanes.append("other")
        return "other"

    for i, f in enumerate(frames):
        if not isinstance(f, dict):
            raise TimelineError(f"frame #{i} is not a dict")
        rows.append({"kind": "frame", "t": _num(f.get("t"), f"frame #{i} t"),
                     "src": lane_of(f.get("src")), "dst": lane_of(f.get("dst")),
                     "label": str(f.get("label") or "frame"), "index": f.get("index"),
                     "ok": f.get("ok", True) is not False})
    for i, d in enumerate(inds):
        if not isinstance(d, dict):
            raise TimelineError(f"indication #{i} is not a dict")
        kind = d.get("kind")
        kind = getattr(kind, "value", kind)
        rows.append({"kind": "ind", "t": _num(d.get("t"), f"indication #{i} t"), "ind": str(kind),
                     "bssid": d.get("bssid"), "status": d.get("status"), "reason": d.get("reason"),
                     "layer": d.get("layer")})
    # Stable sort: at equal times the given order stands.
    rows.sort(key=lambda r: r["t"])
    return rows, lanes


def _latencies(roam: dict) -> list[dict]:
    out = []
    lat = roam.get("latencies") or {}
    if not isinstance(lat, dict):
        raise TimelineError("latencies must be a dict")
    for name, v in lat.items():
        if isinstance(v, dict):
            item = {"name": str(name), "us": _num(v.get("us"), f"latency {name}")}
            if v.get("start") is not None and v.get("end") is not None:
                item["start"] = _num(v["start"], f"latency {name} start")
                item["end"] = _num(v["end"], f"latency {name} end")
        else:
            item = {"name": str(name), "us": _num(v, f"latency {name}")}
        out.append(item)
    return out


def _fmt_us(us: float) -> str:
    return f"{us / 1000:.1f} ms" if abs(us) >= 1000 else f"{us:.0f} µs"


def _ind_text(r: dict) -> str:
    parts = [r["ind"]]
    if r.get("layer"):
        parts.append(f"[{r['layer']}]")  # which layer of the DUT made it, before the clip can cut it
    extra = []
    if r.get("reason"):
        extra.append(f"reason {r['reason']}")
    if r.get("bssid"):
        extra.append(str(r["bssid"]))
    if r.get("status"):
        extra.append(str(r["status"]))
    if extra:
        parts.append("(" + ", ".join(extra) + ")")
    return " ".join(parts)


def _clip(s: str, n: int) -> str:
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[: n - 1] + "…"


def figure(roam: dict):
    """The matplotlib Figure of one roam. Raises TimelineError on bad data."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows, lanes = _rows(roam)
    lats = _latencies(roam)
    spans = [x for x in lats if "start" in x]
    t0 = _num(roam["t0"], "t0") if roam.get("t0") is not None else min(r["t"] for r in rows)

    # x layout, in inches: time column, indication text, brackets, then the lanes.
    x_time, x_brk = 0.95, 4.55
    x_lane = {k: 6.0 + 3.3 * i for i, k in enumerate(lanes)}
    x_span0 = x_lane[lanes[-1]] + 0.7
    width = x_span0 + (1.7 * len(spans) if spans else 0.2) + 0.3
    row_h, top, bottom = 0.34, 1.45, 0.35 + (0.22 * (1 + len(lats)) if lats else 0.1)
    height = top + row_h * (len(rows) + 0.6) + bottom

    fig = Figure(figsize=(width, height), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")

    def y_row(i: int) -> float:
        return top + row_h * (i + 0.8)

    def y_time(t: float) -> float:
        """A time between rows, placed by linear interpolation over the rows' times."""
        ts = [r["t"] for r in rows]
        if t <= ts[0]:
            return y_row(0)
        if t >= ts[-1]:
            return y_row(len(rows) - 1)
        for i in range(1, len(ts)):
            if t <= ts[i]:
                a, b = ts[i - 1], ts[i]
                f = 0.0 if b == a else (t - a) / (b - a)
                return y_row(i - 1) + f * (y_row(i) - y_row(i - 1))
        return y_row(len(rows) - 1)

    title = _clip(roam.get("title") or "Roam", 110)
    ax.text(0.25, 0.32, title, fontsize=12, fontweight="bold", va="center")
    ax.text(0.25, 0.62, "time from " + f"{t0:.6f} s", fontsize=7.5, color="#555", va="center")

    y_end = y_row(len(rows) - 1) + row_h * 0.7
    for k in lanes:
        name, addr = _lane_info(roam, k) if k != "other" else ("", "")
        x = x_lane[k]
        box_w = 2.6
        ax.add_patch(_box(x - box_w / 2, 0.82, box_w, 0.55, "#eef2f7" if k != "dut" else "#e8f3ea"))
        ax.text(x, 0.97, _TITLES[k], ha="center", va="center", fontsize=9, fontweight="bold")
        sub = " · ".join(p for p in (_clip(name, 22), addr) if p)
        if sub:
            ax.text(x, 1.2, sub, ha="center", va="center", fontsize=7.5, color="#333")
        ax.plot([x, x], [1.37, y_end], color="#9aa3ad", lw=1, ls=(0, (4, 3)), zorder=1)
    ax.text(x_time, 1.1, "t (ms)", ha="right", va="center", fontsize=8, color="#555")
    ax.text(x_brk - 0.15, 1.1, "DUT indications", ha="right", va="center", fontsize=8, color="#555")

    for i, r in enumerate(rows):
        y = y_row(i)
        if i % 2 == 0:
            ax.add_patch(_band(0.1, y - row_h / 2, width - 0.2, row_h))
        ax.text(x_time, y, f"{(r['t'] - t0) * 1000:+.3f}", ha="right", va="center",
                fontsize=7.5, family="monospace", color="#333")
        if r["kind"] == "frame":
            _arrow(ax, x_lane[r["src"]], x_lane[r["dst"]], y, r, row_h)
        else:
            failed = str(r.get("status") or "").lower() == "failure"
            colour = "#b00020" if failed else ("#1b5e20" if r["ind"].endswith("START") else "#0d47a1")
            if r["ind"].startswith("PORT_"):
                colour = "#757575"  # the 802.1X port: an observation beside the indications, no rule judges it
            ax.plot([x_lane["dut"]], [y], marker="o", ms=5, color=colour, zorder=4)
            ax.text(x_brk - 0.15, y, _clip(_ind_text(r), 52), ha="right", va="center",
                    fontsize=7.5, color=colour)

    _brackets(ax, rows, y_row, x_brk, y_end)

    for j, s in enumerate(spans):
        x = x_span0 + 0.35 + 1.7 * j
        ya, yb = y_time(s["start"]), y_time(s["end"])
        ax.annotate("", xy=(x, yb), xytext=(x, ya),
                    arrowprops={"arrowstyle": "<->", "color": "#6a1b9a", "lw": 1.2, "shrinkA": 0, "shrinkB": 0})
        for yy in (ya, yb):
            ax.plot([x - 0.12, x + 0.12], [yy, yy], color="#6a1b9a", lw=1)
        ax.text(x + 0.1, (ya + yb) / 2, f"{_clip(s['name'], 20)}\n{_fmt_us(s['us'])}", ha="left",
                va="center", fontsize=7.5, color="#6a1b9a", fontweight="bold")

    if lats:
        y = y_end + 0.3
        ax.text(0.25, y, "Latencies", fontsize=8.5, fontweight="bold", va="center")
        for k, s in enumerate(lats, 1):
            ax.text(0.35, y + 0.22 * k, f"{_clip(s['name'], 40)}: {_fmt_us(s['us'])}", fontsize=8,
                    va="center", color="#6a1b9a")
    return fig


def _box(x, y, w, h, fc):
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.06",
                          fc=fc, ec="#7b8794", lw=0.8, zorder=2)


def _band(x, y, w, h):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, fc="#f6f7f9", ec="none", zorder=0)


def _arrow(ax, xa, xb, y, r, row_h):
    colour = "#263238" if r["ok"] else "#b00020"
    label = _clip(r["label"], 40) + (f"  #{r['index']}" if r.get("index") is not None else "")
    if xa == xb:  # a frame to itself: a small loop
        ax.annotate("", xy=(xa + 0.02, y + row_h * 0.25), xytext=(xa + 0.02, y - row_h * 0.25),
                    arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.1,
                                "connectionstyle": "arc3,rad=-1.2"})
        ax.text(xa + 0.45, y, label, ha="left", va="center", fontsize=7.5, color=colour)
        return
    ax.annotate("", xy=(xb, y), xytext=(xa, y),
                arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.2, "shrinkA": 2, "shrinkB": 2,
                            "mutation_scale": 11}, zorder=3)
    ax.text((xa + xb) / 2, y - row_h * 0.12, label, ha="center", va="bottom", fontsize=7.5,
            color=colour, zorder=5)


def _brackets(ax, rows, y_row, x_brk, y_end):
    """Vertical bars from each *_START to its *_COMPLETION, beside the indication texts."""
    open_: dict[str, list[int]] = {}
    spans = []
    for i, r in enumerate(rows):
        if r["kind"] != "ind":
            continue
        fam, _, what = r["ind"].partition("_")
        if fam not in _BRACKETS:
            continue
        if what == "START":
            open_.setdefault(fam, []).append(i)
        elif what == "COMPLETION" and open_.get(fam):
            spans.append((fam, open_[fam].pop(0), i, str(r.get("status") or "").lower() == "failure"))
    for fam, starts in open_.items():
        for s in starts:
            spans.append((fam, s, None, False))
    for fam, a, b, failed in spans:
        x = x_brk + 0.17 * _BRACKETS[fam]
        ya = y_row(a)
        yb = y_row(b) if b is not None else y_end
        colour = "#b00020" if failed else {"ROAMING": "#e65100", "CONNECTION": "#455a64",
                                           "ASSOCIATION": "#00838f"}[fam]
        ls = "-" if b is not None else (0, (2, 2))
        ax.plot([x, x], [ya, yb], color=colour, lw=2.2, ls=ls, solid_capstyle="butt", zorder=3)
        ax.plot([x, x + 0.1], [ya, ya], color=colour, lw=1.5, zorder=3)
        if b is not None:
            ax.plot([x, x + 0.1], [yb, yb], color=colour, lw=1.5, zorder=3)


def render(roam: dict, path: str | Path) -> Path:
    """Write the picture of one roam; the format follows the suffix (.svg or .png)."""
    path = Path(path)
    fig = figure(roam)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".png":
        fig.savefig(path, format="png", dpi=110, facecolor="white")
    else:
        path.write_text(svg(roam, fig=fig), encoding="utf-8")
    return path


def svg(roam: dict, fig=None) -> str:
    """The picture as SVG text with no XML prolog, DOCTYPE or metadata, ready to inline in HTML."""
    import re

    import matplotlib

    fig = fig if fig is not None else figure(roam)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "roamcert"}):
        fig.savefig(buf, format="svg", facecolor="white",
                    metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    return text
