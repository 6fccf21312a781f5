"""Frames and elements built from declarative field layouts (IEEE 802.11-2020).

A layout is an ordered list of named fields with sizes, in the spirit of scapy's
fields_desc: `Layout.encode(values)` writes each field in order and refuses a missing,
unknown or out-of-range value. An element is its ID, a Length computed from the
encoded body, and a body layout; subelements are elements nested in a body field.

Malformed frames are built on purpose, never by accident: a built element is a `Tlv`,
and only its methods break it -
  tlv.zero_length()    the same ID with an empty body (Length 0)
  tlv.lying(n)         the Length field says n whatever the body holds
  tlv.truncated(k)     only the first k encoded octets are kept (header included), so the
                       Length still says the full size but the octets stop early

Builders here: the management action frame header (9.3.3.2), BSS Transition Management
Request (9.6.13.9) with Neighbor Report elements (9.4.2.36) as its candidate list, and
Radio Measurement Request (9.6.6.2) carrying Measurement Request elements (9.4.2.20) of
type Beacon (9.4.2.20.7) and their subelements, or of type Measurement Pause.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

BROADCAST = "ff:ff:ff:ff:ff:ff"


class LayoutError(ValueError):
    """A value the layout cannot encode (missing, unknown, out of range)."""


# --- fields -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    name: str
    optional: bool = False  # None leaves the field out of the frame altogether

    def encode(self, value) -> bytes:  # pragma: no cover - every field kind overrides it
        raise NotImplementedError


@dataclass(frozen=True)
class UInt(Field):
    """An unsigned little-endian integer of `size` octets (9.2.2: fields are little-endian)."""
    size: int = 1

    def encode(self, value) -> bytes:
        if not isinstance(value, int):
            raise LayoutError(f"{self.name}: {value!r} is not an integer")
        if not 0 <= value < 1 << (8 * self.size):
            raise LayoutError(f"{self.name}: {value} does not fit {self.size} octet(s)")
        return int(value).to_bytes(self.size, "little")


@dataclass(frozen=True)
class Flags(UInt):
    """An integer whose bits have names: give the int, or an iterable of bit names."""
    bits: tuple[tuple[str, int], ...] = ()

    def encode(self, value) -> bytes:
        if not isinstance(value, int):
            names = dict(self.bits)
            unknown = [n for n in value if n not in names]
            if unknown:
                raise LayoutError(f"{self.name}: unknown bit(s) {unknown}; known: {sorted(names)}")
            value = sum(1 << names[n] for n in set(value))
        return super().encode(value)


@dataclass(frozen=True)
class Mac(Field):
    """A 6-octet MAC address given as aa:bb:cc:dd:ee:ff."""

    def encode(self, value) -> bytes:
        try:
            b = bytes.fromhex(str(value).replace(":", ""))
        except ValueError:
            b = b""
        if len(b) != 6:
            raise LayoutError(f"{self.name}: {value!r} is not a MAC address")
        return b


@dataclass(frozen=True)
class Octets(Field):
    """Raw octets: a fixed `size`, or (size None) whatever is given."""
    size: int | None = None

    def encode(self, value) -> bytes:
        if not isinstance(value, (bytes, bytearray)):
            raise LayoutError(f"{self.name}: {value!r} is not bytes")
        if self.size is not None and len(value) != self.size:
            raise LayoutError(f"{self.name}: {len(value)} octets where {self.size} are needed")
        return bytes(value)


@dataclass(frozen=True)
class LengthPrefixed(Field):
    """A 1-octet length, then that many octets (e.g. the Session Information URL)."""

    def encode(self, value) -> bytes:
        b = value.encode() if isinstance(value, str) else bytes(value)
        if len(b) > 255:
            raise LayoutError(f"{self.name}: {len(b)} octets do not fit a 1-octet length")
        return bytes([len(b)]) + b


@dataclass(frozen=True)
class Elements(Field):
    """Elements (or subelements) one after the other: Tlv objects, or one Tlv."""

    def encode(self, value) -> bytes:
        items = [value] if isinstance(value, Tlv) else list(value)
        for t in items:
            if not isinstance(t, Tlv):
                raise LayoutError(f"{self.name}: {t!r} is not a built element (Tlv)")
        return b"".join(t.encode() for t in items)


@dataclass(frozen=True)
class Layout:
    name: str
    fields: tuple[Field, ...]

    def encode(self, values: dict) -> bytes:
        known = {f.name for f in self.fields}
        unknown = sorted(set(values) - known)
        if unknown:
            raise LayoutError(f"{self.name}: no field(s) {unknown}; fields are {[f.name for f in self.fields]}")
        out = []
        for f in self.fields:
            if f.name not in values or values[f.name] is None:
                if f.optional:
                    continue
                raise LayoutError(f"{self.name}: field {f.name!r} needs a value")
            out.append(f.encode(values[f.name]))
        return b"".join(out)


# --- elements -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Tlv:
    """A built element or subelement: ID | Length | body (9.4.2.1, 9.4.3)."""
    eid: int
    body: bytes
    name: str = ""
    length: int | None = None  # None: the body's length (the truth)
    keep: int | None = None  # None: every encoded octet

    def encode(self) -> bytes:
        if not 0 <= self.eid <= 255:
            raise LayoutError(f"{self.name or 'element'}: ID {self.eid} is not one octet")
        n = len(self.body) if self.length is None else self.length
        if not 0 <= n <= 255:
            raise LayoutError(f"{self.name or f'element {self.eid}'}: a body of {n} octets "
                              f"does not fit the 1-octet Length field")
        raw = bytes([self.eid, n]) + self.body
        return raw if self.keep is None else raw[:self.keep]

    def zero_length(self) -> "Tlv":
        return replace(self, body=b"", length=None, keep=None)

    def lying(self, length: int) -> "Tlv":
        return replace(self, length=length)

    def truncated(self, keep: int) -> "Tlv":
        if not 0 <= keep < 2 + len(self.body):
            raise LayoutError(f"{self.name}: cannot keep {keep} of {2 + len(self.body)} octets")
        return replace(self, keep=keep)


@dataclass(frozen=True)
class ElementLayout:
    name: str
    eid: int
    body: Layout

    def __call__(self, **values) -> Tlv:
        return Tlv(self.eid, self.body.encode(values), self.name)


def _element(name: str, eid: int, *fields: Field) -> ElementLayout:
    return ElementLayout(name, eid, Layout(name, fields))


# --- the management action frame (9.3.3.2, 9.3.3.14) ----------------------------------------

FC_ACTION = 0x00D0  # Frame Control: type 0 (management), subtype 13 (Action), no flags

MGMT_HEADER = Layout("management frame header", (
    UInt("frame_control", size=2), UInt("duration", size=2),
    Mac("da"), Mac("sa"), Mac("bssid"), UInt("sequence_control", size=2),
))


def action_frame(da: str, sa: str, bssid: str, body: bytes, sequence_control: int = 0) -> bytes:
    """A whole Action frame: the MAC header, then body (from the Category octet on)."""
    return MGMT_HEADER.encode(dict(frame_control=FC_ACTION, duration=0, da=da, sa=sa,
                                   bssid=bssid, sequence_control=sequence_control)) + bytes(body)


# --- Neighbor Report element and its subelements (9.4.2.36, Table 9-178) --------------------

EID_NEIGHBOR_REPORT = 52

TSF_INFORMATION = _element("TSF Information", 1, UInt("tsf_offset", size=2),
                           UInt("beacon_interval", size=2))
CONDENSED_COUNTRY = _element("Condensed Country String", 2, Octets("country", size=2))
CANDIDATE_PREFERENCE = _element("BSS Transition Candidate Preference", 3, UInt("preference"))
BSS_TERMINATION_DURATION = _element("BSS Termination Duration", 4, UInt("tsf", size=8),
                                    UInt("duration", size=2))
WIDE_BANDWIDTH_CHANNEL = _element("Wide Bandwidth Channel", 6, UInt("channel_width"),
                                  UInt("center_freq_seg0"), UInt("center_freq_seg1"))
VENDOR_SPECIFIC = _element("Vendor Specific", 221, Octets("oui", size=3), Octets("data"))

NEIGHBOR_REPORT = _element(
    "Neighbor Report", EID_NEIGHBOR_REPORT,
    Mac("bssid"), UInt("bssid_info", size=4), UInt("op_class"), UInt("channel"), UInt("phy_type"),
    Elements("subelements"),
)


def candidate_preference(preference: int) -> Tlv:
    return CANDIDATE_PREFERENCE(preference=preference)


def tsf_information(tsf_offset: int, beacon_interval: int) -> Tlv:
    return TSF_INFORMATION(tsf_offset=tsf_offset, beacon_interval=beacon_interval)


def condensed_country(country: str) -> Tlv:
    return CONDENSED_COUNTRY(country=country.encode())


def bss_termination_duration(tsf: int, minutes: int) -> Tlv:
    return BSS_TERMINATION_DURATION(tsf=tsf, duration=minutes)


def wide_bandwidth_channel(width: int, seg0: int, seg1: int = 0) -> Tlv:
    """Channel Width: 0 20 MHz, 1 40 MHz, 2 80 MHz, 3 160 MHz, 4 80+80 MHz (Table 9-275)."""
    return WIDE_BANDWIDTH_CHANNEL(channel_width=width, center_freq_seg0=seg0, center_freq_seg1=seg1)


def vendor_specific(oui: bytes, data: bytes = b"") -> Tlv:
    return VENDOR_SPECIFIC(oui=oui, data=data)


def neighbor_report(bssid: str, channel: int, op_class: int, bssid_info: int = 0x8F,
                    phy_type: int = 7, subelements: Iterable[Tlv] = (),
                    preference: int | None = None) -> Tlv:
    """A Neighbor Report element; `preference` appends the Candidate Preference subelement."""
    subs = list(subelements)
    if preference is not None:
        subs.append(candidate_preference(preference))
    return NEIGHBOR_REPORT(bssid=bssid, bssid_info=bssid_info, op_class=op_class,
                           channel=channel, phy_type=phy_type, subelements=subs)


# --- BSS Transition Management Request (9.6.13.9) --------------------------------------------

CAT_WNM, WNM_BTM_REQUEST = 10, 7

BTM_REQUEST_MODE = (("pref_candidate_list", 0), ("abridged", 1), ("disassoc_imminent", 2),
                    ("bss_termination_included", 3), ("ess_disassoc_imminent", 4))

BTM_REQUEST = Layout("BSS Transition Management Request", (
    UInt("category"), UInt("action"), UInt("dialog_token"),
    Flags("request_mode", bits=BTM_REQUEST_MODE),
    UInt("disassoc_timer", size=2), UInt("validity_interval"),
    # formatted as the BSS Termination Duration subelement, present when bit 3 is set
    Elements("bss_termination_duration", optional=True),
    LengthPrefixed("session_info_url", optional=True),  # present when bit 4 is set
    Elements("candidates", optional=True),
))


def btm_request(dialog_token: int = 1, request_mode=("pref_candidate_list",),
                disassoc_timer: int = 0, validity_interval: int = 255,
                candidates: Iterable[Tlv] = (), bss_termination_duration: Tlv | None = None,
                session_info_url: str | bytes | None = None) -> bytes:
    """The Action body of a BTM Request (from the Category octet on).

    The request mode is stated, not derived: a case may set a bit its fields contradict."""
    return BTM_REQUEST.encode(dict(
        category=CAT_WNM, action=WNM_BTM_REQUEST, dialog_token=dialog_token,
        request_mode=request_mode, disassoc_timer=disassoc_timer,
        validity_interval=validity_interval, bss_termination_duration=bss_termination_duration,
        session_info_url=session_info_url, candidates=list(candidates)))


# --- Radio Measurement Request with a Beacon request (9.6.6.2, 9.4.2.20) ----------------------

CAT_RADIO_MEASUREMENT, RM_REQUEST = 5, 0
EID_MEASUREMENT_REQUEST, MEASUREMENT_BEACON = 38, 5
BEACON_PASSIVE, BEACON_ACTIVE, BEACON_TABLE = 0, 1, 2  # Measurement Mode (Table 9-103)

MEASUREMENT_REQUEST_MODE = (("parallel", 0), ("enable", 1), ("request", 2), ("report", 3),
                            ("duration_mandatory", 4))

MEASUREMENT_REQUEST = _element(
    "Measurement Request", EID_MEASUREMENT_REQUEST,
    UInt("token"), Flags("request_mode", bits=MEASUREMENT_REQUEST_MODE),
    UInt("measurement_type"), Octets("request"),
)

BEACON_REQUEST = Layout("Beacon request", (
    UInt("op_class"), UInt("channel"), UInt("randomization_interval", size=2),
    UInt("duration", size=2), UInt("mode"), Mac("bssid"), Elements("subelements"),
))

# Beacon request subelements (Table 9-106)
SSID = _element("SSID", 0, Octets("ssid"))
BEACON_REPORTING = _element("Beacon Reporting", 1, UInt("condition"), UInt("threshold"))
REPORTING_DETAIL = _element("Reporting Detail", 2, UInt("detail"))
REQUEST = _element("Request", 10, Octets("element_ids"))
AP_CHANNEL_REPORT = _element("AP Channel Report", 51, UInt("op_class"), Octets("channels"))
LAST_BEACON_REPORT_INDICATION = _element("Last Beacon Report Indication Request", 164,
                                         UInt("indication"))


def ssid(value: bytes | str) -> Tlv:
    return SSID(ssid=value.encode() if isinstance(value, str) else bytes(value))


def beacon_reporting(condition: int, threshold: int) -> Tlv:
    return BEACON_REPORTING(condition=condition, threshold=threshold)


def reporting_detail(detail: int) -> Tlv:
    """0 no fixed fields or elements, 1 fixed fields and requested elements, 2 all."""
    return REPORTING_DETAIL(detail=detail)


def request(element_ids: Iterable[int]) -> Tlv:
    return REQUEST(element_ids=bytes(element_ids))


def ap_channel_report(op_class: int, channels: Iterable[int]) -> Tlv:
    return AP_CHANNEL_REPORT(op_class=op_class, channels=bytes(channels))


def last_beacon_report_indication(requested: bool = True) -> Tlv:
    return LAST_BEACON_REPORT_INDICATION(indication=int(requested))


def beacon_measurement(token: int = 1, op_class: int = 81, channel: int = 0,
                       mode: int = BEACON_TABLE, bssid: str = BROADCAST, duration: int = 0,
                       randomization_interval: int = 0, request_mode=(),
                       subelements: Iterable[Tlv] = ()) -> Tlv:
    """A Measurement Request element (9.4.2.20) of type Beacon (9.4.2.20.7)."""
    body = beacon_request_fields(op_class, channel, mode, bssid, duration, randomization_interval, subelements)
    return MEASUREMENT_REQUEST(token=token, request_mode=request_mode,
                               measurement_type=MEASUREMENT_BEACON, request=body)


# Measurement Pause request (Measurement Type 255, 9.4.2.20): Pause Time in units of 10 TU.
# It delays the measurement that follows it in the same Radio Measurement Request frame.
MEASUREMENT_PAUSE = 255
PAUSE_REQUEST = Layout("Measurement Pause request", (UInt("pause_time", size=2), Elements("subelements")))


def measurement_pause(token: int = 1, pause_time: int = 10, subelements: Iterable[Tlv] = ()) -> Tlv:
    """A Measurement Request element (9.4.2.20) of type Measurement Pause: pause_time x 10 TU."""
    body = PAUSE_REQUEST.encode(dict(pause_time=pause_time, subelements=list(subelements)))
    return MEASUREMENT_REQUEST(token=token, request_mode=(), measurement_type=MEASUREMENT_PAUSE, request=body)


def beacon_request_fields(op_class: int = 81, channel: int = 0, mode: int = BEACON_TABLE,
                          bssid: str = BROADCAST, duration: int = 0, randomization_interval: int = 0,
                          subelements: Iterable[Tlv] = ()) -> bytes:
    """The Beacon request's own fields and subelements (9.4.2.20.7), without the Measurement
    Request element around them: what hostapd's REQ_BEACON takes as its hex argument."""
    return BEACON_REQUEST.encode(dict(
        op_class=op_class, channel=channel, randomization_interval=randomization_interval,
        duration=duration, mode=mode, bssid=bssid, subelements=list(subelements)))


RM_REQUEST_FRAME = Layout("Radio Measurement Request", (
    UInt("category"), UInt("action"), UInt("dialog_token"),
    UInt("repetitions", size=2), Elements("measurements"),
))


def radio_measurement_request(dialog_token: int = 1, measurements: Iterable[Tlv] = (),
                              repetitions: int = 0) -> bytes:
    """The Action body of a Radio Measurement Request (from the Category octet on)."""
    return RM_REQUEST_FRAME.encode(dict(category=CAT_RADIO_MEASUREMENT, action=RM_REQUEST,
                                        dialog_token=dialog_token, repetitions=repetitions,
                                        measurements=list(measurements)))
