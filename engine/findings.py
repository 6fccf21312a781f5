"""The findings registry: known, reviewed non-conformances of reference DUTs.

Minimal placeholder with the registry's API (an empty registry); the real registry
replaces this module. A Finding says what a failing rule on a case and DUT means:
who is at fault (layer), how bad it is (severity), and where it is tracked (upstream).
"""
from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("blocker", "major", "minor", "info")


@dataclass(frozen=True)
class Finding:
    id: str
    title: str
    behaviour: str
    cases: tuple[str, ...]
    rules: tuple[str, ...]
    clause: str
    quote: str
    quote_source: str
    severity: str  # blocker|major|minor|info
    severity_reason: str
    layer: str
    applies_to: tuple[str, ...]
    upstream: str
    evidence: str
    hostap_tests: tuple[str, ...] = ()


FINDINGS: tuple[Finding, ...] = ()
WITHDRAWN: tuple[Finding, ...] = ()


def match(case_id: str, rule: str, dut: str) -> Finding | None:
    """The registry entry that explains a FAIL of `rule` in `case_id` on `dut`, or None."""
    return None
