"""Injection on the virtual lab: Action frames built by engine/frames/build.py, sent by a
reference AP (RefAP.send_action, hostapd's MGMT_TX) to a real wpa_supplicant DUT, and the
DUT's answers read off the air capture by tshark. Boots one VM (qemu TCG, mac80211_hwsim)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from engine.channels import op_class_of
from engine.frames import build as fb
from lab.daemon import DaemonError
from lab.hostapd import OPEN, BSSConfig
from lab.wpas import Profile

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")]


@pytest.fixture(scope="module")
def vlab(tmp_path_factory):
    from lab.launch import close_lab, open_lab
    lab = open_lab("virtual", tmp_path_factory.mktemp("inject-lab"))
    yield lab
    close_lab(lab)


@pytest.fixture(scope="module")
def joined(vlab):
    """An open AP on channel 1 and a wpa_supplicant DUT associated to it."""
    ap = vlab.start_ap(BSSConfig(channel=1, security=OPEN, ssid="inject"))
    sta = vlab.start_supplicant()
    try:
        assert sta.connect(Profile(ssid="inject", security=OPEN, scan_freqs=(2412,))) == ap.bssid
        yield ap, sta
    finally:
        vlab.stop(sta)
        vlab.stop(ap)


def air_fields(pcap: Path, dfilter: str, *fields: str) -> list[list[str]]:
    """tshark's view of the capture: one row per matching frame."""
    r = subprocess.run(["tshark", "-r", str(pcap), "-Y", dfilter, "-T", "fields",
                        *[x for f in fields for x in ("-e", f)]],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return [line.split("\t") for line in r.stdout.splitlines() if line.strip()]


def test_injected_btm_request_is_answered(vlab, joined):
    ap, sta = joined
    cap = vlab.start_capture("inject/btm.pcap")
    try:
        body = fb.btm_request(dialog_token=0x5A, request_mode=("pref_candidate_list",),
                              validity_interval=100,
                              candidates=[fb.neighbor_report(ap.bssid, 1, op_class_of(1), preference=255)])
        m = ap.mark()
        sent = ap.send_action(sta.mac, body)
        _, line, _ = ap.wait_event(r"BSS-TM-RESP", 15, since=m)
    finally:
        path = cap.stop()
    # hostapd's own reading (2.10 does not print the dialog token: the air shows it)
    assert f"BSS-TM-RESP {sta.mac} status_code=0" in line, line
    req = air_fields(path, "wlan.fixed.category_code == 10 && wlan.fixed.action_code == 7",
                     "wlan.sa", "wlan.da", "wlan.fixed.dialog_token", "wlan.nreport.bssid",
                     "wlan.nreport.subelem.bss_trn_can_pref")
    assert [ap.bssid, sta.mac, "0x5a", ap.bssid, "255"] in req, req
    rsp = air_fields(path, "wlan.fixed.category_code == 10 && wlan.fixed.action_code == 8",
                     "wlan.sa", "wlan.da", "wlan.fixed.dialog_token",
                     "wlan.fixed.bss_transition_status_code")
    assert rsp and all(r[:3] == [sta.mac, ap.bssid, "0x5a"] for r in rsp), rsp
    assert len(sent) == 24 + len(body)


def test_injected_beacon_request_is_answered(vlab, joined):
    ap, sta = joined
    cap = vlab.start_capture("inject/beacon.pcap")
    try:
        meas = fb.beacon_measurement(
            token=7, op_class=op_class_of(1), channel=1, mode=fb.BEACON_TABLE,
            subelements=[fb.ssid("inject"), fb.reporting_detail(0),
                         fb.ap_channel_report(op_class_of(1), [1]),
                         fb.last_beacon_report_indication(),
                         fb.vendor_specific(b"\x00\x11\x22", b"roamcert")])
        m = ap.mark()
        ap.send_action(sta.mac, fb.radio_measurement_request(dialog_token=0x33, measurements=[meas]))
        _, line, _ = ap.wait_event(r"BEACON-RESP-RX", 15, since=m)
    finally:
        path = cap.stop()
    # BEACON-RESP-RX <sta> <dialog token> <report mode> <report body>
    assert line.split()[1:3] == [sta.mac, "51"], line
    req = air_fields(path, "wlan.fixed.category_code == 5 && wlan.fixed.action_code == 0",
                     "wlan.sa", "wlan.da", "wlan.rm.dialog_token", "wlan.measure.req.beacon.sub.ssid")
    assert [ap.bssid, sta.mac, "51", "inject"] in req, req
    # (Wireshark 4.0 names the report's Measurement Token field wlan.measure.req.token)
    rep = air_fields(path, "wlan.fixed.category_code == 5 && wlan.fixed.action_code == 1",
                     "wlan.sa", "wlan.da", "wlan.rm.dialog_token", "wlan.measure.req.token",
                     "wlan.measure.rep.reptype", "wlan.measure.rep.bssid",
                     "wlan.measure.req.beacon.sub.id")
    assert rep, "no Radio Measurement Report on the air"
    for r in rep:
        assert r[:5] == [sta.mac, ap.bssid, "51", "0x07", "0x05"], r
    assert any(ap.bssid in r[5].split(",") for r in rep), rep  # the AP the DUT is on
    # the DUT read the built subelements: it answers the Last Beacon Report Indication
    # Request (164) with a Last Beacon Report Indication subelement (9.4.2.21.7)
    assert any("164" in r[6].split(",") for r in rep), rep


def test_frame_the_kernel_refuses_is_a_clear_error(vlab, joined):
    ap, sta = joined
    # an Action frame without a Category octet: cfg80211 refuses frames under 25 octets
    with pytest.raises(DaemonError, match="refused MGMT_TX of a 24-octet Action frame"):
        ap.send_action(sta.mac, b"")
    # nothing else broke: the AP still holds the STA (a generous limit: a loaded host
    # can stall the VM for many seconds)
    assert ap.ctrl(f"STA {sta.mac}", timeout=60).startswith(sta.mac)


def test_malformed_frames_reach_the_air_as_built(vlab, joined):
    """hostapd and the kernel pass a deliberately broken body through untouched: what the
    capture holds after the MAC header is the builder's octets. (What the DUT makes of
    them is a case's business, not this primitive's.)"""
    from engine.capture import Reader
    from engine.frames.header import MGMT, Header
    ACTION = 13  # management subtype (Table 9-1)

    ap, sta = joined
    good = fb.neighbor_report(ap.bssid, 1, op_class_of(1), preference=255)
    bodies = [
        fb.btm_request(dialog_token=0x61, candidates=[fb.neighbor_report(ap.bssid, 1, 81).zero_length(), good]),
        fb.btm_request(dialog_token=0x62, candidates=[
            fb.neighbor_report(ap.bssid, 1, 81, subelements=[fb.candidate_preference(5).truncated(2)])]),
        fb.btm_request(dialog_token=0x63, candidates=[good, fb.neighbor_report(ap.bssid, 1, 81, preference=9).lying(40)]),
        fb.btm_request(dialog_token=0x64, candidates=[
            fb.neighbor_report(ap.bssid, 1, 81, subelements=[fb.candidate_preference(0).zero_length()])]),
        fb.radio_measurement_request(0x65, [fb.beacon_measurement(
            channel=1, subelements=[fb.ssid("inject"), fb.reporting_detail(1).truncated(2)])]),
    ]
    cap = vlab.start_capture("inject/malformed.pcap")
    try:
        for body in bodies:
            ap.send_action(sta.mac, body)
        # a barrier, not a sleep: the DUT's answer to a later well-formed request means the
        # frames queued before it are on the air
        m = ap.mark()
        ap.send_action(sta.mac, fb.btm_request(dialog_token=0x66, candidates=[good]))
        ap.wait_event(rf"BSS-TM-RESP {sta.mac}", 15, since=m)
    finally:
        path = cap.stop()
    on_air = [f.body for f in Reader(path)
              if len(f.raw) > 24 and (Header(f.raw).ftype, Header(f.raw).subtype) == (MGMT, ACTION)
              and f.src == ap.bssid and f.dst == sta.mac]
    for body in bodies:
        assert body in on_air, f"built body {body.hex()} not on the air as built"
