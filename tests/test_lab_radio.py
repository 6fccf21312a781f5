"""More BSSs and 5 GHz on the virtual lab: eight BSSs on one mac80211_hwsim radio (one
hostapd, `bss=` sections) and a VHT80 AP on channel 36 that a wpa_supplicant DUT joins.
What is on the air is read by tshark from the capture. Boots one VM."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from engine.channels import channel_freq
from lab.daemon import wait_until
from lab.hostapd import OPEN, WPA2_PSK, BSSConfig
from lab.wpas import Profile

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")]


@pytest.fixture(scope="module")
def vlab(tmp_path_factory):
    from lab.launch import close_lab, open_lab
    lab = open_lab("virtual", tmp_path_factory.mktemp("radio-lab"))
    yield lab
    close_lab(lab)


def beacons(pcap: Path) -> set[tuple[str, str]]:
    """(BSSID, SSID) of every Beacon in the capture so far; a capture still being written
    may end inside a frame, which tshark reports and this ignores."""
    r = subprocess.run(["tshark", "-r", str(pcap), "-Y", "wlan.fc.type_subtype == 0x0008",
                        "-T", "fields", "-e", "wlan.bssid", "-e", "wlan.ssid"],
                       capture_output=True, text=True, timeout=60)
    return {tuple(line.split("\t")[:2]) for line in r.stdout.splitlines() if "\t" in line}


def test_eight_bsss_beacon_on_one_radio(vlab):
    cfgs = [BSSConfig(ssid=f"multi{i}", channel=11, security=OPEN) for i in range(8)]
    cap = vlab.start_capture("radio/multi.pcap")
    aps = vlab.start_radio(cfgs, name="multi")
    try:
        assert len({ap.bssid for ap in aps}) == 8
        assert len({ap.iface for ap in aps}) == 8
        # tshark 4.0 prints wlan.ssid in -T fields as hex
        want = {(ap.bssid, f"multi{i}".encode().hex()) for i, ap in enumerate(aps)}
        # every BSS answers on its own control interface
        for ap in aps:
            st = dict(x.split("=", 1) for x in ap.ctrl_ok("STATUS").splitlines() if "=" in x)
            assert st["state"] == "ENABLED" and st["freq"] == str(channel_freq(11))
            assert ap.bssid in ap.ctrl_ok("STATUS")
        # wait for the condition, not for a time: each BSS's beacons on the air
        seen = wait_until(lambda: want <= beacons(cap.path), 30, 0.5)
        got = beacons(cap.path)
        assert seen, f"BSSs never seen beaconing: {sorted(want - got)}"
        # a DUT can join a further BSS, and that BSS's own control interface reports it
        sta = vlab.start_supplicant()
        try:
            m = aps[7].mark()
            assert sta.connect(Profile(ssid="multi7", security=OPEN, scan_freqs=(channel_freq(11),))) \
                == aps[7].bssid
            aps[7].wait_event(rf"AP-STA-CONNECTED {sta.mac}", 10, since=m)
            assert aps[7].sta_connected(sta.mac) and not aps[0].sta_connected(sta.mac)
        finally:
            vlab.stop(sta)
    finally:
        vlab.stop(aps[3])  # any BSS of the radio stops the radio
        cap.stop()
    assert vlab.free.count(aps[0].iface) == 1 and aps[3].iface not in vlab.free
    bssids = {b for b, _ in beacons(cap.path)}
    assert {ap.bssid for ap in aps} <= bssids and len(bssids) >= 8


def test_vht80_ap_on_5ghz_joined_by_wpa_supplicant(vlab):
    radio = vlab.free[0]
    wiphy = vlab.agent.run(["iw", "dev", radio, "info"])["stdout"].split("wiphy ")[1].split()[0]
    phy = vlab.agent.run(["iw", "phy", f"phy{wiphy}", "info"])["stdout"]
    assert "5180 MHz" in phy and "VHT Capabilities" in phy, "hwsim radios lack 5 GHz / VHT"
    cap = vlab.start_capture("radio/vht80.pcap")
    ap = vlab.start_ap(BSSConfig(ssid="vht80", channel=36, vht80=True, security=WPA2_PSK))
    sta = vlab.start_supplicant()
    try:
        assert "country US:" in vlab.agent.run(["iw", "reg", "get"])["stdout"]
        st = dict(x.split("=", 1) for x in ap.ctrl_ok("STATUS").splitlines() if "=" in x)
        assert (st["freq"], st["vht_oper_chwidth"], st["vht_oper_centr_freq_seg0_idx"]) == \
            ("5180", "1", "42"), st
        info = vlab.agent.run(["iw", "dev", ap.iface, "info"])["stdout"]
        assert "width: 80 MHz" in info and "center1: 5210 MHz" in info, info
        assert sta.connect(Profile(ssid="vht80", security=WPA2_PSK, scan_freqs=(5180,))) == ap.bssid
        poll = dict(x.split("=", 1) for x in sta.ctrl_ok("SIGNAL_POLL").splitlines() if "=" in x)
        assert (poll["FREQUENCY"], poll["WIDTH"], poll["CENTER_FRQ1"]) == ("5180", "80 MHz", "5210"), poll
    finally:
        vlab.stop(sta)
        vlab.stop(ap)
        path = cap.stop()
    r = subprocess.run(["tshark", "-r", str(path), "-Y", f"wlan.fc.type_subtype == 0x0008 && wlan.bssid == {ap.bssid}",
                        "-T", "fields", "-e", "wlan.vht.op.channelwidth", "-e", "wlan.vht.op.channelcenter0",
                        "-e", "wlan.ds.current_channel"], capture_output=True, text=True, timeout=60)
    rows = {tuple(line.split("\t")) for line in r.stdout.splitlines() if line.strip()}
    assert rows == {("1", "42", "36")}, (rows, r.stderr[-500:])
