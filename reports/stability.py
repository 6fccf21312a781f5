"""Verdict stability across runs: the same cases run N times, compared per (case, DUT).

A track is one thing that should not change between identical runs: a case's outcome, or the
status of one rule in it. A flip is a change between consecutive runs; a track with any flip
is FLAKY, reported with its flip count and, where the findings registry (engine.findings)
explains the failing side of the flip, that entry's id. Nothing here reruns anything or
turns a flip into a pass: a FLAKY track is a finding of the stability bench.

compare() is pure (the runs' case entries in, a Comparison out); load_run() reads one run
folder (summary.json, and cases/<case>-<dut>/verdicts.json where the case wrote one).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from reports import summary as sm

ABSENT = "absent"  # a case missing from a run (Comparison.missing)
UNCHECKED = "unchecked"  # a rule the case's judge did not reach or need in that run
# a rule's status in a case, from all its verdicts: a rule may be checked several times in
# one case (one BCN-TOKEN per report); the worst of them stands for the rule
_RANK = {"fail": 3, "pass": 2, "info": 1}


@dataclass
class Track:
    case_id: str
    dut: str
    what: str                 # "outcome" or a rule id
    values: list[str]         # per run, in run order
    finding: str | None = None  # the registry entry that explains the failing side, if any
    loads: list[dict | None] = field(default_factory=list)  # per run: the case row's host_load

    @property
    def flips(self) -> int:
        return sum(1 for a, b in zip(self.values, self.values[1:]) if a != b)


@dataclass
class CaseRow:
    case_id: str
    dut: str
    outcome: Track
    rules: list[Track] = field(default_factory=list)

    @property
    def flaky(self) -> list[Track]:
        return [t for t in [self.outcome, *self.rules] if t.flips]


@dataclass
class Comparison:
    runs: list[str]
    rows: list[CaseRow]  # the (case, DUT) pairs every run has
    missing: list[Track] = field(default_factory=list)  # outcome tracks of pairs some run lacks

    @property
    def differs(self) -> bool:
        """The runs are not identical: a verdict flipped, or a case is not in every run."""
        return bool(self.flaky or self.missing)

    @property
    def flaky(self) -> list[Track]:
        return [t for r in self.rows for t in r.flaky]

    @property
    def flips(self) -> int:
        return sum(t.flips for t in self.flaky)


def rule_statuses(verdicts: Iterable[dict]) -> dict[str, tuple[str, str | None]]:
    """{rule: (status, layer of its failing verdict or None)}: the worst status of each rule."""
    out: dict[str, tuple[str, str | None]] = {}
    for v in verdicts:
        if not isinstance(v, dict) or "rule" not in v:
            continue
        rule, status = str(v["rule"]), str(v.get("status"))
        layer = (v.get("layer") or "DUT") if status == "fail" else None
        old = out.get(rule)
        if old is None or _RANK.get(status, 0) > _RANK.get(old[0], 0):
            out[rule] = (status, layer)
    return out


def _default_match(case_id, rule, dut, layer=None):
    from engine import findings
    return findings.match(case_id, rule, dut, layer)


def compare(runs: list[tuple[str, list[dict]]],
            match: Callable | None = None) -> Comparison:
    """runs: [(run id, case entries)] in run order; each entry has case_id, dut, verdict
    (the outcome) and verdicts (rule verdict dicts). match(case_id, rule, dut, layer) -> Finding
    or None names the registry entry (default engine.findings.match)."""
    match = match or _default_match
    keys: list[tuple[str, str]] = []
    per_run: list[dict[tuple[str, str], dict]] = []
    for _, cases in runs:
        by_key = {}
        for c in cases:
            k = (str(c.get("case_id")), str(c.get("dut") or ""))
            by_key[k] = c
            if k not in keys:
                keys.append(k)
        per_run.append(by_key)
    rows, missing = [], []
    for cid, dut in keys:
        entries = [r.get((cid, dut)) for r in per_run]
        loads = [e.get("host_load") if e and isinstance(e.get("host_load"), dict) else None for e in entries]
        outcome = Track(cid, dut, "outcome", [str(e.get("verdict")) if e else ABSENT for e in entries],
                        loads=loads)
        if ABSENT in outcome.values:
            # not a flip of the case: a run that lacks it did not run the same thing
            missing.append(outcome)
            continue
        statuses = [rule_statuses(e.get("verdicts") or []) if e else {} for e in entries]
        rule_ids: list[str] = []
        for s in statuses:
            rule_ids += [r for r in s if r not in rule_ids]
        rules = []
        for rule in rule_ids:
            t = Track(cid, dut, rule, [s[rule][0] if rule in s else UNCHECKED for s in statuses], loads=loads)
            if t.flips:
                layers = [s[rule][1] for s in statuses if rule in s and s[rule][0] == "fail"]
                f = match(cid, rule, dut, layers[0]) if layers else None
                t.finding = f.id if f is not None else None
            rules.append(t)
        if outcome.flips:
            ids = sorted({t.finding for t in rules if t.flips and t.finding})
            outcome.finding = ", ".join(ids) or None
        rows.append(CaseRow(cid, dut, outcome, rules))
    return Comparison([rid for rid, _ in runs], rows, missing)


def load_run(folder: str | Path) -> tuple[str, list[dict]]:
    """(run id, case entries) of one run folder; a case's verdicts come from its
    cases/<case>-<dut>/verdicts.json when there is one (what `analyze` re-judges), else from
    the summary's entry. Raises sm.SummaryError with the file's name on bad input."""
    folder = Path(folder)
    data = sm.load(folder)
    cases = []
    for c in data["cases"]:
        c = dict(c)
        vj = folder / "cases" / f"{c.get('case_id')}-{c.get('dut')}" / "verdicts.json"
        if vj.is_file():
            vs = sm.read_json(vj, sm.SummaryError)
            if not isinstance(vs, list):
                raise sm.SummaryError(f"{vj}: not a list of verdicts")
            c["verdicts"] = vs
        cases.append(c)
    return str(data["run"].get("id") or folder.name), cases


def _seq(values: list[str]) -> str:
    return " ".join(values)


def _loads(t: Track) -> str:
    """'; host load at case end: 1.1 12.4 (2 CPUs)', or '' when the runs did not record it."""
    if not t.loads or all(x is None for x in t.loads):
        return ""
    nums = " ".join("?" if x is None or x.get("load1") is None else f"{x['load1']}" for x in t.loads)
    cpus = sorted({x.get("cpus") for x in t.loads if x is not None and x.get("cpus")})
    return f"; host load at case end: {nums}" + (f" ({'/'.join(map(str, cpus))} CPUs)" if cpus else "")


def format_comparison(cmp: Comparison, all_rules: bool = False) -> list[str]:
    """The terminal lines: per (case, DUT) its outcome across runs, its rules (flipped ones
    one per line; stable ones counted by status, or one per line with all_rules), then each
    FLAKY track and the total."""
    lines = [f"runs: {', '.join(cmp.runs)}"]
    for row in cmp.rows:
        o = row.outcome
        lines.append(f"{row.case_id} [{row.dut}]  outcome: {_seq(o.values)}"
                     + (f"  FLAKY flips={o.flips}" if o.flips else ""))
        stable: dict[str, list[str]] = {}
        for t in row.rules:
            if t.flips or all_rules:
                lines.append(f"    {t.what}: {_seq(t.values)}"
                             + (f"  FLAKY flips={t.flips}" + (f" ({t.finding})" if t.finding else "")
                                if t.flips else ""))
            else:
                stable.setdefault(t.values[0], []).append(t.what)
        if stable:
            parts = []
            for status, rules in sorted(stable.items()):
                named = f" [{', '.join(rules)}]" if status != "pass" else ""
                parts.append(f"{len(rules)} {status}{named}")
            lines.append(f"    rules stable in every run: {'; '.join(parts)}")
    lines.append("")
    for t in cmp.missing:
        lines.append(f"MISSING {t.case_id} [{t.dut}]: not in every run ({_seq(t.values)}); not compared")
    flaky = cmp.flaky
    if flaky:
        lines.append(f"FLAKY ({len(flaky)} track(s), {cmp.flips} flip(s) over {len(cmp.runs)} runs):")
        for t in flaky:
            why = f"; explained by {t.finding}" if t.finding else "; no registry entry explains it"
            lines.append(f"  FLAKY {t.case_id} [{t.dut}] {t.what}: {_seq(t.values)} flips={t.flips}{why}{_loads(t)}")
    elif not cmp.missing:
        lines.append(f"stable: 0 flips over {len(cmp.runs)} runs ({len(cmp.rows)} case/DUT pairs)")
    else:
        lines.append(f"0 flips over {len(cmp.runs)} runs in the {len(cmp.rows)} case/DUT pairs every run has; "
                     f"{len(cmp.missing)} pair(s) not in every run: the runs did not run the same cases")
    return lines
