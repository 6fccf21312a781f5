"""./roamcert analyze never crashes and says what it can: the defects of issue 12 item 5,
each with the input that showed it. Expected values are read off the inputs by a person
(tests/data/lab/README.md, btm_rm.txt, the supplicant's own log lines quoted here)."""
from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from cli import analyze
from devices import esp32_log, wpas_log
from engine import candidates as cand
from engine.capture import FastReader, Reader
from engine.verdict import DUT, LAB
from test_analyze import AP1, AP2, BTM_PCAP, FT_PCAP, LAB as LAB_DIR, SECRET, STA, mgmt, pcap, run, run_json

BTM_LOG = LAB_DIR / "btm_rm.sta.log"
ROOT = Path(__file__).resolve().parent.parent
needs_lab = pytest.mark.skipif(not (BTM_PCAP.exists() and FT_PCAP.exists() and BTM_LOG.exists()),
                               reason="lab captures in tests/data/lab not present")


def rt_record(present: int, fields: bytes, frame: bytes) -> bytes:
    return struct.pack("<BBHI", 0, 0, 8 + len(fields), present) + fields + frame


def beacon(bssid: str, ssid: bytes, channel: int, rsne: bytes | None = None) -> bytes:
    body = bytes(8) + struct.pack("<HH", 100, 0x0411) + bytes([0, len(ssid)]) + ssid + bytes([3, 1, channel])
    if rsne is not None:
        body += bytes([48, len(rsne)]) + rsne
    return mgmt(8, "ff:ff:ff:ff:ff:ff", bssid, bssid, body)


def rsne(akm: int) -> bytes:
    # 9.4.2.24: version 1, group CCMP, 1 pairwise CCMP, 1 AKM 00-0F-AC:akm, RSN Capabilities 0
    ccmp = bytes([0x00, 0x0F, 0xAC, 4])
    return struct.pack("<H", 1) + ccmp + struct.pack("<H", 1) + ccmp + struct.pack("<H", 1) \
        + bytes([0x00, 0x0F, 0xAC, akm]) + b"\x00\x00"


# --- capture reader ---------------------------------------------------------------------------

def test_fast_reader_truncated_radiotap_record_is_damage_not_a_crash(tmp_path, capsys):
    # two records with the same radiotap length and present word (Flags, Channel, Antenna
    # signal: 16 octets); the second is cut inside its radiotap header. FastReader reused the
    # first record's layout for it: IndexError, or an empty frame where Reader notes damage.
    fields = bytes([0x00, 0x00]) + struct.pack("<HH", 2412, 0x00A0) + bytes([0xC4, 0x00, 0x00])
    whole = rt_record(0x2 | 0x8 | 0x20, fields, beacon(AP1, b"roamcert", 1))
    cut = whole[:12]
    p = pcap(tmp_path / "cut_rt.pcap", [whole, cut, whole], linktype=127)
    slow, fast = Reader(p), FastReader(p)
    a, b = list(slow), list(fast)
    assert [f.index for f in a] == [1, 3] and a == b
    assert slow.problems == fast.problems and "frame 2" in fast.problems[0]
    rc, d = run_json(capsys, "--pcap", str(p))
    assert rc == 0
    assert [f["observed"] for f in d["findings"] if f["rule"] == "CAPTURE-DAMAGED"] == slow.problems


# --- candidates: WPA2 next to WPA3 ----------------------------------------------------------------

def test_candidate_profile_with_akm_numbers_names_them():
    e = cand.ScanEntry(AP2, b"roamcert", akms=(8,))  # SAE, as an RSNE carries it
    ok, why = cand.Profile(b"roamcert", frozenset({2})).allows(e)
    assert not ok and why == "no common AKM: BSS SAE, profile PSK"


