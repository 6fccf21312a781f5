"""Parsers of element bodies into plain values. Clauses are IEEE 802.11-2020."""
from __future__ import annotations

import struct
from dataclasses import dataclass

from engine import ies
from engine.ies import MalformedFrame
from engine.models import BeaconReport, BeaconRequest, NeighborEntry
from engine.frames.header import mac

EID_MEAS_REQ, EID_MEAS_REP, EID_NR, EID_MDE, EID_FTE, EID_TIE = 38, 39, 52, 54, 55, 56
EID_RSNE, EID_RM_CAPS, EID_EXT_CAPS = 48, 70, 127
MEAS_BEACON = 5


def _need(body: bytes, n: int, what: str) -> None:
    if len(body) < n:
        raise MalformedFrame(f"{what} body of {len(body)} octets is shorter than {n}")


# 9.4.2.36, Figure 9-338 (BSSID Information field), little-endian bit numbering.
BSSID_INFO_BITS = {
    "reachability": (0, 2), "security": (2, 1), "key_scope": (3, 1),
    "spectrum_mgmt": (4, 1), "qos": (5, 1), "apsd": (6, 1), "radio_measurement": (7, 1),
    "delayed_ba": (8, 1), "immediate_ba": (9, 1), "mobility_domain": (10, 1),
    "ht": (11, 1), "vht": (12, 1), "ftm": (13, 1),
}


def bssid_info_fields(info: int) -> dict[str, int]:
    return {k: (info >> b) & ((1 << w) - 1) for k, (b, w) in BSSID_INFO_BITS.items()}


# Neighbor Report optional subelements (9.4.2.36, Table 9-178) whose length is fixed,
# and those that need at least one octet.
NR_SUB_LEN = {1: 4, 2: 2, 3: 1, 4: 10, 5: 8, 6: 3, 70: 5}
NR_SUB_NAMES = {1: "TSF Information", 2: "Condensed Country String",
                3: "BSS Transition Candidate Preference", 4: "BSS Termination Duration",
                5: "Bearing", 6: "Wide Bandwidth Channel", 66: "Measurement Pilot Transmission",
                70: "RM Enabled Capabilities", 71: "Multiple BSSID"}
NR_SUB_MIN = {66: 1, 71: 1}


def read_neighbor_entry(body: bytes) -> tuple[NeighborEntry | None, list[str]]:
    """Neighbor Report element body (9.4.2.36), read as far as it goes: the entry (None
    when the 13 octets of BSSID, BSSID Information, Operating Class, Channel Number and
    PHY Type are not all there) and what is wrong with it. A subelement of the wrong
    length is kept in `subelements` but gives no value (a bad preference is None)."""
    body = bytes(body)
    if len(body) < 13:
        return None, [f"Neighbor Report of {len(body)} octets, shorter than the 13 octets of "
                      f"BSSID, BSSID Information, Operating Class, Channel Number and PHY Type"]
    info, op_class, chan, phy = struct.unpack_from("<IBBB", body, 6)
    subs, err = ies.split(body, 13, what="Neighbor Report subelements", unit="subelement")
    problems = [str(err)] if err else []
    pref = None
    for e in subs:
        want, least = NR_SUB_LEN.get(e.id), NR_SUB_MIN.get(e.id)
        if (want is not None and len(e.body) != want) or (least is not None and len(e.body) < least):
            problems.append(f"{NR_SUB_NAMES[e.id]} subelement (id {e.id}) of {len(e.body)} octets, "
                            f"expected {want if want is not None else f'at least {least}'}")
            continue
        if e.id == 3 and pref is None:  # BSS Transition Candidate Preference
            pref = e.body[0]
    entry = NeighborEntry(mac(body[:6]), info, op_class, chan, phy, pref,
                          tuple((e.id, e.body) for e in subs))
    return entry, problems


