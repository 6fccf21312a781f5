"""The sniffer without a VM: which radio listens where, what a labgrid place names as its
sniffer, merging the radios' pcaps, and how a capture that missed a channel is judged.

The recorded FT roam (tests/data/rejudge/SMOKE-02-linux-wpas, real hostapd and
wpa_supplicant, captured on hwsim0) stands in for two sniffer radios: its frames carry the
frequency they were sent on (radiotap), so keeping one frequency's frames is what a single
radio on that channel would have heard."""
from __future__ import annotations

import dataclasses
import json
import shutil
import struct
from pathlib import Path

import pytest

from engine.air import Air, capture_channels
from engine.capture import open_capture
from engine.evidence import CaseEvidence
from engine.judges import run
from engine.verdict import COVERAGE_RULE, FAIL, INFO, LAB, Verdict, inconclusive
from fixtures.case import CaseRecord
from lab.labgrid_lab import sniffer_radios
from lab.labgrid_place import LabgridError, parse_show
from lab.sniffer import capture_record, merge_pcaps, plan_channels
from reports.rejudge import load

CASE = Path(__file__).parent / "data" / "rejudge" / "SMOKE-02-linux-wpas"


# -- tuning --------------------------------------------------------------------------------------
def test_running_aps_first_then_the_plan_one_radio_each():
    radios = ["wlan5", "wlan6"]
    # serving AP on channel 1, target on 6: both heard
    assert plan_channels([2412, 2437], (2412, 2437, 2462), radios) == {"wlan5": 2412, "wlan6": 2437}
    # the APs of a case that starts them itself are not running yet: the plan's first channels
    assert plan_channels([], (2412, 2437, 2462), radios) == {"wlan5": 2412, "wlan6": 2437}
    # an AP off the plan (channel 11 running) comes before the plan's channels
    assert plan_channels([2462], (2412, 2437, 2462), radios) == {"wlan5": 2462, "wlan6": 2412}
    # two BSSs on one channel take one radio
    assert plan_channels([2437, 2437, 5180], (2412,), radios) == {"wlan5": 2437, "wlan6": 5180}
    # one radio: the first running AP's channel only
    assert plan_channels([2412, 2437], (2412, 2437, 2462), ["mon0"]) == {"mon0": 2412}
    assert capture_record({"mon0": 2412}) == {"source": "sniffer", "radios": {"mon0": 2412}}


def test_capture_record_gives_the_channels_heard():
    assert capture_channels(None) is None  # recorded before sniffers: hwsim0
    assert capture_channels({"source": "hwsim0"}) is None
    assert capture_channels({"source": "sniffer", "radios": {"wlan5": 2412, "wlan6": "2437"}}) == {2412, 2437}
    with pytest.raises(ValueError, match="expected source hwsim0, or sniffer"):
        capture_channels({"source": "tap"})
    with pytest.raises(ValueError, match="not a number of MHz"):
        capture_channels({"source": "sniffer", "radios": {"wlan5": "ch1"}})


# -- the place names its sniffer -----------------------------------------------------------------
# The resources of `labgrid-client -p p show` as labgrid 26.0.1 printed them for a place
# matching a NetworkService and the sniffer group of docs/labs.md (two named
# NetworkInterface resources, which the exporter publishes as RemoteNetworkInterface).
SHOW = """Acquired resource 'NetworkService' (unit/labhost/NetworkService/NetworkService):
  {'acquired': 'p',
   'avail': True,
   'cls': 'NetworkService',
   'params': {'address': '127.0.0.1',
              'extra': {'proxy': 'localhost', 'proxy_required': False},
              'port': 1,
              'username': 'root'}}
Acquired resource 'sniffer-1' (unit/sniffer/RemoteNetworkInterface/sniffer-1):
  {'acquired': 'p',
   'avail': True,
   'cls': 'RemoteNetworkInterface',
   'params': {'extra': {'proxy': 'localhost', 'proxy_required': False},
              'host': '127.0.0.1',
              'ifname': 'wlan5'}}
Acquired resource 'sniffer-2' (unit/sniffer/RemoteNetworkInterface/sniffer-2):
  {'acquired': 'p',
   'avail': True,
   'cls': 'RemoteNetworkInterface',
   'params': {'extra': {'proxy': 'localhost', 'proxy_required': False},
              'host': '127.0.0.1',
              'ifname': 'wlan6'}}
"""


