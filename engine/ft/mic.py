"""FTE MIC of the Reassociation Request (seq 5) and Response (seq 6).

IEEE 802.11-2020 13.8.4 / 13.8.5: MIC = AES-128-CMAC(KCK, STA-ADDR || target-AP-ADDR
|| transaction sequence number (1 octet) || RSNE || MDE || FTE with the MIC field
zeroed || RIC, if present || RSNXE, if present). Each element enters as its exact
2 + Length octets; never "everything after the element".
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC

from engine.ies import MalformedFrame

from . import frame as fr
from .keys import KeyInputError, mac_bytes

SEQ_REASSOC_REQ = 5
SEQ_REASSOC_RESP = 6


def aes_cmac(key: bytes, data: bytes) -> bytes:
    """AES-CMAC (RFC 4493 / NIST SP 800-38B), 16-octet tag."""
    if len(key) not in (16, 32):
        raise KeyInputError(f"AES-CMAC key is 16 or 32 octets, got {len(key)}")
    c = CMAC(algorithms.AES(bytes(key)))
    c.update(bytes(data))
    return c.finalize()


def zero_fte_mic(fte: bytes) -> bytes:
    """The FTE span (ID, Length, body) with its 16-octet MIC field set to zero."""
    if len(fte) < 2 + fr.FTE_FIXED or fte[0] != fr.EID_FTE or fte[1] != len(fte) - 2:
        raise MalformedFrame("FTE span is not a whole FTE of at least 84 octets")
    o = 2 + fr.FTE_MIC_OFFSET
    return fte[:o] + bytes(16) + fte[o + 16:]


def mic_input(sta, target, seq: int, rsne: bytes, mde: bytes, fte: bytes,
              ric: bytes = b"", rsnxe: bytes = b"") -> bytes:
    if seq not in (SEQ_REASSOC_REQ, SEQ_REASSOC_RESP):
        raise KeyInputError(f"FTE MIC transaction sequence is 5 or 6, got {seq}")
    return (mac_bytes(sta) + mac_bytes(target) + bytes([seq]) + bytes(rsne) + bytes(mde)
            + zero_fte_mic(bytes(fte)) + bytes(ric) + bytes(rsnxe))


def compute_mic(kck: bytes, sta, target, seq: int, rsne: bytes, mde: bytes, fte: bytes,
                ric: bytes = b"", rsnxe: bytes = b"") -> bytes:
    return aes_cmac(kck, mic_input(sta, target, seq, rsne, mde, fte, ric, rsnxe))


@dataclass(frozen=True)
class MicParts:
    """The MIC-protected pieces of one reassociation frame."""
    seq: int
    sta: str
    target: str
    rsne: bytes
    mde: bytes
    fte: bytes
    ric: bytes
    rsnxe: bytes
    element_count: int  # elements the MIC covers, to compare with MIC Control

    @property
    def received_mic(self) -> bytes:
        return self.fte[2 + fr.FTE_MIC_OFFSET:2 + fr.FTE_MIC_OFFSET + 16]

    def data(self) -> bytes:
        return mic_input(self.sta, self.target, self.seq, self.rsne, self.mde, self.fte,
                         self.ric, self.rsnxe)


def mic_parts(raw: bytes) -> MicParts:
    """Slice a Reassociation Request (seq 5, STA -> target) or Response (seq 6,
    target -> STA). Raises MalformedFrame when it is neither or lacks a whole RSNE,
    MDE or FTE; a broken element after them does not stop the MIC check."""
    f = fr.parse(raw)
    if f.ftype != 0 or f.subtype not in (fr.REASSOC_REQ, fr.REASSOC_RESP):
        raise MalformedFrame("not a Reassociation Request or Response")
    seq = SEQ_REASSOC_REQ if f.subtype == fr.REASSOC_REQ else SEQ_REASSOC_RESP
    sta, target = (f.addr2, f.addr1) if seq == SEQ_REASSOC_REQ else (f.addr1, f.addr2)
    spans = {}
    for eid, what in ((fr.EID_RSNE, "RSNE"), (fr.EID_MDE, "MDE"), (fr.EID_FTE, "FTE")):
        s = f.span(eid)
        if s is None:
            raise MalformedFrame(f"Reassociation frame has no {what}")
        spans[eid] = s
    fr.parse_fte(spans[fr.EID_FTE][2:])
    # RIC: each RDE (9.4.2.49) with the Resource Descriptor Count elements after it.
    ric_elems = []
    els = f.elements
    i = 0
    while i < len(els):
        if els[i].id == fr.EID_RDE:
            if len(els[i].body) != 4:
                raise MalformedFrame(f"RDE body is 4 octets, got {len(els[i].body)}")
            n = els[i].body[1]
            if i + 1 + n > len(els):
                raise MalformedFrame(f"RDE announces {n} resource elements, "
                                     f"{len(els) - i - 1} follow")
            ric_elems.extend(els[i:i + 1 + n])
            i += 1 + n
        else:
            i += 1
    ric = b"".join(raw[e.offset:e.end] for e in ric_elems)
    count = 3 + len(ric_elems)
    rsnxe = f.span(fr.EID_RSNXE) or b""
    if rsnxe:
        count += 1
    return MicParts(seq, sta, target, spans[fr.EID_RSNE], spans[fr.EID_MDE],
                    spans[fr.EID_FTE], ric, rsnxe, count)


@dataclass(frozen=True)
class MicCheck:
    ok: bool
    seq: int
    expected: bytes
    observed: bytes


def verify_mic(kck: bytes, raw: bytes) -> MicCheck:
    """Recompute the FTE MIC of a reassociation frame and compare (constant time)."""
    p = mic_parts(raw)
    want = aes_cmac(kck, p.data())
    got = p.received_mic
    return MicCheck(hmac.compare_digest(want, got), p.seq, want, got)
