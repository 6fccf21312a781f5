"""engine/frames/build.py against Wireshark's dissectors: every frame a builder makes is
written to a pcap (linktype 105, IEEE 802.11) and tshark's PDML is compared, field by
field, with the values the builder was given. The deliberately malformed frames must be
flagged by tshark as malformed at the element the test broke.

Expected multi-octet values are written here with struct (little-endian, 9.2.2), not taken
from the builder. Wireshark 4.0 reads the TSF Information and BSS Termination Duration
subelements of a Neighbor Report, and the Number of Repetitions field of a Radio
Measurement Request, big-endian, so for those the raw octets are compared.
"""
from __future__ import annotations

import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.frames import build as fb
from engine.frames.build import LayoutError, Tlv

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None,
                                reason="tshark is not installed (Debian package tshark)")

AP, STA = "02:00:00:00:00:00", "02:00:00:00:01:00"
HEADER = 24  # octets of the management frame header before the Category field


def write_pcap(path: Path, frames: list[bytes]) -> None:
    """libpcap file, linktype 105 (LINKTYPE_IEEE802_11): the frames without radiotap."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 105))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", i, 0, len(fr), len(fr)) + fr)


@dataclass
class F:
    name: str
    pos: int
    size: int
    show: str
    value: str


def dissect(tmp_path: Path, *frames: bytes) -> list[list[F]]:
    """Per frame, every PDML field in document order."""
    pcap = tmp_path / "built.pcap"
    write_pcap(pcap, list(frames))
    r = subprocess.run(["tshark", "-r", str(pcap), "-T", "pdml"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = []
    for packet in ET.fromstring(r.stdout).iter("packet"):
        out.append([F(e.get("name", ""), int(e.get("pos", "0")), int(e.get("size", "0")),
                      e.get("show", ""), e.get("value", "")) for e in packet.iter("field")])
    return out


def values(fields: list[F], name: str) -> list[str]:
    return [f.show for f in fields if f.name == name]


def one(fields: list[F], name: str) -> str:
    v = values(fields, name)
    assert len(v) == 1, f"{name}: {v}"
    return v[0]


def ints(fields: list[F], name: str) -> list[int]:
    return [int(x, 0) for x in values(fields, name)]


def raw(fields: list[F], name: str) -> list[bytes]:
    return [bytes.fromhex(f.value) for f in fields if f.name == name]


def errors(fields: list[F]) -> list[tuple[int, str]]:
    """(offset, message) of every expert item of severity Error."""
    out, pending = [], None
    for f in fields:
        if f.name == "_ws.expert":
            pending = f
        elif f.name == "_ws.expert.message" and pending is not None:
            msg = f.show
        elif f.name == "_ws.expert.severity" and pending is not None:
            if int(f.show) == 0x00800000:  # PI_ERROR
                out.append((pending.pos, msg))
            pending = None
    return out


def flagged_at(errs: list[tuple[int, str]], element: int, message: str) -> bool:
    """An error with this message placed on the element at this offset: tshark marks its
    Length octet or the first body octet, depending on the dissector."""
    return any(element <= pos <= element + 2 and m == message for pos, m in errs)


def frame(body: bytes) -> bytes:
    return fb.action_frame(STA, AP, AP, body)


# --- BTM Request ---------------------------------------------------------------------------

def test_btm_request_fields_and_candidates_match_tshark(tmp_path):
    cands = [
        fb.neighbor_report("02:00:00:00:03:00", channel=6, op_class=81, bssid_info=0x0000048F,
                           subelements=[fb.tsf_information(0x0102, 100), fb.condensed_country("US"),
                                        fb.wide_bandwidth_channel(1, 38),
                                        fb.vendor_specific(b"\x00\x11\x22", b"ab")],
                           preference=200),
        fb.neighbor_report("02:00:00:00:04:00", channel=36, op_class=115, phy_type=9, preference=0),
        fb.neighbor_report("02:00:00:00:05:00", channel=11, op_class=81, bssid_info=0x3),
    ]
    body = fb.btm_request(dialog_token=0x37, request_mode=("pref_candidate_list", "disassoc_imminent"),
                          disassoc_timer=300, validity_interval=200, candidates=cands)
    (d,) = dissect(tmp_path, frame(body))
    assert errors(d) == []
    assert one(d, "wlan.fixed.category_code") == "10" and one(d, "wlan.fixed.action_code") == "7"
    assert int(one(d, "wlan.fixed.dialog_token"), 0) == 0x37
    modes = {k: int(one(d, f"wlan.fixed.request_mode.{k}")) for k in
             ("pref_cand", "abridged", "disassoc_imminent", "bss_term_included", "ess_disassoc_imminent")}
    assert modes == {"pref_cand": 1, "abridged": 0, "disassoc_imminent": 1, "bss_term_included": 0,
                     "ess_disassoc_imminent": 0}
    assert int(one(d, "wlan.fixed.disassoc_timer")) == 300
    assert int(one(d, "wlan.fixed.validity_interval")) == 200
    # the candidate list
    assert ints(d, "wlan.tag.number") == [52, 52, 52]
    assert ints(d, "wlan.tag.length") == [13 + (2 + 4) + (2 + 2) + (2 + 3) + (2 + 5) + (2 + 1), 13 + 3, 13]
    assert values(d, "wlan.nreport.bssid") == ["02:00:00:00:03:00", "02:00:00:00:04:00", "02:00:00:00:05:00"]
    assert ints(d, "wlan.nreport.bssid.info") == [0x48F, 0x8F, 0x3]
    assert ints(d, "wlan.nreport.bssid.info.mobilitydomain") == [1, 0, 0]
    assert ints(d, "wlan.nreport.opeclass") == [81, 115, 81]
    assert ints(d, "wlan.nreport.channumber") == [6, 36, 11]
    assert ints(d, "wlan.nreport.phytype") == [7, 9, 7]
    assert ints(d, "wlan.nreport.subelem.id") == [1, 2, 6, 221, 3, 3]
    assert ints(d, "wlan.nreport.subelem.len") == [4, 2, 3, 5, 1, 1]
    assert raw(d, "wlan.nreport.subelem.tsf_offset") == [struct.pack("<H", 0x0102)]
    assert raw(d, "wlan.nreport.subelem.beacon_interval") == [struct.pack("<H", 100)]
    assert values(d, "wlan.nreport.subelem.country_code") == ["US"]
    assert raw(d, "wlan.nreport.subelem.data") == [bytes([1, 38, 0]), b"\x00\x11\x22ab"]
    assert ints(d, "wlan.nreport.subelem.bss_trn_can_pref") == [200, 0]


def test_btm_request_termination_and_url_match_tshark(tmp_path):
    body = fb.btm_request(
        dialog_token=2, request_mode=("pref_candidate_list", "bss_termination_included", "ess_disassoc_imminent"),
        bss_termination_duration=fb.bss_termination_duration(0x1122334455667788, 30),
        session_info_url="http://roamcert.test/why",
        candidates=[fb.neighbor_report("02:00:00:00:03:00", 6, 81, preference=1,
                                       subelements=[fb.bss_termination_duration(5, 7)])])
    (d,) = dissect(tmp_path, frame(body))
    assert errors(d) == []
    assert int(one(d, "wlan.fixed.request_mode.bss_term_included")) == 1
    assert int(one(d, "wlan.fixed.request_mode.ess_disassoc_imminent")) == 1
    # the BTM field (dissected little-endian) and the Neighbor Report subelement (raw octets)
    assert raw(d, "wlan.nreport.subelem.bss_ter_tsf") == [struct.pack("<Q", 0x1122334455667788),
                                                          struct.pack("<Q", 5)]
    assert raw(d, "wlan.nreport.subelem.bss_dur") == [struct.pack("<H", 30), struct.pack("<H", 7)]
    assert values(d, "wlan.nreport.subelem.bss_ter_tsf")[0] == str(0x1122334455667788)
    assert values(d, "wlan.nreport.subelem.bss_dur")[0] == "30"
    assert int(one(d, "wlan.fixed.session_information.url_length")) == len("http://roamcert.test/why")
    assert one(d, "wlan.fixed.session_information.url") == "http://roamcert.test/why"
    assert ints(d, "wlan.nreport.subelem.bss_trn_can_pref") == [1]


# --- Radio Measurement Request, Beacon request ---------------------------------------------------

def test_beacon_request_and_every_subelement_match_tshark(tmp_path):
    meas = fb.beacon_measurement(
        token=9, op_class=115, channel=36, mode=fb.BEACON_ACTIVE, bssid="02:00:00:00:07:00",
        duration=50, randomization_interval=10, request_mode=("duration_mandatory",),
        subelements=[fb.ssid("roamcert"), fb.beacon_reporting(1, 2), fb.reporting_detail(1),
                     fb.request([0, 48, 70]), fb.ap_channel_report(81, [1, 6, 11]),
                     fb.last_beacon_report_indication(), fb.vendor_specific(b"\x00\x50\xf2", b"\x01")])
    second = fb.beacon_measurement(token=10, channel=0, mode=fb.BEACON_TABLE)
    body = fb.radio_measurement_request(dialog_token=3, repetitions=2, measurements=[meas, second])
    (d,) = dissect(tmp_path, frame(body))
    assert errors(d) == []
    assert one(d, "wlan.fixed.category_code") == "5" and one(d, "wlan.fixed.action_code") == "0"
    assert int(one(d, "wlan.rm.dialog_token")) == 3
    # Wireshark 4.0 shows this 2-octet field big-endian: compare the octets
    assert raw(d, "wlan.rm.repetitions") == [struct.pack("<H", 2)]
    assert ints(d, "wlan.tag.number") == [38, 38]
    subs_len = (2 + 8) + (2 + 2) + (2 + 1) + (2 + 3) + (2 + 4) + (2 + 1) + (2 + 4)
    assert ints(d, "wlan.tag.length") == [3 + 13 + subs_len, 3 + 13]
    assert ints(d, "wlan.measure.req.token") == [9, 10]
    assert ints(d, "wlan.measure.req.reqmode.duration_mandatory") == [1, 0]
    assert ints(d, "wlan.measure.req.reqmode.enable") == [0, 0]
    assert ints(d, "wlan.measure.req.reqtype") == [5, 5]
    assert ints(d, "wlan.measure.req.operatingclass") == [115, 81]
    assert ints(d, "wlan.measure.req.channelnumber") == [36, 0]
    assert ints(d, "wlan.measure.req.randint") == [10, 0]
    assert ints(d, "wlan.measure.req.duration") == [50, 0]
    assert ints(d, "wlan.measure.req.measurementmode") == [1, 2]
    assert values(d, "wlan.measure.req.bssid") == ["02:00:00:00:07:00", "ff:ff:ff:ff:ff:ff"]
    assert ints(d, "wlan.measure.req.beacon.sub.id") == [0, 1, 2, 10, 51, 164, 221]
    assert ints(d, "wlan.measure.req.sub.length") == [8, 2, 1, 3, 4, 1, 4]
    assert one(d, "wlan.measure.req.beacon.sub.ssid") == "roamcert"
    assert int(one(d, "wlan.measure.req.beacon.sub.bri.repcond"), 0) == 1
    assert int(one(d, "wlan.measure.req.beacon.sub.bri.threshold_offset"), 0) == 2
    assert int(one(d, "wlan.measure.req.beacon.sub.bri.reporting_detail"), 0) == 1
    assert ints(d, "wlan.tag.request") == [0, 48, 70]
    assert int(one(d, "wlan.ap_channel_report.operating_class")) == 81
    assert ints(d, "wlan.ap_channel_report.channel_list") == [1, 6, 11]
    assert int(one(d, "wlan.measure.req.beacon.sub.last_report_ind_req")) == 1
    assert raw(d, "wlan.measure.req.beacon.unknown") == [b"\x00\x50\xf2\x01"]


# --- deliberate malformations ------------------------------------------------------------------

GOOD = fb.neighbor_report("02:00:00:00:03:00", 6, 81, preference=200)


def first_nr_offset() -> int:
    return HEADER + 6  # category, action, token, mode, timer (2), validity


def test_zero_length_entry(tmp_path):
    bad = fb.neighbor_report("02:00:00:00:04:00", 1, 81).zero_length()
    assert bad.encode() == bytes([52, 0])
    (d,) = dissect(tmp_path, frame(fb.btm_request(candidates=[bad, GOOD])))
    errs = errors(d)
    assert len(errs) == 1 and flagged_at(errs, first_nr_offset(),
                                         "Neighbor Report length 0 wrong, must be > 13"), errs
    assert ints(d, "wlan.tag.length") == [0, 16]
    assert values(d, "wlan.nreport.bssid") == ["02:00:00:00:03:00"]  # the next entry still reads


def test_truncated_subelement(tmp_path):
    # the preference subelement keeps its ID and Length (1) but loses its one body octet,
    # so it ends where the Neighbor Report ends
    bad = fb.neighbor_report("02:00:00:00:04:00", 1, 81,
                             subelements=[fb.candidate_preference(5).truncated(2)])
    assert bad.encode()[-2:] == bytes([3, 1]) and bad.encode()[1] == 13 + 2
    (d,) = dissect(tmp_path, frame(fb.btm_request(candidates=[bad, GOOD])))
    # tshark reads the entry's fixed fields, then gives up inside its subelements
    assert ints(d, "wlan.tag.length") == [15]
    assert values(d, "wlan.nreport.bssid") == ["02:00:00:00:04:00"]
    assert ints(d, "wlan.nreport.subelem.bss_trn_can_pref") == []
    assert [m for _, m in errors(d)] == ["Malformed Packet (Exception occurred)"]


def test_length_field_that_lies(tmp_path):
    bad = fb.neighbor_report("02:00:00:00:04:00", 1, 81, preference=9).lying(40)
    (d,) = dissect(tmp_path, frame(fb.btm_request(candidates=[GOOD, bad])))
    errs = errors(d)
    at = first_nr_offset() + len(GOOD.encode())
    assert flagged_at(errs, at, "Tag Length is longer than remaining payload"), errs
    assert ints(d, "wlan.tag.length") == [16, 40]


def test_zero_length_preference(tmp_path):
    bad = fb.neighbor_report("02:00:00:00:04:00", 1, 81,
                             subelements=[fb.candidate_preference(0).zero_length()])
    assert bad.encode()[-2:] == bytes([3, 0])
    (d,) = dissect(tmp_path, frame(fb.btm_request(candidates=[bad, GOOD])))
    assert ints(d, "wlan.nreport.subelem.id")[:1] == [3]
    assert ints(d, "wlan.nreport.subelem.len")[:1] == [0]
    assert any("Malformed" in m for _, m in errors(d)), errors(d)


def test_beacon_request_malformations(tmp_path):
    truncated = fb.radio_measurement_request(1, [fb.beacon_measurement(
        subelements=[fb.ssid("x"), fb.reporting_detail(1).truncated(2)])])
    lying_sub = fb.radio_measurement_request(1, [fb.beacon_measurement(subelements=[fb.ssid("x").lying(30)])])
    lying_elem = fb.radio_measurement_request(1, [fb.beacon_measurement(subelements=[fb.ssid("x")]).lying(40)])
    empty_ssid = fb.radio_measurement_request(1, [fb.beacon_measurement(subelements=[fb.ssid("")])])
    d1, d2, d3, d4 = dissect(tmp_path, *map(frame, (truncated, lying_sub, lying_elem, empty_ssid)))
    sub_err = "Sub Element length exceed Tag length"
    assert ints(d1, "wlan.measure.req.beacon.sub.id") == [0, 2] and \
        ints(d1, "wlan.measure.req.sub.length") == [1, 1]
    assert [m for _, m in errors(d1)] == [sub_err]
    assert ints(d2, "wlan.measure.req.sub.length") == [30]
    assert [m for _, m in errors(d2)] == [sub_err]
    assert ints(d3, "wlan.tag.length") == [40]
    assert flagged_at(errors(d3), HEADER + 5, "Tag Length is longer than remaining payload"), errors(d3)
    # a zero-length SSID subelement is well formed (the wildcard SSID)
    assert errors(d4) == [] and ints(d4, "wlan.measure.req.sub.length") == [0]


# --- what the builders refuse ------------------------------------------------------------------

def test_builders_refuse_values_that_do_not_fit():
    with pytest.raises(LayoutError, match="preference: 256"):
        fb.candidate_preference(256)
    with pytest.raises(LayoutError, match="not a MAC"):
        fb.neighbor_report("02:00:00:00:03", 6, 81)
    with pytest.raises(LayoutError, match="unknown bit"):
        fb.btm_request(request_mode=("pref_list",))
    with pytest.raises(LayoutError, match="does not fit the 1-octet Length"):
        fb.ssid(b"x" * 256).encode()
    with pytest.raises(LayoutError, match="needs a value"):
        fb.NEIGHBOR_REPORT(bssid=AP, bssid_info=0, op_class=81, channel=1, subelements=[])
    with pytest.raises(LayoutError, match="cannot keep"):
        fb.candidate_preference(1).truncated(3)
    assert Tlv(3, b"\x05").lying(0).encode() == b"\x03\x00\x05"


def test_action_frame_header_layout():
    f = fb.action_frame(STA, AP, "02:00:00:00:09:00", b"\x0a\x07", sequence_control=0x10)
    assert f[:2] == b"\xd0\x00" and f[2:4] == b"\x00\x00"
    assert f[4:10] == bytes.fromhex("020000000100") and f[10:16] == bytes.fromhex("020000000000")
    assert f[16:22] == bytes.fromhex("020000000900") and f[22:24] == struct.pack("<H", 0x10)
    assert f[24:] == b"\x0a\x07"


def test_measurement_pause_before_a_beacon_request_matches_tshark(tmp_path):
    """A Measurement Request element of type 255 (Measurement Pause, Pause Time in 10 TU,
    9.4.2.20) then a Beacon request, in one Radio Measurement Request (9.6.6.2)."""
    pause = fb.measurement_pause(token=1, pause_time=10)
    assert pause.encode() == bytes([38, 5, 1, 0, 255]) + struct.pack("<H", 10)
    fields = fb.beacon_request_fields(op_class=81, channel=255, mode=fb.BEACON_ACTIVE, duration=50,
                                      subelements=[fb.ap_channel_report(81, [1, 6, 11])])
    # the Beacon request fields are what beacon_measurement wraps after token, mode and type
    meas = fb.beacon_measurement(token=2, op_class=81, channel=255, mode=fb.BEACON_ACTIVE, duration=50,
                                 subelements=[fb.ap_channel_report(81, [1, 6, 11])])
    assert meas.encode()[5:] == fields
    assert fields == bytes([81, 255]) + struct.pack("<HH", 0, 50) + bytes([1]) + b"\xff" * 6 + bytes([51, 4, 81, 1, 6, 11])
    body = fb.radio_measurement_request(dialog_token=200, measurements=[pause, meas])
    (d,) = dissect(tmp_path, frame(body))
    assert errors(d) == []
    assert ints(d, "wlan.tag.number") == [38, 38]
    assert ints(d, "wlan.measure.req.token") == [1, 2]
    assert ints(d, "wlan.measure.req.reqtype") == [255, 5]
