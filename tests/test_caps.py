"""STA capabilities from real (Re)Association Requests (wlanpi-profiler captures).

Expected values were read with `tshark -r FILE -V` (fields wlan.extcap.b19,
wlan.rmcap.b1/b4/b5/b6, wlan.mobility_domain.mdid, ...ft_over_ds, wlan.rsn.akms.type)
and written here by hand. tshark prints the MDID as a little-endian number (0xc245);
the wire order is 45 c2.
"""
import pytest

import test_frames_vectors as v
from engine.capture import Reader
from engine.caps import caps_from_assoc
from engine.frames import MalformedFrame, WrongFrame
from shared_data import SHARED

PCAP = str(SHARED) + "/data/pcap/wlanpi-profiler_"

# file, frame, sta, reassoc, BTM b19, RM element, NR b1, passive b4, active b5, table b6,
# MDID (wire hex or None), FT over DS, AKMs
CASES = [
    ("Apple_MXCU2LLA_PrivateMAC_76-32-e8-00-00-00_5.8GHz-anonymized.pcap", 1,
     "76:32:e8:00:00:00", False, True, True, False, True, True, False, "45c2", False, (4,)),
    ("Apple_iPhone_SE_2020_PrivateMAC_76-32-e8-9e-27-da_2.4GHz.pcap", 1,
     "76:32:e8:9e:27:da", False, True, True, False, True, True, False, "45c2", False, (4,)),
    ("Hololens2_76-17-61-9b-e8-b2_5.8GHz.pcap", 1,
     "76:17:61:9b:e8:b2", False, True, False, False, False, False, False, None, False, (2,)),
    ("IntelAX210_Windows10_10-3d-1c-00-00-00_5.8GHz-anonymized.pcap", 1,
     "10:3d:1c:00:00:00", True, True, True, True, True, True, True, None, False, (8,)),
    ("OnePlus11_Android15.pcapng", 1,
     "30:bb:7d:4e:c1:2b", False, False, True, True, True, True, True, "0100", False, (25,)),
    ("Pixel8_Android16.pcapng", 1,
     "2e:3d:0c:6f:cb:49", False, True, True, True, True, True, True, "0100", False, (25,)),
    ("SM-G977U_Android10_PhoneMAC_d4-53-83-00-00-00_5.8GHz-anonymized.pcap", 1,
     "d4:53:83:00:00:00", False, True, True, False, True, True, True, "45c2", False, (4,)),
    ("SamsungS21Ultra5G_SM-G998U_Android11_6GHz_Rando_Anon.pcap", 1,
     "22:70:a3:00:00:00", False, True, False, False, False, False, False, None, False, (18,)),
    ("Win11_Netgear_A9000_USB.pcapng", 1,
     "28:94:01:b4:e1:b9", False, True, True, True, False, False, True, None, False, (24,)),
    ("ax210_and_iphone12promax.pcap", 2,
     "4a:41:16:6c:7f:f5", False, True, True, True, True, True, True, None, False, (2,)),
    ("iPad11_4th_Gen_UK_82-8b-75-2d-f2-c0_5.8GHz.pcap", 1,
     "82:8b:75:2d:f2:c0", False, True, True, True, True, True, True, "45c2", False, (4,)),
    ("iPhone11ProMax.pcap_randomized.pcap", 1,
     "22:22:22:22:22:22", False, True, True, False, True, True, False, "0100", False, (4,)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0][:28] for c in CASES])
def test_caps_from_real_requests(case):
    (name, index, sta, reassoc, btm, rm, nr, passive, active, table, mdid, over_ds, akms) = case
    r = Reader(PCAP + name)
    frame = next(f for f in r if f.index == index)
    c = caps_from_assoc(frame.raw)
    assert (c.sta, c.reassoc, c.bss_transition) == (sta, reassoc, btm)
    assert (c.rm_enabled, c.rm_neighbor_report, c.rm_beacon_passive, c.rm_beacon_active,
            c.rm_beacon_table) == (rm, nr, passive, active, table)
    assert (c.mde, c.mdid.hex() if c.mdid else None, c.ft_over_ds) == (mdid is not None, mdid,
                                                                        over_ds)
    assert c.akms == akms


def test_akm_flags():
    r = Reader(PCAP + "Apple_MXCU2LLA_RealMAC_04-72-95-00-00-00_5.8GHz-anonymized.pcap")
    c = caps_from_assoc(next(iter(r)).raw)
    assert c.ft_psk and c.ft and not c.psk and not c.sae and not c.ft_sae
    c = caps_from_assoc(next(iter(Reader(PCAP + "Pixel8_Android16.pcapng"))).raw)
    assert c.ft_sae and c.ft and not c.ft_psk


def test_hand_written_reassoc_with_ft_over_ds():
    # Reassociation Request: capability 0x0411, listen 10, current AP, SSID "lab",
    # RSNE FT-PSK, MDE a1b2 with over-DS, Extended Capabilities b19 (octet 2 = 0x08),
    # RM Enabled Capabilities 0x72 (b1, b4, b5, b6)
    frame = v.mgmt("2000", "1104" "0a00" + v.AP1 + "0003" + b"lab".hex() + v.RSNE_FT_PSK + v.MDE
                   + "7f03000008" + "46057200000000", da=v.AP2, sa=v.STA, bssid=v.AP2)
    c = caps_from_assoc(frame)
    assert (c.reassoc, c.ssid, c.bss_transition, c.mdid, c.ft_over_ds, c.akms) == (
        True, b"lab", True, b"\xa1\xb2", True, (4,))
    assert (c.rm_neighbor_report, c.rm_beacon_passive, c.rm_beacon_active, c.rm_beacon_table) == (
        True, True, True, True)


def test_wrong_or_broken_frames():
    with pytest.raises(WrongFrame):
        caps_from_assoc(v.BTM_REQ)
    with pytest.raises(MalformedFrame):
        caps_from_assoc(v.mgmt("0000", "1104"))
    with pytest.raises(MalformedFrame, match="MDE"):
        caps_from_assoc(v.mgmt("0000", "11040a00" + "3602a1b2"))
