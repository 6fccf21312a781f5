"""./roamcert analyze on real lab captures, real ESP32 logs and hostile input.

Expected values are read off the inputs by a person: tests/data/lab/README.md (and
btm_rm.txt, the capture script's record of the hostapd events) and the ESP32 log lines
quoted next to each expectation.
"""
from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

from cli import analyze
from engine.capture import FastReader
from shared_data import SHARED

LAB = Path(__file__).parent / "data" / "lab"
FT_PCAP, FT_LOG = LAB / "ft_air_ds.pcap", LAB / "ft_air_ds.sta.log"
BTM_PCAP = LAB / "btm_rm.pcap"
ESP = Path(str(SHARED) + "/data/esp32")
BTM_LOG, BCN_LOG = ESP / "roaming_example_btm_roam.log", ESP / "roaming_example_beacon_request.log"
STA, AP1, AP2 = "02:00:00:00:02:00", "02:00:00:00:00:00", "02:00:00:00:01:00"
SECRET = ["--ssid", "roamcert", "--passphrase", "roamcert-passphrase"]


def run(capsys, *argv):
    rc = analyze.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def run_json(capsys, *argv):
    rc, out, err = run(capsys, *argv, "--json")
    return rc, json.loads(out)


# --- small capture writer for hand-made frames (link type 105, no radiotap) ---------

def pcap(path: Path, frames, linktype: int = 105) -> Path:
    data = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for i, f in enumerate(frames):
        data += struct.pack("<IIII", 1000 + i, 0, len(f), len(f)) + f
    path.write_bytes(data)
    return path


def mgmt(subtype: int, da: str, sa: str, bssid: str, body: bytes, seq: int = 0) -> bytes:
    m = lambda s: bytes.fromhex(s.replace(":", ""))  # noqa: E731
    return (bytes([subtype << 4, 0]) + b"\x00\x00" + m(da) + m(sa) + m(bssid)
            + struct.pack("<H", seq << 4) + body)


def beacon_frame(bssid: str, ssid: bytes, channel: int) -> bytes:
    body = bytes(8) + struct.pack("<HH", 100, 0x0411) + bytes([0, len(ssid)]) + ssid + bytes([3, 1, channel])
    return mgmt(8, "ff:ff:ff:ff:ff:ff", bssid, bssid, body)


# --- FT on the real lab capture ---------------------------------------------------------

@pytest.mark.skipif(not FT_PCAP.exists(), reason="lab capture tests/data/lab/ft_air_ds.pcap not present")
def test_lab_ft_exchanges(capsys):
    rc, d = run_json(capsys, "--pcap", str(FT_PCAP), *SECRET)
    assert rc == 0, d["violations"]
    ft = d["ft"]
    # README: the STA roams to ap2 over the air (ROAM), then back to ap1 over the DS (FT_DS)
    assert [(x["sta"], x["target"], x["over_ds"]) for x in ft] == [(STA, AP2, False), (STA, AP1, True)]
    for x in ft:
        assert x["mic_ok"] is True and x["pmkr1name_ok"] is True
        assert x["latency_us"] > 0
    assert d["frames"]["reassoc_req"] == 2 and d["frames"]["ft_action_req"] == 1
    assert d["violations"] == []


def _fte_mic_offset(data: bytes, which: int = 0) -> int:
    """File offset of the first MIC octet in the FTE of the which-th Reassociation Request
    (walked here by hand, radiotap link type 127)."""
    pos, seen = 24, 0
    while pos + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, pos + 8)[0]
        rec = pos + 16
        rt = struct.unpack_from("<H", data, rec + 2)[0]
        fr = rec + rt
        if data[fr] == 0x20:  # Reassociation Request, no Order bit
            if seen == which:
                e = fr + 24 + 10
                while data[e] != 55:
                    e += 2 + data[e + 1]
                return e + 2 + 2
            seen += 1
        pos = rec + caplen
    raise AssertionError("no Reassociation Request in the capture")


