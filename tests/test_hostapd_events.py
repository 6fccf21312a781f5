"""hostapd event lines written by hand after hostapd 2.10's format strings:
  rrm.c:    BEACON_RESP_RX MACSTR " %u %02x %s"  (dialog token, report mode, report hex)
  wnm_ap.c: BSS_TM_RESP MACSTR " status_code=%u bss_termination_delay=%u[ target_bssid=" MACSTR "]"
  newer:    BSS_TM_QUERY MACSTR " reason=%u[ neighbor=<hex>]"
"""
import pytest

import test_frames_vectors as v
from engine.hostapd_events import (EventFormatError, UnknownEvent, beacon_resp_rx, bss_tm_query,
                                   bss_tm_resp, decode)

STA = "02:00:00:00:00:01"
B = "02:00:00:00:00:0b"


def test_beacon_resp_rx():
    line = f"<3>BEACON-RESP-RX {STA} 3 00 {v.BEACON_REP_BODY}"
    ev = beacon_resp_rx(line)
    r = ev.value
    assert (ev.name, ev.sta, r.token, r.mode, r.measurement_token) == ("BEACON-RESP-RX", STA, 3, 0,
                                                                       None)
    assert (r.op_class, r.channel, r.start_tsf, r.duration, r.frame_info, r.rcpi, r.rsni) == (
        115, 36, 0x1122334455667788, 100, 7, 0x9C, 0xFF)
    assert (r.bssid, r.antenna_id, r.parent_tsf) == (B, 1, 0x12345678)
    assert r.frame_body == bytes.fromhex(v.FRAME_BODY) and r.last_indication is True


def test_beacon_resp_rx_refused_has_empty_report():
    # hostapd prints "%s" of an empty hex string: the line ends in a space
    r = decode(f"BEACON-RESP-RX {STA} 4 04 ").value
    assert (r.token, r.mode, r.bssid, r.frame_body) == (4, 4, "", None)


def test_bss_tm_resp():
    ok = decode(f"<3>BSS-TM-RESP {STA} status_code=0 bss_termination_delay=0 target_bssid={B}")
    assert (ok.name, ok.sta) == ("BSS-TM-RESP", STA)
    assert (ok.value.status, ok.value.bss_termination_delay, ok.value.target) == (0, 0, B)
    assert ok.value.dialog_token is None  # hostapd 2.10 does not print it
    rej = bss_tm_resp(f"wlan0: BSS-TM-RESP {STA} status_code=7 bss_termination_delay=0")
    assert (rej.value.status, rej.value.target) == (7, None)
    tok = bss_tm_resp(f"IFNAME=wlan1 BSS-TM-RESP {STA} dialog_token=9 status_code=1 "
                      "bss_termination_delay=3")
    assert (tok.value.dialog_token, tok.value.status, tok.value.bss_termination_delay) == (9, 1, 3)


def test_bss_tm_query():
    q = bss_tm_query(f"BSS-TM-QUERY {STA} reason=16 neighbor={v.NR_A}{v.NR_B}")
    assert (q.sta, q.value.reason) == (STA, 16)
    assert [(c.bssid, c.preference) for c in q.value.candidates] == [(B, 255),
                                                                     ("02:00:00:00:00:0a", None)]
    assert decode(f"BSS-TM-QUERY {STA} reason=0").value.candidates == ()


@pytest.mark.parametrize("line", [
    "AP-STA-CONNECTED 02:00:00:00:00:01", "", "   ", "CTRL-EVENT-EAP-STARTED x",
])
def test_unknown_events(line):
    with pytest.raises(UnknownEvent):
        decode(line)


@pytest.mark.parametrize("line", [
    "BEACON-RESP-RX 02:00:00:00:00:01",  # no token, mode
    "BEACON-RESP-RX 02:00:00:00:00:01 x 00 ",
    "BEACON-RESP-RX 02:00:00:00:00:01 3 0 ",  # mode not two digits
    "BEACON-RESP-RX 02:00:00:00:00:01 3 00 abc",  # odd hex
    "BEACON-RESP-RX 02:00:00:00:00:01 3 00 7324",  # mode OK but report cut short
    "BEACON-RESP-RX 02:00:00:00:00:01 300 00 ",  # token out of range
    "BEACON-RESP-RX nonsense 3 00 ",
    "BSS-TM-RESP 02:00:00:00:00:01 bss_termination_delay=0",  # no status
    "BSS-TM-RESP 02:00:00:00:00:01 status_code=zero",
    "BSS-TM-RESP 02:00:00:00:00:01 status_code=0 target_bssid=02:00",
    "BSS-TM-RESP 02:00:00:00:00:01 status_code=0 garbage",
    "BSS-TM-QUERY 02:00:00:00:00:01 reason=1 neighbor=3410",  # NR runs past the hex
    "BSS-TM-QUERY 02:00:00:00:00:01",
])
def test_garbled_lines(line):
    with pytest.raises(EventFormatError):
        decode(line)


def test_non_text():
    with pytest.raises(EventFormatError):
        decode(b"BSS-TM-RESP")
