"""CI's small fuzz budget for `analyze`: mutated captures and logs through the very function
the command runs (cli.analyze.analyze_args), in-process. Every input ends in exit 0, 1 or 2
with the error in one line; exit 3 (a crash) fails. The large budget, with hangs timed, is
`./roamcert bench fuzz --inputs 100000` (cli/fuzz.py)."""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import fuzz
from cli.analyze import analyze_args

BUDGET = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

try:
    SEEDS = fuzz.load_seeds()
except SystemExit:
    SEEDS = []
needs_seeds = pytest.mark.skipif(not SEEDS, reason="no seed inputs (tests/data/lab, shared/data)")


def _check(tmp_path, kind: str, data: bytes, rnd: random.Random) -> None:
    path = tmp_path / ("input.pcap" if kind == "pcap" else "input.log")
    path.write_bytes(data)
    code, text, err = analyze_args(fuzz.argv_for(kind, str(path), rnd))
    assert code in (0, 1, 2), err
    if code == 2:
        assert err and "Traceback" not in err
    else:
        assert text is not None and err is None


@needs_seeds
@BUDGET
@given(st.integers(min_value=0, max_value=2 ** 32 - 1))
def test_mutated_seeds_never_crash(tmp_path, n):
    rnd = random.Random(n)
    kind, data, _how = fuzz.mutate(rnd, SEEDS, giant_every=10 ** 9)  # giant lines: the bench's job
    _check(tmp_path, kind, data, rnd)


LINE = st.one_of(st.sampled_from(fuzz.LEAD_INS), st.text(max_size=80),
                 st.builds(lambda a, k: a * k, st.sampled_from(fuzz.LEAD_INS), st.integers(1, 400)))


@BUDGET
@given(st.lists(LINE, max_size=30), st.sampled_from(["wpas", "esp32"]), st.binary(max_size=16))
def test_generated_logs_never_crash(tmp_path, lines, kind, junk):
    data = "\n".join(lines).encode("utf-8", "surrogatepass") + junk
    _check(tmp_path, kind, data, random.Random(len(data)))


@needs_seeds
@BUDGET
@given(st.sampled_from([s for s in SEEDS if s.kind == "pcap"] or [None]), st.data())
def test_damaged_capture_records_never_crash(tmp_path, seed, data):
    b = bytearray(seed.data)
    for _ in range(data.draw(st.integers(1, 4))):
        if not b:
            break
        i = data.draw(st.integers(0, len(b) - 1))
        b[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(b)))
    _check(tmp_path, "pcap", bytes(b[:cut]), random.Random(cut))
