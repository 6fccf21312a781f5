"""A station's declared roaming capabilities, read from its (Re)Association Request.

Sources (IEEE 802.11-2020):
- Extended Capabilities element (9.4.2.26, Table 9-153): b19 BSS Transition.
- RM Enabled Capabilities element (9.4.2.44, Table 9-201): b1 Neighbor Report,
  b4 Beacon Passive, b5 Beacon Active, b6 Beacon Table Measurement.
- MDE (9.4.2.46): presence, MDID, FT Capability and Policy b0 Fast BSS Transition over DS.
- RSNE (9.4.2.24.3, Table 9-151): AKM suite selectors 00-0F-AC:n.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine import ies
from engine.frames import elements as el
from engine.frames.convert import WrongFrame, raw_bytes
from engine.frames.header import MGMT, Header

AKM_8021X, AKM_PSK, AKM_FT_8021X, AKM_FT_PSK, AKM_SAE, AKM_FT_SAE = 1, 2, 3, 4, 8, 9
AKM_SAE_EXT, AKM_FT_SAE_EXT = 24, 25
FT_AKMS = frozenset({3, 4, 9, 13, 19, 20, 25})


@dataclass(frozen=True)
class StaCaps:
    sta: str
    reassoc: bool
    bss_transition: bool = False
    rm_enabled: bool = False  # the RM Enabled Capabilities element is present
    rm_neighbor_report: bool = False
    rm_beacon_passive: bool = False
    rm_beacon_active: bool = False
    rm_beacon_table: bool = False
    mde: bool = False
    mdid: bytes | None = None  # wire order
    ft_over_ds: bool = False
    akms: tuple[int, ...] = ()  # 00-0F-AC suite types; other OUIs as full selectors
    ssid: bytes | None = None

    @property
    def ft_psk(self) -> bool:
        return AKM_FT_PSK in self.akms

    @property
    def ft_sae(self) -> bool:
        return AKM_FT_SAE in self.akms or AKM_FT_SAE_EXT in self.akms

    @property
    def ft_8021x(self) -> bool:
        return AKM_FT_8021X in self.akms

    @property
    def psk(self) -> bool:
        return AKM_PSK in self.akms

    @property
    def sae(self) -> bool:
        return AKM_SAE in self.akms or AKM_SAE_EXT in self.akms

    @property
    def ft(self) -> bool:
        return any(a in FT_AKMS for a in self.akms)


def _bit(body: bytes, n: int) -> bool:
    return len(body) > n // 8 and bool(body[n // 8] & (1 << (n % 8)))


def caps_from_assoc(frame) -> StaCaps:
    """Capabilities from an Association (subtype 0) or Reassociation (2) Request.

    Raises WrongFrame for other frames and MalformedFrame for broken elements."""
    raw = raw_bytes(frame)
    if len(raw) >= 2 and (raw[0] >> 2) & 3 != MGMT:
        raise WrongFrame("not a management frame")
    h = Header(raw)
    if h.ftype != MGMT or h.subtype not in (0, 2):
        raise WrongFrame(f"not a (Re)Association Request (type {h.ftype} subtype {h.subtype})")
    reassoc = h.subtype == 2
    # Capability (2), Listen Interval (2)[, Current AP address (6)] (9.3.3.6, 9.3.3.8)
    start = h.body_offset + (10 if reassoc else 4)
    if len(raw) < start:
        raise ies.MalformedFrame(f"(Re)Association Request of {len(raw)} octets lacks its "
                                 f"fixed fields")
    kw: dict = {}
    for e in ies.walk(raw, start):
        if e.id == 0 and "ssid" not in kw:
            kw["ssid"] = e.body
        elif e.id == el.EID_EXT_CAPS and "bss_transition" not in kw:
            kw["bss_transition"] = _bit(e.body, 19)
        elif e.id == el.EID_RM_CAPS and "rm_enabled" not in kw:
            kw.update(rm_enabled=True, rm_neighbor_report=_bit(e.body, 1),
                      rm_beacon_passive=_bit(e.body, 4), rm_beacon_active=_bit(e.body, 5),
                      rm_beacon_table=_bit(e.body, 6))
        elif e.id == el.EID_MDE and "mde" not in kw:
            md = el.mobility_domain(e.body)
            kw.update(mde=True, mdid=md.mdid, ft_over_ds=md.ft_over_ds)
        elif e.id == el.EID_RSNE and "akms" not in kw:
            kw["akms"] = el.rsne(e.body).akms
    return StaCaps(h.sa, reassoc, **kw)