def test_btm_with_a_wpa3_ap_of_the_same_ssid_is_judged(tmp_path, capsys):
    # AP1 is WPA2-PSK (AKM 2), AP2 WPA3-SAE (AKM 8), same SSID; AP1 asks the STA to move to AP2
    # (BTM Request: token 4, Preferred Candidate List Included, one Neighbor Report for AP2
    # with preference 255) and the STA accepts with AP2 as its target.
    nr = bytes.fromhex(AP2.replace(":", "")) + struct.pack("<IBBB", 0, 81, 6, 7) + bytes([3, 1, 255])
    req = mgmt(13, STA, AP1, AP1, bytes([10, 7, 4, 0x01, 0, 0, 100]) + bytes([52, len(nr)]) + nr)
    rsp = mgmt(13, AP1, STA, AP1, bytes([10, 8, 4, 0, 0]) + bytes.fromhex(AP2.replace(":", "")))
    frames = [beacon(AP1, b"roamcert", 1, rsne(2)), beacon(AP2, b"roamcert", 6, rsne(8)), req, rsp]
    rc, out, err = run(capsys, "--pcap", str(pcap(tmp_path / "wpa2_wpa3.pcap", frames)), "--json")
    assert "Traceback" not in err and rc in (0, 1)
    d = json.loads(out)
    assert [(x["dialog_token"], x["status"], x["target"]) for x in d["btm"]] == [(4, 0, AP2)]
    assert {b["bssid"]: b["akms"] for b in d["bss"]} == {AP1: [2], AP2: [8]}


# --- ESP32 log: long lines ------------------------------------------------------------------------

def test_glued_esp32_line_events_hold_their_own_segment():
    # one serial line holding 2000 log lines glued together: each event's raw text is its own
    # segment, not the whole line again (that copy made parsing quadratic in line length)
    seg = "I (1234) wifi:state: run -> init (0)"
    line = seg * 2000
    evs = esp32_log.Esp32LogParser("s").feed_line(line, "s:1")
    assert len(evs) == 2000 and {e.raw for e in evs} == {seg}


UNBOUNDED = re.compile(r"(?<!\\)\.[*+]")


@pytest.mark.parametrize("table", ["SUPPLICANT", "WPAS", "WIFI", "APP"])
def test_searched_log_patterns_have_no_unbounded_wildcard(table):
    # a pattern tried at every position of a line (not anchored with ^) must not hold an
    # unbounded .* / .+: a line repeating its lead-in thousands of times makes it quadratic
    mod = esp32_log if table in ("WIFI", "APP") else wpas_log
    bad = [rx.pattern for rx, _k, _c in getattr(mod, table)
           if not rx.pattern.startswith("^") and UNBOUNDED.search(rx.pattern)]
    assert bad == []


# --- the command line ------------------------------------------------------------------------------

def test_a_crash_exits_3_with_one_line_naming_the_input(monkeypatch, capsys, tmp_path):
    p = pcap(tmp_path / "one.pcap", [beacon(AP1, b"roamcert", 1)])

    def broken(self, f):
        raise IndexError("index out of range")
    monkeypatch.setattr(analyze.Analyzer, "feed", broken)
    rc, out, err = run(capsys, "--pcap", str(p))
    assert rc == 3 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{p} frame 1" in err and "IndexError" in err


def test_broken_pipe_prints_no_traceback():
    # the reading end is closed before the analyzer writes: every write gets EPIPE
    r, w = os.pipe()
    os.close(r)
    try:
        p = subprocess.run([sys.executable, "-m", "cli", "analyze", "--pcap", str(BTM_PCAP)],
                           stdout=w, stderr=subprocess.PIPE, cwd=ROOT, timeout=120)
    finally:
        os.close(w)
    assert b"Traceback" not in p.stderr and b"BrokenPipe" not in p.stderr, p.stderr
    assert p.returncode == 1  # the verdicts still decide the exit code (the capture has a violation)