@pytest.mark.skipif(not FT_PCAP.exists(), reason="lab capture tests/data/lab/ft_air_ds.pcap not present")
def test_lab_ft_flipped_mic_is_a_violation(capsys, tmp_path):
    data = bytearray(FT_PCAP.read_bytes())
    off = _fte_mic_offset(bytes(data), 0)
    data[off + 3] ^= 0x01
    bad = tmp_path / "flipped.pcap"
    bad.write_bytes(bytes(data))
    rc, d = run_json(capsys, "--pcap", str(bad), *SECRET)
    assert rc == 1
    assert [x["mic_ok"] for x in d["ft"]] == [False, True]
    rules = [v["rule"] for v in d["violations"]]
    assert "FT-MIC-5" in rules
    v = next(v for v in d["violations"] if v["rule"] == "FT-MIC-5")
    assert v["clause"].startswith("IEEE 802.11-2020")


@pytest.mark.skipif(not (FT_PCAP.exists() and FT_LOG.exists()), reason="lab material not present")
def test_lab_ft_with_supplicant_log(capsys):
    rc, d = run_json(capsys, "--pcap", str(FT_PCAP), *SECRET, "--wpas-log", str(FT_LOG))
    assert [(x["target"], x["mic_ok"]) for x in d["ft"]] == [(AP2, True), (AP1, True)]
    # whatever the log's trace is judged to be, the frames are clean: only IND rules may fail
    assert all(v["rule"].startswith("IND-") for v in d["violations"])
    assert rc == (1 if d["violations"] else 0)
    kinds = [(i["kind"], i["bssid"]) for i in d["indications"]]
    # the log: connect to ap1, ROAM to ap2, FT_DS back to ap1 (in this order, other lines between)
    want = [("CONNECTION_START", None), ("ASSOCIATION_START", AP1), ("CONNECTION_COMPLETION", AP1),
            ("ROAMING_START", None), ("ASSOCIATION_START", AP2), ("ROAMING_COMPLETION", AP2),
            ("ROAMING_START", None), ("ASSOCIATION_START", AP1), ("ROAMING_COMPLETION", AP1)]
    it = iter(kinds)
    assert all(w in it for w in want), kinds
    assert all(i["source"].startswith("ft_air_ds.sta.log:") for i in d["indications"])
    roam_reasons = [i["reason"] for i in d["indications"] if i["kind"] == "ROAMING_START"]
    assert roam_reasons[1] == "requested FT over the DS"


# --- BTM and beacon reports on the real lab capture -------------------------------------

@pytest.mark.skipif(not BTM_PCAP.exists(), reason="lab capture tests/data/lab/btm_rm.pcap not present")
def test_lab_btm_and_beacon_reports(capsys):
    rc, d = run_json(capsys, "--pcap", str(BTM_PCAP), *SECRET)
    btm = d["btm"]
    # btm_rm.txt: BSS_TM_REQ dialog_token=5 (ap2 pref 255, ap1 pref 0x32) -> status 0 target ap2;
    # BSS_TM_REQ dialog_token=9 (only 02:00:00:00:99:00, pref 255) -> status_code=7
    assert [(x["ap"], x["sta"], x["dialog_token"], x["status"], x["target"]) for x in btm] == [
        (AP1, STA, 5, 0, AP2), (AP2, STA, 9, 7, None)]
    assert [(c["bssid"], c["preference"], c["op_class"], c["channel"]) for c in btm[0]["candidates"]] == [
        (AP2, 255, 81, 6), (AP1, 50, 81, 1)]
    assert [(c["bssid"], c["preference"]) for c in btm[1]["candidates"]] == [("02:00:00:00:99:00", 255)]
    assert [x["verdict"] for x in btm] == ["PASS", "PASS"]
    assert btm[0]["joined"] == AP2 and (btm[0]["request"], btm[0]["response"]) == ("frame 133", "frame 135")
    # FT roam that the BTM request caused
    assert [(x["target"], x["over_ds"], x["mic_ok"]) for x in d["ft"]] == [(AP2, False, True)]
    br = d["beacon_reports"]
    # btm_rm.txt: REQ_BEACON -> 1 (table), 2 (passive, channel 1), 3 (active, channel 6, SSID roamcert);
    # BEACON-RESP-RX for 1 and 2: ap1 (5101..) and ap2 (5106..); for 3: ap2 only
    assert [(x["token"], x["mode"], x["channel"], x["bssids"]) for x in br] == [
        (1, "table", 0, [AP1, AP2]), (2, "passive", 1, [AP1, AP2]), (3, "active", 6, [AP2])]
    assert [x["verdict"] for x in br] == ["PASS", "FAIL", "PASS"]
    # the passive request measured channel 1 only; the report for ap2 (channel 6) came in frame 252
    assert rc == 1
    assert [(v["rule"], v["evidence"]) for v in d["violations"]] == [("BCN-BSSID-MAY", ["frame 252"])]


