"""What an FT roam owes beyond its four messages, judged from the frames:

- the reassociation deadline: a Timeout Interval element (TIE, 9.4.2.48) of type 1 gives the
  STA that many TUs from FT message 2 to send its Reassociation Request. hostapd announces it
  in message 3 of the initial mobility domain association's 4-way handshake (13.4.2), inside
  the Key Data wrapped with the KEK, and not in FT message 2; either place is read;
- management frame protection: a STA joining a BSS whose RSNE sets MFPR advertises MFPC in
  its own RSNE (9.4.2.24.4), with the AP's group management cipher, and FT Action frames
  (a robust Action category) travel protected once PMF is in use;
- a refused FT authentication (message 2 with a non-zero status, e.g. 53 INVALID_PMKID when
  the target cannot get PMK-R1 from the R0KH): no reassociation follows with that exchange.

Clause numbers are IEEE 802.11-2020's (9.4.2.48 was 9.4.2.49 in 802.11-2016)."""
from __future__ import annotations

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

from engine.frames.elements import Rsne, TimeoutInterval, rsne, timeout_interval
from engine.ies import MalformedFrame, split
from engine.verdict import DUT, INFO, REFERENCE_AP, Verdict, check

from . import frame as fr
from .keys import KeyInputError, Secrets
from .model import FTExchange, InitialFTAssociation

C = "IEEE 802.11-2020 "
TU_US = 1024  # one time unit (3.1): 1024 microseconds
TIE_REASSOC_DEADLINE, TIE_KEY_LIFETIME, TIE_COMEBACK = 1, 2, 3  # Timeout Interval Type (9.4.2.48)
MFPR, MFPC = 0x0040, 0x0080  # RSN Capabilities bits 6 and 7 (9.4.2.24.4)
BIP_CMAC_128 = 6  # the group management cipher an RSNE that omits the field means (9.4.2.24)
STATUS_NAMES = {28: "R0KH unreachable", 53: "INVALID_PMKID", 54: "INVALID_MDE", 55: "INVALID_FTIE"}


def _ev(*idx) -> tuple[str, ...]:
    return tuple(f"frame {i}" for i in idx if i is not None)


def timeout_intervals(raw: bytes) -> list[TimeoutInterval]:
    """Every TIE of a management frame (Authentication, FT Action, (Re)Association)."""
    f = fr.parse(raw)
    return [timeout_interval(e.body) for e in f.elements if e.id == fr.EID_TIE]


def rsne_of(raw: bytes) -> Rsne | None:
    """The RSNE of a management frame, fully parsed (capabilities, group management cipher)."""
    e = fr.parse(raw).element(fr.EID_RSNE)
    return None if e is None else rsne(e.body)


def m3_key_data(a: InitialFTAssociation, secrets: Secrets) -> bytes | None:
    """The plaintext Key Data of 4-way message 3 of an initial MD association: AES key unwrap
    (RFC 3394, 12.7.2) with the KEK of the PTK the oracle derives from the secrets, M2's
    R0KH-ID/R1KH-ID/MDE and the two nonces. None when any input is missing or the unwrap fails
    (the keys are not the ones used)."""
    h = a.handshake
    if h is None or h.m2 is None or h.m3 is None or h.anonce is None:
        return None
    try:
        elems, _ = split(h.m2.key_data, what="M2 Key Data")
        mde = next((e.body for e in elems if e.id == fr.EID_MDE), None)
        fte = next((fr.parse_fte(e.body, fr.fte_mic_len(a.request.akm)) for e in elems if e.id == fr.EID_FTE), None)
        if mde is None or len(mde) != 3 or fte is None or not fte.r0kh_id or not fte.r1kh_id:
            return None
        ptk = secrets.keys(mde[:2], fte.r0kh_id, fte.r1kh_id, a.sta).ptk(h.m2.nonce, h.anonce, a.ap)
        return aes_key_unwrap(ptk.kek, h.m3.key_data)
    except (MalformedFrame, KeyInputError, InvalidUnwrap, ValueError):
        return None


