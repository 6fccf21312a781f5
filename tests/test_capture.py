"""Capture reader: real files (expected values read with tshark and written here as
literals) and pcap/pcapng/radiotap bytes packed by hand from their format specs."""
import io
import struct
import tracemalloc
import zlib

import pytest

from engine.capture import CaptureError, Reader, from_bytes, parse_radiotap
from engine.frames import classify, nr_request_from
from shared_data import SHARED

PCAP = str(SHARED) + "/data/pcap/"
AIRCRACK = PCAP + "aircrack-ng_pmkid-not-recognized.cap"

# a minimal 802.11 frame: Neighbor Report Request, token 9, no elements
WLAN = bytes.fromhex("d000" "0000" "02000000000a" "020000000001" "02000000000a" "0000" "050409")
FCS = struct.pack("<I", zlib.crc32(WLAN))

# radiotap: present b1 Flags (0x10: FCS at end), b3 Channel (2412 MHz), b5 signal -60 dBm
RT_SIMPLE = bytes.fromhex("00000f00" "2a000000" "10" "00" "6c09a000" "c4")
# three present words (multi-antenna): TSFT, Flags, Channel 5700, signal -45; then
# antenna signals -48 / -49 with antenna numbers 0 / 1 in radiotap namespaces
RT_EXT = bytes.fromhex("00002300" "2b0000a0" "200800a0" "20080000"
                       "0102030405060708" "00" "00" "44160000" "d3" "d000" "cf01")
# Flags, then a vendor namespace (OUI 001122, sub 0, skip 4), then back to radiotap for
# Channel 5180
RT_VENDOR = bytes.fromhex("00002000" "020000c0" "000000a0" "08000000"
                          "00" "00" "001122" "00" "0400" "deadbeef" "3c140000")


def pcap(records, linktype=127, magic=0xA1B2C3D4, endian="<"):
    out = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)
    for sec, frac, data in records:
        out += struct.pack(endian + "IIII", sec, frac, len(data), len(data)) + data
    return out


def block(btype, body, endian="<"):
    pad = body + b"\x00" * (-len(body) % 4)
    n = 12 + len(pad)
    return struct.pack(endian + "II", btype, n) + pad + struct.pack(endian + "I", n)


def shb(endian="<"):
    return block(0x0A0D0D0A, struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1), endian)


def idb(linktype, tsresol=None, endian="<"):
    opts = b""
    if tsresol is not None:
        opts = struct.pack(endian + "HHB3x", 9, 1, tsresol) + struct.pack(endian + "HH", 0, 0)
    return block(1, struct.pack(endian + "HHI", linktype, 0, 65535) + opts, endian)


def epb(iface, ticks, data, endian="<"):
    return block(6, struct.pack(endian + "IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF,
                                len(data), len(data)) + data, endian)


def test_radiotap_fields():
    assert parse_radiotap(RT_SIMPLE + WLAN) == (15, 2412, -60, 0x10)
    assert parse_radiotap(RT_EXT + WLAN) == (35, 5700, -45, 0)
    assert parse_radiotap(RT_VENDOR + WLAN) == (32, 5180, None, 0)
    with pytest.raises(ValueError):
        parse_radiotap(RT_SIMPLE[:10])
    with pytest.raises(ValueError):
        parse_radiotap(b"\x00\x00\x0f\x00\x2a\x00\x00\x80")  # ext bit, no next word


@pytest.mark.parametrize("magic,endian,frac,t", [
    (0xA1B2C3D4, "<", 250000, 1600000000.25),  # microseconds, little-endian
    (0xA1B2C3D4, ">", 250000, 1600000000.25),  # microseconds, big-endian
    (0xA1B23C4D, "<", 250000000, 1600000000.25),  # nanoseconds
    (0xA1B23C4D, ">", 5, 1600000000.000000005),
])
def test_pcap_endianness_and_resolution(magic, endian, frac, t):
    data = pcap([(1600000000, frac, RT_SIMPLE + WLAN + FCS), (1600000001, 0, RT_EXT + WLAN)],
                magic=magic, endian=endian)
    r = from_bytes(data)
    got = list(r)
    assert [f.index for f in got] == [1, 2]
    assert got[0].t == pytest.approx(t, abs=1e-9)
    assert (got[0].freq, got[0].signal, got[0].raw, got[0].linktype) == (2412, -60, WLAN, 127)
    assert (got[1].freq, got[1].signal, got[1].raw) == (5700, -45, WLAN)  # no FCS flag
    assert r.problems == []


def test_pcap_linktype_105_and_unsupported():
    got = list(from_bytes(pcap([(1, 0, WLAN)], linktype=105)))
    assert (got[0].raw, got[0].freq, got[0].signal, got[0].linktype) == (WLAN, None, None, 105)
    with pytest.raises(CaptureError, match="link type 1 "):
        from_bytes(pcap([(1, 0, WLAN)], linktype=1))
    with pytest.raises(CaptureError, match="neither pcap nor pcapng"):
        from_bytes(b"GIF89a" + bytes(40))
    with pytest.raises(CaptureError, match="too short"):
        from_bytes(b"\xd4\xc3")


def test_pcap_truncated_yields_whole_frames_then_problem():
    data = pcap([(1, 0, RT_SIMPLE + WLAN + FCS)] * 3)
    for cut, whole in ((len(data) - 1, 2), (len(data) - len(WLAN) - 30, 2), (24 + 5, 0)):
        r = from_bytes(data[:cut])
        assert len(list(r)) == whole
        assert len(r.problems) == 1 and r.problems[0].startswith("truncated")


