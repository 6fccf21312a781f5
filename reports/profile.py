"""Certification profiles (profiles/<id>.toml) and the per-DUT verdict they give.

A profile is declarative and versioned (format in profiles/roaming-basic.toml): mandatory
and optional case ids, cases that are mandatory only when the DUT declares a capability
(devices.base.CAPABILITIES), mandatory requirement ids, and metric limits. The
certificate states the profile's id, version and the SHA-256 of the file's bytes.

Verdict of one DUT under a profile:
  NOT CONFORMANT             a mandatory (or applicable conditional) case is missing, skipped,
                             errored, or failed with a FAIL the findings registry does not know
                             or knows as blocker/major; a mandatory requirement is failed or
                             untested; a metric exceeds its absolute limit; the run was
                             interrupted; nothing ran.
  CONFORMANT WITH DEVIATIONS every failure of a required case is a known finding of severity
                             minor or info (each listed).
  CONFORMANT                 otherwise.
Optional cases and cases outside the profile are reported and never change the verdict.
Without a profile, every case that ran counts as mandatory and a skip is "not applicable".
"""
from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from reports import metrics as mx

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "profiles"

CONFORMANT = "CONFORMANT"
DEVIATIONS = "CONFORMANT WITH DEVIATIONS"
NOT_CONFORMANT = "NOT CONFORMANT"
MINOR = ("minor", "info")


class ProfileError(Exception):
    """A profile cannot be found, read or understood."""


@dataclass(frozen=True)
class MetricLimit:
    name: str
    percentile: float = 95.0
    max: float | None = None  # absolute limit on the percentile
    baseline_increase: float | None = None  # allowed growth against a baseline, 0.2 = +20 %
    slack: float = 0.0  # absolute growth always allowed (noise floor)


@dataclass(frozen=True)
class Profile:
    id: str
    version: str
    title: str
    description: str
    path: str
    sha256: str
    mandatory: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    conditional: dict = field(default_factory=dict)  # capability -> tuple of case ids
    requirements: tuple[str, ...] = ()
    limits: dict = field(default_factory=dict)  # metric name -> MetricLimit

    def stamp(self) -> dict:
        return {"id": self.id, "version": self.version, "sha256": self.sha256, "path": self.path}