def neighbor_entry(body: bytes) -> NeighborEntry:
    """Neighbor Report element body (9.4.2.36). Raises MalformedFrame for a body
    shorter than its fixed fields, a torn subelement or an empty preference."""
    _need(body, 13, "Neighbor Report")
    subs = tuple((e.id, e.body) for e in ies.walk(body, 13, what="Neighbor Report subelements"))
    pref = None
    info, op_class, chan, phy = struct.unpack_from("<IBBB", body, 6)
    for sid, sbody in subs:
        if sid == 3:  # BSS Transition Candidate Preference (9.4.2.36, Table 9-178)
            _need(sbody, 1, "Candidate Preference subelement")
            pref = sbody[0]
            break
    return NeighborEntry(mac(body[:6]), info, op_class, chan, phy, pref, subs)


def neighbor_entries(buf: bytes, start: int = 0) -> tuple[NeighborEntry, ...]:
    """Every Neighbor Report element among the elements of buf[start:]."""
    return tuple(neighbor_entry(e.body) for e in ies.walk(buf, start) if e.id == EID_NR)


def read_candidate_list(buf: bytes, start: int = 0) -> tuple[tuple[NeighborEntry, ...], tuple[str, ...]]:
    """A BSS Transition Candidate List (Neighbor Report elements, 9.6.13.9), read as far
    as it goes: the entries that decode, and one sentence per problem (a torn element,
    an entry too short for its fixed fields, a subelement of the wrong length)."""
    els, err = ies.split(buf, start, what="BSS Transition Candidate List")
    out, problems = [], []
    n = 0
    for e in els:
        if e.id != EID_NR:
            continue
        entry, why = read_neighbor_entry(e.body)
        problems += [f"candidate {n}: {w}" for w in why]
        if entry is not None:
            out.append(entry)
        n += 1
    if err is not None:
        problems.append(f"after {n} candidate(s): {err}")
    return tuple(out), tuple(problems)


@dataclass(frozen=True)
class MobilityDomain:
    """MDE (9.4.2.46): MDID in wire order and the FT Capability and Policy field."""
    mdid: bytes
    ft_capability: int

    @property
    def ft_over_ds(self) -> bool:
        return bool(self.ft_capability & 0x01)

    @property
    def resource_request(self) -> bool:
        return bool(self.ft_capability & 0x02)


def mobility_domain(body: bytes) -> MobilityDomain:
    _need(body, 3, "MDE")
    return MobilityDomain(bytes(body[:2]), body[2])


@dataclass(frozen=True)
class FastTransition:
    """FTE (9.4.2.47)."""
    mic_control: int  # b0 RSNXE Used, b8-b15 Element Count
    mic: bytes
    anonce: bytes
    snonce: bytes
    r1kh_id: bytes | None = None  # subelement 1
    gtk: bytes | None = None  # subelement 2 body
    r0kh_id: bytes | None = None  # subelement 3
    subelements: tuple[tuple[int, bytes], ...] = ()

    @property
    def element_count(self) -> int:
        return self.mic_control >> 8

    @property
    def rsnxe_used(self) -> bool:
        return bool(self.mic_control & 0x01)


def fast_transition(body: bytes, mic_len: int = 16) -> FastTransition:
    """mic_len is 16, or 24 for the SHA-384 FT AKMs (Table 9-183)."""
    fixed = 2 + mic_len + 64
    _need(body, fixed, "FTE")
    mc = struct.unpack_from("<H", body, 0)[0]
    mic = bytes(body[2:2 + mic_len])
    anonce = bytes(body[2 + mic_len:34 + mic_len])
    snonce = bytes(body[34 + mic_len:fixed])
    subs = tuple((e.id, e.body) for e in ies.walk(body, fixed, what="FTE subelements"))
    found = {}
    for sid, sbody in subs:
        found.setdefault(sid, sbody)
    if 1 in found and len(found[1]) != 6:
        raise MalformedFrame(f"FTE R1KH-ID subelement length {len(found[1])} is not 6")
    return FastTransition(mc, mic, anonce, snonce, found.get(1), found.get(2), found.get(3), subs)