def announced_deadline(a: InitialFTAssociation, secrets: Secrets) -> tuple[int | None, int | None]:
    """(reassociation deadline in TUs, M3 frame index) from the TIEs in message 3's Key Data
    (13.4.2), or (None, index) when M3 has none or cannot be read."""
    h = a.handshake
    idx = h.messages.get(3, [None])[0] if h is not None else None
    data = m3_key_data(a, secrets)
    if data is None:
        return None, idx
    elems, _ = split(data, what="M3 Key Data")  # the padding after the KDEs ends the walk
    for e in elems:
        if e.id == fr.EID_TIE and len(e.body) == 5:
            t = timeout_interval(e.body)
            if t.type == TIE_REASSOC_DEADLINE:
                return t.value, idx
    return None, idx


def deadline_verdicts(x: FTExchange, announced: tuple[int | None, int | None] = (None, None)) -> list[Verdict]:
    """The reassociation deadline of one FT exchange: a TIE of type 1 (TUs) in message 2, or,
    as hostapd does it, the one announced in M3 of the initial MD association (`announced`:
    deadline and M3's frame index); the STA's Reassociation Request (message 3) leaves before
    it runs out (13.5.2 over the air, 13.5.4 over the DS). Measured on the air: message 2's
    capture time to message 3's."""
    rsp, rq = x.response, x.reassoc_req
    if rsp is None:
        return [Verdict("FT-TIE-DEADLINE", C + "13.8.3, 9.4.2.48", INFO,
                        "a TIE (reassociation deadline) in FT message 2",
                        "message 2 not seen (a protected FT Action Response with PMF, or not captured)",
                        _ev(rq and rq.index))]
    if rsp.status not in (0, None):
        return [Verdict("FT-TIE-DEADLINE", C + "13.8.3, 9.4.2.48", INFO,
                        "a TIE (reassociation deadline) in a successful FT message 2",
                        f"message 2 refused the STA (status {rsp.status}): no deadline to keep", _ev(rsp.index))]
    try:
        ties = timeout_intervals(rsp.raw)
    except MalformedFrame as err:
        return [check("FT-TIE-DEADLINE", C + "13.8.3, 9.4.2.48", False, "a well-formed TIE in FT message 2",
                      str(err), _ev(rsp.index), layer=REFERENCE_AP)]
    deadline = next((t.value for t in ties if t.type == TIE_REASSOC_DEADLINE), None)
    where, idx = "FT message 2", rsp.index
    if deadline is None and announced[0] is not None:
        deadline, where, idx = announced[0], "M3 of the initial mobility domain association", announced[1]
    out = [check("FT-TIE-DEADLINE", C + "13.4.2, 13.8.3, 9.4.2.48", deadline is not None and deadline > 0,
                 "a TIE of type 1 (reassociation deadline) with a non-zero number of TUs, in FT message 2 "
                 "or in M3 of the initial mobility domain association",
                 f"reassociation deadline {deadline} TUs in {where}" if deadline is not None else
                 "none: message 2's TIE types " + (", ".join(str(t.type) for t in ties) or "none") +
                 "; M3 " + ("has no type 1 TIE" if announced[1] is not None else "not seen or not readable"),
                 _ev(idx, rsp.index), layer=REFERENCE_AP)]
    if deadline is None or deadline == 0:
        return out
    if rq is None:
        out.append(Verdict("FT-REASSOC-DEADLINE", C + "13.8.3, 13.8.4", INFO,
                           f"a Reassociation Request within {deadline} TUs of message 2",
                           "no Reassociation Request", _ev(rsp.index)))
        return out
    gap_us = round((rq.t - rsp.t) * 1e6)
    limit_us = deadline * TU_US
    out.append(check("FT-REASSOC-DEADLINE", C + "13.8.3, 13.8.4", 0 <= gap_us <= limit_us,
                     f"Reassociation Request within the reassociation deadline: {deadline} TUs "
                     f"({limit_us} us) after message 2",
                     f"{gap_us} us after message 2", _ev(rsp.index, rq.index)))
    return out