def test_pcap_damaged_radiotap_is_skipped_with_problem():
    bad_rt = b"\x00\x00\xff\x00\x00\x00\x00\x00"  # radiotap length 255 > record
    r = from_bytes(pcap([(1, 0, bad_rt + WLAN), (2, 0, RT_SIMPLE + WLAN + FCS)]))
    got = list(r)
    assert [f.index for f in got] == [2]
    assert "frame 1" in r.problems[0] and "radiotap length 255" in r.problems[0]


@pytest.mark.parametrize("endian", ["<", ">"])
def test_pcapng_interfaces_and_tsresol(endian):
    data = (shb(endian) + idb(127, None, endian) + idb(105, 9, endian)
            + epb(0, 1600000000_500000, RT_SIMPLE + WLAN + FCS, endian)
            + block(5, b"\x00" * 8, endian)  # interface statistics block: no frame
            + epb(1, 1600000001_250000000, WLAN, endian)
            + block(3, struct.pack(endian + "I", len(RT_EXT + WLAN)) + RT_EXT + WLAN, endian))
    r = from_bytes(data)
    got = list(r)
    assert [(f.index, f.linktype) for f in got] == [(1, 127), (2, 105), (3, 127)]
    assert got[0].t == pytest.approx(1600000000.5)
    assert got[1].t == pytest.approx(1600000001.25)
    assert got[2].t == got[1].t  # simple packet block: no timestamp of its own
    assert all(f.raw == WLAN for f in got)
    assert got[0].freq == 2412 and got[2].freq == 5700
    assert r.problems == ["simple packet blocks carry no timestamp; they get the previous "
                          "frame's time"]


def test_pcapng_binary_tsresol_and_second_section():
    data = (shb() + idb(105, 0x80 | 10) + epb(0, 3 * 1024 + 512, WLAN)
            + shb(">") + idb(105, None, ">") + epb(0, 7_000000, WLAN, ">"))
    got = list(from_bytes(data))
    assert [f.t for f in got] == [pytest.approx(3.5), pytest.approx(7.0)]


def test_pcapng_truncated_and_unknown_interface():
    data = shb() + idb(127) + epb(0, 1, RT_SIMPLE + WLAN + FCS) + epb(0, 2, RT_SIMPLE + WLAN)
    r = from_bytes(data[:-3])
    assert len(list(r)) == 1 and r.problems[0].startswith("truncated")
    r = from_bytes(shb() + idb(127) + epb(3, 1, WLAN))
    assert list(r) == [] and "interface 3" in r.problems[0]
    with pytest.raises(CaptureError, match="interface 0 has link type 1,"):
        list(from_bytes(shb() + idb(1) + epb(0, 1, WLAN)))


def test_aircrack_capture_counts_like_tshark():
    r = Reader(AIRCRACK)
    n = 0
    hit = None
    for f in r:
        n += 1
        assert f.linktype == 105
        if f.index == 18854:
            hit = f
    assert n == 20056  # `tshark -r FILE | wc -l`
    assert r.problems == ["truncated: frame 20057 has 179 of 411 captured octets"]
    assert classify(hit.raw) == "nr_request"
    req = nr_request_from(hit.raw)
    assert (req.dialog_token, req.ssid) == (45, b"WML")  # tshark: Dialog token 45, SSID "WML"
    assert hit.t == pytest.approx(1658937677.946697, abs=1e-6)
    assert len(hit.raw) == 32


# (file, frame.time_epoch, radiotap.channel.freq, first dbm_antsignal, 802.11 length, FCS)
PROFILER = [
    ("wlanpi-profiler_Apple_MXCU2LLA_PrivateMAC_76-32-e8-00-00-00_5.8GHz-anonymized.pcap",
     1608703707.245784, 5180, -66, 259 - 32 - 4, 0x4EA3646E),
    ("wlanpi-profiler_Apple_iPhonePro12Max_A2342_iOS14.4_1a-b2-70-4e-cf-16_5.8GHz.pcap",
     1615067638.391060, 5825, -81, 253 - 30, None),
    ("wlanpi-profiler_IntelAX210_Windows10_10-3d-1c-00-00-00_6.0GHz-anonymized.pcap",
     1636697170.207991, 5975, -63, 263 - 56 - 4, 0x4211E80A),
    ("wlanpi-profiler_Pixel8_Android16.pcapng", 1762353008.451019, 6775, -55, 299 - 56 - 4,
     0x8BD877D5),
    ("wlanpi-profiler_0xc6.pcapng", 1635529806.583674, 2412, -32, 203 - 56 - 4, 0xFF030557),
]


@pytest.mark.parametrize("name,t,freq,signal,length,fcs", PROFILER)
def test_profiler_radiotap(name, t, freq, signal, length, fcs):
    r = Reader(PCAP + name)
    (f,) = list(r)
    assert r.problems == []
    assert (f.index, f.freq, f.signal, len(f.raw)) == (1, freq, signal, length)
    assert f.t == pytest.approx(t, abs=1e-6)
    if fcs is not None:  # the stripped FCS matches the frame it covered
        assert zlib.crc32(f.raw) == fcs


def test_memory_stays_flat(tmp_path):
    rec = RT_SIMPLE + WLAN + FCS
    path = tmp_path / "big.pcap"
    with open(path, "wb") as out:
        out.write(pcap([]))
        one = struct.pack("<IIII", 1, 0, len(rec), len(rec)) + rec
        out.write(one * 40_000)  # ~3 MB
    tracemalloc.start()
    n = sum(1 for _ in Reader(path))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert n == 40_000
    assert peak < 1_500_000  # the 1 MiB read buffer, not the file


def test_stream_source():
    r = Reader(io.BytesIO(pcap([(1, 0, RT_SIMPLE + WLAN + FCS)])))
    assert [f.raw for f in r] == [WLAN]
