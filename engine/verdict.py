"""The verdict model: every judgement the oracle makes is one of these."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

PASS = "pass"
FAIL = "fail"
INFO = "info"  # a measurement or observation that judges nothing (latency, which branch was taken)

# Which layer produced what a verdict judges. A FAIL is a claim against that layer, so the
# reports name it. "DUT" is the station as a whole where the engine cannot tell more; an
# adapter may say which of its layers that is (devices/: e.g. wpa_supplicant's SME).
DUT = "DUT"
SUPPLICANT = "supplicant"
KERNEL = "kernel/driver"
FIRMWARE = "firmware"
REFERENCE_AP = "reference AP"
LAB = "lab"
STIMULUS = "test stimulus"
LAYERS = (DUT, SUPPLICANT, KERNEL, FIRMWARE, REFERENCE_AP, LAB, STIMULUS)


@dataclass(frozen=True)
class Verdict:
    rule: str  # e.g. "IND-6", "BTM-TOKEN", "FT-MIC-5"
    clause: str  # "IEEE 802.11-2020 11.24.7.3" or the quoted guideline text
    status: str  # PASS, FAIL or INFO
    expected: str
    observed: str
    evidence: tuple[str, ...] = ()  # "frame 812", "wpas.log:123", "event 5"
    message: str = ""
    layer: str = DUT  # one of LAYERS: whose behaviour this verdict judges

    @property
    def ok(self) -> bool:
        return self.status != FAIL

    def to_dict(self) -> dict:
        d = asdict(self)
        d["evidence"] = list(self.evidence)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Verdict":
        return cls(**{**d, "evidence": tuple(d.get("evidence", ())), "layer": d.get("layer", DUT)})

    def describe(self) -> str:
        ev = ", ".join(self.evidence) or "none"
        head = f"[{self.status.upper()}] {self.rule} ({self.clause})"
        if self.status == FAIL:
            head += f" [layer: {self.layer}]"
        body = f"expected: {self.expected}; observed: {self.observed}; evidence: {ev}"
        return f"{head}: {self.message + '; ' if self.message else ''}{body}"


def check(rule: str, clause: str, cond: bool, expected: str, observed: str,
          evidence=(), message: str = "", layer: str = DUT) -> Verdict:
    return Verdict(rule, clause, PASS if cond else FAIL, expected, observed, tuple(evidence), message, layer)


# The verdict engine.judges adds when the case's capture missed a channel of its APs: the
# case is then inconclusive (neither passed nor failed), see engine/judges/__init__.py.
COVERAGE_RULE = "AIR-COVERAGE"


def inconclusive(verdicts) -> Verdict | None:
    """The AIR-COVERAGE verdict of a case judged from a capture that missed a channel."""
    return next((v for v in verdicts if v.rule == COVERAGE_RULE), None)


def failures(verdicts) -> list[Verdict]:
    return [v for v in verdicts if v.status == FAIL]


def to_json(verdicts) -> str:
    return json.dumps([v.to_dict() for v in verdicts], indent=2)


@dataclass
class Judgement:
    """All verdicts of one case, in order."""
    verdicts: list[Verdict] = field(default_factory=list)

    def extend(self, vs) -> None:
        self.verdicts.extend(vs)

    @property
    def ok(self) -> bool:
        return not failures(self.verdicts)

    def failure_text(self) -> str:
        return "\n".join(v.describe() for v in failures(self.verdicts))