# --- ESP32 logs -----------------------------------------------------------------------------

@pytest.mark.skipif(not BTM_LOG.exists(), reason="shared ESP32 logs not present")
def test_esp32_btm_story(capsys):
    rc, d = run_json(capsys, "--esp32-log", str(BTM_LOG))
    # line 2: "WNM: BSS Transition Management Request: dialog_token=1 request_mode=0x1 ..."
    # line 6: "0: b4:e6:2d:eb:1d:76 info=0x0 op_class=81 chan=1 phy=7 pref=255"
    # line 14: "Transition to BSS b4:e6:2d:eb:1d:76"; line 16: "Send ... Response to 50:3e:aa:26:35:42
    # dialog_token=1 status=0"
    assert len(d["btm"]) == 1
    x = d["btm"][0]
    assert (x["dialog_token"], x["status"], x["target"], x["ap"]) == (1, 0, "b4:e6:2d:eb:1d:76", "50:3e:aa:26:35:42")
    assert x["candidates"] == [{"bssid": "b4:e6:2d:eb:1d:76", "preference": 255, "op_class": 81, "channel": 1,
                                "bssid_info": 0}]
    assert (x["request"], x["response"]) == ("roaming_example_btm_roam.log:2", "roaming_example_btm_roam.log:16")
    assert x["verdict"] == "PASS" and x["joined"] == "b4:e6:2d:eb:1d:76"
    # line 19 "state: run -> init (0)": the roam starts (no disconnect line: no STA_DISCONNECTED
    # printed, so no MEDIA_DISCONNECT); 24 "init -> auth"; 26 "assoc -> run"; 27 "connected with ...
    # bssid = b4:e6:2d:eb:1d:76": the roam completes and the firmware's WIFI_EVENT_STA_CONNECTED
    # line is a MEDIA_CONNECT; 32 "sta ip:" is the IP layer, no indication
    got = [(i["kind"], i["bssid"], i["status"], i["source"].split(":")[-1]) for i in d["indications"]]
    assert got == [("ROAMING_START", None, None, "19"),
                   ("ASSOCIATION_START", "b4:e6:2d:eb:1d:76", None, "24"),
                   ("ASSOCIATION_COMPLETION", "b4:e6:2d:eb:1d:76", "success", "26"),
                   ("ROAMING_COMPLETION", "b4:e6:2d:eb:1d:76", "success", "27"),
                   ("MEDIA_CONNECT", "b4:e6:2d:eb:1d:76", None, "27")]
    assert d["indications"][0]["reason"] == "BTM request: transition to b4:e6:2d:eb:1d:76"
    # the roam ended with a new MEDIA_CONNECT (the firmware's): IND-6
    assert rc == 1
    assert {v["rule"] for v in d["violations"]} == {"IND-6"}


@pytest.mark.skipif(not BCN_LOG.exists(), reason="shared ESP32 logs not present")
def test_esp32_scan_log_has_no_exchange(capsys):
    rc, d = run_json(capsys, "--esp32-log", str(BCN_LOG))
    assert rc == 0 and d["btm"] == [] and d["ft"] == [] and d["indications"] == []


