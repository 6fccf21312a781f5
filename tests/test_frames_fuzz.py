"""Fuzzing: random and mutated input may only raise the documented error types."""
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import test_frames_vectors as v
from engine import ies
from engine.capture import CaptureError, from_bytes
from engine.caps import caps_from_assoc
from engine.frames import MalformedFrame, WrongFrame, classify, convert, elements
from engine.hostapd_events import EventFormatError, decode

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KINDS = {"beacon", "probe_req", "probe_resp", "auth", "assoc_req", "assoc_resp", "reassoc_req",
         "reassoc_resp", "deauth", "disassoc", "btm_query", "btm_request", "btm_response",
         "rm_beacon_request", "rm_request", "rm_beacon_report", "rm_report", "nr_request",
         "nr_response", "ft_action_req", "ft_action_resp", "ft_action_confirm", "ft_action_ack",
         "protected_action", "action", "eapol", "data", "control", "malformed", "other"}

VALID = [v.BTM_QUERY, v.BTM_REQ, v.BTM_REQ_TERM, v.BTM_RESP_ACCEPT, v.BTM_RESP_REJECT_LIST,
         v.BTM_RESP_LIST, v.NR_REQUEST, v.NR_RESPONSE, v.BEACON_REQ, v.BEACON_REP, v.FT_REQ,
         v.FT_RESP, v.FT_CONFIRM, v.FT_ACK,
         v.mgmt("2000", "1104" "0a00" + v.AP1 + v.RSNE_FT_PSK + v.MDE + "7f03000008")]

CONVERTERS = [convert.btm_request_from, convert.btm_response_from, convert.btm_query_from,
              convert.beacon_requests_from, convert.beacon_reports_from, convert.nr_request_from,
              convert.nr_response_from, convert.ft_action_from, caps_from_assoc]
BODY_PARSERS = [elements.neighbor_entry, elements.mobility_domain, elements.fast_transition,
                elements.timeout_interval, elements.rsne,
                lambda b: elements.beacon_request(1, 0, b),
                lambda b: elements.beacon_report(1, 0, b)]


@st.composite
def mutated(draw, seeds):
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        else:
            del data[i]
    return bytes(data)


frames = st.one_of(st.binary(max_size=300), mutated(VALID))


def run_converters(raw):
    kind = classify(raw)
    assert kind in KINDS
    for conv in CONVERTERS:
        try:
            conv(raw)
        except (MalformedFrame, WrongFrame):
            pass


@FAST
@given(frames)
def test_converters_and_classify(raw):
    run_converters(raw)


@FAST
@given(st.binary(max_size=300))
def test_walker_and_element_parsers(buf):
    try:
        for e in ies.walk(buf):
            assert e.end <= len(buf)
    except MalformedFrame:
        pass
    for parse in BODY_PARSERS:
        try:
            parse(buf)
        except MalformedFrame:
            pass


def _pcap(records):
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 127)
    for data in records:
        out += struct.pack("<IIII", 1, 0, len(data), len(data)) + data
    return out


RT = bytes.fromhex("00000f00" "2a000000" "10" "00" "6c09a000" "c4")
PCAP_SEED = _pcap([RT + f + b"\0\0\0\0" for f in VALID[:4]])
PCAPNG_SEED = bytes.fromhex(
    "0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000"  # SHB
    "01000000140000007f000000ffff000014000000"  # IDB radiotap
    "06000000" "30000000" "00000000" "00000000" "01000000" "0f000000" "0f000000"
    + RT.hex() + "00" + "30000000")  # EPB with a 15-octet record padded to 16


def read_all(data):
    try:
        r = from_bytes(data)
    except CaptureError:
        return
    try:
        for f in r:
            assert isinstance(f.raw, bytes)
            run_converters(f.raw)
    except CaptureError:
        pass
    assert all(isinstance(p, str) for p in r.problems)


@FAST
@given(st.one_of(st.binary(max_size=200), mutated([PCAP_SEED, PCAPNG_SEED]),
                 st.builds(lambda b, n: b[:n], st.sampled_from([PCAP_SEED, PCAPNG_SEED]),
                           st.integers(0, 400))))
def test_capture_reader(data):
    read_all(data)


def test_seeds_are_valid():
    # the fuzz seeds themselves read cleanly, so mutations start from real structure
    r = from_bytes(PCAP_SEED)
    assert len(list(r)) == 4 and r.problems == []
    r = from_bytes(PCAPNG_SEED)
    assert [f.freq for f in r] == [2412] and r.problems == []


LINES = [f"BEACON-RESP-RX 02:00:00:00:00:01 3 00 {v.BEACON_REP_BODY}",
         "BSS-TM-RESP 02:00:00:00:00:01 status_code=0 bss_termination_delay=0 "
         "target_bssid=02:00:00:00:00:0b",
         f"BSS-TM-QUERY 02:00:00:00:00:01 reason=16 neighbor={v.NR_A}"]


@st.composite
def mutated_line(draw):
    s = list(draw(st.sampled_from(LINES)))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(s) - 1))
        op = draw(st.sampled_from(["set", "del", "cut"]))
        if op == "set":
            s[i] = draw(st.sampled_from(list("0123456789abcdefxz =:\t-_")))
        elif op == "del":
            del s[i]
        else:
            del s[i:]
        if not s:
            break
    return "".join(s)


@FAST
@given(st.one_of(st.text(max_size=120), mutated_line()))
def test_hostapd_decoder(line):
    try:
        decode(line)
    except EventFormatError:
        pass


@FAST
@given(mutated(VALID))
def test_scapy_layers_dissect_mutated_frames(raw):
    # our layers must not break scapy's dissection; converters then read the packet
    from scapy.layers.dot11 import Dot11
    import engine.frames.layers  # noqa: F401  (registers the layers)
    if len(raw) < 24 or classify(raw) in ("malformed", "other", "control"):
        return  # scapy itself fails on frames shorter than its header; classify screens them
    pkt = Dot11(raw)  # must not raise
    for conv in CONVERTERS:  # converters take the packet itself
        try:
            conv(pkt)
        except (MalformedFrame, WrongFrame):
            pass
