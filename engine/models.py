"""Plain models of the roaming exchanges, shared by the frame layer, hostapd event
decoders, DUT log parsers and the prediction rules. Addresses are lowercase
colon-separated strings. Clause numbers are IEEE 802.11-2020."""
from __future__ import annotations

from dataclasses import dataclass, field

WILDCARD = "ff:ff:ff:ff:ff:ff"


@dataclass(frozen=True)
class NeighborEntry:
    """Neighbor Report element body (9.4.2.36)."""
    bssid: str
    bssid_info: int
    op_class: int
    channel: int
    phy_type: int
    preference: int | None = None  # BSS Transition Candidate Preference subelement (id 3)
    subelements: tuple[tuple[int, bytes], ...] = ()


@dataclass(frozen=True)
class BTMRequest:
    """BSS Transition Management Request (9.6.13.9)."""
    dialog_token: int
    request_mode: int  # b0 pref list, b1 abridged, b2 disassoc imminent, b3 BSS term included, b4 ESS disassoc imminent
    disassoc_timer: int
    validity_interval: int
    candidates: tuple[NeighborEntry, ...] = ()
    bss_termination: bytes | None = None  # BSS Termination Duration subelement body
    url: str | None = None
    # What is malformed in the candidate list, one sentence each; the entries above are
    # those that could be decoded. Empty for a well-formed request.
    problems: tuple[str, ...] = ()
    # Vendor Specific elements (ID 221) after the fixed fields, bodies as sent (e.g. the
    # Wi-Fi Alliance MBO element, engine/mbo.py)
    vendor: tuple[bytes, ...] = field(default=(), repr=False)  # kept out of verdict texts

    @property
    def malformed(self) -> bool:
        return bool(self.problems)

    @property
    def pref_list(self) -> bool:
        return bool(self.request_mode & 0x01)

    @property
    def abridged(self) -> bool:
        return bool(self.request_mode & 0x02)

    @property
    def disassoc_imminent(self) -> bool:
        return bool(self.request_mode & 0x04)

    @property
    def bss_term_included(self) -> bool:
        return bool(self.request_mode & 0x08)

    @property
    def ess_disassoc_imminent(self) -> bool:
        return bool(self.request_mode & 0x10)


@dataclass(frozen=True)
class BTMResponse:
    """BSS Transition Management Response (9.6.13.10)."""
    dialog_token: int
    status: int
    bss_termination_delay: int = 0
    target: str | None = None
    candidates: tuple[NeighborEntry, ...] = ()
    # Vendor Specific element bodies (ID 221), e.g. MBO; kept out of the repr verdicts quote
    vendor: tuple[bytes, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class BTMQuery:
    """BSS Transition Management Query (9.6.13.8)."""
    dialog_token: int
    reason: int
    candidates: tuple[NeighborEntry, ...] = ()


@dataclass(frozen=True)
class BeaconRequest:
    """Beacon request, Measurement Request element of type 5 (9.4.2.20.7)."""
    token: int  # measurement token
    op_class: int
    channel: int
    randomization_interval: int
    duration: int
    mode: int  # 0 passive, 1 active, 2 table
    bssid: str = WILDCARD
    ssid: bytes | None = None
    reporting_detail: int | None = None
    request_ids: tuple[int, ...] | None = None
    ap_channel_reports: tuple[tuple[int, tuple[int, ...]], ...] = ()  # (op class, channels)
    last_indication: bool = False
    dialog_token: int | None = None  # of the Radio Measurement Request frame
    request_mode: int = 0  # measurement request mode bits
    # Beacon Reporting subelement (id 1): Reporting Condition (Table 9-107; 0 = a report
    # after each measurement) and Threshold/Offset. None when the subelement is absent.
    reporting_condition: int | None = None
    reporting_threshold: int | None = None
    # Why the request is malformed (subelement lengths, duplicates, reserved values), one
    # sentence each; the fields above hold what could be decoded. Empty when well-formed.
    problems: tuple[str, ...] = ()

    @property
    def malformed(self) -> bool:
        return bool(self.problems)


@dataclass(frozen=True)
class BeaconReport:
    """Beacon report, Measurement Report element of type 5 (9.4.2.21.7)."""
    token: int
    mode: int  # measurement report mode: b0 late, b1 incapable, b2 refused
    op_class: int = 0
    channel: int = 0
    start_tsf: int = 0
    duration: int = 0
    frame_info: int = 0
    rcpi: int = 0
    rsni: int = 0
    bssid: str = ""
    antenna_id: int = 0
    parent_tsf: int = 0
    frame_body: bytes | None = None  # Reported Frame Body subelement (id 1)
    frame_body_fragment: bytes | None = None  # subelement 2
    last_indication: bool | None = None  # subelement 164, None when absent
    measurement_token: int | None = None  # of the Measurement Report element; token above is the frame's dialog token

    @property
    def empty(self) -> bool:
        """A report with no beacon report fields: what a STA sends (mode 0) when no BSS
        matched the request, or a late/incapable/refused report without a body."""
        return self.bssid in ("", "00:00:00:00:00:00") and self.frame_body is None

    @property
    def fragment(self) -> tuple[int, int, bool] | None:
        """Reported Frame Body Fragment ID subelement (id 2, 9.4.2.21.7): Beacon Report ID
        (octet 0), then Fragment ID Number (b0-b6) and More Frame Body Fragments (b7) of
        octet 1. None when absent; ValueError when not 2 octets."""
        if self.frame_body_fragment is None:
            return None
        f = bytes(self.frame_body_fragment)
        if len(f) != 2:
            raise ValueError(f"Reported Frame Body Fragment ID of {len(f)} octets, expected 2")
        return f[0], f[1] & 0x7F, bool(f[1] & 0x80)


@dataclass(frozen=True)
class AirBSS:
    """Ground truth of one BSS on the air, as the lab started it."""
    bssid: str
    ssid: bytes
    channel: int
    op_class: int
    freq: int
    beacon_body: bytes = b""  # fixed fields (timestamp, interval, capability) then elements
    extra: dict = field(default_factory=dict, compare=False)