def test_non_utf8_ssid_and_ssid_hex(capsys, tmp_path):
    # a shell hands Python non-UTF-8 argv bytes as surrogate escapes; the SSID is those octets
    raw = b"caf\xe9"
    p = pcap(tmp_path / "latin1.pcap", [beacon(AP1, raw, 1)])
    rc1, d1 = run_json(capsys, "--pcap", str(p), "--ssid", os.fsdecode(raw), "--passphrase", "12345678")
    rc2, d2 = run_json(capsys, "--pcap", str(p), "--ssid-hex", "636166e9", "--passphrase", "12345678")
    assert rc1 == rc2 == 0 and d1 == d2
    args = analyze._parser().parse_args(["--pcap", "x", "--ssid", os.fsdecode(raw)])
    assert analyze.ssid_arg(args) == raw
    rc, out, err = run(capsys, "--pcap", str(p), "--ssid-hex", "zz")
    assert rc == 2 and "not hex" in err


def test_printf_decode_reads_wpa_supplicant_escapes():
    # printf_encode: '"' and '\\' escaped, \e \n \r \t, other octets outside 0x20-0x7e as \xNN
    assert wpas_log.printf_decode(r"\xe2\x9c\x93") == "✓".encode()
    assert wpas_log.printf_decode(r'a\"b\\c\e\n\r\t\x00\x7f') == b'a"b\\c\x1b\n\r\t\x00\x7f'
    assert wpas_log.printf_decode("plain") == b"plain"


def _escaped_log(tmp_path) -> Path:
    # the lab log with the SSID "✓\"rc" as wpa_supplicant prints it (wpa_ssid_txt)
    text = BTM_LOG.read_text()
    esc = r"\xe2\x9c\x93\"rc"
    text = text.replace("SSID 'roamcert'", f"SSID '{esc}'").replace("(SSID='roamcert'", f"(SSID='{esc}'")
    p = tmp_path / "escaped.sta.log"
    p.write_text(text)
    return p


@needs_lab
def test_escaped_ssid_in_the_log_matches_ssid(capsys, tmp_path):
    # btm_rm.txt: BSS_TM_REQ dialog_token=5 (ap2 pref 255, ap1 pref 50) -> status 0, target ap2
    log = _escaped_log(tmp_path)
    rc, d = run_json(capsys, "--wpas-log", str(log), "--ssid", '✓"rc')
    x = d["btm"][0]
    assert (x["dialog_token"], x["status"], x["target"]) == (5, 0, AP2)
    verdicts = {v["rule"]: v["status"] for v in x["verdicts"]}
    assert verdicts["BTM-STATUS"] == "pass" and verdicts["BTM-TARGET-ALLOWED"] == "pass"
    assert not [v for v in d["violations"] if v["rule"].startswith("BTM")]


@needs_lab
def test_journald_prefixed_log_reads_like_the_plain_one():
    from engine.events import fmt_time
    lines = BTM_LOG.read_text().splitlines()
    prefixed = [f"Dec 07 03:54:43 host wpa_supplicant[123]: {ln}" for ln in lines]
    plain = wpas_log.parse_lines(lines, "x")
    jd = wpas_log.parse_lines(prefixed, "x")
    assert len(plain) > 50
    assert [(e.t, e.kind, dict(e.fields)) for e in jd] == [(e.t, e.kind, dict(e.fields)) for e in plain]
    # without the supplicant's own stamp, the journal's time is used (no year in this form)
    e = wpas_log.parse_lines(["Dec 07 03:54:43.500000 host wpa_supplicant[123]: wlan0: CTRL-EVENT-CONNECTED"
                              " - Connection to 02:00:00:00:01:00 completed [id=0 id_str=]"])[0]
    assert e.kind == "connected" and e.t == (31 + 29 + 31 + 30 + 31 + 30 + 31 + 31 + 30 + 31 + 30 + 6) * 86400 \
        + 3 * 3600 + 54 * 60 + 43.5
    e = wpas_log.parse_lines(["2026-12-07T03:54:43+0000 host wpa_supplicant[9]: wlan0: CTRL-EVENT-DISCONNECTED"
                              " bssid=02:00:00:00:01:00 reason=3"])[0]
    assert e.kind == "disconnected" and fmt_time(e.t) == "2026-12-07T03:54:43.000000Z"


