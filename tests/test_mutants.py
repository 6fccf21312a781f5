"""The fault catalogue (cli/mutants.py): every mutant of real recorded evidence is caught
by the rule it names, and none of those rules fails on the evidence as recorded."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cli import mutants

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = mutants.catalogue()


def test_the_catalogue_is_broad():
    kinds = {m.kind for m in CATALOGUE}
    assert len(CATALOGUE) >= 25 and kinds == {"frame", "air", "trace"}
    ind_rules = {m.rule for m in CATALOGUE if m.kind == "trace"}
    assert {"IND-1", "IND-2", "IND-3", "IND-4", "IND-5", "IND-6", "IND-7", "IND-8", "IND-9"} <= ind_rules
    assert len({m.id for m in CATALOGUE}) == len(CATALOGUE)


@pytest.mark.parametrize("m", CATALOGUE, ids=lambda m: m.id)
def test_mutant_is_caught(m):
    out = mutants.try_mutant(m)
    assert out.caught, out.detail


def test_a_harmless_mutant_is_not_counted_as_caught():
    """The catalogue's own check can fail: a 'mutant' that changes nothing is not caught."""
    noop = mutants.Mutant("noop", "air", mutants.FT, "FT-MIC-5", "nothing changes", air=lambda recs, ev: recs)
    assert not mutants.try_mutant(noop).caught


def test_bench_prints_caught_over_total():
    p = subprocess.run([sys.executable, "-m", "cli", "bench", "mutants"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert f"mutants: {len(CATALOGUE)}/{len(CATALOGUE)} caught" in p.stdout
