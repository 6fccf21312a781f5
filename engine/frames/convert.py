"""Raw 802.11 frames (or scapy packets) to the plain models of engine.models.

Every converter takes the 802.11 frame without radiotap and FCS, as bytes or as a
scapy packet, and raises MalformedFrame for lengths that do not fit or WrongFrame
for a frame of another kind (including a protected, hence encrypted, action frame).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from engine import ies
from engine.ies import MalformedFrame
from engine.models import BeaconReport, BeaconRequest, BTMQuery, BTMRequest, BTMResponse, NeighborEntry
from engine.frames import elements as el
from engine.frames.header import CAT_FT, CAT_RM, CAT_WNM, MGMT, Header, mac


class WrongFrame(ValueError):
    """The frame is not of the kind the converter reads."""


def raw_bytes(frame) -> bytes:
    """802.11 frame bytes from bytes or a scapy packet (radiotap and FCS dropped)."""
    if isinstance(frame, (bytes, bytearray, memoryview)):
        return bytes(frame)
    try:
        from scapy.layers.dot11 import Dot11, Dot11FCS
    except ImportError as err:  # pragma: no cover - scapy is pinned
        raise WrongFrame(f"cannot read {type(frame).__name__}") from err
    if not hasattr(frame, "haslayer") or not frame.haslayer(Dot11):
        raise WrongFrame(f"{type(frame).__name__} is neither bytes nor an 802.11 packet")
    layer = frame[Dot11]
    raw = bytes(layer)
    if isinstance(layer, Dot11FCS):
        raw = raw[:-4]
    return raw


def _action(frame, category: int, actions: tuple[int, ...], what: str):
    raw = raw_bytes(frame)
    if len(raw) >= 2 and (raw[0] >> 2) & 3 != MGMT:
        raise WrongFrame(f"{what}: not a management frame")
    h = Header(raw)
    if h.subtype not in (13, 14):
        raise WrongFrame(f"{what}: not an Action frame (type {h.ftype} subtype {h.subtype})")
    if h.protected:
        raise WrongFrame(f"{what}: the Action frame is protected (encrypted body)")
    b = h.body_offset
    if len(raw) < b + 2:
        raise MalformedFrame(f"{what}: Action frame has no category/action octets")
    if raw[b] != category or raw[b + 1] not in actions:
        raise WrongFrame(f"{what}: category {raw[b]} action {raw[b + 1]}")
    return raw, h, b + 2  # offset of the first octet after the Action field


def _fixed(raw: bytes, pos: int, n: int, what: str) -> None:
    if len(raw) < pos + n:
        raise MalformedFrame(f"{what}: {len(raw) - pos} octets where {n} fixed octets are needed")


# --- WNM (9.6.13) ---

def btm_request_from(frame) -> BTMRequest:
    """BSS Transition Management Request (9.6.13.9). The fixed fields, the BSS Termination
    Duration and the Session Information URL must be whole (MalformedFrame otherwise);
    the candidate list is read as far as it goes, its problems in `problems`."""
    raw, _h, p = _action(frame, CAT_WNM, (7,), "BTM Request")
    _fixed(raw, p, 5, "BTM Request")
    token, mode, timer, valid = struct.unpack_from("<BBHB", raw, p)
    p += 5
    term = url = None
    if mode & 0x08:  # BSS Termination Duration subelement (9.4.2.36 subelement 4, length 10)
        _fixed(raw, p, 12, "BTM Request BSS Termination Duration")
        if raw[p] != 4 or raw[p + 1] != 10:
            raise MalformedFrame(f"BTM Request: BSS Termination Duration subelement "
                                 f"id {raw[p]} length {raw[p + 1]}, expected id 4 length 10")
        term = raw[p + 2:p + 12]
        p += 12
    if mode & 0x10:  # Session Information URL
        _fixed(raw, p, 1, "BTM Request URL length")
        n = raw[p]
        _fixed(raw, p + 1, n, "BTM Request URL")
        url = raw[p + 1:p + 1 + n].decode("utf-8", "replace")
        p += 1 + n
    cands, problems = el.read_candidate_list(raw, p)
    return BTMRequest(token, mode, timer, valid, cands, term, url, problems, vendor_bodies(raw, p))


def vendor_bodies(raw: bytes, start: int) -> tuple[bytes, ...]:
    """The bodies of the whole Vendor Specific elements (ID 221) from `start` on; a torn
    element ends the walk (the candidate list's own reader reports it)."""
    els, _err = ies.split(raw, start)
    return tuple(e.body for e in els if e.id == 221)


def btm_response_from(frame) -> BTMResponse:
    """BSS Transition Management Response (9.6.13.10). The candidate list is read
    whatever the status code."""
    raw, _h, p = _action(frame, CAT_WNM, (8,), "BTM Response")
    _fixed(raw, p, 3, "BTM Response")
    token, status, delay = raw[p], raw[p + 1], raw[p + 2]
    p += 3
    target = None
    if status == 0:  # Target BSSID present iff status is Accept
        _fixed(raw, p, 6, "BTM Response Target BSSID")
        target = mac(raw[p:p + 6])
        p += 6
    return BTMResponse(token, status, delay, target, el.neighbor_entries(raw, p), vendor_bodies(raw, p))


def btm_query_from(frame) -> BTMQuery:
    """BSS Transition Management Query (9.6.13.8)."""
    raw, _h, p = _action(frame, CAT_WNM, (6,), "BTM Query")
    _fixed(raw, p, 2, "BTM Query")
    return BTMQuery(raw[p], raw[p + 1], el.neighbor_entries(raw, p + 2))


# --- Radio Measurement (9.6.6) ---

def beacon_requests_from(frame) -> tuple[BeaconRequest, ...]:
    """Every Beacon request in a Radio Measurement Request frame (9.6.6.2)."""
    raw, _h, p = _action(frame, CAT_RM, (0,), "Radio Measurement Request")
    _fixed(raw, p, 3, "Radio Measurement Request")
    dialog = raw[p]
    out = []
    for e in ies.walk(raw, p + 3):
        if e.id != el.EID_MEAS_REQ:
            continue
        if len(e.body) < 3:
            raise MalformedFrame(f"Measurement Request element length {len(e.body)} is below 3")
        if e.body[2] == el.MEAS_BEACON:
            out.append(el.beacon_request(e.body[0], e.body[1], e.body[3:], dialog))
    return tuple(out)


def beacon_request_from(frame) -> BeaconRequest:
    reqs = beacon_requests_from(frame)
    if not reqs:
        raise WrongFrame("Radio Measurement Request carries no Beacon request")
    return reqs[0]


def beacon_reports_from(frame) -> tuple[BeaconReport, ...]:
    """Every Beacon report in a Radio Measurement Report frame (9.6.6.3). Each
    report's token is the frame's dialog token, as hostapd's BEACON-RESP-RX gives it."""
    raw, _h, p = _action(frame, CAT_RM, (1,), "Radio Measurement Report")
    _fixed(raw, p, 1, "Radio Measurement Report")
    dialog = raw[p]
    out = []
    for e in ies.walk(raw, p + 1):
        if e.id != el.EID_MEAS_REP:
            continue
        if len(e.body) < 3:
            raise MalformedFrame(f"Measurement Report element length {len(e.body)} is below 3")
        if e.body[2] == el.MEAS_BEACON:
            out.append(el.beacon_report(dialog, e.body[1], e.body[3:], e.body[0]))
    return tuple(out)


@dataclass(frozen=True)
class NeighborRequest:
    """Neighbor Report Request (9.6.6.6)."""
    dialog_token: int
    ssid: bytes | None = None


@dataclass(frozen=True)
class NeighborResponse:
    """Neighbor Report Response (9.6.6.7)."""
    dialog_token: int
    entries: tuple[NeighborEntry, ...] = ()


def nr_request_from(frame) -> NeighborRequest:
    raw, _h, p = _action(frame, CAT_RM, (4,), "Neighbor Report Request")
    _fixed(raw, p, 1, "Neighbor Report Request")
    ssid = ies.find(raw, 0, start=p + 1)
    return NeighborRequest(raw[p], ssid.body if ssid else None)


def nr_response_from(frame) -> NeighborResponse:
    raw, _h, p = _action(frame, CAT_RM, (5,), "Neighbor Report Response")
    _fixed(raw, p, 1, "Neighbor Report Response")
    return NeighborResponse(raw[p], el.neighbor_entries(raw, p + 1))


def neighbor_entries_from(frame) -> tuple[NeighborEntry, ...]:
    """The Neighbor Report elements of a Neighbor Report Response."""
    return nr_response_from(frame).entries


# --- Fast BSS Transition action frames (9.6.8) ---

FT_ACTIONS = {1: "request", 2: "response", 3: "confirm", 4: "ack"}


@dataclass(frozen=True)
class FTAction:
    kind: str  # request, response, confirm, ack
    sta: str
    target_ap: str
    status: int | None  # response and ack only
    elements: tuple[ies.Element, ...]  # offsets are within `raw`
    raw: bytes

    def element(self, eid: int) -> ies.Element | None:
        return next((e for e in self.elements if e.id == eid), None)

    @property
    def mde(self) -> el.MobilityDomain | None:
        e = self.element(el.EID_MDE)
        return el.mobility_domain(e.body) if e else None

    def fte(self, mic_len: int = 16) -> el.FastTransition | None:
        e = self.element(el.EID_FTE)
        return el.fast_transition(e.body, mic_len) if e else None


def ft_action_from(frame) -> FTAction:
    raw, _h, p = _action(frame, CAT_FT, tuple(FT_ACTIONS), "FT Action")
    act = raw[p - 1]
    _fixed(raw, p, 12, "FT Action addresses")
    sta, target = mac(raw[p:p + 6]), mac(raw[p + 6:p + 12])
    p += 12
    status = None
    if act in (2, 4):
        _fixed(raw, p, 2, "FT Action status")
        status = struct.unpack_from("<H", raw, p)[0]
        p += 2
    return FTAction(FT_ACTIONS[act], sta, target, status, tuple(ies.walk(raw, p)), raw)
