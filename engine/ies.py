"""Bounds-checked walker over information elements (IEEE 802.11-2020 9.4.2.1).

An element is ID (1) | Length (1) | body (Length). Element ID 255 carries an
Element ID Extension as the first body octet. Subelements use the same layout,
so the same walker serves both.
"""
from __future__ import annotations

from typing import Iterator, NamedTuple


class MalformedFrame(ValueError):
    """A frame or element whose declared lengths do not fit the bytes."""


NAMES = {
    0: "SSID", 1: "Supported Rates", 3: "DSSS Parameter Set", 5: "TIM",
    7: "Country", 10: "Request", 38: "Measurement Request",
    39: "Measurement Report", 45: "HT Capabilities", 48: "RSNE", 50: "Extended Rates",
    51: "AP Channel Report", 52: "Neighbor Report", 54: "MDE", 55: "FTE", 56: "TIE",
    61: "HT Operation", 70: "RM Enabled Capabilities", 127: "Extended Capabilities",
    164: "Last Beacon Report Indication", 191: "VHT Capabilities", 221: "Vendor Specific",
    244: "RSNXE", 255: "Extension",
}


def name(eid: int) -> str:
    return NAMES.get(eid, f"element {eid}")


class Element(NamedTuple):
    offset: int  # of the ID octet within the walked buffer
    id: int
    body: bytes

    @property
    def end(self) -> int:
        return self.offset + 2 + len(self.body)

    @property
    def ext_id(self) -> int | None:
        """Element ID Extension of an element 255, else None."""
        if self.id == 255 and self.body:
            return self.body[0]
        return None

    @property
    def ext_body(self) -> bytes:
        return self.body[1:] if self.id == 255 else self.body


def walk(buf: bytes, start: int = 0, end: int | None = None,
         what: str = "frame", unit: str = "element") -> Iterator[Element]:
    """Yield the elements of buf[start:end] in order. `unit` is "subelement" when
    walking subelements, whose IDs are not element IDs (errors then say "subelement N").

    Raises MalformedFrame, after yielding every whole element before it, for an
    element whose length runs past `end` or a lone trailing octet.
    """
    buf = bytes(buf)
    end = len(buf) if end is None else min(end, len(buf))
    pos = start
    while pos < end:
        if pos + 2 > end:
            raise MalformedFrame(f"one stray octet at offset {pos} where an element header "
                                 f"(2 octets) was expected in {what}")
        eid = buf[pos]
        length = buf[pos + 1]
        if pos + 2 + length > end:
            label = name(eid) if unit == "element" else f"{unit} {eid}"
            raise MalformedFrame(f"{label} length {length} exceeds {what} "
                                 f"({end - pos - 2} octets left at offset {pos})")
        yield Element(pos, eid, buf[pos + 2:pos + 2 + length])
        pos += 2 + length


def split(buf: bytes, start: int = 0, end: int | None = None,
          what: str = "frame", unit: str = "element") -> tuple[list[Element], MalformedFrame | None]:
    """All whole elements, plus the problem that stopped the walk (or None)."""
    out: list[Element] = []
    try:
        for e in walk(buf, start, end, what, unit):
            out.append(e)
    except MalformedFrame as err:
        return out, err
    return out, None


def find(buf: bytes, eid: int, ext_id: int | None = None, start: int = 0,
         end: int | None = None) -> Element | None:
    """First element with this ID (and extension ID for 255); raises MalformedFrame
    only if the walk breaks before one is found."""
    for e in walk(buf, start, end):
        if e.id == eid and (ext_id is None or e.ext_id == ext_id):
            return e
    return None


def find_all(buf: bytes, eid: int, start: int = 0, end: int | None = None) -> list[Element]:
    return [e for e in walk(buf, start, end) if e.id == eid]


def raw_span(buf: bytes, eid: int, ext_id: int | None = None, start: int = 0,
             end: int | None = None) -> bytes | None:
    """The exact 2 + Length octets of the first such element (for MIC input)."""
    e = find(buf, eid, ext_id, start, end)
    if e is None:
        return None
    return bytes(buf[e.offset:e.end])
