"""The coverage matrix: feature × (cases, requirement ids), generated from the suites' case
tables (the CaseSpec rows of suites/test_*.py), never from a list kept by hand.

A feature is a family (the CaseSpec epic: 802.11k, 802.11v, 802.11r, Native 802.11) and its
feature (e.g. "BSS Transition Management"); a sub-feature is a story of that feature (e.g.
"Disassociation imminent"). The README section between the coverage markers and
docs/coverage.md hold exactly what this module renders; tests/test_coverage_matrix.py fails
when they are stale. Regenerate both after changing a case table:

    .venv/bin/python -m reports.coverage_matrix

The certificate shows the same matrix with what its run covered (reports/certificate.py:
ran, passed, failed, skipped, not run per sub-feature).
"""
from __future__ import annotations

import importlib
import re
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from fixtures.case import EPICS, CaseSpec
from reports.readme_markers import marked_section, with_marked_section

BEGIN, END = "<!-- coverage:begin -->", "<!-- coverage:end -->"
ROOT = Path(__file__).resolve().parent.parent
SUITES = ROOT / "suites"
README = ROOT / "README.md"
LONG_FORM = ROOT / "docs" / "coverage.md"
CLAUSE_PREFIX = "IEEE 802.11-2020 "


@dataclass
class SubFeature:
    epic: str
    feature: str
    story: str
    cases: list[str] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)  # in first-seen order

    def add(self, spec: CaseSpec) -> None:
        if spec.id not in self.cases:
            self.cases.append(spec.id)
        for r in spec.requirements:
            if r not in self.requirements:
                self.requirements.append(r)


def specs(suites_dir: Path = SUITES) -> list[CaseSpec]:
    """Every CaseSpec row of every suite module (a module-level list of CaseSpec is a table)."""
    out: list[CaseSpec] = []
    for path in sorted(Path(suites_dir).glob("test_*.py")):
        mod = importlib.import_module(f"suites.{path.stem}")
        for value in vars(mod).values():
            if isinstance(value, list) and value and all(isinstance(v, CaseSpec) for v in value):
                out += value
    return out


def _epic_order(epic: str) -> int:
    return EPICS.index(epic) if epic in EPICS else len(EPICS)


def matrix(rows: list[CaseSpec] | None = None) -> list[SubFeature]:
    """Sub-features in family order (EPICS), then features and stories in table order."""
    rows = specs() if rows is None else rows
    subs: OrderedDict[tuple[str, str, str], SubFeature] = OrderedDict()
    for s in rows:
        key = (s.epic, s.feature, s.story)
        subs.setdefault(key, SubFeature(*key)).add(s)
    firsts = {k: i for i, k in enumerate(subs)}
    feature_first: dict[tuple[str, str], int] = {}
    for (e, f, _), i in firsts.items():
        feature_first.setdefault((e, f), i)
    return sorted(subs.values(), key=lambda x: (_epic_order(x.epic), feature_first[(x.epic, x.feature)],
                                                firsts[(x.epic, x.feature, x.story)]))


def short_req(req: str) -> str:
    """"IEEE 802.11-2020 11.24.7.3" -> "11.24.7.3"; rule ids (IND-6) stay."""
    return req[len(CLAUSE_PREFIX):] if req.startswith(CLAUSE_PREFIX) else req


