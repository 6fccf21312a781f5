"""The release gate: compare two runs' summary.json, case by case (case id + DUT).

Regressions (exit 1 unless waived):
  - new failure: failed/error now, passed/skipped/absent in the baseline;
  - new skip: skipped now, passed in the baseline (a capability silently dropped);
  - missing: passed in the baseline, absent now.
Also reported, never gating: fixed cases, still failing, changed (same outcome class
but a different verdict or a different set of failed rules), new cases.

Metric regressions (exit 1 unless waived), per case and DUT, for each metric of
reports.metrics (roam time on the air, data outage per roam, case duration):
  - metric_limit: the current percentile exceeds the profile's absolute limit (max);
  - metric_regression: the current percentile exceeds the baseline's by more than the
    allowed relative increase plus the slack (e.g. p95 roam time +20 % + 2000 µs).
A case that measured many roams is compared by the percentile the profile names (p95 by
default) of its distribution, never by one sample. Limits come from --profile, else the
profile the current run recorded, else DEFAULT_LIMITS.

A waiver file is JSON: a list (or {"waivers": [...]}) of
  {"case_id": "BTM-04", "reason": "vendor bug #123", "expires": "2026-12-31", "dut": "esp32",
   "metric": "roam_time_us"}
("dut" optional). Without "metric" a waiver covers the case's verdict regressions; with
"metric" it covers that metric's regressions of the case ("*": any metric). A waiver is
valid through its expiry date; an expired one does not apply and the report says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from reports import metrics as mx
from reports import profile as pf
from reports import summary as sm

BAD = ("failed", "error")
METRIC_KINDS = ("metric_limit", "metric_regression")
# Used when neither --profile nor the current run names a profile.
DEFAULT_LIMITS = {
    "roam_time_us": pf.MetricLimit("roam_time_us", 95, None, 0.20, 2000),
    "data_outage_pings": pf.MetricLimit("data_outage_pings", 100, None, 0.20, 2),
    "duration_s": pf.MetricLimit("duration_s", 95, None, 0.50, 5.0),
}


class GateInputError(Exception):
    """A summary or waiver file is unreadable or malformed."""


@dataclass(frozen=True)
class Waiver:
    case_id: str
    reason: str
    expires: date
    dut: str | None = None
    metric: str = ""  # "" = verdict regressions; a metric name or "*" = metric regressions

    def covers(self, case_id: str, dut: str, metric: str = "") -> bool:
        if self.case_id != case_id or (self.dut is not None and self.dut != dut):
            return False
        if not metric:
            return not self.metric
        return self.metric in (metric, "*")

    def label(self) -> str:
        return (f"{self.case_id}{' [' + self.dut + ']' if self.dut else ''}"
                + (f" metric {self.metric}" if self.metric else ""))


@dataclass
class Change:
    kind: str  # new_failure, new_skip, missing, fixed, still_failing, changed, new_case, metric_*
    case_id: str
    dut: str
    before: str | None
    after: str | None
    detail: str = ""
    waiver: Waiver | None = None
    metric: str = ""  # for metric_limit / metric_regression

    @property
    def regression(self) -> bool:
        return self.kind in ("new_failure", "new_skip", "missing") + METRIC_KINDS

    def label(self) -> str:
        return f"{self.case_id} [{self.dut}]" if self.dut else self.case_id


@dataclass
class Result:
    changes: list[Change] = field(default_factory=list)
    expired: list[Waiver] = field(default_factory=list)
    unused: list[Waiver] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> list[Change]:
        return [c for c in self.changes if c.regression and c.waiver is None]

    @property
    def exit_code(self) -> int:
        return 1 if self.blocking else 0


def load_waivers(path: str | Path) -> list[Waiver]:
    data = sm.read_json(path, GateInputError, "no such waiver file")
    if isinstance(data, dict):
        data = data.get("waivers")
    if not isinstance(data, list):
        raise GateInputError(f"{path}: expected a list of waivers (or {{\"waivers\": [...]}})")
    out = []
    for i, w in enumerate(data):
        if not isinstance(w, dict):
            raise GateInputError(f"{path}: waiver #{i} is not an object")
        missing = [k for k in ("case_id", "reason", "expires") if not w.get(k)]
        if missing:
            raise GateInputError(f"{path}: waiver #{i} lacks {', '.join(missing)}")
        try:
            exp = date.fromisoformat(str(w["expires"]))
        except ValueError:
            raise GateInputError(f"{path}: waiver #{i}: expires must be YYYY-MM-DD, got {w['expires']!r}") from None
        metric = str(w.get("metric") or "")
        if metric and metric != "*" and metric not in mx.NAMES:
            raise GateInputError(f"{path}: waiver #{i}: unknown metric {metric!r} (known: {', '.join(mx.NAMES)}, *)")
        out.append(Waiver(str(w["case_id"]), str(w["reason"]), exp, str(w["dut"]) if w.get("dut") else None, metric))
    return out


def _index(data: dict, which: str, notes: list[str]) -> dict[tuple[str, str], dict]:
    out = {}
    for c in data["cases"]:
        key = (str(c["case_id"]), str(c.get("dut") or ""))
        if key in out:
            notes.append(f"{which}: {key[0]} [{key[1]}] appears more than once; the last one counts")
        out[key] = c
    return out


def _failed_rules(c: dict) -> set[str]:
    return {str(v.get("rule")) for v in c.get("verdicts") or [] if isinstance(v, dict) and v.get("status") == "fail"}


def _pct(xs: list[float], p: float) -> float:
    return mx.percentile(xs, p)


def metric_changes(base: dict, cur: dict, limits: dict) -> list[Change]:
    """Metric regressions of the cases present in both runs (and absolute limits on all)."""
    out = []
    for key, c in cur.items():
        b = base.get(key)
        for name, lim in limits.items():
            now = mx.samples(c, name)
            if not now:
                continue
            unit = mx.UNITS[name]
            p = lim.percentile
            vnow = _pct(now, p)
            dnow = mx.Distribution.of(now)
            if lim.max is not None and vnow > lim.max:
                out.append(Change("metric_limit", key[0], key[1], None, None,
                                  f"{mx.TITLES[name]} p{p:g} = {mx.fmt(vnow)} {unit} exceeds the limit "
                                  f"{mx.fmt(lim.max)} {unit} ({dnow.describe(unit)})", metric=name))
            before = mx.samples(b, name) if b else []
            if not before or lim.baseline_increase is None:
                continue
            vb = _pct(before, p)
            allowed = vb * (1 + lim.baseline_increase) + lim.slack
            if vnow > allowed:
                rel = f"{(vnow - vb) / vb * 100:+.0f} %" if vb else "from 0"
                out.append(Change("metric_regression", key[0], key[1], None, None,
                                  f"{mx.TITLES[name]} p{p:g} {mx.fmt(vb)} -> {mx.fmt(vnow)} {unit} ({rel}; allowed "
                                  f"+{lim.baseline_increase * 100:g} % + {mx.fmt(lim.slack)} {unit} = "
                                  f"{mx.fmt(allowed)} {unit}); baseline {mx.Distribution.of(before).describe(unit)}; "
                                  f"now {dnow.describe(unit)}", metric=name))
    return out


def compare(baseline: dict, current: dict, waivers=(), today: date | None = None,
            limits: dict | None = None) -> Result:
    """limits: metric name -> profile.MetricLimit (default DEFAULT_LIMITS)."""
    today = today or date.today()
    res = Result()
    base = _index(baseline, "baseline", res.notes)
    cur = _index(current, "current", res.notes)
    for key in list(base) + [k for k in cur if k not in base]:
        b, c = base.get(key), cur.get(key)
        bv, cv = (b or {}).get("verdict"), (c or {}).get("verdict")
        reason = (c or {}).get("reason") or ""
        kind, detail = None, ""
        if c is None:
            if bv == "passed":
                kind, detail = "missing", "passed in the baseline, not run now"
        elif b is None:
            kind = "new_failure" if cv in BAD else "new_case"
            detail = reason
        elif cv in BAD and bv not in BAD:
            kind, detail = "new_failure", reason
        elif cv == "skipped" and bv == "passed":
            kind, detail = "new_skip", reason
        elif bv in BAD and cv == "passed":
            kind = "fixed"
        elif bv in BAD and cv in BAD:
            fb, fc = _failed_rules(b), _failed_rules(c)
            if bv != cv or fb != fc:
                kind = "changed"
                detail = f"{bv} -> {cv}; failed rules {sorted(fb)} -> {sorted(fc)}"
            else:
                kind, detail = "still_failing", reason
        elif bv != cv:
            kind = "changed"
            detail = f"{bv} -> {cv}" + (f": {reason}" if reason else "")
        if kind:
            res.changes.append(Change(kind, key[0], key[1], bv, cv, detail))
    res.changes += metric_changes(base, cur, DEFAULT_LIMITS if limits is None else limits)
    used = set()
    for ch in res.changes:
        if not ch.regression:
            continue
        for w in waivers:
            if not w.covers(ch.case_id, ch.dut, ch.metric):
                continue
            if w.expires < today:
                if w not in res.expired:
                    res.expired.append(w)
                continue
            ch.waiver = w
            used.add(w)
            break
    res.unused = [w for w in waivers if w not in used and w not in res.expired and w.expires >= today]
    return res


_TITLES = [("new_failure", "New failures"), ("metric_limit", "Metric limits exceeded"),
           ("metric_regression", "Metric regressions against the baseline"), ("new_skip", "New skips (passed in the baseline)"),
           ("missing", "Missing (passed in the baseline, not run now)"), ("changed", "Changed"),
           ("fixed", "Fixed"), ("still_failing", "Still failing"), ("new_case", "New cases")]


def report(res: Result, base_name: str = "baseline", cur_name: str = "current") -> str:
    lines = [f"gate: {base_name} -> {cur_name}"]
    for kind, title in _TITLES:
        chs = [c for c in res.changes if c.kind == kind]
        if not chs:
            continue
        lines.append(f"{title}: {len(chs)}")
        for c in chs:
            tail = f" — {c.detail.splitlines()[0][:160]}" if c.detail.strip() else ""
            w = f"  [waived until {c.waiver.expires}: {c.waiver.reason}]" if c.waiver else ""
            if c.kind in METRIC_KINDS:
                lines.append(sm.printable(f"  {c.label()}: {c.detail}{w}"))
            else:
                lines.append(sm.printable(f"  {c.label()}: {c.before or 'absent'} -> {c.after or 'absent'}{tail}{w}"))
    for w in res.expired:
        lines.append(sm.printable(f"waiver for {w.label()} expired on "
                                  f"{w.expires}: it does not apply ({w.reason})"))
    for w in res.unused:
        scope = ", ".join(x for x in (f"dut {w.dut}" if w.dut else "", f"metric {w.metric}" if w.metric else "") if x)
        lines.append(sm.printable(f"note: waiver for {w.case_id} matched no regression" + (f" ({scope})" if scope else "")))
    lines += [sm.printable(f"note: {n}") for n in res.notes]
    n = len(res.blocking)
    waived = sum(1 for c in res.changes if c.regression and c.waiver)
    lines.append(f"result: {'FAIL' if n else 'PASS'} — {n} unwaived regression(s), {waived} waived")
    return "\n".join(lines)


def one_dut(data: dict, dut: str, as_dut: str, which: str) -> dict:
    """The run's cases of one DUT, renamed as_dut, so two DUT names can be gated against each
    other (a new build, or a test mutant, under a name of its own). Raises GateInputError when
    the run has no case of that DUT."""
    cases = [dict(c, dut=as_dut) for c in data.get("cases") or [] if str(c.get("dut") or "") == dut]
    if not cases:
        names = sorted({str(c.get("dut") or "") for c in data.get("cases") or []})
        raise GateInputError(f"{which}: no case of DUT {dut!r} (DUTs of that run: {', '.join(names) or 'none'})")
    return dict(data, cases=cases)


def limits_for(current: dict, profile: str | None) -> tuple[dict, str]:
    """The metric limits and where they come from. Raises profile.ProfileError."""
    rec = (current.get("run") or {}).get("profile")
    name = profile or (rec.get("id") if isinstance(rec, dict) else rec)
    if not name:
        return DEFAULT_LIMITS, "built-in defaults (no profile)"
    prof = pf.load(name)
    return ({**DEFAULT_LIMITS, **prof.limits},
            f"profile {prof.id} {prof.version} (sha256 {prof.sha256[:12]}...)")


def run(baseline: str, current: str, waivers: str | None = None, today: date | None = None,
        out=print, profile: str | None = None, dut_baseline: str | None = None,
        dut_current: str | None = None, metrics: bool = True) -> int:
    """Compare two runs and print the report. 0 pass, 1 regression, 2 bad input.
    dut_baseline/dut_current: gate only that DUT of each run, its cases matched by case id
    (either one alone names the same DUT in both runs). metrics=False: the verdict gate only."""
    try:
        b = sm.load(baseline)
        c = sm.load(current)
        if dut_baseline or dut_current:
            db, dc = dut_baseline or dut_current, dut_current or dut_baseline
            b = one_dut(b, db, dc, f"baseline {baseline}")
            c = one_dut(c, dc, dc, f"current {current}")
        ws = load_waivers(waivers) if waivers else []
        limits, source = limits_for(c, profile)
    except (sm.SummaryError, GateInputError, pf.ProfileError) as e:
        out(f"gate: error: {e}")
        return 2
    res = compare(b, c, ws, today, limits if metrics else {})
    if dut_baseline or dut_current:
        res.notes.append(f"DUT {db} of the baseline gated against DUT {dc} of the current run, case by case")
    out(report(res, str(baseline), str(current)))
    out(f"metric limits: {source}" if metrics else "metric limits: not applied (--no-metrics: the verdict gate only)")
    return res.exit_code