@needs_lab
def test_wrong_passphrase_is_an_input_diagnosis_not_dut_failures(capsys):
    rc, d = run_json(capsys, "--pcap", str(FT_PCAP), "--ssid", "roamcert", "--passphrase", "not-the-passphrase")
    key = [v for v in d["violations"] if v["rule"] == "KEY-INPUT"]
    assert len(key) == 1 and key[0]["layer"] == LAB
    assert "no EAPOL MIC verifies with this passphrase and SSID" in key[0]["observed"]
    assert not [v for v in d["violations"] if v["layer"] == DUT and v["rule"] in analyze_keyed()]
    assert rc == 1
    # the right key: every MIC verifies and there is no such finding
    rc, d = run_json(capsys, "--pcap", str(FT_PCAP), *SECRET)
    assert not [v for v in d["violations"] if v["rule"] == "KEY-INPUT"]
    assert [x["mic_ok"] for x in d["ft"]] == [True, True]


def analyze_keyed():
    from engine.analyze import KEYED_RULES
    return KEYED_RULES


@needs_lab
def test_neighbor_reports_in_the_json(capsys):
    # frames 113/115 (README); the supplicant read the response as (btm_rm.sta.log:891-892)
    # "RRM-NEIGHBOR-REP-RECEIVED bssid=02:00:00:00:01:00 info=0x8f op_class=81 chan=6 phy_type=7"
    # "RRM-NEIGHBOR-REP-RECEIVED bssid=02:00:00:00:00:00 info=0x8f op_class=81 chan=1 phy_type=7"
    want = [(AP2, 0x8F, 81, 6, 7), (AP1, 0x8F, 81, 1, 7)]
    rc, d = run_json(capsys, "--pcap", str(BTM_PCAP))
    nr = d["neighbor_reports"]
    assert [(x["sta"], x["ap"], x["dialog_token"], x["request"], x["response"]) for x in nr] == [
        (STA, AP1, 1, "frame 113", "frame 115")]
    got = [(e["bssid"], e["bssid_info"], e["op_class"], e["channel"], e["phy_type"]) for e in nr[0]["entries"]]
    assert got == want
    rc, d = run_json(capsys, "--wpas-log", str(BTM_LOG))
    nr = d["neighbor_reports"]
    assert [(x["dialog_token"], x["request"], x["response"]) for x in nr] == [
        (1, "btm_rm.sta.log:876", "btm_rm.sta.log:891")]
    assert [(e["bssid"], e["bssid_info"], e["op_class"], e["channel"], e["phy_type"])
            for e in nr[0]["entries"]] == want


def test_times_print_in_iso_8601_or_microseconds():
    from engine.events import fmt_time
    assert fmt_time(1795314830.401716) == "2026-11-22T02:33:50.401716Z"
    assert fmt_time(12.5) == "12.500000"


@needs_lab
def test_indication_evidence_times_are_not_exponents(capsys):
    rc, out, err = run(capsys, "--wpas-log", str(BTM_LOG))
    assert "e+09" not in out
    # the indication's number depends on the mapping (the port indications count too); its time must read
    assert re.search(r"indication \d+ at t=2026-11-22T02:33:50\.484366Z", out)


def test_a_crash_while_writing_the_report_exits_3_naming_the_inputs(monkeypatch, capsys, tmp_path):
    p = pcap(tmp_path / "one.pcap", [beacon(AP1, b"roamcert", 1)])

    def broken(report):
        raise MemoryError()
    monkeypatch.setattr(analyze, "render", broken)
    rc, out, err = run(capsys, "--pcap", str(p))
    assert rc == 3 and out == "" and err.count("\n") == 1
    assert str(p) in err and "MemoryError" in err and "Traceback" not in err
