"""Just enough 802.11 frame reading for FT: MAC header (9.3.1), the fixed fields of
the frames FT uses, and the RSNE (9.4.2.24), MDE (9.4.2.46) and FTE (9.4.2.47)
bodies. Element spans are kept exact (offset and 2 + Length) for MIC input.

Every reader raises engine.ies.MalformedFrame, and nothing else, on bad bytes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.ies import Element, MalformedFrame, split

from .keys import mac_str

EID_RSNE, EID_MDE, EID_FTE, EID_TIE, EID_RDE, EID_RSNXE = 48, 54, 55, 56, 57, 244
CAT_FT = 6
FT_AUTH_ALG = 2  # Authentication Algorithm Number: Fast BSS Transition (9.4.1.1)
LLC_EAPOL = b"\xaa\xaa\x03\x00\x00\x00\x88\x8e"
# 00-0F-AC FT AKMs (Table 9-151); 4 is FT-PSK, the one whose keys this package derives.
FT_AKMS = {3, 4, 9, 13, 16, 17, 19, 25}
FT_PSK = 4
SHA384_FT_AKMS = {13, 17, 19}  # FTE MIC field of 24 octets (9.4.2.47)

# management subtypes (Table 9-1)
ASSOC_REQ, ASSOC_RESP, REASSOC_REQ, REASSOC_RESP = 0, 1, 2, 3
PROBE_RESP, BEACON, AUTH, ACTION = 5, 8, 11, 13
# fixed-field octets before the elements (9.3.3)
_FIXED = {ASSOC_REQ: 4, ASSOC_RESP: 6, REASSOC_REQ: 10, REASSOC_RESP: 6,
          PROBE_RESP: 12, BEACON: 12, AUTH: 6}


@dataclass
class Frame80211:
    ftype: int  # 0 management, 2 data
    subtype: int
    to_ds: bool
    from_ds: bool
    protected: bool
    addr1: str
    addr2: str
    addr3: str
    raw: bytes
    body_offset: int
    elements: list[Element] = field(default_factory=list)  # offsets are into raw
    element_error: str | None = None

    @property
    def body(self) -> bytes:
        return self.raw[self.body_offset:]

    def element(self, eid: int) -> Element | None:
        for e in self.elements:
            if e.id == eid:
                return e
        return None

    def span(self, eid: int) -> bytes | None:
        """Exactly 2 + Length octets of the first such element."""
        e = self.element(eid)
        return None if e is None else self.raw[e.offset:e.end]


def _header_len(raw: bytes) -> int:
    if len(raw) < 2:
        raise MalformedFrame(f"frame of {len(raw)} octets has no Frame Control field")
    fc0, fc1 = raw[0], raw[1]
    ftype = (fc0 >> 2) & 3
    order = bool(fc1 & 0x80)
    if ftype == 0:
        return 24 + (4 if order else 0)
    if ftype == 2:
        n = 24 + (6 if fc1 & 3 == 3 else 0)
        if fc0 & 0x80:  # QoS data subtypes
            n += 2 + (4 if order else 0)
        return n
    raise MalformedFrame(f"frame type {ftype} is not management or data")


def parse(raw: bytes) -> Frame80211:
    """Header and, for management frames FT cares about, the element list."""
    raw = bytes(raw)
    hl = _header_len(raw)
    if len(raw) < hl:
        raise MalformedFrame(f"frame of {len(raw)} octets is shorter than its {hl}-octet header")
    f = Frame80211(ftype=(raw[0] >> 2) & 3, subtype=raw[0] >> 4, to_ds=bool(raw[1] & 1),
                   from_ds=bool(raw[1] & 2), protected=bool(raw[1] & 0x40),
                   addr1=mac_str(raw[4:10]), addr2=mac_str(raw[10:16]),
                   addr3=mac_str(raw[16:22]), raw=raw, body_offset=hl)
    if f.ftype != 0 or f.protected:
        return f
    start = None
    if f.subtype in _FIXED:
        start = hl + _FIXED[f.subtype]
    elif f.subtype == ACTION and len(raw) >= hl + 2 and raw[hl] == CAT_FT:
        # FT Request: STA, target (12); FT Response: STA, target, status (14) (9.6.8)
        start = hl + 2 + {1: 12, 2: 14, 3: 14, 4: 14}.get(raw[hl + 1], 0)
    if start is not None:
        if len(raw) < start:
            raise MalformedFrame(f"{kind(f)} of {len(raw)} octets is shorter than its "
                                 f"fixed fields ({start - hl} octets)")
        f.elements, err = split(raw, start, what=kind(f))
        f.element_error = None if err is None else str(err)
    return f


def kind(f: Frame80211) -> str:
    if f.ftype == 2:
        return "data"
    return {ASSOC_REQ: "Association Request", ASSOC_RESP: "Association Response",
            REASSOC_REQ: "Reassociation Request", REASSOC_RESP: "Reassociation Response",
            PROBE_RESP: "Probe Response", BEACON: "Beacon", AUTH: "Authentication",
            ACTION: "Action"}.get(f.subtype, f"management subtype {f.subtype}")


def u16(raw: bytes, off: int) -> int:
    if off + 2 > len(raw):
        raise MalformedFrame(f"2-octet field at offset {off} runs past the frame ({len(raw)})")
    return int.from_bytes(raw[off:off + 2], "little")


@dataclass(frozen=True)
class MDE:
    mdid: bytes  # wire order
    ft_capability: int

    @property
    def over_ds(self) -> bool:
        return bool(self.ft_capability & 1)


def parse_mde(body: bytes) -> MDE:
    """9.4.2.46: MDID (2) | FT Capability and Policy (1)."""
    if len(body) != 3:
        raise MalformedFrame(f"MDE body is 3 octets, got {len(body)}")
    return MDE(bytes(body[:2]), body[2])


@dataclass(frozen=True)
class FTE:
    mic_control: bytes
    mic: bytes
    anonce: bytes
    snonce: bytes
    r1kh_id: bytes | None
    r0kh_id: bytes | None

    @property
    def element_count(self) -> int:
        return self.mic_control[1]


FTE_FIXED = 82  # MIC Control 2, MIC 16, ANonce 32, SNonce 32 (9.4.2.47)
FTE_MIC_OFFSET = 2  # of the MIC within the FTE body


def fte_mic_len(akm: int | None) -> int:
    return 24 if akm in SHA384_FT_AKMS else 16


def parse_fte(body: bytes, mic_len: int = 16) -> FTE:
    """9.4.2.47: MIC Control, MIC (16, or 24 for SHA-384 AKMs), ANonce, SNonce, then
    subelements, of which 1 is the R1KH-ID and 3 the R0KH-ID."""
    fixed = 2 + mic_len + 64
    if len(body) < fixed:
        raise MalformedFrame(f"FTE body is at least {fixed} octets, got {len(body)}")
    subs, err = split(body, fixed, what="FTE subelements")
    if err is not None:
        raise err
    r1 = r0 = None
    for s in subs:
        if s.id == 1:
            if len(s.body) != 6:
                raise MalformedFrame(f"R1KH-ID subelement is 6 octets, got {len(s.body)}")
            r1 = s.body
        elif s.id == 3:
            if not 1 <= len(s.body) <= 48:
                raise MalformedFrame(f"R0KH-ID subelement is 1..48 octets, got {len(s.body)}")
            r0 = s.body
    n = 2 + mic_len
    return FTE(body[:2], body[2:n], body[n:n + 32], body[n + 32:n + 64], r1, r0)


@dataclass(frozen=True)
class RSNE:
    version: int
    akms: tuple[int, ...]  # suite types of 00-0F-AC selectors; other OUIs as -1
    pmkids: tuple[bytes, ...]


def parse_rsne(body: bytes) -> RSNE:
    """9.4.2.24: the fields after Version are optional from the end."""
    def need(pos, n, what):
        if pos + n > len(body):
            raise MalformedFrame(f"RSNE {what} runs past its {len(body)}-octet body")

    need(0, 2, "Version")
    version = int.from_bytes(body[0:2], "little")
    pos = 2
    akms: list[int] = []
    pmkids: list[bytes] = []
    if pos < len(body):
        need(pos, 4, "Group Data Cipher Suite")
        pos += 4
    if pos < len(body):
        need(pos, 2, "Pairwise Cipher Suite Count")
        n = int.from_bytes(body[pos:pos + 2], "little")
        need(pos + 2, 4 * n, "Pairwise Cipher Suite List")
        pos += 2 + 4 * n
    if pos < len(body):
        need(pos, 2, "AKM Suite Count")
        n = int.from_bytes(body[pos:pos + 2], "little")
        need(pos + 2, 4 * n, "AKM Suite List")
        for i in range(n):
            sel = body[pos + 2 + 4 * i:pos + 6 + 4 * i]
            akms.append(sel[3] if sel[:3] == b"\x00\x0f\xac" else -1)
        pos += 2 + 4 * n
    if pos < len(body):
        need(pos, 2, "RSN Capabilities")
        pos += 2
    if pos < len(body):
        need(pos, 2, "PMKID Count")
        n = int.from_bytes(body[pos:pos + 2], "little")
        need(pos + 2, 16 * n, "PMKID List")
        pmkids = [body[pos + 2 + 16 * i:pos + 18 + 16 * i] for i in range(n)]
        pos += 2 + 16 * n
    return RSNE(version, tuple(akms), tuple(pmkids))


@dataclass(frozen=True)
class EapolKey:
    """EAPOL-Key frame (12.7.2) inside an unprotected data frame."""
    offset: int  # of the EAPOL header within the 802.11 frame
    eapol: bytes  # EAPOL header through the end of the key data
    key_info: int
    nonce: bytes
    mic: bytes  # 16 octets for AKM 2/4
    key_data: bytes

    @property
    def pairwise(self) -> bool:
        return bool(self.key_info & 0x0008)

    @property
    def message(self) -> int | None:
        """4-way handshake message number 1..4 from the Key Information bits, or None
        for a group key message (12.7.6.2..12.7.6.5)."""
        if not self.pairwise:
            return None
        ack, mic, secure = (bool(self.key_info & b) for b in (0x0080, 0x0100, 0x0200))
        if ack:
            return 3 if mic else 1
        if not mic:
            return None
        return 4 if secure else 2


EAPOL_KEY_FIXED = 95  # descriptor type .. key data length, with a 16-octet MIC


def eapol_key(f: Frame80211) -> EapolKey | None:
    """The EAPOL-Key in an unprotected data frame, or None if it carries none."""
    if f.ftype != 2 or f.protected:
        return None
    off = f.body_offset
    raw = f.raw
    if raw[off:off + 8] != LLC_EAPOL:
        return None
    off += 8
    if len(raw) < off + 4:
        raise MalformedFrame("EAPOL header truncated")
    if raw[off + 1] != 3:  # not EAPOL-Key
        return None
    body_len = int.from_bytes(raw[off + 2:off + 4], "big")
    k = off + 4
    if body_len < EAPOL_KEY_FIXED or len(raw) < k + body_len:
        raise MalformedFrame(f"EAPOL-Key body of {body_len} octets does not fit "
                             f"({len(raw) - k} octets left, {EAPOL_KEY_FIXED} minimum)")
    key_info = int.from_bytes(raw[k + 1:k + 3], "big")
    data_len = int.from_bytes(raw[k + 93:k + 95], "big")
    if EAPOL_KEY_FIXED + data_len > body_len:
        raise MalformedFrame(f"EAPOL-Key Key Data Length {data_len} runs past the body")
    return EapolKey(offset=off, eapol=raw[off:k + body_len], key_info=key_info,
                    nonce=raw[k + 13:k + 45], mic=raw[k + 77:k + 93],
                    key_data=raw[k + 95:k + 95 + data_len])