@dataclass(frozen=True)
class TimeoutInterval:
    """TIE (IEEE 802.11-2020 9.4.2.48; 9.4.2.49 in 802.11-2016): type 1 reassociation deadline
    (TUs), 2 key lifetime (seconds), 3 association comeback time (TUs)."""
    type: int
    value: int


def timeout_interval(body: bytes) -> TimeoutInterval:
    _need(body, 5, "TIE")
    return TimeoutInterval(body[0], struct.unpack_from("<I", body, 1)[0])


@dataclass(frozen=True)
class Rsne:
    """RSNE (9.4.2.24). Suites of OUI 00-0F-AC are given as their type number,
    others as the full 32-bit selector."""
    version: int
    group_cipher: int | None = None
    pairwise: tuple[int, ...] = ()
    akms: tuple[int, ...] = ()
    capabilities: int | None = None
    pmkids: tuple[bytes, ...] = ()
    group_mgmt_cipher: int | None = None


def _suite(b: bytes) -> int:
    if b[:3] == b"\x00\x0f\xac":
        return b[3]
    return int.from_bytes(b, "big")


def rsne(body: bytes) -> Rsne:
    """Fields after the version are optional but must end on a field boundary."""
    _need(body, 2, "RSNE")
    pos, n = 2, len(body)
    out: dict = {"version": struct.unpack_from("<H", body, 0)[0]}

    def take(k: int, what: str) -> bytes:
        nonlocal pos
        if pos + k > n:
            raise MalformedFrame(f"RSNE {what} runs past the element ({n} octets)")
        b = body[pos:pos + k]
        pos += k
        return b

    if pos < n:
        out["group_cipher"] = _suite(take(4, "group cipher"))
    for key in ("pairwise", "akms"):
        if pos < n:
            count = struct.unpack("<H", take(2, f"{key} count"))[0]
            out[key] = tuple(_suite(take(4, f"{key} list")) for _ in range(count))
    if pos < n:
        out["capabilities"] = struct.unpack("<H", take(2, "capabilities"))[0]
    if pos < n:
        count = struct.unpack("<H", take(2, "PMKID count"))[0]
        out["pmkids"] = tuple(bytes(take(16, "PMKID list")) for _ in range(count))
    if pos < n:
        out["group_mgmt_cipher"] = _suite(take(4, "group management cipher"))
    return Rsne(**out)


# --- Radio measurement (9.4.2.20, 9.4.2.21) ---

# Beacon request subelements (9.4.2.20.7).
SUB_SSID, SUB_BEACON_REPORTING, SUB_REPORTING_DETAIL, SUB_REQUEST = 0, 1, 2, 10
SUB_AP_CHANNEL_REPORT, SUB_LAST_INDICATION_REQUEST = 51, 164
SSID_MAX = 32  # 9.4.2.2
REPORTING_CONDITION_MAX = 10  # Table 9-107: 11-255 reserved
REPORTING_DETAIL_MAX = 2  # 0 none, 1 requested elements, 2 all; 3-255 reserved
MEASUREMENT_MODE_MAX = 2  # 0 passive, 1 active, 2 beacon table; 3-255 reserved


