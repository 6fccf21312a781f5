"""The case tables themselves: every row a certification review can trace."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from devices.base import CAPABILITIES
from engine.clauses import RULES
from engine.mbo import MBO_REQUIREMENT
from fixtures.case import EPICS, CaseSpec

SUITES = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "suites").glob("test_*.py"))
SEVERITIES = {"blocker", "critical", "normal", "minor", "trivial"}


def all_specs() -> list[tuple[str, CaseSpec]]:
    out = []
    for name in SUITES:
        mod = importlib.import_module(f"suites.{name}")
        for value in vars(mod).values():
            if isinstance(value, list) and value and all(isinstance(v, CaseSpec) for v in value):
                out += [(name, v) for v in value]
    return out


SPECS = all_specs()


def test_enough_cases_in_every_family():
    by_epic = {}
    for _, s in SPECS:
        by_epic.setdefault(s.epic, set()).add(s.id)
    assert len({s.id for _, s in SPECS}) >= 45
    assert len([i for i in by_epic.get("802.11k", ()) if i.startswith("NR-")]) >= 4
    assert len([i for i in by_epic.get("802.11k", ()) if i.startswith("BCN-")]) >= 15
    assert len([i for i in by_epic.get("802.11v", ()) if i.startswith("BTM-")]) >= 12
    assert len([i for i in by_epic.get("802.11r", ()) if i.startswith("FT-")]) >= 8
    assert len([i for i in by_epic.get("Native 802.11", ()) if i.startswith("IND-")]) >= 6


def test_case_ids_are_unique():
    ids = [s.id for _, s in SPECS]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize("suite,spec", SPECS, ids=[s.id for _, s in SPECS])
def test_row_is_traceable(suite, spec):
    assert re.fullmatch(r"[A-Z]+-\d{2}", spec.id), spec.id
    assert spec.epic in EPICS
    assert spec.title and spec.feature and spec.story
    assert spec.severity in SEVERITIES
    assert spec.requirements, f"{spec.id} names no requirement"
    for req in spec.requirements:
        if req.startswith("IND-"):
            assert req in RULES, f"{spec.id}: unknown rule {req}"
        elif req == MBO_REQUIREMENT:
            pass  # a Wi-Fi Alliance specification, named as such: no IEEE clause number
        else:
            assert req.startswith("IEEE 802.11-2020 "), f"{spec.id}: {req!r} is not a clause"
    unknown = [n for n in spec.needs if n not in CAPABILITIES]
    assert not unknown, f"{spec.id} needs unknown capabilities {unknown}"
