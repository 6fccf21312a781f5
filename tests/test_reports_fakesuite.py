"""A tiny fake suite run through the reports plugin in a subprocess, shared by the report tests.

make_run() writes a conftest (registering reports.plugin, with a `record` fixture like
the lead's) and a few cases carrying CaseRecords, runs pytest on them and returns the
run folder. HOSTILE goes into every string field a DUT or the air could control.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = "<script>alert(1)</script>\"'&"

# A pcap global header, little-endian, version 2.4, linktype 127 (radiotap), written by hand.
PCAP_HEADER = bytes.fromhex("d4c3b2a1" "0200" "0400" "00000000" "00000000" "ffff0000" "7f000000")

CONFTEST = '''
import pytest
from fixtures.case import CaseRecord, CaseSpec
from reports.plugin import RECORD_KEY, run_dir, set_run_info

pytest_plugins = ["reports.plugin"]
HOSTILE = {hostile!r}

def pytest_configure(config):
    set_run_info(config, dut={{"name": "dut-" + HOSTILE, "mac": "02:00:00:00:02:00",
                              "firmware": "fw " + HOSTILE, "capabilities": ["btm", "ft_over_air"]}},
                 lab={{"kernel": "6.1.0-hwsim", "hostapd": "hostapd v2.10", "wpa_supplicant": "v2.10",
                      "radios": "3 x mac80211_hwsim", "ssid": HOSTILE}})

@pytest.fixture
def record(request):
    spec = request.node.get_closest_marker("case").args[0]
    rd = run_dir(request.config)
    rec = CaseRecord(spec=spec, nodeid=request.node.nodeid, dut="dut-" + HOSTILE,
                     evidence_dir=rd / "evidence" / spec.id)
    request.node.stash[RECORD_KEY] = rec
    return rec
'''

CASES = '''
import json
import pytest
from engine.verdict import Verdict, check
from fixtures.case import CaseSpec
from conftest import HOSTILE

PCAP = bytes.fromhex({pcap!r})

ROAM = {roam!r}

BTM01 = CaseSpec("BTM-01", "BTM request accepted " + HOSTILE, "802.11v", "BSS Transition Management",
                 "accept", ("IEEE 802.11-2020 11.24.7.3", "IND-6"), needs=("btm",), severity="critical")
BTM02 = CaseSpec("BTM-02", "BTM token echo", "802.11v", "BSS Transition Management", "token",
                 ("IEEE 802.11-2020 9.6.13.10",), severity="normal")
FT09 = CaseSpec("FT-09", "FT over the DS", "802.11r", "FT", "over the DS",
                ("IEEE 802.11-2020 13.8",), needs=("ft_over_ds",))
LAB1 = CaseSpec("LAB-01", "lab comes up", "Lab", "lab", "setup", ("IND-1",))

@pytest.fixture
def broken_lab():
    raise RuntimeError("hostapd did not start: " + HOSTILE)

@pytest.mark.case(BTM01)
def test_btm01(record):
    with record.step("send BTM request"):
        pass
    with record.step("wait for the roam " + HOSTILE):
        pass
    p = record.evidence_dir
    p.mkdir(parents=True, exist_ok=True)
    (p / "air.pcap").write_bytes(PCAP)
    record.attach_file(p / "air.pcap", "air capture", "application/vnd.tcpdump.pcap")
    record.attach_text("wpas log", "wlan2: SME: Trying to authenticate with 02:00:00:00:01:00 (SSID='"
                       + HOSTILE + "' freq=2437 MHz)\\n", suffix=".log")
    record.attach_json("events", [{{"t": 1.0, "kind": "connected", "ssid": HOSTILE}}])
    record.add(check("IND-6", "IND-6 " + HOSTILE, True, "no MEDIA_CONNECT", "none", ["event 5"]))
    record.add(Verdict("ROAM-LAT", "IEEE 802.11-2020 13.8", "info", "-", "7.2 ms", ("frame 820",)))
    record.metrics["roam_ms"] = 7.2
    record.metrics["ssid"] = HOSTILE
    record.roams.append(ROAM)
    record.judge()

@pytest.mark.case(BTM02)
def test_btm02(record):
    record.add(check("BTM-TOKEN", "IEEE 802.11-2020 9.6.13.10", False, "dialog token 7",
                     "dialog token 8 " + HOSTILE, ["frame 815"], message="SSID " + HOSTILE))
    record.judge()

@pytest.mark.case(FT09)
def test_ft09(record):
    pytest.skip("DUT lacks ft_over_ds " + HOSTILE)

@pytest.mark.case(LAB1)
def test_lab01(record, broken_lab):
    pass

def test_plain():
    assert 1 + 1 == 2
'''

INTERRUPTED = '''
import pytest
from fixtures.case import CaseSpec
from engine.verdict import check

A = CaseSpec("NR-01", "neighbor report", "802.11k", "Neighbor Report", "request", ("IEEE 802.11-2020 11.10.10.2",))
B = CaseSpec("NR-02", "neighbor report 2", "802.11k", "Neighbor Report", "request", ("IEEE 802.11-2020 11.10.10.2",))
C = CaseSpec("NR-03", "neighbor report 3", "802.11k", "Neighbor Report", "request", ("IEEE 802.11-2020 11.10.10.2",))

@pytest.mark.case(A)
def test_a(record):
    record.add(check("NR-TOKEN", "IEEE 802.11-2020 9.6.6.7", True, "token 1", "token 1"))
    record.judge()

@pytest.mark.case(B)
def test_b(record, request):
    import json
    from reports.plugin import run_dir
    seen = (run_dir(request.config) / "summary.json").read_text()
    (run_dir(request.config) / "seen-during-run.json").write_text(seen)
    raise KeyboardInterrupt

@pytest.mark.case(C)
def test_c(record):
    record.add(check("NR-TOKEN", "IEEE 802.11-2020 9.6.6.7", True, "token 1", "token 1"))
'''

SAMPLE_ROAM = {
    "title": "BTM roam AP1 -> AP2 " + HOSTILE,
    "dut": {"name": "dut-" + HOSTILE, "mac": "02:00:00:00:02:00"},
    "current": {"name": "AP1 " + HOSTILE, "bssid": "02:00:00:00:00:00"},
    "target": {"name": "AP2", "bssid": "02:00:00:00:01:00"},
    "frames": [
        {"t": 100.0010, "src": "current", "dst": "dut", "label": "BTM Request", "index": 812},
        {"t": 100.0042, "src": "02:00:00:00:02:00", "dst": "02:00:00:00:00:00", "label": "BTM Response " + HOSTILE,
         "index": 815},
        {"t": 100.0210, "src": "dut", "dst": "target", "label": "FT Auth (seq 1)", "index": 820},
        {"t": 100.0231, "src": "target", "dst": "dut", "label": "FT Auth (seq 2)", "index": 822},
        {"t": 100.0260, "src": "dut", "dst": "target", "label": "Reassoc Request", "index": 824},
        {"t": 100.0282, "src": "target", "dst": "dut", "label": "Reassoc Response", "index": 826},
    ],
    "indications": [
        {"t": 100.0050, "kind": "ROAMING_START", "bssid": None, "status": None, "reason": HOSTILE, "source": ""},
        {"t": 100.0200, "kind": "ASSOCIATION_START", "bssid": "02:00:00:00:01:00", "status": None, "reason": None,
         "source": ""},
        {"t": 100.0290, "kind": "ASSOCIATION_COMPLETION", "bssid": "02:00:00:00:01:00", "status": "success",
         "reason": None, "source": ""},
        {"t": 100.0300, "kind": "ROAMING_COMPLETION", "bssid": "02:00:00:00:01:00", "status": "success",
         "reason": None, "source": ""},
    ],
    "latencies": {"roam": {"us": 7200.0, "start": 100.0210, "end": 100.0282}, "btm to roam": 29000.0},
}


def write_suite(where: Path, cases: str = CASES) -> None:
    where.mkdir(parents=True, exist_ok=True)
    (where / "conftest.py").write_text(textwrap.dedent(CONFTEST.format(hostile=HOSTILE)))
    (where / "test_fake.py").write_text(cases.format(pcap=PCAP_HEADER.hex(), roam=SAMPLE_ROAM))
    (where / "pytest.ini").write_text("[pytest]\nmarkers =\n    case: the case spec\n")


def run_pytest(where: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("ROAMCERT_RUN_DIR", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
                          cwd=where, env=env, capture_output=True, text=True, timeout=timeout)


def make_run(tmp: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """Run the fake suite with --run-dir; return the run folder and the finished process."""
    suite = tmp / "suite"
    write_suite(suite)
    run = tmp / "runs" / "20260101T000000Z"
    proc = run_pytest(suite, "--run-dir", str(run))
    return run, proc


def test_fake_suite_runs_and_writes_a_summary(tmp_path):
    run, proc = make_run(tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # one failed case, one error
    data = json.loads((run / "summary.json").read_text())
    assert [c["case_id"] for c in data["cases"]][:4] == ["BTM-01", "BTM-02", "FT-09", "LAB-01"]