def beacon_request(meas_token: int, req_mode: int, body: bytes,
                   dialog_token: int | None = None) -> BeaconRequest:
    """Beacon request (9.4.2.20.7): body after the measurement type octet.

    Raises MalformedFrame only when the 13 octets of fixed fields are not there. What is
    wrong with the subelements goes into `problems` (the request is then malformed and a
    STA need not measure): a torn subelement, an SSID over 32 octets, a Beacon Reporting
    subelement not of 2 octets or with a reserved condition, a Reporting Detail not of
    1 octet or with a reserved value, a reserved Measurement Mode, a Request subelement that is empty, repeated, or
    present with a Reporting Detail other than 1, a Last Beacon Report Indication Request
    not of 1 octet."""
    _need(body, 13, "Beacon request")
    op_class, chan, rand, dur, mode = struct.unpack_from("<BBHHB", body, 0)
    kw: dict = {}
    reports = []
    problems = []
    subs, err = ies.split(body, 13, what="Beacon request subelements", unit="subelement")
    if err is not None:
        problems.append(str(err))
    n_request = 0
    for e in subs:
        n = len(e.body)
        if e.id == SUB_SSID:
            if n > SSID_MAX:
                problems.append(f"SSID subelement of {n} octets (at most {SSID_MAX})")
            elif "ssid" not in kw:
                kw["ssid"] = e.body
        elif e.id == SUB_BEACON_REPORTING:
            if n != 2:
                problems.append(f"Beacon Reporting subelement of {n} octets, expected 2 "
                                f"(Reporting Condition, Threshold/Offset)")
            elif "reporting_condition" not in kw:
                kw["reporting_condition"], kw["reporting_threshold"] = e.body[0], e.body[1]
                if e.body[0] > REPORTING_CONDITION_MAX:
                    problems.append(f"Reporting Condition {e.body[0]} is reserved")
        elif e.id == SUB_REPORTING_DETAIL:
            if n != 1:
                problems.append(f"Reporting Detail subelement of {n} octets, expected 1")
            elif "reporting_detail" not in kw:
                kw["reporting_detail"] = e.body[0]
                if e.body[0] > REPORTING_DETAIL_MAX:
                    problems.append(f"Reporting Detail {e.body[0]} is reserved")
        elif e.id == SUB_REQUEST:
            n_request += 1
            if n == 0:
                problems.append("Request subelement of 0 octets (lists no element ID)")
            kw["request_ids"] = kw.get("request_ids", ()) + tuple(e.body)
        elif e.id == SUB_AP_CHANNEL_REPORT and e.body:
            reports.append((e.body[0], tuple(e.body[1:])))
        elif e.id == SUB_LAST_INDICATION_REQUEST:
            if n != 1:
                problems.append(f"Last Beacon Report Indication Request subelement of {n} octets, expected 1")
            else:
                kw["last_indication"] = e.body[0] == 1
    if mode > MEASUREMENT_MODE_MAX:
        problems.append(f"Measurement Mode {mode} is reserved")
    if n_request > 1:
        problems.append(f"{n_request} Request subelements (at most one)")
    if n_request and kw.get("reporting_detail", 2) != 1:
        problems.append(f"Request subelement with Reporting Detail {kw.get('reporting_detail', 2)}"
                        + ("" if "reporting_detail" in kw else " (no Reporting Detail subelement)")
                        + ": element IDs are requested only with Reporting Detail 1")
    return BeaconRequest(meas_token, op_class, chan, rand, dur, mode, mac(body[7:13]),
                         ap_channel_reports=tuple(reports), dialog_token=dialog_token,
                         request_mode=req_mode, problems=tuple(problems), **kw)


def beacon_report(token: int, mode: int, body: bytes,
                  measurement_token: int | None = None) -> BeaconReport:
    """Beacon report (9.4.2.21.7): body after the measurement type octet.

    A report may carry no beacon report fields at all: with a late/incapable/refused
    mode, or with mode 0 when no BSS matched the request (what wpa_supplicant sends;
    hostapd prints it as BEACON-RESP-RX with an empty hex). Such a report is `empty`."""
    if not body:
        return BeaconReport(token, mode, measurement_token=measurement_token)
    _need(body, 26, "Beacon report")
    op_class, chan, tsf, dur, finfo, rcpi, rsni = struct.unpack_from("<BBQHBBB", body, 0)
    antenna, parent_tsf = struct.unpack_from("<BI", body, 21)
    kw: dict = {}
    for e in ies.walk(body, 26, what="Beacon report subelements"):
        if e.id == 1 and "frame_body" not in kw:
            kw["frame_body"] = e.body
        elif e.id == 2 and "frame_body_fragment" not in kw:
            kw["frame_body_fragment"] = e.body
        elif e.id == 164 and e.body:
            kw["last_indication"] = e.body[0] == 1
    return BeaconReport(token, mode, op_class, chan, tsf, dur, finfo, rcpi, rsni,
                        mac(body[15:21]), antenna, parent_tsf,
                        measurement_token=measurement_token, **kw)
