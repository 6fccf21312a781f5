"""hostapd.conf for several BSSs on one radio and for VHT80 on 5 GHz (lab/hostapd.py), and
the 80 MHz channel arithmetic it uses (engine/channels.py). Offline; the lab test
tests/test_lab_radio.py runs these configs in a real hostapd."""
from __future__ import annotations

import pytest

from engine.channels import channel_freq, ht40_secondary_above, vht80_center
from lab.hostapd import OPEN, BSSConfig, bss_iface, radio_bssids, render_radio


def conf_sections(text: str) -> list[dict[str, list[str]]]:
    """The config split at each bss= line: key -> every value given in that section."""
    sections: list[dict[str, list[str]]] = [{}]
    for line in text.splitlines():
        if not line.strip():
            continue
        k, _, v = line.partition("=")
        if k == "bss":
            sections.append({})
        sections[-1].setdefault(k, []).append(v)
    return sections


def test_eight_bss_on_one_radio():
    cfgs = [BSSConfig(ssid=f"multi{i}", channel=6, security=OPEN if i % 2 else "wpa2-psk")
            for i in range(8)]
    bssids = radio_bssids("02:00:00:00:03:00", 8)
    assert bssids == [f"02:00:00:00:03:0{i}" for i in range(8)]
    secs = conf_sections(render_radio(cfgs, "wlan3", bssids, "/var/run/hostapd"))
    assert len(secs) == 8
    assert secs[0]["interface"] == ["wlan3"] and secs[0]["channel"] == ["6"]
    for i, sec in enumerate(secs[1:], 1):
        assert sec["bss"] == [bss_iface("wlan3", i)] == [f"wlan3_{i}"]
        assert sec["bssid"] == [bssids[i]]
        assert "channel" not in sec and "interface" not in sec  # radio keys once
    for i, sec in enumerate(secs):
        assert sec["ssid2"] == [f"multi{i}".encode().hex()]
        assert sec["ctrl_interface"] == ["/var/run/hostapd"]
        assert ("wpa" in sec) == (i % 2 == 0)


def test_bsses_of_one_radio_must_agree_on_the_radio():
    with pytest.raises(ValueError, match=r"BSS 1 differs from BSS 0 in radio setting\(s\) \['channel'\]"):
        render_radio([BSSConfig(channel=1), BSSConfig(channel=6)], "wlan0",
                     radio_bssids("02:00:00:00:00:00", 2), "/r")


def test_bssids_need_room_on_the_radio_address():
    with pytest.raises(ValueError, match="1 to 16"):
        radio_bssids("02:00:00:00:03:00", 17)
    with pytest.raises(ValueError, match="low bits"):
        radio_bssids("02:00:00:00:03:01", 2)


@pytest.mark.parametrize("channel,sign,seg0", [(36, "+", 42), (40, "-", 42), (44, "+", 42),
                                               (48, "-", 42), (149, "+", 155), (161, "-", 155)])
def test_vht80_keys(channel, sign, seg0):
    (sec,) = conf_sections(BSSConfig(channel=channel, vht80=True, security=OPEN)
                           .render("wlan1", "02:00:00:00:01:00", "/r"))
    assert sec["hw_mode"] == ["a"] and sec["country_code"] == ["US"]
    assert sec["ieee80211ac"] == ["1"] and sec["vht_oper_chwidth"] == ["1"]
    assert sec["vht_oper_centr_freq_seg0_idx"] == [str(seg0)]
    assert sec["ht_capab"] == [f"[HT40{sign}]"]


def test_vht80_refuses_2ghz():
    with pytest.raises(ValueError, match="5 GHz"):
        BSSConfig(channel=6, vht80=True).render("wlan1", "02:00:00:00:01:00", "/r")


# 80 MHz channels of 5 GHz as blocks of four 20 MHz channels (U-NII-1 .. U-NII-4)
BLOCKS = [(36, 40, 44, 48), (52, 56, 60, 64), (100, 104, 108, 112), (116, 120, 124, 128),
          (132, 136, 140, 144), (149, 153, 157, 161), (165, 169, 173, 177)]


@pytest.mark.parametrize("block", BLOCKS)
def test_vht80_center_is_the_middle_of_its_four_channels(block):
    mid = sum(channel_freq(c) for c in block) / 4
    for c in block:
        assert channel_freq(vht80_center(c)) == mid
    # primary + secondary pairs: (1st, 2nd) and (3rd, 4th) 20 MHz channels
    assert [ht40_secondary_above(c) for c in block] == [True, False, True, False]


@pytest.mark.parametrize("channel", [1, 14, 32, 38, 68, 96, 181])
def test_channels_outside_every_80mhz_channel(channel):
    with pytest.raises(ValueError):
        vht80_center(channel)
