"""A BTM response the air capture lost is the lab's loss, not the DUT's silence.

Recorded case (tests/data/capture_loss/BTM-33-esp32-twin: the eight-BSS candidate list row,
numbered BTM-33 when recorded and BTM-37 now, under TCG load): the reference AP logged `BSS-TM-RESP ... status_code=0
target_bssid=02:00:00:00:02:00`, the DUT then moved to that BSS, and the monitor's pcap has the
request but no response frame. The independent truth is tshark's reading of the pcap and
hostapd's own event line; the judge must not fail BTM-RESPONSE against the DUT, and must judge
the answer from what the AP received."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from reports.rejudge import rejudge_case

CASE = Path(__file__).parent / "data" / "capture_loss" / "BTM-33-esp32-twin"
DUT = "02:00:00:00:00:00"


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_the_capture_holds_the_request_and_no_response():
    out = subprocess.run(["tshark", "-r", str(CASE / "air.pcap"), "-Y", "wlan.fixed.category_code == 10",
                          "-T", "fields", "-e", "wlan.sa", "-e", "wlan.fixed.action_code",
                          "-e", "wlan.fixed.dialog_token"], capture_output=True, text=True, timeout=120)
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    assert ["02:00:00:00:01:00", "7", "0x1f"] in rows  # the case's request, dialog token 31
    assert not [r for r in rows if r[0] == DUT and r[1] == "8" and r[2] == "0x1f"]  # no response to it
    events = (CASE / "ap-a-events.txt").read_text()
    assert f"BSS-TM-RESP {DUT} status_code=0" in events and "target_bssid=02:00:00:00:02:00" in events


def test_a_response_the_capture_lost_is_judged_from_the_aps_event():
    r = rejudge_case(CASE)
    by_rule = {}
    for v in r.rejudged:
        by_rule.setdefault(v.rule, []).append(v)
    assert [v.status for v in by_rule["BTM-RESPONSE-CAPTURED"]] == ["info"]
    assert by_rule["BTM-RESPONSE-CAPTURED"][0].layer == "lab"
    assert "BTM-RESPONSE" not in by_rule or all(v.status != "fail" for v in by_rule["BTM-RESPONSE"])
    assert [v.status for v in by_rule["BTM-STATUS"]] == ["pass"]  # status 0 toward a BSS on the air
    assert [v.status for v in by_rule["BTM-TARGET-ALLOWED"]] == ["pass"]
    assert [(v.status, v.layer) for v in by_rule["BTM-TOKEN"]] == [("info", "lab")]  # not judged
    assert [(v.status, v.layer) for v in by_rule["BTM-HOSTAPD-EVENT"]] == [("info", "lab")]
    # the recorded (old) judgement failed the DUT for silence: that is what this fixes
    assert any(v.rule == "BTM-RESPONSE" and v.status == "fail" for v in r.recorded)
