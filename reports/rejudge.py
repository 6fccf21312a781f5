"""Judge a recorded case again from its evidence alone, and compare with what the run said.

A case folder holds evidence.json (stimulus, DUT and AP events, profile), air.pcap and
verdicts.json (the live run's verdicts). rejudge_case() loads the first two, calls the same
engine judge the live run called, and compares the verdict lists field by field: rule,
clause, status, expected, observed, evidence, message, layer.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from engine.air import Air, capture_channels
from engine.evidence import CaseEvidence, EvidenceError
from engine.judges import run
from engine.verdict import Verdict


@dataclass
class CaseRejudge:
    folder: Path
    case: str
    dut: str
    same: bool
    detail: str = ""
    recorded: list[Verdict] = field(default_factory=list)
    rejudged: list[Verdict] = field(default_factory=list)


def load(folder: Path) -> tuple[CaseEvidence, Air | None]:
    """The evidence and air of a case folder; EvidenceError says what is missing or bad."""
    folder = Path(folder)
    p = folder / "evidence.json"
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvidenceError(f"{folder}: no evidence.json (a case recorded before the one-judge format, "
                            "or not a case folder)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise EvidenceError(f"{p}: {e}") from None
    ev = CaseEvidence.from_dict(doc)
    air = None
    pcap = doc.get("pcap")
    if pcap:
        path = folder / pcap
        if not path.is_file():
            raise EvidenceError(f"{folder}: the evidence names {pcap} but it is not there")
        try:
            channels = capture_channels(doc.get("capture"))
        except ValueError as e:
            raise EvidenceError(f"{folder}: {e}") from None
        air = Air(path, channels=channels)
    return ev, air


def judge_folder(folder: Path) -> tuple[CaseEvidence, list[Verdict]]:
    ev, air = load(folder)
    return ev, run(ev, air).verdicts


def rejudge_case(folder: Path) -> CaseRejudge:
    folder = Path(folder)
    try:
        ev, again = judge_folder(folder)
    except EvidenceError as e:
        return CaseRejudge(folder, folder.name, "", False, str(e))
    try:
        recorded = [Verdict.from_dict(d) for d in json.loads((folder / "verdicts.json").read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError) as e:
        return CaseRejudge(folder, ev.case, ev.dut.name, False, f"verdicts.json: {e}", [], again)
    diffs = []
    for i, (a, b) in enumerate(zip(recorded, again)):
        if a != b:
            diffs.append(f"verdict {i + 1} {a.rule}: recorded {a.to_dict()} != re-judged {b.to_dict()}")
    if len(recorded) != len(again):
        diffs.append(f"{len(recorded)} verdict(s) recorded, {len(again)} re-judged")
    return CaseRejudge(folder, ev.case, ev.dut.name, not diffs, "; ".join(diffs[:3]), recorded, again)


def case_folders(run_dir: Path) -> list[Path]:
    """Every case folder of a run that holds evidence.json."""
    return sorted(p.parent for p in (Path(run_dir) / "cases").glob("*/evidence.json"))


def rejudge_run(run_dir: Path) -> list[CaseRejudge]:
    return [rejudge_case(f) for f in case_folders(run_dir)]