@pytest.mark.skipif(not BTM_LOG.exists(), reason="shared ESP32 logs not present")
def test_non_utf8_log_line_is_a_finding(capsys, tmp_path):
    log = tmp_path / "serial.log"
    log.write_bytes(b"\xff\xfe garbage \x80\n" + BTM_LOG.read_bytes())
    rc, d = run_json(capsys, "--esp32-log", str(log))
    assert rc == 1  # the same IND-6 story, one line later
    assert d["btm"][0]["request"] == "serial.log:3"
    enc = [f for f in d["findings"] if f["rule"] == "LOG-ENCODING"]
    assert enc and enc[0]["evidence"] == ["serial.log:1"]


# --- bad input ----------------------------------------------------------------------------

def test_missing_file_exit_2(capsys, tmp_path):
    rc, out, err = run(capsys, "--pcap", str(tmp_path / "nope.pcap"))
    assert rc == 2 and "nope.pcap" in err and "Traceback" not in err
    rc, out, err = run(capsys, "--esp32-log", str(tmp_path / "nope.log"))
    assert rc == 2


def test_garbage_file_exit_2(capsys, tmp_path):
    g = tmp_path / "garbage.pcap"
    g.write_bytes(b"this is not a capture at all\n" * 10)
    rc, out, err = run(capsys, "--pcap", str(g))
    assert rc == 2 and "neither pcap nor pcapng" in err


def test_unknown_linktype_exit_2(capsys, tmp_path):
    eth = pcap(tmp_path / "eth.pcap", [bytes(60)], linktype=1)
    rc, out, err = run(capsys, "--pcap", str(eth))
    assert rc == 2 and "link type 1" in err
    # pcapng: the link type is only known at the Interface Description Block
    shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
    idb = struct.pack("<IIHHI", 1, 20, 1, 0, 0) + struct.pack("<I", 20)
    epb = struct.pack("<IIIIIII", 6, 32 + 60, 0, 0, 0, 60, 60) + bytes(60) + struct.pack("<I", 32 + 60)
    ng = tmp_path / "eth.pcapng"
    ng.write_bytes(shb + idb + epb)
    rc, out, err = run(capsys, "--pcap", str(ng))
    assert rc == 2 and "link type 1" in err


def test_usage_errors_exit_2(capsys):
    assert run(capsys)[0] == 2
    assert run(capsys, "--pcap", "x", "--passphrase", "roamcert-passphrase")[0] == 2  # no --ssid
    assert run(capsys, "--bogus")[0] == 2


