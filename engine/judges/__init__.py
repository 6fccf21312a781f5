"""One judge per case family: every verdict of a case is a function of its evidence.

A judge takes a CaseEvidence (stimulus, DUT and AP events, the profile) and the case's
Air (frames) and writes into a CaseJudgement. The live run and `roamcert analyze
RUN/cases/CASE` call the same judge on the same evidence, so they give the same verdicts.

Add a family: write a module here with functions decorated @judge("name"), import it at
the bottom of this file, and let the suite record evidence with judge="name".
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

from engine.air import Air
from engine.evidence import CaseEvidence, EvidenceError
from engine.ft.checks import SLOW_AP
from engine.verdict import COVERAGE_RULE, DUT, FAIL, INFO, LAB, REFERENCE_AP, Verdict

JUDGES: dict[str, Callable[[CaseEvidence, Air, "CaseJudgement"], None]] = {}


@dataclass
class CaseJudgement:
    """What a judge produced: verdicts in order, decoded exchanges to attach, measured
    figures, and the data of roam timeline pictures."""
    verdicts: list[Verdict] = field(default_factory=list)
    attachments: dict[str, Any] = field(default_factory=dict)  # name -> JSON-able object
    metrics: dict[str, Any] = field(default_factory=dict)
    roams: list[dict] = field(default_factory=list)

    def add(self, verdicts) -> None:
        if isinstance(verdicts, Verdict):
            verdicts = [verdicts]
        self.verdicts.extend(verdicts)

    def attach_json(self, name: str, obj) -> None:
        self.attachments[name] = obj


def judge(name: str):
    """Register a judge under name."""
    def deco(fn):
        if name in JUDGES:
            raise ValueError(f"two judges named {name!r}")
        JUDGES[name] = fn
        return fn
    return deco


def run(ev: CaseEvidence, air: Air | None) -> CaseJudgement:
    """Judge one case. A case whose DUT never connected is judged on that alone (no frames
    needed); every other judge needs the case's air."""
    from engine.judges import common
    j = CaseJudgement()
    if ev.facts.get("connect_error") is not None:
        j.add(common.connect_failed(ev))
        return j
    fn = JUDGES.get(ev.judge)
    if fn is None:
        raise EvidenceError(f"no judge named {ev.judge!r} (known: {', '.join(sorted(JUDGES))})")
    if air is None:
        raise EvidenceError(f"{ev.case}: the {ev.judge} judge needs the case's capture (air.pcap)")
    fn(ev, air, j)
    _coverage(ev, air, j)
    # A verdict on "the DUT" is about the layer that DUT says makes its frames and events
    # (wpa_supplicant's SME for linux-wpas, the firmware for an ESP32); verdicts that name
    # another layer (kernel/driver, reference AP, lab, stimulus) keep it.
    _lab_fault_consequences(j)
    if ev.dut.layer != DUT:
        j.verdicts = [dataclasses.replace(v, layer=ev.dut.layer) if v.layer == DUT else v for v in j.verdicts]
    return j


COVERAGE_CLAUSE = "lab: the capture covers every channel the case's APs use"


def _coverage(ev: CaseEvidence, air: Air, j: CaseJudgement) -> None:
    """A capture that missed a channel of the case's APs (a sniffer with fewer radios than
    the case has channels) cannot show that a frame was not sent: every frame on that
    channel went by unseen. So no rule is failed from such a capture; a FAIL becomes a
    not-observable INFO of the lab's that keeps what it would have said, and the
    AIR-COVERAGE verdict makes the case inconclusive (fixtures/case.py skips it, engine.verdict.inconclusive). Its PASS
    verdicts stay as observations, but a PASS may rest on the absence of a frame as well,
    so the case as a whole is not passed either."""
    if air.channels is None:
        return
    need = {ap.freq: ap for ap in ev.aps.values()}
    missing = sorted(f for f in need if f not in air.channels)
    if not missing:
        return
    heard = ", ".join(f"{f} MHz" for f in sorted(air.channels)) or "no channel"
    lost = "; ".join(f"{r} {a.bssid} on {a.freq} MHz" for r, a in sorted(ev.aps.items()) if a.freq in missing)
    note = (f"not observable: the capture covers {heard} only and not the channel of AP {lost}; "
            f"a frame this rule needs may have gone by there unseen")
    j.verdicts = [dataclasses.replace(v, status=INFO, layer=LAB, message="; ".join(
        m for m in (v.message, note + " (this partial capture alone would say fail)") if m))
        if v.status == FAIL else v for v in j.verdicts]
    j.add(Verdict(COVERAGE_RULE, COVERAGE_CLAUSE, INFO,
                  "the channels of the case's APs captured: " + ", ".join(f"{f} MHz" for f in sorted(need)),
                  f"captured {heard}; not captured: " + ", ".join(f"{f} MHz" for f in missing),
                  message="inconclusive: a sniffer radio per channel is needed to judge this case", layer=LAB))


# Roam outcomes that a lab fault in the same case explains: a roam that did not complete, a
# repeat or data-plane round that failed with it, a rule the scenario then could not exercise.
_CONSEQUENCES = ("ROAM-COMPLETED", "DP-ROAM-", "DP-LOSS-", "FT-REPEAT", "FT-EXCHANGE", "FT-TARGET",
                 "FT-BTM-BY-FT", "FT-BTM-JOINED", "FT-TOUR-EVERY-AP", "FT-NO-4WAY-TARGET")


def _lab_fault_consequences(j: CaseJudgement) -> None:
    """When the engine found the reference AP at fault for a failed FT roam
    (engine.ft.checks._slow_ap: it answered too slowly, twice, with two ANonces), the roam
    outcomes that follow are its too, said so with the frames that show it. Only as many
    failed roam outcomes as there were such faults: another roam that failed is judged as it is."""
    causes = [v for v in j.verdicts if v.status == "fail" and v.layer == REFERENCE_AP
              and v.rule in ("FT-REASSOC-STATUS", "FT-SEQUENCE", "FT-REASSOC-TIMELY") and SLOW_AP in v.message]
    if not causes:
        return
    outcomes = [v for v in j.verdicts if v.status == "fail" and v.layer == DUT
                and (v.rule.startswith(_CONSEQUENCES) or v.rule.endswith("-JUDGED"))]
    per_roam = [v for v in outcomes if v.rule.startswith(("DP-ROAM-", "ROAM-COMPLETED", "FT-BTM-JOINED"))]
    if len(per_roam) > len(causes):
        return  # more roams failed than the AP's fault explains: judge them as they are
    note = "follows from the reference AP's fault judged in " + \
        "; ".join(f"{c.rule} ({', '.join(c.evidence)})" for c in causes)
    j.verdicts = [dataclasses.replace(v, layer=REFERENCE_AP, message="; ".join(m for m in (v.message, note) if m))
                  if any(v is o for o in outcomes) else v for v in j.verdicts]


# The families register themselves on import.
from engine.judges import bss_transition, ft, native, rrm, smoke  # noqa: E402,F401