def pmf_verdicts(rq, target_rsne: Rsne | None, beacon_index: int | None, initial: bool = False) -> list[Verdict]:
    """Management frame protection in the STA's (re)association request `rq` (an FT exchange's
    Reassociation Request, or with initial=True the Association Request of an initial MD
    association) to a target whose beacon RSNE is target_rsne: a target that requires MFP
    (MFPR) is joined only with MFPC set (9.4.2.24.4), and with the group management cipher the
    target advertises (absent means BIP-CMAC-128)."""
    out: list[Verdict] = []
    what = "Association Request" if initial else "Reassociation Request"
    cl = C + "9.4.2.24.4, " + ("13.4.2" if initial else "13.8.4")
    if target_rsne is None or target_rsne.capabilities is None:
        return [Verdict("FT-PMF-TARGET", C + "9.4.2.24.4", INFO, "the target's RSN Capabilities (beacon)",
                        "no beacon RSNE with RSN Capabilities captured", _ev(beacon_index))]
    required = bool(target_rsne.capabilities & MFPR)
    out.append(Verdict("FT-PMF-TARGET", C + "9.4.2.24.4", INFO, "the target's MFP policy",
                       f"MFPC={int(bool(target_rsne.capabilities & MFPC))} MFPR={int(required)}",
                       _ev(beacon_index)))
    if rq is None:
        return out
    try:
        sta = rsne_of(rq.raw)
    except MalformedFrame as err:
        return out + [check("FT-PMF-MFPC", cl, False, f"a well-formed RSNE in the {what}",
                            str(err), _ev(rq.index))]
    caps = None if sta is None else sta.capabilities
    if required:
        out.append(check("FT-PMF-MFPC", cl, caps is not None and bool(caps & MFPC),
                         f"MFPC set in the {what}'s RSNE (the target requires MFP)",
                         "no RSN Capabilities" if caps is None else
                         f"RSN Capabilities 0x{caps:04x} (MFPC={int(bool(caps & MFPC))}, "
                         f"MFPR={int(bool(caps & MFPR))})", _ev(beacon_index, rq.index)))
    if caps is not None and caps & MFPC and target_rsne.capabilities & MFPC and sta is not None:
        want = target_rsne.group_mgmt_cipher or BIP_CMAC_128
        have = sta.group_mgmt_cipher or BIP_CMAC_128
        out.append(check("FT-PMF-GROUP-MGMT", C + "9.4.2.24", have == want,
                         f"group management cipher suite {want} as the target advertises (absent: 6, BIP-CMAC-128)",
                         f"{have}" + (" (field absent)" if sta.group_mgmt_cipher is None else ""),
                         _ev(beacon_index, rq.index)))
    return out


def refusal_verdicts(x: FTExchange) -> list[Verdict]:
    """An FT exchange the target refused in message 2 (FT Authentication seq 2 or FT Action
    Response with a non-zero status): the refusal is the scenario's (the reference AP's), and
    the STA sends no Reassociation Request on its strength (13.5.2, 13.5.4: reassociation
    follows a successful FT authentication only). An exchange without message 2 (the target
    never answered within the STA's wait) is reported, not judged."""
    rsp = x.response
    if rsp is None:
        return [Verdict("FT-REFUSED", C + "13.8.3", INFO, "message 2 with a non-zero status",
                        "no answer from the target on the air", _ev(x.request and x.request.index))]
    name = STATUS_NAMES.get(rsp.status, "")
    out = [Verdict("FT-REFUSED", C + "13.8.3, 9.4.1.9", INFO, "message 2 with a non-zero status",
                   f"status {rsp.status}" + (f" ({name})" if name else ""), _ev(rsp.index),
                   layer=REFERENCE_AP)]
    if rsp.status != 0:
        rq = x.reassoc_req
        sn = x.request.fte.snonce if x.request is not None and x.request.fte is not None else None
        if rq is not None and rq.fte is not None and sn is not None and rq.fte.snonce != sn:
            rq = None  # a later attempt of its own (another SNonce), not this exchange's message 3
        elif rq is not None and rq.fte is None:
            rq = None  # no FTE: not an FT reassociation (the finder files it under the open exchange)
        out.append(check("FT-NO-REASSOC-AFTER-REFUSAL", C + ("13.5.4" if x.over_ds else "13.5.2") + ", 13.8.3",
                         rq is None,
                         "no Reassociation Request after the target refused the FT authentication",
                         "none" if rq is None else f"Reassociation Request to {x.target}",
                         _ev(rsp.index, rq and rq.index), layer=DUT))
    return out