@pytest.mark.skipif(not FT_PCAP.exists(), reason="lab capture tests/data/lab/ft_air_ds.pcap not present")
def test_truncated_capture_is_a_finding(capsys, tmp_path):
    cut = tmp_path / "cut.pcap"
    data = FT_PCAP.read_bytes()
    cut.write_bytes(data[:len(data) // 2 + 7])
    rc, d = run_json(capsys, "--pcap", str(cut), *SECRET)
    assert rc in (0, 1)
    assert 0 < d["frame_total"] < 303
    dmg = [f for f in d["findings"] if f["rule"] == "CAPTURE-DAMAGED"]
    assert dmg and "truncated" in dmg[0]["observed"]


def test_malformed_btm_element_is_the_aps_violation(capsys, tmp_path):
    # BTM Request from the AP (TA = BSSID = AP1), token 3, pref list; Neighbor Report
    # element claims 40 octets, 13 follow. The fault is the AP's, never the station's.
    body = bytes([10, 7, 3, 0x01, 0, 0, 1]) + bytes([52, 40]) + bytes(13)
    f = mgmt(13, STA, AP1, AP1, body)
    rc, out, err = run(capsys, "--pcap", str(pcap(tmp_path / "bad.pcap", [f])), "--json")
    d = json.loads(out)
    assert rc == 1 and "Traceback" not in err
    v = d["violations"][0]
    assert v["rule"] == "FRAME-FORMAT" and v["evidence"] == ["frame 1"]
    assert v["layer"] == "reference AP"
    assert all(x["layer"] == "reference AP" for x in d["violations"])


def test_hostile_ssid_never_breaks_the_table(capsys, tmp_path):
    evil = b"\x1b[2J\x1b[31mpwn\r\n\x00\x07\xff\xfe" + "é".encode()
    frames = [beacon_frame(AP1, evil, 1), beacon_frame(AP2, b"A" * 32, 6)]
    p = pcap(tmp_path / "evil.pcap", frames)
    rc, out, err = run(capsys, "--pcap", str(p))
    assert rc == 0 and err == ""
    assert "\x1b" not in out and "\r" not in out and "\x00" not in out and "\x07" not in out
    line = next(x for x in out.splitlines() if AP1 in x)
    assert "\\x1b[2J\\x1b[31mpwn\\x0d\\x0a\\x00\\x07" in line and "é" in line
    rc, d = run_json(capsys, "--pcap", str(p))
    assert rc == 0 and d["bss"][0]["ssid"].startswith("\\x1b[2J")


def test_hostile_ssid_element_overrun(capsys, tmp_path):
    # SSID element claims 200 octets in a 20-octet body: the BSS is listed with its problem
    body = bytes(8) + struct.pack("<HH", 100, 0x0411) + bytes([0, 200]) + b"short"
    f = mgmt(8, "ff:ff:ff:ff:ff:ff", AP1, AP1, body)
    rc, out, err = run(capsys, "--pcap", str(pcap(tmp_path / "overrun.pcap", [f])))
    assert rc == 0 and "Traceback" not in err and "exceeds" in out


def test_stray_copy_of_lab_capture_reads_as_pcap(capsys, tmp_path):
    if not FT_PCAP.exists():
        pytest.skip("lab capture tests/data/lab/ft_air_ds.pcap not present")
    p = tmp_path / "copy.cap"
    shutil.copy(FT_PCAP, p)
    rc, d = run_json(capsys, "--pcap", str(p))
    # no secrets: the MICs cannot be verified, so nothing about them is claimed
    assert rc == 0 and [x["mic_ok"] for x in d["ft"]] == [None, None]


def test_fast_reader_reads_what_reader_reads(tmp_path):
    from engine.capture import Reader
    paths = sorted(LAB.glob("*.pcap")) + sorted(Path(str(SHARED) + "/data/pcap").glob("*.pcap*"))
    paths = [p for p in paths if not p.name.endswith(".txt")]
    assert paths
    # radiotap variants: Flags with FCS and bad-FCS bits, frequency 0 with XChannel, an unknown bit
    def rt(present: int, fields: bytes) -> bytes:
        return struct.pack("<BBHI", 0, 0, 8 + len(fields), present) + fields
    f = beacon_frame(AP1, b"x", 1)
    recs = [rt(0x2 | 0x8 | 0x20, bytes([0x10]) + b"\x00" + struct.pack("<HH", 2412, 0) + b"\xc4") + f + b"FCS!",
            rt(0x2, bytes([0x50])) + f + b"FCS!",
            rt(0x8 | 0x40000, struct.pack("<HH", 0, 0) + struct.pack("<IHBB", 0, 2437, 1, 0)) + f,
            rt(0x8 | (1 << 28), struct.pack("<HH", 5180, 0)) + f,
            rt(0x20, b"")[:8] + f]  # signal bit set, no room for it: frame skipped
    paths.append(pcap(tmp_path / "rt.pcap", recs, linktype=127))
    for p in paths:
        slow, fast = Reader(p), FastReader(p)
        a, b = list(slow), list(fast)
        assert a == b, p.name
        assert slow.problems == fast.problems


@pytest.mark.skipif(not FT_LOG.exists(), reason="lab log tests/data/lab/ft_air_ds.sta.log not present")
def test_ft_story_from_the_supplicant_log_alone(capsys):
    rc, d = run_json(capsys, "--wpas-log", str(FT_LOG))
    # README: ROAM to ap2 (over the air), then FT_DS back to ap1; no frames, so no MIC claims
    assert [(x["target"], x["over_ds"], x["mic_ok"], x["pmkr1name_ok"]) for x in d["ft"]] == [
        (AP2, False, None, None), (AP1, True, None, None)]
    assert all(x["source"].startswith("ft_air_ds.sta.log:") and x["latency_us"] > 0 for x in d["ft"])
    assert d["frame_total"] == 0
