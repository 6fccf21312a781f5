"""The 802.11 MAC header read from fixed offsets (IEEE 802.11-2020 9.2.3, 9.3)
and a cheap classifier used to pre-filter captures before any scapy work."""
from __future__ import annotations

from engine.ies import MalformedFrame

MGMT, CTRL, DATA = 0, 1, 2

CAT_SPECTRUM, CAT_PUBLIC, CAT_RM, CAT_FT, CAT_WNM = 0, 4, 5, 6, 10

_MGMT_KINDS = {0: "assoc_req", 1: "assoc_resp", 2: "reassoc_req", 3: "reassoc_resp",
               4: "probe_req", 5: "probe_resp", 8: "beacon", 10: "disassoc",
               11: "auth", 12: "deauth"}
_WNM_KINDS = {6: "btm_query", 7: "btm_request", 8: "btm_response"}
_FT_KINDS = {1: "ft_action_req", 2: "ft_action_resp", 3: "ft_action_confirm",
             4: "ft_action_ack"}
_LLC_EAPOL = b"\xaa\xaa\x03\x00\x00\x00\x88\x8e"


def mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def header_len(raw: bytes) -> int:
    """Length of the MAC header of a management or data frame."""
    if len(raw) < 2:
        raise MalformedFrame(f"frame of {len(raw)} octets has no Frame Control field")
    fc0, fc1 = raw[0], raw[1]
    ftype = (fc0 >> 2) & 3
    order = bool(fc1 & 0x80)
    if ftype == MGMT:
        return 24 + (4 if order else 0)  # +HTC in management frames (9.2.4.1.10)
    if ftype == DATA:
        n = 24
        if (fc1 & 3) == 3:
            n += 6  # Address 4
        if fc0 & 0x80:  # QoS subtypes have b7 of the subtype set
            n += 2 + (4 if order else 0)
        return n
    raise MalformedFrame("control frames carry no body")


class Header:
    """Frame Control, addresses and body offset of a management/data frame."""
    __slots__ = ("ftype", "subtype", "protected", "to_ds", "from_ds", "addr1", "addr2",
                 "addr3", "body_offset")

    def __init__(self, raw: bytes):
        raw = bytes(raw)
        self.body_offset = header_len(raw)
        if len(raw) < self.body_offset:
            raise MalformedFrame(f"frame of {len(raw)} octets is shorter than its "
                                 f"{self.body_offset}-octet MAC header")
        self.ftype = (raw[0] >> 2) & 3
        self.subtype = raw[0] >> 4
        self.to_ds = bool(raw[1] & 1)
        self.from_ds = bool(raw[1] & 2)
        self.protected = bool(raw[1] & 0x40)
        self.addr1 = mac(raw[4:10])
        self.addr2 = mac(raw[10:16])
        self.addr3 = mac(raw[16:22])

    @property
    def da(self) -> str:
        return self.addr1

    @property
    def sa(self) -> str:
        return self.addr2

    @property
    def bssid(self) -> str:
        return self.addr3


def classify(raw: bytes) -> str:
    """Kind of frame from fixed offsets only; never raises.

    Kinds: beacon, probe_req, probe_resp, auth, assoc_req, assoc_resp, reassoc_req,
    reassoc_resp, deauth, disassoc, btm_query, btm_request, btm_response,
    rm_beacon_request, rm_request, rm_beacon_report, rm_report, nr_request,
    nr_response, ft_action_req, ft_action_resp, ft_action_confirm, ft_action_ack,
    protected_action, action, eapol, data, control, malformed, other.
    """
    n = len(raw)
    if n < 2:
        return "malformed"
    fc0, fc1 = raw[0], raw[1]
    ftype = (fc0 >> 2) & 3
    subtype = fc0 >> 4
    if fc0 & 3:
        return "other"  # protocol version other than 0
    if ftype == CTRL:
        return "control"
    if ftype == MGMT:
        hdr = 28 if fc1 & 0x80 else 24
        if n < hdr:
            return "malformed"
        kind = _MGMT_KINDS.get(subtype)
        if kind:
            return kind
        if subtype not in (13, 14):  # Action, Action No Ack
            return "other"
        if fc1 & 0x40:
            return "protected_action"  # body is CCMP/GCMP ciphertext (PMF, 12.6)
        if n < hdr + 2:
            return "malformed"
        cat, act = raw[hdr], raw[hdr + 1]
        if cat == CAT_WNM:
            return _WNM_KINDS.get(act, "action")
        if cat == CAT_FT:
            return _FT_KINDS.get(act, "action")
        if cat == CAT_RM:
            if act == 4:
                return "nr_request"
            if act == 5:
                return "nr_response"
            if act == 0:  # token, repetitions (2), then Measurement Request element
                t = hdr + 9
                if n > t and raw[hdr + 5] == 38:
                    return "rm_beacon_request" if raw[t] == 5 else "rm_request"
                return "rm_request"
            if act == 1:  # token, then Measurement Report element
                t = hdr + 7
                if n > t and raw[hdr + 3] == 39:
                    return "rm_beacon_report" if raw[t] == 5 else "rm_report"
                return "rm_report"
        return "action"
    if ftype == DATA:
        try:
            hdr = header_len(raw)
        except MalformedFrame:
            return "malformed"
        if n < hdr:
            return "malformed"
        if not (fc1 & 0x40) and raw[hdr:hdr + 8] == _LLC_EAPOL:
            return "eapol"
        return "data"
    return "other"
