"""Measured values of a run, read from summary.json case entries, and their percentiles.

A metric is a named list of samples per case: a case that measured many roams gives
many samples, so runs are compared by percentiles of distributions, not single values.

  roam_time_us       FT exchange time on the air per roam, µs: cases[].metrics.ft_latency_us
  data_outage_pings  pings lost per roam (FT-08: 10 ms pings across each FT roam):
                     cases[].metrics.ping_lost_per_roam
  duration_s         the case's own duration, s (one sample): cases[].call_s, the test body
                     (setup also boots the lab in the first case), else cases[].duration_s
"""
from __future__ import annotations

import math
from dataclasses import dataclass

UNITS = {"roam_time_us": "µs", "data_outage_pings": "pings lost", "duration_s": "s"}
TITLES = {"roam_time_us": "roam time on the air", "data_outage_pings": "data outage per roam",
          "duration_s": "case duration"}
NAMES = tuple(UNITS)


def _numbers(v) -> list[float]:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        v = [v]
    if not isinstance(v, list):
        return []
    out = []
    for x in v:
        if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x):
            out.append(float(x))
    return out


def samples(case: dict, name: str) -> list[float]:
    """The samples of metric `name` that one case entry recorded ([] when none)."""
    m = case.get("metrics") or {}
    if not isinstance(m, dict):
        m = {}
    if name == "roam_time_us":
        return _numbers(m.get("ft_latency_us"))
    if name == "data_outage_pings":
        return _numbers(m.get("ping_lost_per_roam"))
    if name == "duration_s":
        if case.get("verdict") not in ("passed", "failed"):
            return []
        return _numbers(case["call_s"] if "call_s" in case else case.get("duration_s"))
    raise KeyError(f"unknown metric {name!r} (known: {', '.join(NAMES)})")


def percentile(values, p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list: always a measured value."""
    xs = sorted(values)
    if not xs:
        raise ValueError("percentile of no values")
    if p <= 0:
        return xs[0]
    k = math.ceil(p / 100 * len(xs))
    return xs[min(max(k, 1), len(xs)) - 1]


@dataclass(frozen=True)
class Distribution:
    n: int
    p50: float
    p95: float
    max: float

    @classmethod
    def of(cls, values) -> "Distribution | None":
        xs = list(values)
        if not xs:
            return None
        return cls(len(xs), percentile(xs, 50), percentile(xs, 95), max(xs))

    def describe(self, unit: str = "") -> str:
        u = f" {unit}" if unit else ""
        return f"n={self.n} p50={fmt(self.p50)}{u} p95={fmt(self.p95)}{u} max={fmt(self.max)}{u}"


def fmt(x: float) -> str:
    return f"{x:.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:.3g}"


def pooled(cases, name: str, dut: str | None = None) -> list[float]:
    """Every sample of `name` across the cases (of one DUT when given)."""
    out = []
    for c in cases:
        if dut is not None and str(c.get("dut") or "") != dut:
            continue
        out += samples(c, name)
    return out
