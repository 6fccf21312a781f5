"""LineFramer edge cases, plus a fuzz test of the framer and both log parsers."""
from hypothesis import given, settings, strategies as st

from devices import esp32_log, wpas_log
from devices.lines import TRUNCATED_MARK, LineFramer, clean
from engine.events import KINDS


def feed_all(chunks, **kw):
    f = LineFramer(**kw)
    out = []
    for c in chunks:
        out += f.feed(c)
    return out, f


def test_partial_lines_join_across_feeds():
    out, f = feed_all([b"I (1) wpa: scan is", b"sued at time=5\nI (2) w", b"ifi:state: init -> auth (b0)\n"])
    assert out == ["I (1) wpa: scan issued at time=5", "I (2) wifi:state: init -> auth (b0)"]
    assert f.count == 2


def test_cr_lf_crlf_mix_and_crlf_split_between_feeds():
    out, _ = feed_all([b"a\r\nb\rc\nd\r", b"\ne\n\n\r\nf\r"])
    # "d\r" + "\n" is one CRLF, not an empty line; blank lines are dropped
    assert out == ["a", "b", "c", "d", "e", "f"]


def test_lone_cr_at_end_then_text_is_a_new_line():
    out, _ = feed_all([b"one\r", b"two\n"])
    assert out == ["one", "two"]


def test_ansi_colour_codes_are_stripped():
    line = b"\x1b[0;32mI (384709) wifi:state: assoc -> run (10)\x1b[0m\r\n"
    out, _ = feed_all([line])
    assert out == ["I (384709) wifi:state: assoc -> run (10)"]


def test_ansi_code_split_across_feeds():
    out, _ = feed_all([b"\x1b[0;3", b"1mE (5) boot: x\x1b[0m\n"])
    assert out == ["E (5) boot: x"]


def test_bad_utf8_is_replaced_not_raised():
    out, _ = feed_all([b"ok \xff\xfe end\n"])
    assert out == ["ok \ufffd\ufffd end"]


def test_nul_bytes_are_removed():
    out, _ = feed_all([b"\x00\x00I (1) wpa: scan\x00 done received\n"])
    assert out == ["I (1) wpa: scan done received"]


def test_over_long_line_is_cut_and_marked_then_framing_recovers():
    out, _ = feed_all([b"x" * 50, b"y" * 50, b"z" * 50 + b"\nnext\n"], max_line=64)
    assert out[0] == "x" * 50 + "y" * 14 + TRUNCATED_MARK
    assert out[1] == "next"
    assert len(out) == 2


def test_ring_keeps_last_n_lines():
    _, f = feed_all([b"".join(b"line %d\n" % i for i in range(10))], keep=3)
    assert f.last_lines(5) == ["line 7", "line 8", "line 9"]


def test_flush_returns_the_unterminated_tail():
    f = LineFramer()
    assert f.feed(b"Rebooting...") == []
    assert f.flush() == ["Rebooting..."]
    assert f.flush() == []


def test_clean_drops_control_bytes_but_keeps_tabs():
    assert clean(b"a\tb\x07c\x1b[Kd") == "a\tbcd"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(min_value=0, max_value=600), max_size=8))
def test_fuzz_framer_and_parsers_never_raise(data, cuts):
    cuts = sorted(set(c for c in cuts if c <= len(data)))
    pieces = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
    f = LineFramer(max_line=128)
    lines = []
    for p in pieces:
        lines += f.feed(p)
    lines += f.flush()
    for ln in lines:
        assert "\n" not in ln and "\r" not in ln and "\x00" not in ln
    esp = esp32_log.Esp32LogParser()
    wp = wpas_log.WpasLogParser()
    evs = []
    for ln in lines:
        evs += esp.feed_line(ln)
        evs += wp.feed_line(ln)
    evs += esp.flush() + wp.flush()
    esp32_log.to_indications(evs)
    wpas_log.to_indications(evs)


_FRAGMENTS = [
    b"I (1) wifi:state: run -> init (0)\n", b"I (2) wifi:state: init -> auth (b0)\n",
    b"I (3) wifi:state: assoc -> run (10)\n", b"I (4) wifi:connected with s, aid = 1, channel 6, 40U, bssid = ",
    b"aa:bb:cc:dd:ee:ff\n", b"I (5) wifi:security: WPA2-PSK, phy: bgn, rssi: -7\n",
    b"I (6) wpa: WNM: BSS Transition Management Request: dialog_token=1 request_mode=0x1 disassoc_timer=0 ",
    b"validity_interval=1\n", b"I (7) wpa: 0: aa:bb:cc:dd:ee:01 info=0x0 op_class=81 chan=1 phy=7 pref=255\n",
    b"rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\n", b"Guru Meditation Error: Core  0 panic'ed (X)\n",
    b"<3>CTRL-EVENT-CONNECTED - Connection to 02:00:00:00:01:00 completed [id=0 id_str=]\n",
    b"1.5: wlan2: SME: Trying to authenticate with 02:00:00:00:01:00 (SSID='x' freq=2412 MHz)\n",
    b"<3>CTRL-EVENT-DISCONNECTED bssid=02:00:00:00:01:00 reason=3\n", b"\x1b[0;32m", b"\xff\x00\r",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS) | st.binary(max_size=20), max_size=30))
def test_fuzz_realistic_fragments_never_raise(parts):
    f = LineFramer()
    lines = []
    for p in parts:
        lines += f.feed(p)
    lines += f.flush()
    evs = esp32_log.parse_lines(lines) + wpas_log.parse_lines(lines)
    for e in evs:
        assert e.kind in KINDS
    esp32_log.to_indications(evs)
    wpas_log.to_indications(evs)