def test_place_sniffer_group_names_the_radios():
    res = parse_show(SHOW)
    assert sniffer_radios(res) == ["wlan5", "wlan6"]
    assert sniffer_radios(res[::-1]) == ["wlan5", "wlan6"]  # in resource name order
    assert sniffer_radios([r for r in res if r.group != "sniffer"]) == []  # no group: no sniffer
    bad = [dataclasses.replace(res[0], group="sniffer")]
    with pytest.raises(LabgridError, match="sniffer group holds NetworkInterface resources.*not NetworkService"):
        sniffer_radios(bad)
    noname = [dataclasses.replace(res[1], params={"host": "127.0.0.1"})]
    with pytest.raises(LabgridError, match="needs ifname"):
        sniffer_radios(noname)


# -- merging the radios' pcaps -------------------------------------------------------------------
def _split_by_freq(src: Path, out: Path) -> dict[int, Path]:
    """The records of a radiotap pcap written into one pcap per frequency, byte for byte
    (the global header, then each record's 16-octet header and data as they were)."""
    data = src.read_bytes()
    assert struct.unpack_from("<I", data)[0] == 0xA1B2C3D4  # little-endian, microseconds
    head, off = data[:24], 24
    parts: dict[int, bytearray] = {}
    frames = iter(open_capture(str(src)))
    while off < len(data):
        incl = struct.unpack_from("<IIII", data, off)[2]
        rec = data[off:off + 16 + incl]
        off += 16 + incl
        parts.setdefault(next(frames).freq, bytearray(head)).extend(rec)
    paths = {}
    for freq, b in parts.items():
        paths[freq] = out / f"air-{freq}.pcap"
        paths[freq].write_bytes(bytes(b))
    return paths


def test_radios_pcaps_merge_into_one_capture_in_time_order(tmp_path):
    whole = list(open_capture(str(CASE / "air.pcap")))
    parts = _split_by_freq(CASE / "air.pcap", tmp_path)
    assert set(parts) == {2412, 2437, 2462}
    merged = merge_pcaps([parts[2412], parts[2437]], tmp_path / "air.pcap")
    got = list(open_capture(str(merged)))
    want = [f for f in whole if f.freq in (2412, 2437)]
    assert [(f.t, f.freq, f.raw) for f in got] == [(f.t, f.freq, f.raw) for f in want]
    assert not parts[2412].exists() and not parts[2437].exists()  # the parts went into air.pcap
    # one radio: its pcap is the capture
    assert list(open_capture(str(merge_pcaps([parts[2462]], tmp_path / "one.pcap"))))[0].freq == 2462


def test_missing_radio_pcap_is_named(tmp_path):
    from lab.sniffer import SnifferError
    with pytest.raises(SnifferError, match="air-wlan6.pcap"):
        merge_pcaps([CASE / "air.pcap", tmp_path / "air-wlan6.pcap"], tmp_path / "air.pcap")


# -- judging a partial capture -------------------------------------------------------------------
def _evidence() -> CaseEvidence:
    return CaseEvidence.from_dict(json.loads((CASE / "evidence.json").read_text()))


def _frames(*freqs: int):
    return [f for f in open_capture(str(CASE / "air.pcap")) if f.freq in freqs]


def test_two_radios_on_both_channels_judge_as_hwsim0():
    recorded = [Verdict.from_dict(d) for d in json.loads((CASE / "verdicts.json").read_text())]
    ev = _evidence()
    assert {a.freq for a in ev.aps.values()} == {2412, 2437}
    sniffed = run(ev, Air(frames=_frames(2412, 2437), channels={2412, 2437})).verdicts
    assert sniffed == recorded
    assert not any(v.rule == COVERAGE_RULE for v in sniffed)


def test_one_radio_makes_the_case_inconclusive_never_failed():
    ev = _evidence()
    serving_only = _frames(2412)
    # Claimed complete, this capture fails the roam: the target's frames are not in it.
    # That is the false FAIL a single-channel sniffer would give.
    blind = run(ev, Air(frames=serving_only, channels=None)).verdicts
    wrongly_failed = [v for v in blind if v.status == FAIL]
    assert wrongly_failed
    # Recorded as a single radio on 2412 MHz, nothing fails: each of those rules says it
    # could not be observed, on the lab's layer, and AIR-COVERAGE names the channel missed.
    partial = run(ev, Air(frames=serving_only, channels={2412})).verdicts
    assert not [v for v in partial if v.status == FAIL]
    downgraded = [v for v in partial if "not observable" in v.message]
    assert [v.rule for v in downgraded] == [v.rule for v in wrongly_failed]
    assert all(v.status == INFO and v.layer == LAB and "2437 MHz" in v.message for v in downgraded)
    gap = inconclusive(partial)
    assert gap is not None and gap.status == INFO and gap.layer == LAB
    assert "not captured: 2437 MHz" in gap.observed
    # the passes the partial capture did show stay passes
    assert [v.rule for v in partial if v.status == "pass"] == [v.rule for v in blind if v.status == "pass"]


