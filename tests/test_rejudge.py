"""One judge: a recorded case judged again from its evidence gives the live run's verdicts.

The case folders under tests/data/rejudge were recorded on the virtual lab by real hostapd
and wpa_supplicant (see tests/data/lab/README.md); their verdicts.json is what the live run
said. Re-judging must give the same list, field by field; doctored evidence must not."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.evidence import CaseEvidence, EvidenceError
from reports.rejudge import rejudge_case, rejudge_run

DATA = Path(__file__).parent / "data" / "rejudge"
ROOT = Path(__file__).resolve().parent.parent
CASES = sorted(p.name for p in DATA.iterdir())


@pytest.mark.parametrize("case", CASES)
def test_recorded_case_rejudges_to_the_same_verdicts(case):
    r = rejudge_case(DATA / case)
    assert r.same, r.detail
    assert r.rejudged and any(v.status == "pass" for v in r.rejudged)
    assert r.case == case.split("-")[0] + "-" + case.split("-")[1] and r.dut == "linux-wpas"


def copy(case, tmp_path) -> Path:
    d = tmp_path / case
    shutil.copytree(DATA / case, d)
    return d


def test_doctored_events_change_the_verdicts(tmp_path):
    """The BTM case judged with the AP's BSS-TM-RESP event saying status 1: the oracle sees the
    mismatch with the air, so the re-judged list differs from the recorded one."""
    d = copy("SMOKE-03-linux-wpas", tmp_path)
    doc = json.loads((d / "evidence.json").read_text())
    ev = doc["aps"]["cur"]["events"]
    hit = [e for e in ev if "BSS-TM-RESP" in e[1]]
    assert hit, "the recorded evidence holds hostapd's BSS-TM-RESP"
    hit[0][1] = hit[0][1].replace("status_code=0", "status_code=1")
    (d / "evidence.json").write_text(json.dumps(doc))
    r = rejudge_case(d)
    assert not r.same and "BTM-HOSTAPD-EVENT" in r.detail
    bad = [v for v in r.rejudged if v.rule == "BTM-HOSTAPD-EVENT"]
    assert bad[0].status == "fail" and bad[0].layer == "reference AP"


def test_doctored_air_changes_the_verdicts(tmp_path):
    """Drop the capture's frames after the first quarter: the FT exchange is no longer on the air."""
    d = copy("SMOKE-02-linux-wpas", tmp_path)
    from engine.capture import open_capture
    frames = list(open_capture(str(d / "air.pcap")))
    raw = (d / "air.pcap").read_bytes()
    # classic pcap: 24-octet global header, then records (16-octet header + data)
    pos, keep = 24, len(frames) // 4
    for _ in range(keep):
        incl = int.from_bytes(raw[pos + 8:pos + 12], "little")
        pos += 16 + incl
    (d / "air.pcap").write_bytes(raw[:pos])
    r = rejudge_case(d)
    assert not r.same
    assert any(v.rule == "FT-EXCHANGE" and v.status == "fail" for v in r.rejudged)


def test_missing_capture_is_named(tmp_path):
    d = copy("SMOKE-05-linux-wpas", tmp_path)
    (d / "air.pcap").unlink()
    r = rejudge_case(d)
    assert not r.same and "air.pcap" in r.detail and not r.rejudged


def test_foreign_json_is_not_evidence(tmp_path):
    with pytest.raises(EvidenceError, match="not roamcert evidence"):
        CaseEvidence.from_dict({"schema": "something/else"})
    d = copy("SMOKE-05-linux-wpas", tmp_path)
    (d / "evidence.json").write_text("{not json")
    r = rejudge_case(d)
    assert not r.same and "evidence.json" in r.detail


def test_analyze_rejudges_a_run_folder(tmp_path):
    run = tmp_path / "run"
    (run / "cases").mkdir(parents=True)
    for c in CASES:
        shutil.copytree(DATA / c, run / "cases" / c)
    assert all(r.same for r in rejudge_run(run))
    p = subprocess.run([sys.executable, "-m", "cli", "analyze", str(run)], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"re-judged {len(CASES)} case(s): {len(CASES)} same, 0 different" in p.stdout
    (run / "cases" / CASES[0] / "verdicts.json").write_text("[]")
    p = subprocess.run([sys.executable, "-m", "cli", "analyze", str(run)], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 1 and "1 different" in p.stdout