def _req_key(req: str):
    """Rule ids after clauses; clauses in numeric order (9.4.2.36 before 11.10.9.3)."""
    r = short_req(req)
    if re.match(r"[A-Z]+-\d+$", r):
        return (1, r.split("-")[0], int(r.split("-")[1]), ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[. ]", r))
    return (0, "", 0, parts)


def reqs_text(reqs) -> str:
    return ", ".join(short_req(r) for r in sorted(reqs, key=_req_key))


def cases_text(cases) -> str:
    """FT-04, FT-02, FT-03, BTM-01 -> "FT-02..04, BTM-01": per id prefix (in first-seen order),
    runs of consecutive numbers joined; an id not shaped PREFIX-NN is listed as it is."""
    groups: OrderedDict[str, list] = OrderedDict()
    for c in cases:
        m = re.fullmatch(r"(.+)-(\d+)", str(c))
        if m:
            groups.setdefault(m.group(1), []).append(int(m.group(2)))
        else:
            groups.setdefault(str(c), None)
    out = []
    for prefix, nums in groups.items():
        if nums is None:
            out.append(prefix)
            continue
        nums = sorted(set(nums))
        start = prev = nums[0]
        for n in nums[1:] + [None]:
            if n is not None and n == prev + 1:
                prev = n
                continue
            out.append(f"{prefix}-{start:02d}" if start == prev else f"{prefix}-{start:02d}..{prev:02d}")
            if n is not None:
                start = prev = n
    return ", ".join(out)


def features(subs: list[SubFeature]) -> list[tuple[str, str, list[SubFeature]]]:
    """(family, feature, its sub-features), in matrix order."""
    out: OrderedDict[tuple[str, str], list[SubFeature]] = OrderedDict()
    for s in subs:
        out.setdefault((s.epic, s.feature), []).append(s)
    return [(e, f, ss) for (e, f), ss in out.items()]


def uncovered_rules(subs: list[SubFeature]) -> list[str]:
    """Indication rules of the guidelines (engine.clauses.RULES) that no case names."""
    from engine.clauses import RULES
    named = {r for s in subs for r in s.requirements}
    return [r for r in RULES if r not in named]


def markdown(subs: list[SubFeature] | None = None) -> str:
    """The README section: one row per feature, its sub-features, cases and requirement ids."""
    subs = matrix() if subs is None else subs
    n_cases = len({c for s in subs for c in s.cases})
    out = [f"Generated from the suites' case tables by `reports/coverage_matrix.py` ({n_cases} cases, "
           f"{len(subs)} sub-features); the sub-feature rows are in [docs/coverage.md](docs/coverage.md), "
           "and each certificate shows the matrix with what its run covered. Requirement ids are "
           "IEEE 802.11-2020 clauses and the Native 802.11 indication rules (IND-n).",
           "",
           "| Family | Feature | Sub-features | Cases | Requirements |",
           "|---|---|---|---|---|"]
    for epic, feat, ss in features(subs):
        cases = [c for s in ss for c in s.cases]
        reqs = {r for s in ss for r in s.requirements}
        out.append(f"| {epic} | {feat} | {len(ss)}: " + "; ".join(s.story for s in ss)
                   + f" | {cases_text(cases)} | {reqs_text(reqs)} |")
    gaps = uncovered_rules(subs)
    out += ["", "Indication rules no case names: " + (", ".join(gaps) if gaps else "none") + "."]
    return "\n".join(out) + "\n"


def long_form(subs: list[SubFeature] | None = None) -> str:
    """docs/coverage.md: one row per sub-feature, then requirement -> cases."""
    subs = matrix() if subs is None else subs
    out = ["# Coverage matrix", "",
           "Generated by `.venv/bin/python -m reports.coverage_matrix` from the suites' case tables "
           "(`suites/test_*.py`, the `CaseSpec` rows); do not edit by hand. A test "
           "(tests/test_coverage_matrix.py) fails when this file or the README section is stale.", "",
           "## Feature × cases and requirements", "",
           "| Family | Feature | Sub-feature | Cases | Requirements |", "|---|---|---|---|---|"]
    for s in subs:
        out.append(f"| {s.epic} | {s.feature} | {s.story} | {cases_text(s.cases)} | {reqs_text(s.requirements)} |")
    by_req: dict[str, list[str]] = {}
    for s in subs:
        for r in s.requirements:
            for c in s.cases:
                if c not in by_req.setdefault(r, []):
                    by_req[r].append(c)
    out += ["", "## Requirement × cases", "", "| Requirement | Cases |", "|---|---|"]
    for r in sorted(by_req, key=_req_key):
        out.append(f"| {short_req(r)} | {cases_text(by_req[r])} |")
    gaps = uncovered_rules(subs)
    out += ["", "## Not covered", "",
            "Indication rules of the guidelines that no case names: " + (", ".join(gaps) if gaps else "none") + ".",
            "Clauses appear above only where a case names them; a clause absent from the table is not tested."]
    return "\n".join(out) + "\n"


# ---- the run's view (certificate) ---------------------------------------------------------

def run_coverage(cases: list[dict], subs: list[SubFeature] | None = None) -> list[dict]:
    """Per sub-feature: the table's cases and what this run did with them. A case of the run
    that no table row has (a case outside the suites' tables) gets a row of its own from its
    summary entry's family/feature/story."""
    subs = matrix() if subs is None else subs
    verdict: dict[str, str] = {}
    for c in cases:
        verdict[str(c.get("case_id"))] = str(c.get("verdict") or "error")  # the last one counts
    rows = [{"family": s.epic, "feature": s.feature, "story": s.story, "cases": list(s.cases),
             "requirements": reqs_text(s.requirements)} for s in subs]
    tabled = {c for s in subs for c in s.cases}
    extra: OrderedDict[tuple, list[str]] = OrderedDict()
    for c in cases:
        cid = str(c.get("case_id"))
        if cid not in tabled:
            key = (str(c.get("family") or "(none)"), str(c.get("feature") or ""), str(c.get("story") or ""))
            if cid not in extra.setdefault(key, []):
                extra[key].append(cid)
    for (fam, feat, story), cids in extra.items():
        reqs = {str(r) for c in cases if str(c.get("case_id")) in cids for r in c.get("requirements") or []}
        rows.append({"family": fam, "feature": feat, "story": story, "cases": cids,
                     "requirements": reqs_text(reqs)})
    for r in rows:
        got = [verdict[c] for c in r["cases"] if c in verdict]
        r.update(total=len(r["cases"]), not_run=len(r["cases"]) - len(got),
                 ran=sum(1 for v in got if v != "skipped"),
                 **{k: sum(1 for v in got if v == k) for k in ("passed", "failed", "skipped", "error")})
        r["cases_text"] = cases_text(r["cases"])
        r["status"] = ("not run" if not got else "failed" if r["failed"] or r["error"]
                       else "skipped" if not r["ran"] else "passed")
    return rows


# ---- README and docs/coverage.md ---------------------------------------------------------

def readme_section(text: str) -> str:
    return marked_section(text, BEGIN, END)


def with_section(text: str, section: str) -> str:
    return with_marked_section(text, BEGIN, END, section)


def write(readme: Path = README, long_form_path: Path = LONG_FORM) -> None:
    subs = matrix()
    text = readme.read_text()
    readme_section(text)  # a clear error before anything is written
    readme.write_text(with_section(text, markdown(subs)))
    long_form_path.write_text(long_form(subs))


if __name__ == "__main__":
    write()
    print(f"wrote {README} (coverage section) and {LONG_FORM}", file=sys.stderr)