def test_inconclusive_case_is_skipped_with_the_reason():
    ev = _evidence()
    rec = CaseRecord(None, "node")
    rec.add(run(ev, Air(frames=_frames(2412), channels={2412})).verdicts)
    with pytest.raises(pytest.skip.Exception, match="inconclusive: the air capture is partial.*2437 MHz"):
        rec.judge()


def test_rejudge_reads_the_capture_record(tmp_path):
    d = tmp_path / "case"
    shutil.copytree(CASE, d)
    doc = json.loads((d / "evidence.json").read_text())
    doc["capture"] = {"source": "sniffer", "radios": {"wlan5": 2412}}
    (d / "evidence.json").write_text(json.dumps(doc))
    _, air = load(d)
    assert air.channels == {2412}
    doc["capture"] = {"source": "sniffer"}
    (d / "evidence.json").write_text(json.dumps(doc))
    from engine.evidence import EvidenceError
    with pytest.raises(EvidenceError, match="expected source hwsim0, or sniffer"):
        load(d)


# -- the lab's side, against a stand-in agent ----------------------------------------------------
IW_DEV = "".join(f"""phy#{i}
\tInterface wlan{i}
\t\tifindex {i + 2}
\t\twdev 0x{i}00000001
\t\taddr 02:00:00:00:0{i}:00
\t\ttype managed
""" for i in range(7))


class StandInAgent:
    """Answers the commands Lab sends while it opens and closes: `iw dev` lists seven
    radios; hwsim0 exists or not; every command is kept."""

    def __init__(self, hwsim0: bool):
        self.hwsim0 = hwsim0
        self.ran: list[list[str]] = []

    def run(self, argv, timeout=30, check=True, input=None):
        self.ran.append(list(argv))
        if argv == ["iw", "dev"]:
            return {"rc": 0, "stdout": IW_DEV, "stderr": ""}
        if argv[:3] == ["ip", "link", "show"] and argv[3] == "hwsim0" and not self.hwsim0:
            return {"rc": 1, "stdout": "", "stderr": 'Device "hwsim0" does not exist.'}
        return {"rc": 0, "stdout": "", "stderr": ""}


class Carrier:
    persistent_host = True
    remote_share = False

    def __init__(self, sniffer=()):
        self.sniffer = list(sniffer)


def test_lab_with_sniffer_keeps_its_radios_for_the_air(tmp_path):
    from lab.session import Lab
    agent = StandInAgent(hwsim0=False)
    lab = Lab(agent, tmp_path, "/results", Carrier(["wlan5", "wlan6"]))
    assert lab.free == ["wlan0", "wlan1", "wlan2", "wlan3", "wlan4"]  # no AP or DUT on a sniffer radio
    assert lab.air_source() == "sniffer"
    for radio in ("wlan5", "wlan6"):
        i = agent.ran.index(["iw", "dev", radio, "set", "type", "monitor"])
        assert agent.ran[i - 1] == ["ip", "link", "set", radio, "down"]  # the type changes while down
        assert agent.ran[i + 1] == ["ip", "link", "set", radio, "up"]
    agent.ran.clear()
    lab.stop_all()  # a shared lab host: its radios go back to managed
    assert ["iw", "dev", "wlan5", "set", "type", "managed"] in agent.ran
    assert ["iw", "dev", "wlan6", "set", "type", "managed"] in agent.ran


def test_lab_without_hwsim0_or_sniffer_cannot_capture_the_air(tmp_path):
    from lab.session import Lab, NoAirCapture
    agent = StandInAgent(hwsim0=False)
    lab = Lab(agent, tmp_path, "/results", Carrier())
    assert lab.air_source() is None and len(lab.free) == 7
    assert not [a for a in agent.ran if "hwsim0" in a and "up" in a]
    with pytest.raises(NoAirCapture, match="no hwsim0 .* and no sniffer radio named"):
        lab.start_air("cases/x/air.pcap", (2412,))
    # with hwsim0 (and no sniffer) it is hwsim0, brought up
    agent = StandInAgent(hwsim0=True)
    lab = Lab(agent, tmp_path, "/results", Carrier())
    assert lab.air_source() == "hwsim0" and ["ip", "link", "set", "hwsim0", "up"] in agent.ran
