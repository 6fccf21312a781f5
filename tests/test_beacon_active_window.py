"""Active beacon measurements that end before the requested duration (engine.beacon.unheard_answers).

IEEE 802.11-2020 9.4.2.20: with Duration Mandatory (Measurement Request Mode b4) clear, the
Measurement Duration is a maximum, so a STA may stop listening on a channel earlier. predict()
makes every matching BSS on an actively measured channel a must; a BSS whose Probe Responses
reached the DUT only after it had left is not one. The air shows which: the DUT's Ack.

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

from engine import beacon
from engine.models import AirBSS, BeaconRequest
from reports.rejudge import judge_folder

CASE = Path(__file__).parent / "data" / "beacon" / "BCN-47-unacked-probe-responses"
CROWD = [f"02:00:00:00:04:0{i}" for i in range(8)]


def test_the_recorded_unacknowledged_answers_are_not_musts():
    recorded = {v["rule"]: v for v in json.loads((CASE / "verdicts.json").read_text())}
    assert recorded["BCN-BSSID-MUST"]["status"] == "fail"  # what the run judged
    _, vs = judge_folder(CASE)
    must = next(v for v in vs if v.rule == "BCN-BSSID-MUST")
    assert must.status == "pass" and must.expected == f"all of {CROWD[:6]}"
    unheard = next(v for v in vs if v.rule == "BCN-ANSWER-UNHEARD")
    assert unheard.status == "info" and unheard.layer == "reference AP"
    assert "02:00:00:00:04:06: its Probe Response (frame 285) got no ACK" in unheard.observed
    assert "02:00:00:00:04:07: its Probe Response (frame 286) got no ACK" in unheard.observed
    assert "acknowledged frames 258, 260, 262, 264, 266, 268" in unheard.observed
    # every other verdict of the case is as the run judged it
    others = sorted((v.rule, v.status) for v in vs if v.rule not in ("BCN-BSSID-MUST", "BCN-ANSWER-UNHEARD"))
    assert others == sorted((d["rule"], d["status"]) for d in json.loads((CASE / "verdicts.json").read_text())
                            if d["rule"] != "BCN-BSSID-MUST")


def _pred(mode=beacon.ACTIVE, duration=50, request_mode=0):
    req = BeaconRequest(token=1, op_class=81, channel=11, randomization_interval=0, duration=duration,
                        mode=mode, ssid=b"crowd", request_mode=request_mode)
    air = [AirBSS(b, b"crowd", 11, 81, 2462, b"\x00" * 8 + b"\x64\x00" + b"\x00" * 4) for b in CROWD[:3]]
    return req, beacon.predict(req, air)


def test_acked_unacked_and_silent_bsss():
    req, pred = _pred()
    assert pred.must == frozenset(CROWD[:3])
    out, notes = beacon.unheard_answers(pred, req, {CROWD[0]: [(10, True)], CROWD[1]: [(12, False)]})
    # the Acked one stays a must (a DUT that heard it and left it out still fails), the
    # silent one too (the air does not show it late); the unacknowledged one is a may
    assert out.must == frozenset({CROWD[0], CROWD[2]}) and out.may == pred.may
    assert len(notes) == 1 and "frame 12" in notes[0] and "acknowledged frames 10" in notes[0]


def test_one_acked_retry_keeps_it_a_must():
    req, pred = _pred()
    out, _ = beacon.unheard_answers(pred, req, {CROWD[0]: [(10, True)], CROWD[1]: [(12, False), (14, True)]})
    assert out.must == pred.must


def test_nothing_changes_without_acks_on_the_air_or_with_duration_mandatory():
    req, pred = _pred()
    assert beacon.unheard_answers(pred, req, {CROWD[1]: [(12, False)]}) == (pred, [])  # no Ack seen
    req, pred = _pred(request_mode=beacon.DURATION_MANDATORY)
    assert beacon.unheard_answers(pred, req, {CROWD[0]: [(10, True)], CROWD[1]: [(12, False)]}) == (pred, [])
    req, pred = _pred(mode=beacon.PASSIVE, duration=200)
    assert beacon.unheard_answers(pred, req, {CROWD[0]: [(10, True)], CROWD[1]: [(12, False)]}) == (pred, [])