def resolve(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.is_file():
        return p
    return PROFILES / f"{name_or_path}.toml"


def _strs(v, where: str) -> tuple[str, ...]:
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ProfileError(f"{where} must be a list of strings")
    return tuple(v)


def _num(v, where: str, default=None):
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ProfileError(f"{where} must be a number, got {v!r}")
    return float(v)


def parse(raw: bytes, path: str = "<profile>") -> Profile:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ProfileError(f"{path}: not valid TOML: {e}") from None
    head = data.get("profile")
    if not isinstance(head, dict) or not head.get("id") or not head.get("version"):
        raise ProfileError(f"{path}: needs a [profile] table with id and version")
    cases = data.get("cases") or {}
    mandatory = _strs(cases.get("mandatory"), f"{path}: cases.mandatory")
    optional = _strs(cases.get("optional"), f"{path}: cases.optional")
    conditional = {}
    try:
        from devices.base import CAPABILITIES
    except ImportError:  # the profile is still readable; capability names are then not checked
        CAPABILITIES = None
    for cap, t in (data.get("conditional") or {}).items():
        if CAPABILITIES is not None and cap not in CAPABILITIES:
            raise ProfileError(f"{path}: conditional.{cap}: not a DUT capability "
                               f"(known: {', '.join(CAPABILITIES)})")
        if not isinstance(t, dict):
            raise ProfileError(f"{path}: conditional.{cap} must be a table with cases = [...]")
        conditional[cap] = _strs(t.get("cases"), f"{path}: conditional.{cap}.cases")
    seen: dict[str, str] = {}
    for where, ids in [("mandatory", mandatory), ("optional", optional)] + \
            [(f"conditional.{c}", ids) for c, ids in conditional.items()]:
        for i in ids:
            if i in seen:
                raise ProfileError(f"{path}: case {i} is listed under both {seen[i]} and {where}")
            seen[i] = where
    reqs = _strs((data.get("requirements") or {}).get("mandatory"), f"{path}: requirements.mandatory")
    limits = {}
    for name, t in (data.get("metrics") or {}).items():
        if name not in mx.NAMES:
            raise ProfileError(f"{path}: metrics.{name}: unknown metric (known: {', '.join(mx.NAMES)})")
        if not isinstance(t, dict):
            raise ProfileError(f"{path}: metrics.{name} must be a table")
        w = f"{path}: metrics.{name}"
        pct = _num(t.get("percentile"), w + ".percentile", 95.0)
        if not 0 < pct <= 100:
            raise ProfileError(f"{w}.percentile must be in (0, 100]")
        limits[name] = MetricLimit(name, pct, _num(t.get("max"), w + ".max"),
                                   _num(t.get("baseline_increase"), w + ".baseline_increase"),
                                   _num(t.get("slack"), w + ".slack", 0.0))
    return Profile(str(head["id"]), str(head["version"]), str(head.get("title") or head["id"]),
                   str(head.get("description") or ""), path, hashlib.sha256(raw).hexdigest(),
                   mandatory, optional, conditional, reqs, limits)


def load(name_or_path: str | Path) -> Profile:
    """A profile by id (profiles/<id>.toml) or by path. Raises ProfileError."""
    p = resolve(name_or_path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        known = ", ".join(sorted(x.stem for x in PROFILES.glob("*.toml")))
        raise ProfileError(f"{p}: no such profile (known: {known})") from None
    except OSError as e:
        raise ProfileError(f"{p}: cannot read: {e}") from None
    try:
        shown = str(p.resolve().relative_to(ROOT))
    except ValueError:
        shown = str(p)
    return parse(raw, shown)


# --- the verdict ---------------------------------------------------------------------------

@dataclass
class Row:
    case_id: str
    role: str  # mandatory, optional, "if <capability>", not applicable (<capability>), outside, as run
    result: str  # passed, failed, error, skipped, not run
    case: dict | None = None
    findings: list = field(default_factory=list)  # known findings (dicts) when every FAIL is known
    counts: bool = True  # whether it can change the verdict
    note: str = ""


@dataclass
class MetricCheck:
    name: str
    limit: MetricLimit
    dist: mx.Distribution | None
    value: float | None
    ok: bool


@dataclass
class Assessment:
    verdict: str
    profile: Profile | None
    dut: str
    rows: list[Row] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why NOT CONFORMANT
    deviations: list[tuple[str, dict]] = field(default_factory=list)  # (case id, finding) minor/info
    requirements: list[tuple[str, str]] = field(default_factory=list)  # (requirement, status)
    metrics: list[MetricCheck] = field(default_factory=list)

    @property
    def tone(self) -> str:
        return {CONFORMANT: "good", DEVIATIONS: "warn"}.get(self.verdict, "bad")


def failing_rules(case: dict) -> list[dict]:
    return [v for v in case.get("verdicts") or [] if isinstance(v, dict) and v.get("status") == "fail"]


def _declared(identity: dict | None) -> set[str]:
    caps = (identity or {}).get("capabilities") or []
    if isinstance(caps, str):
        caps = [caps]
    return {str(c) for c in caps}


def _judge_case(row: Row, a: Assessment) -> None:
    """Adds to a.reasons / a.deviations what one counting row says."""
    c, cid = row.case, row.case_id
    if c is None:
        a.reasons.append(f"{cid} ({row.role}) did not run")
        return
    v = c.get("verdict")
    if v == "passed":
        return
    if v == "skipped":
        a.reasons.append(f"{cid} ({row.role}) was skipped: {c.get('reason') or 'no reason given'}")
        return
    if v == "error":
        a.reasons.append(f"{cid} could not be judged (error): {(c.get('reason') or '').splitlines()[0][:160] if c.get('reason') else ''}")
        return
    fails = failing_rules(c)
    known = row.findings
    if not fails or not known:
        layers = sorted({str(f.get("layer") or "DUT") for f in fails})
        rules = ", ".join(sorted({str(f.get("rule")) for f in fails})) or "no FAIL verdict recorded"
        a.reasons.append(f"{cid} failed: {rules}" + (f" [layer: {', '.join(layers)}]" if layers else "")
                         + " — not a known finding")
        return
    bad = [f for f in known if str(f.get("severity")) not in MINOR]
    if bad:
        for f in bad:
            a.reasons.append(f"{cid} failed: known finding {f.get('id')} ({f.get('severity')}, "
                             f"layer {f.get('layer')})")
        return
    for f in known:
        a.deviations.append((cid, f))


def assess(cases: list[dict], profile: Profile | None, dut: str, identity: dict | None = None,
           run: dict | None = None) -> Assessment:
    """The verdict of one DUT: cases are that DUT's summary entries."""
    run = run or {}
    a = Assessment(NOT_CONFORMANT, profile, dut)
    by_id: dict[str, dict] = {}
    for c in cases:
        by_id[str(c.get("case_id"))] = c  # the last one counts, as in the gate
    if not cases:
        a.reasons.append("NO RESULTS: no case ran for this DUT")
    if run.get("interrupted") or run.get("complete") is False:
        a.reasons.append("INCOMPLETE RUN: the run was interrupted or did not finish")
    if (identity or {}).get("test_mutant"):
        # broken or slowed on purpose (devices/linux_wpas.py): it tests roamcert, not a product
        a.reasons.append(f"TEST MUTANT: {identity['test_mutant']}")

    def row(cid: str, role: str, counts: bool, note: str = "") -> Row:
        c = by_id.get(cid)
        r = Row(cid, role, (c or {}).get("verdict") or "not run", c, list((c or {}).get("known_findings") or []),
                counts, note)
        a.rows.append(r)
        return r

    if profile is None:
        for c in cases:
            r = row(str(c.get("case_id")), "as run", c.get("verdict") != "skipped")
            if r.counts:
                _judge_case(r, a)
            else:
                r.note = "not applicable"
    else:
        declared = _declared(identity)
        listed = set()
        for cid in profile.mandatory:
            listed.add(cid)
            _judge_case(row(cid, "mandatory", True), a)
        for cap, ids in profile.conditional.items():
            for cid in ids:
                listed.add(cid)
                if cap in declared:
                    _judge_case(row(cid, f"mandatory: declares {cap}", True), a)
                else:
                    row(cid, f"not applicable: {cap} not declared", False)
        for cid in profile.optional:
            listed.add(cid)
            row(cid, "optional", False)
        for c in cases:
            if str(c.get("case_id")) not in listed:
                row(str(c.get("case_id")), "outside the profile", False)
        for req in profile.requirements:
            naming = [c for c in cases if req in (c.get("requirements") or []) and c.get("verdict") != "skipped"]
            if not naming:
                a.requirements.append((req, "not tested"))
                a.reasons.append(f"requirement {req} is mandatory and no case naming it ran")
                continue
            bad = [c for c in naming if c.get("verdict") != "passed"]
            # A failure already judged through a counting case is not counted twice.
            judged = {r.case_id for r in a.rows if r.counts}
            extra = [c for c in bad if str(c.get("case_id")) not in judged]
            for c in extra:
                r = Row(str(c.get("case_id")), f"names mandatory requirement {req}", c.get("verdict"), c,
                        list(c.get("known_findings") or []), True)
                _judge_case(r, a)
            minor_only = bad and all(c.get("verdict") == "failed" and c.get("known_findings")
                                     and all(str(f.get("severity")) in MINOR for f in c["known_findings"])
                                     for c in bad)
            a.requirements.append((req, "passed" if not bad else "deviation" if minor_only else "failed"))
        for name, lim in profile.limits.items():
            xs = mx.pooled(cases, name)
            dist = mx.Distribution.of(xs)
            value = mx.percentile(xs, lim.percentile) if xs else None
            ok = lim.max is None or value is None or value <= lim.max
            a.metrics.append(MetricCheck(name, lim, dist, value, ok))
            if not ok:
                a.reasons.append(f"{mx.TITLES[name]}: p{lim.percentile:g} = {mx.fmt(value)} {mx.UNITS[name]} "
                                 f"exceeds the profile's limit {mx.fmt(lim.max)} {mx.UNITS[name]}")
    # a case that fails two mandatory requirements is one reason, said once
    a.reasons = list(dict.fromkeys(a.reasons))
    if a.reasons:
        a.verdict = NOT_CONFORMANT
    elif a.deviations:
        a.verdict = DEVIATIONS
    else:
        a.verdict = CONFORMANT
    return a
