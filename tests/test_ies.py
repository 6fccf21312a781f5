"""Element walker against hand-written bytes (IEEE 802.11-2020 9.4.2.1)."""
import pytest

from engine import ies
from engine.ies import MalformedFrame

# SSID "ab" | MDE a1b2 01 | HE Capabilities-like extension element (255, ext 35) | vendor
BUF = bytes.fromhex("00026162" "3603a1b201" "ff0423010203" "dd03506f9a")


def test_walk_yields_offset_id_body():
    got = list(ies.walk(BUF))
    assert [(e.offset, e.id, e.body) for e in got] == [
        (0, 0, b"ab"), (4, 54, b"\xa1\xb2\x01"), (9, 255, b"\x23\x01\x02\x03"),
        (15, 221, b"\x50\x6f\x9a")]
    offset, eid, body = got[1]  # plain tuple unpacking works
    assert (offset, eid, body) == (4, 54, b"\xa1\xb2\x01")


def test_extension_element():
    e = ies.find(BUF, 255, ext_id=35)
    assert e.ext_id == 35 and e.ext_body == b"\x01\x02\x03"
    assert ies.find(BUF, 255, ext_id=36) is None
    assert ies.find(BUF, 0).ext_id is None


def test_raw_span_is_exactly_two_plus_length():
    assert ies.raw_span(BUF, 54) == bytes.fromhex("3603a1b201")
    assert ies.raw_span(BUF, 255, ext_id=35) == bytes.fromhex("ff0423010203")
    assert ies.raw_span(BUF, 48) is None


def test_overrun_names_element_and_length():
    # an FTE claiming 90 octets with only 4 present
    bad = bytes.fromhex("00026162" "375a00000000")
    it = ies.walk(bad)
    assert next(it).body == b"ab"  # whole elements come first
    with pytest.raises(MalformedFrame, match=r"FTE length 90 exceeds frame"):
        next(it)
    elems, problem = ies.split(bad)
    assert [e.id for e in elems] == [0]
    assert "FTE length 90" in str(problem)


def test_lone_trailing_octet():
    with pytest.raises(MalformedFrame, match="stray octet at offset 4"):
        list(ies.walk(bytes.fromhex("0002616200")))


def test_start_end_window():
    assert [e.id for e in ies.walk(BUF, 4, 9)] == [54]
    with pytest.raises(MalformedFrame):
        list(ies.walk(BUF, 4, 8))  # window cuts the MDE
    assert ies.find_all(BUF + bytes.fromhex("0000"), 0)[1].body == b""


def test_malformed_is_value_error():
    assert issubclass(MalformedFrame, ValueError)
