"""Active beacon measurements that end before the requested duration (engine.beacon.unheard_answers).

IEEE 802.11-2020 9.4.2.20: with Duration Mandatory (Measurement Request Mode b4) clear, the
Measurement Duration is a maximum, so a STA may stop listening on a channel earlier. predict()
makes every matching BSS on an actively measured channel a must; a BSS whose Probe Responses
reached the DUT only after it had left is not one. hwsim0 shows which: the DUT's departure
(its first frame on another frequency) and the Acks it gave before it.

The recorded case is esp32-twin's BCN-47 (active, 50 TU, Duration Mandatory 0, channel 11,
an 8-BSS hostapd radio) from the third of three stability runs, where it failed
BCN-BSSID-MUST. tshark -r tests/data/beacon/BCN-47-unacked-probe-responses/air.pcap:
frame 257, the DUT's Probe Request on 2462 MHz at 1796644390.252784; Probe Responses to it
from 02:00:00:00:04:00..05 in frames 258, 260, 262, 264, 266, 268, each followed by an Ack
to its BSSID (frames 259..269); frame 270, +44.3 ms, the DUT's QoS Null with PM=0 on
2412 MHz (back on its serving channel); Probe Responses from 04:06 (frame 285, +64.8 ms)
and 04:07 (frame 286, +70.4 ms) with no Ack after them."""
from __future__ import annotations

import json
from pathlib import Path

from dataclasses import replace

from engine import beacon
from engine.air import Air
from engine.judges import run
from engine.models import AirBSS, BeaconRequest
from reports.rejudge import judge_folder, load

CASE = Path(__file__).parent / "data" / "beacon" / "BCN-47-unacked-probe-responses"
CROWD = [f"02:00:00:00:04:0{i}" for i in range(8)]
PROBE_T = 1796644390.252784  # frame 257


def test_the_recorded_unacknowledged_answers_are_not_musts():
    recorded = {v["rule"]: v for v in json.loads((CASE / "verdicts.json").read_text())}
    assert recorded["BCN-BSSID-MUST"]["status"] == "fail"  # what the run judged
    _, vs = judge_folder(CASE)
    must = next(v for v in vs if v.rule == "BCN-BSSID-MUST")
    assert must.status == "pass" and must.expected == f"all of {CROWD[:6]}"
    unheard = next(v for v in vs if v.rule == "BCN-ANSWER-UNHEARD")
    assert unheard.status == "info" and unheard.layer == "reference AP"
    assert "02:00:00:00:04:06: its Probe Response (frame 285) came after the DUT left 2462 MHz (frame 270, " \
           "on 2412 MHz, 44.3 ms after its Probe Request, frame 257) and got no Ack" in unheard.observed
    assert "02:00:00:00:04:07: its Probe Response (frame 286)" in unheard.observed
    assert "the DUT Acked frames 258, 260, 262, 264, 266, 268 before it left" in unheard.observed
    # every other verdict of the case is as the run judged it
    others = sorted((v.rule, v.status) for v in vs if v.rule not in ("BCN-BSSID-MUST", "BCN-ANSWER-UNHEARD"))
    assert others == sorted((d["rule"], d["status"]) for d in json.loads((CASE / "verdicts.json").read_text())
                            if d["rule"] != "BCN-BSSID-MUST")


def _judge(frames=None, channels=None):
    ev, air = load(CASE)
    if frames is not None or channels is not None:
        air = Air(frames=frames if frames is not None else air.frames, channels=channels)
    return {v.rule: v for v in run(ev, air).verdicts}


def _frames():
    return list(load(CASE)[1].frames)


def test_an_ack_to_the_late_answer_keeps_it_a_must():
    """Doctored: an Ack to 04:06 right after its Probe Response (frame 285). The DUT heard it,
    so leaving it out fails, whenever it came."""
    fs = _frames()
    i = next(n for n, f in enumerate(fs) if f.index == 285)
    ack = replace(fs[i], index=100000, raw=bytes([0xD4, 0, 0, 0]) + bytes.fromhex("020000000406"))
    fs.insert(i + 1, ack)
    v = _judge(fs)
    assert v["BCN-BSSID-MUST"].status == "fail" and "02:00:00:00:04:06" in v["BCN-BSSID-MUST"].observed
    assert "02:00:00:00:04:06" not in v["BCN-ANSWER-UNHEARD"].observed


def test_a_beacon_inside_the_dwell_keeps_it_a_must():
    """Doctored: 04:07's Beacon (frame 284, +46.1 ms) moved to +40 ms, before the DUT left at
    +44.3 ms: the DUT may have heard it, so it stays a must."""
    fs = _frames()
    i = next(n for n, f in enumerate(fs) if f.index == 284)
    fs[i] = replace(fs[i], t=PROBE_T + 0.040)
    fs.sort(key=lambda f: f.t)
    v = _judge(fs)
    assert v["BCN-BSSID-MUST"].status == "fail" and "02:00:00:00:04:07" in v["BCN-BSSID-MUST"].observed


def test_no_departure_on_the_air_changes_nothing():
    """Doctored: the DUT's frames on 2412 MHz after its probe (frames 270-273) removed: no
    proof it left, so every BSS stays a must and the run's FAIL stands."""
    fs = [f for f in _frames() if f.index not in (270, 271, 272, 273)]
    v = _judge(fs)
    assert v["BCN-BSSID-MUST"].status == "fail" and "BCN-ANSWER-UNHEARD" not in v


def test_a_sniffer_capture_proves_nothing():
    """A capture of tuned monitor radios (channels known) misses Acks and other channels."""
    v = _judge(channels={2412, 2437, 2462})
    assert v["BCN-BSSID-MUST"].status == "fail" and "BCN-ANSWER-UNHEARD" not in v


def _pred(mode=beacon.ACTIVE, duration=50, request_mode=0):
    req = BeaconRequest(token=1, op_class=81, channel=11, randomization_interval=0, duration=duration,
                        mode=mode, ssid=b"crowd", request_mode=request_mode)
    air = [AirBSS(b, b"crowd", 11, 81, 2462, b"\x00" * 8 + b"\x64\x00" + b"\x00" * 4) for b in CROWD[:3]]
    return req, beacon.predict(req, air)


def test_unheard_bsss_become_mays_and_others_stay():
    req, pred = _pred()
    out, notes = beacon.unheard_answers(pred, req, {CROWD[1]: "frame 12 after the DUT left"})
    assert out.must == frozenset({CROWD[0], CROWD[2]}) and out.may == pred.may
    assert len(notes) == 1 and "frame 12 after the DUT left" in notes[0]


def test_duration_mandatory_or_passive_mode_changes_nothing():
    req, pred = _pred(request_mode=beacon.DURATION_MANDATORY)
    assert beacon.unheard_answers(pred, req, {CROWD[1]: "x"}) == (pred, [])
    req, pred = _pred(mode=beacon.PASSIVE, duration=200)
    assert beacon.unheard_answers(pred, req, {CROWD[1]: "x"}) == (pred, [])


def test_a_dut_back_on_the_channel_before_its_report_changes_nothing():
    """Doctored: a second Probe Request of the DUT on 2462 MHz after its departure (frame 270)
    and before the late answers: it came back to listen, so nothing is proven unheard."""
    fs = _frames()
    probe = next(f for f in fs if f.index == 257)
    fs.append(replace(probe, index=100001, t=PROBE_T + 0.060))
    fs.sort(key=lambda f: f.t)
    v = _judge(fs)
    assert v["BCN-BSSID-MUST"].status == "fail" and "BCN-ANSWER-UNHEARD" not in v
