"""Active beacon measurements and the measurement duration (engine.beacon.answered_late).

IEEE 802.11-2020 11.10.9.3: in Active mode the STA probes each measured channel and collects
what arrives during the measurement duration. A BSS whose Probe Response to the DUT came only
after that duration gave the DUT nothing to report in time, so it is not a must.

The recorded case is esp32-twin's BCN-47 (active, SSID "roamcert-crowd", channel 11, 50 TU)
from the third of three stability runs, where the 8-BSS hostapd radio answered two of its
BSSs late. tshark -r tests/data/beacon/BCN-47-late-probe-responses/air.pcap:
frame 257, Probe Request from 02:00:00:00:00:00 on 2462 MHz at 1796644390.252784;
Probe Responses to it from 02:00:00:00:04:00..05 at +3.6 .. +39.2 ms (frames 258-268), from
04:06 at 1796644390.317585 (frame 285, +64.8 ms) and 04:07 at .323220 (frame 286, +70.4 ms).
50 TU is 51.2 ms."""
from __future__ import annotations

from pathlib import Path

from engine import beacon
from engine.models import AirBSS, BeaconRequest
from reports.rejudge import judge_folder

CASE = Path(__file__).parent / "data" / "beacon" / "BCN-47-late-probe-responses"
CROWD = [f"02:00:00:00:04:0{i}" for i in range(8)]


def test_the_recorded_late_answers_are_not_musts():
    _, vs = judge_folder(CASE)
    must = next(v for v in vs if v.rule == "BCN-BSSID-MUST")
    assert must.status == "pass"
    assert must.expected == f"all of {CROWD[:6]}"  # 04:06 and 04:07 answered after 51.2 ms
    assert "02:00:00:00:04:06: its first answer came 64.8 ms after" in must.message
    assert "02:00:00:00:04:07: its first answer came 70.4 ms after" in must.message
    assert "50 TU (51.2 ms)" in must.message
    may = next(v for v in vs if v.rule == "BCN-BSSID-MAY")
    assert may.status == "pass" and "02:00:00:00:04:07" in may.expected


def _pred(mode=beacon.ACTIVE, duration=50):
    req = BeaconRequest(token=1, op_class=81, channel=11, randomization_interval=0, duration=duration,
                        mode=mode, ssid=b"crowd")
    air = [AirBSS(b, b"crowd", 11, 81, 2462, b"\x00" * 8 + b"\x64\x00" + b"\x00" * 4) for b in CROWD[:3]]
    return req, beacon.predict(req, air)


def test_in_time_late_and_silent_bsss():
    req, pred = _pred()
    assert pred.must == frozenset(CROWD[:3])
    t0 = 100.0
    answers = {CROWD[0]: [t0 + 0.0392], CROWD[1]: [t0 + 0.0648]}  # CROWD[2]: no answer on the air
    out = beacon.answered_late(pred, req, [(t0, 2462)], answers)
    assert out.must == frozenset({CROWD[0], CROWD[2]}) and out.may == pred.may


def test_a_second_probe_on_the_channel_opens_its_own_window():
    req, pred = _pred()
    out = beacon.answered_late(pred, req, [(100.0, 2462), (100.05, 2462)], {CROWD[1]: [100.0648]})
    assert CROWD[1] in out.must


def test_no_probe_on_its_channel_or_passive_mode_changes_nothing():
    req, pred = _pred()
    assert beacon.answered_late(pred, req, [(100.0, 2412)], {CROWD[1]: [100.5]}).must == pred.must
    req, pred = _pred(mode=beacon.PASSIVE, duration=200)
    assert beacon.answered_late(pred, req, [(100.0, 2462)], {CROWD[1]: [100.5]}) is pred
