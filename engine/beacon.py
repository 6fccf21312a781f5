"""Beacon request / beacon report (IEEE 802.11-2020 11.10.9.3, 9.4.2.20.7, 9.4.2.21.7):
predict which BSSIDs must and may be reported and what each frame body may hold, then
judge the real reports field by field.

Frame bodies. Reporting detail 0: no Reported Frame Body. 1: the fixed fields plus the
elements whose IDs the Request subelement lists. 2: all fixed fields and elements. When
the subelement is absent the detail is 2 (what wpa_supplicant also assumes). Elements
keep their frame order. A body stops early only when the next element would not fit:
the Measurement Report element is at most 255 octets, which leaves 224 for the body
(29 octets of report header and fixed fields, 2 of subelement header), minus 4 for a
Reported Frame Body Fragment ID subelement and 3 for a Last Beacon Report Indication
subelement when present. With fragments (subelement 2) the rest of the body goes into
further reports for the same BSSID; the fixed fields are in fragment 0 only (as
wpa_supplicant builds them).

A malformed request (BeaconRequest.problems: subelement lengths, duplicate or misplaced
Request subelements, reserved values) asks for no defined measurement: silence, refused or
incapable are acceptable, and a report anyway is noted, not judged. A report with no
beacon report fields (mode 0) says no BSS matched; it is wrong only where a BSS had to be
reported. Fragments of one body (same BSSID and Beacon Report ID) are numbered 0..n-1 with
More Frame Body Fragments set on all but the last. Operating classes are Table E-4's
(engine.channels), 80/160 MHz classes included. docs/calibration.md compares all this
with what hostap's hwsim tests assert.

Ground truth is the AirBSS beacon body; for active mode an optional
AirBSS.extra["probe_response_body"] is accepted as well. Fields that change from one
beacon to the next are not compared: the timestamp, and the contents of TIM (only its
DTIM period), BSS Load, Quiet and channel switch elements (only their presence).
Extended Request (element ID 255 lists) is not modelled.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping

from engine import channels
from engine import clauses as C
from engine.models import WILDCARD, AirBSS, BeaconReport, BeaconRequest
from engine.verdict import FAIL, INFO, PASS, REFERENCE_AP, Verdict, check

PASSIVE, ACTIVE, TABLE = 0, 1, 2
MODE_NAMES = {PASSIVE: "passive", ACTIVE: "active", TABLE: "table"}
REPORT_LATE, REPORT_INCAPABLE, REPORT_REFUSED = 0x01, 0x02, 0x04
DURATION_MANDATORY = 0x10  # Measurement Request Mode b4 (9.4.2.20)
BODY_MAX = 224
FRAG_SUBELEM_LEN = 4
LAST_IND_SUBELEM_LEN = 3
TIM, BSS_LOAD, CSA, QUIET, ECSA = 5, 11, 37, 40, 60
VOLATILE = {TIM, BSS_LOAD, CSA, QUIET, ECSA}
OP_CLASS_TABLE = channels.OP_CLASS_TABLE
MALFORMED = "IEEE 802.11-2020 9.4.2.20.7 (Beacon request subelements), 11.10.6 (measurement requests)"

# 20 MHz channels each global operating class covers (Table E-4, see engine.channels).
OP_CLASS_CHANNELS: dict[int, frozenset[int]] = {n: c.all_primaries() for n, c in channels.OP_CLASSES.items()}


class BeaconInputError(ValueError):
    pass


def parse_elements(data: bytes) -> list[tuple[int, bytes]]:
    """Split an element sequence (9.4.2.1: ID, Length, body). Raises on a torn element."""
    out, i = [], 0
    data = bytes(data)
    while i < len(data):
        if i + 2 > len(data) or i + 2 + data[i + 1] > len(data):
            raise BeaconInputError(f"element at offset {i} runs past the end ({len(data)} octets)")
        out.append((data[i], data[i + 2:i + 2 + data[i + 1]]))
        i += 2 + data[i + 1]
    return out


def _elem_bytes(e) -> bytes:
    return bytes((e[0], len(e[1]))) + e[1]


@dataclass(frozen=True)
class ExpectedBody:
    fixed: bytes  # timestamp(8) beacon interval(2) capability(2)
    elements: tuple[tuple[int, bytes], ...]  # what the request lets through, in frame order


@dataclass(frozen=True)
class BeaconDut:
    modes: frozenset[int] = frozenset({PASSIVE, ACTIVE, TABLE})  # advertised in RM Enabled Capabilities
    op_classes: frozenset[int] | None = None  # None: those in OP_CLASS_CHANNELS
    hearable: frozenset[str] | None = None  # BSSIDs in radio reach; None: all of the air
    cache: frozenset[str] | None = None  # table-mode contents; None: unknown


@dataclass(frozen=True)
class BeaconPrediction:
    must: frozenset[str]
    may: frozenset[str]  # superset of must
    allowed_modes: frozenset[int]  # report mode values (late bit masked): 0, REPORT_INCAPABLE, REPORT_REFUSED
    channels: frozenset[int] | None  # measured channels; None in table mode
    detail: int
    request_ids: tuple[int, ...] | None
    bodies: Mapping[str, tuple[ExpectedBody, ...]] = field(default_factory=dict)
    air: Mapping[str, AirBSS] = field(default_factory=dict)
    last_indication: bool = False
    notes: tuple[str, ...] = ()
    # No answer at all is acceptable: the request is malformed (`malformed` says why).
    silence_ok: bool = False
    malformed: tuple[str, ...] = ()
    # Active mode: why each BSS that answered after the DUT left is a may (unheard_answers)
    unheard: tuple[str, ...] = ()


def _split_body(body: bytes, bssid: str) -> tuple[bytes, list]:
    if len(body) < 12:
        raise BeaconInputError(f"ground-truth beacon body of {bssid} is {len(body)} octets, "
                               f"shorter than the 12 octets of fixed fields")
    return body[:12], parse_elements(body[12:])


def _expected(air: AirBSS, detail: int, ids, active: bool) -> tuple[ExpectedBody, ...]:
    out = []
    bodies = [air.beacon_body]
    if active and air.extra.get("probe_response_body"):
        bodies.append(air.extra["probe_response_body"])
    for b in bodies:
        fixed, els = _split_body(b, air.bssid)
        if detail == 1:
            els = [e for e in els if ids and e[0] in ids]
        out.append(ExpectedBody(fixed, tuple(els)))
    return tuple(out)


def _match_filters(req: BeaconRequest, a: AirBSS) -> bool:
    if req.bssid.lower() != WILDCARD and req.bssid.lower() != a.bssid.lower():
        return False
    if req.ssid and bytes(req.ssid) != bytes(a.ssid):
        return False
    return True


def predict(request: BeaconRequest, air: Iterable[AirBSS], dut: BeaconDut | None = None) -> BeaconPrediction:
    d = dut or BeaconDut()
    air = {a.bssid.lower(): a for a in air}
    detail = 2 if request.reporting_detail is None else request.reporting_detail
    ids = tuple(request.request_ids) if request.request_ids is not None else None
    notes = []
    known = d.op_classes if d.op_classes is not None else frozenset(channels.OP_CLASSES)
    no = (REPORT_INCAPABLE, REPORT_REFUSED)

    def refuse(why):
        return BeaconPrediction(frozenset(), frozenset(), frozenset(no), None, detail, ids,
                                last_indication=request.last_indication, notes=(why,))

    problems = list(request.problems)
    if detail not in (0, 1, 2) and not any("Reporting Detail" in x for x in problems):
        problems.append(f"Reporting Detail {detail} is reserved")
    if request.mode not in MODE_NAMES and not any("Measurement Mode" in x for x in problems):
        problems.append(f"Measurement Mode {request.mode} is reserved")
    if problems:
        # A malformed request defines no measurement to make. No clause obliges a STA to
        # measure what a malformed request asks; a refusal or incapable indication is a
        # lawful answer to a request it will not perform (11.10.6), and silence is what
        # wpa_supplicant does (hostap tests/hwsim/test_rrm.py asserts no report). A report
        # is not failed either: what it should contain is undefined (see validate).
        why = "malformed request: " + "; ".join(problems)
        return BeaconPrediction(frozenset(), frozenset(), frozenset(no), None, detail, ids,
                                last_indication=request.last_indication, notes=(why,),
                                silence_ok=True, malformed=tuple(problems))
    if request.mode not in d.modes:
        return refuse(f"{MODE_NAMES[request.mode]} mode not advertised by the DUT")
    conditional = bool(request.reporting_condition)
    matching = {b: a for b, a in air.items() if _match_filters(request, a)}
    active = request.mode == ACTIVE
    # Active scans and the table (filled by earlier scans, often active) may hold a
    # Probe Response body instead of a Beacon's (11.10.9.3: "Beacon or Probe Response").
    # A BSS the capture holds no Beacon of has no ground-truth body: it stays in the BSSID
    # sets, its bodies are not judged (the caller reports the gap as the lab's)
    bodies = {b: _expected(a, detail, ids, request.mode in (ACTIVE, TABLE)) for b, a in matching.items()
              if a.beacon_body}
    modes = {0}
    if conditional:
        # Reporting Condition 1..10 (Table 9-107) makes reports depend on RCPI/RSNI
        # thresholds the oracle does not model; a STA without them answers incapable.
        modes |= set(no)
        notes.append(f"Beacon Reporting condition {request.reporting_condition} threshold/offset "
                     f"{request.reporting_threshold}: reports depend on thresholds, nothing is a must; "
                     f"incapable/refused allowed")
    if request.request_mode & DURATION_MANDATORY and request.mode != TABLE:
        # Duration Mandatory (Measurement Request Mode b4): a STA that cannot hold the
        # exact duration cannot make this measurement (hostap's
        # test_rrm_beacon_req_active_duration_mandatory accepts incapable for it)
        modes |= set(no)
        notes.append("duration mandatory: incapable/refused allowed")
    if request.mode == TABLE:
        pool = set(matching) if d.cache is None else set(matching) & {x.lower() for x in d.cache}
        notes.append("table mode: the DUT reports from its cache, so nothing is a must")
        return BeaconPrediction(frozenset(), frozenset(pool), frozenset(modes), None, detail, ids,
                                bodies, matching, request.last_indication, tuple(notes))
    oc = request.op_class
    if request.channel in (0, 255):
        if request.channel == 255 and request.ap_channel_reports:
            chans = set()
            for o, cs in request.ap_channel_reports:
                if o not in known or not channels.known(o):
                    # the channels of an unknown class cannot be found: those cannot be measured
                    modes |= set(no)
                    notes.append(f"AP Channel Report with operating class {o} unknown to the DUT: "
                                 f"refused/incapable allowed")
                    continue
                for c in cs:
                    got = channels.request_channels(o, c)
                    if got is None:
                        modes |= set(no)
                        notes.append(f"AP Channel Report channel {c} not in operating class {o}: "
                                     f"refused/incapable allowed")
                        got = frozenset({c})
                    chans |= got
            exact = True
        elif oc in known and channels.known(oc):
            chans, exact = set(channels.request_channels(oc, 0)), request.channel == 0
            if request.channel == 255:
                notes.append("channel 255 without AP Channel Report: channels of the op class, as may")
        else:
            return refuse(f"operating class {oc} unknown to the DUT, channel {request.channel} "
                          f"needs its channel list")
    else:
        got = channels.request_channels(oc, request.channel) if oc in known else None
        chans, exact = (set(got) if got else {request.channel}), True
        if got is None:
            modes |= set(no)
            notes.append(f"channel {request.channel} / op class {oc} not a known pair: incapable allowed")
    if request.duration == 0:
        # A zero duration is a legal value (no reserved duration values in 9.4.2.20.7), so
        # the request still wants an answer (BCN-18); one that cannot measure for 0 TU may
        # say incapable or refused. Nothing can be a must in a 0 TU measurement.
        modes |= set(no)
        notes.append("measurement duration 0: an answer is due; refused/incapable allowed, nothing is a must")
    hear = set(air) if d.hearable is None else {x.lower() for x in d.hearable}
    may = {b for b, a in matching.items() if a.channel in chans}
    must = set()
    for b in may & hear:
        bi = int.from_bytes(matching[b].beacon_body[8:10], "little") if len(matching[b].beacon_body) >= 10 else 0
        if conditional or request.duration == 0:
            continue
        if exact and (active or request.duration >= bi):
            must.add(b)
        elif exact:
            notes.append(f"{b}: duration {request.duration} TU shorter than its beacon interval {bi} TU: may")
    return BeaconPrediction(frozenset(must), frozenset(may), frozenset(modes), frozenset(chans), detail,
                            ids, bodies, matching, request.last_indication, tuple(notes))


NOT_HEARD = "the DUT was no longer listening"


def unheard_answers(pred: BeaconPrediction, request: BeaconRequest,
                    unheard: Mapping[str, str]) -> tuple[BeaconPrediction, list[str]]:
    """An active measurement without Duration Mandatory (Measurement Request Mode b4 clear:
    the duration is a maximum, 9.4.2.20) may end before the requested duration. predict()
    makes every matching BSS on a measured channel a must because it answers the DUT's Probe
    Request; one that the air shows answering only after the DUT had left the channel
    (`unheard`: BSSID -> the frames that show it, found by engine.judges.rrm_air) gave it
    nothing to report: it is a may, and the returned notes say why. With Duration Mandatory
    set the DUT had to stay, and nothing changes."""
    if request.mode != ACTIVE or request.request_mode & DURATION_MANDATORY:
        return pred, []
    gone = {b: why for b, why in unheard.items() if b in pred.must}
    if not gone:
        return pred, []
    notes = [f"{b}: {why}: {NOT_HEARD} (Duration Mandatory 0: the {request.duration} TU are a maximum): may"
             for b, why in sorted(gone.items())]
    return replace(pred, must=frozenset(pred.must - set(gone)), unheard=tuple(notes)), notes


# ---- validation -------------------------------------------------------------

def _is_empty(r: BeaconReport) -> bool:
    return r.empty


def _frag(r: BeaconReport):
    """(Beacon Report ID, Fragment ID Number, More Frame Body Fragments) or None."""
    try:
        return r.fragment
    except ValueError as err:
        raise BeaconInputError(str(err)) from None


def _same(eid: int, got: bytes, want: bytes) -> bool:
    if eid == TIM:
        return len(got) >= 2 and len(want) >= 2 and got[1] == want[1]  # DTIM period
    if eid in VOLATILE:
        return True
    return got == want


def _check_elements(got: list, exp: ExpectedBody, room_after_last: int | None) -> str | None:
    """None when `got` is a lawful rendering of `exp`, else why not."""
    want = exp.elements
    for i, (eid, data) in enumerate(got):
        if i >= len(want):
            return f"element {eid} at position {i} beyond those the request allows ({len(want)})"
        if eid != want[i][0]:
            return (f"element {eid} at position {i} where the ground truth (after the request's "
                    f"filter) has element {want[i][0]}")
        if not _same(eid, data, want[i][1]):
            return f"element {eid} differs from the ground truth: {data.hex()} vs {want[i][1].hex()}"
    if len(got) < len(want):
        nxt = want[len(got)]
        if room_after_last is None or 2 + len(nxt[1]) <= room_after_last:
            return (f"stops after {len(got)} of {len(want)} elements although element {nxt[0]} "
                    f"({2 + len(nxt[1])} octets) would fit")
    return None


def validate(request: BeaconRequest, reports: list[BeaconReport], prediction: BeaconPrediction,
             evidence_prefix: str = "report") -> list[Verdict]:
    out: list[Verdict] = []
    p = prediction
    reports = list(reports or [])

    def ev(i):
        return (f"{evidence_prefix} {i}",)

    if p.malformed:
        out.append(Verdict("BCN-REQUEST-FORMAT", MALFORMED, INFO, "a well-formed beacon request",
                           "; ".join(p.malformed), (), "the reference AP sent a malformed request (a test "
                           "stimulus when deliberate): silence, refused or incapable are acceptable answers",
                           layer=REFERENCE_AP))
    if not reports:
        if p.silence_ok:
            out.append(Verdict("BCN-PRESENT", MALFORMED, PASS,
                               "no answer, or a refused/incapable report (the request is malformed)",
                               "no report"))
        else:
            out.append(Verdict("BCN-PRESENT", C.BEACON_MEASUREMENT, FAIL, "at least one beacon report",
                               "no report", (), "; ".join(p.notes)))
        return out
    for i, r in enumerate(reports):
        mt = getattr(r, "measurement_token", None)
        if mt is not None:
            out.append(check("BCN-TOKEN", C.BEACON_REPORT, mt == request.token,
                             f"measurement token {request.token}", f"measurement token {mt}", ev(i)))
            if request.dialog_token is not None:
                out.append(check("BCN-TOKEN", C.BEACON_REPORT, r.token == request.dialog_token,
                                 f"dialog token {request.dialog_token}", f"dialog token {r.token}", ev(i)))
        else:
            out.append(check("BCN-TOKEN", C.BEACON_REPORT, r.token == request.token,
                             f"token {request.token}", f"token {r.token}", ev(i)))
        m = r.mode & ~REPORT_LATE
        if m == 0 and p.malformed:
            # what a measurement of a malformed request should hold is undefined: not judged
            out.append(Verdict("BCN-MODE", MALFORMED, INFO, f"report mode in {sorted(p.allowed_modes)} or silence",
                               f"report mode {r.mode:#x}", ev(i),
                               "measured although the request is malformed; the report is not judged"))
            continue
        if m == REPORT_REFUSED and m not in p.allowed_modes:
            # a STA may refuse a measurement it could make (11.10.6): noted, not failed
            out.append(Verdict("BCN-MODE", C.MEASUREMENT_REPORT, INFO, f"report mode in {sorted(p.allowed_modes)}",
                               f"report mode {r.mode:#x} (refused)", ev(i), "refused a measurement it could make"))
            continue
        out.append(check("BCN-MODE", C.MEASUREMENT_REPORT, m in p.allowed_modes,
                         f"report mode in {sorted(p.allowed_modes)}", f"report mode {r.mode:#x}", ev(i),
                         "; ".join(p.notes)))
    normal = [(i, r) for i, r in enumerate(reports) if (r.mode & ~REPORT_LATE) == 0]
    data = [(i, r) for i, r in normal if not _is_empty(r)]
    if not normal or p.malformed:
        return out
    for i, r in normal:
        if _is_empty(r):
            # a report with no beacon report fields: the STA says nothing matched
            out.append(Verdict("BCN-EMPTY", C.BEACON_MEASUREMENT, INFO, "reports of matching BSSs, "
                               "or an empty report when none matched", "an empty report (nothing matched)",
                               ev(i), "judged by BCN-BSSID-MUST: an empty report is wrong only where a "
                               "BSS had to be reported"))
    # BSSID set: must <= reported <= may
    reported = {r.bssid.lower() for _, r in data}
    for i, r in data:
        b = r.bssid.lower()
        if b not in p.may:
            out.append(Verdict("BCN-BSSID-MAY", C.BEACON_MEASUREMENT, FAIL,
                               f"reported BSSIDs within {sorted(p.may)}", f"{b} reported", ev(i),
                               "not on a measured channel, outside the BSSID/SSID filter, or not on the air"))
    if reported <= p.may:
        out.append(Verdict("BCN-BSSID-MAY", C.BEACON_MEASUREMENT, PASS, f"within {sorted(p.may)}",
                           f"reported {sorted(reported)}"))
    missing = p.must - reported
    out.append(check("BCN-BSSID-MUST", C.BEACON_MEASUREMENT, not missing, f"all of {sorted(p.must)}",
                     f"reported {sorted(reported)}" + (f"; missing {sorted(missing)}" if missing else ""),
                     message="; ".join(p.unheard)))
    for i, r in data:
        a = p.air.get(r.bssid.lower())
        if a is None:
            continue
        ok = r.channel == a.channel
        out.append(check("BCN-CHANNEL", C.BEACON_REPORT, ok, f"channel {a.channel}", f"channel {r.channel}", ev(i)))
        if r.op_class != a.op_class:
            # e.g. a BSS on 36 at 80 MHz is reported in class 128 (wpa_supplicant does so)
            fits = channels.holds(r.op_class, r.channel)
            out.append(Verdict("BCN-OPCLASS", OP_CLASS_TABLE, INFO if fits else FAIL,
                               f"op class {a.op_class}", f"op class {r.op_class}", ev(i),
                               "another op class that holds this channel" if fits else
                               "op class does not hold the reported channel"))
    out.extend(_bodies(data, p, ev))
    out.extend(_last_indication(request, normal, ev))
    return out


def _bodies(data, p: BeaconPrediction, ev) -> list[Verdict]:
    out = []
    groups: dict[str, list] = {}
    for i, r in data:
        if r.bssid.lower() not in p.bodies:
            continue
        try:
            fr = _frag(r)
        except BeaconInputError as e:
            out.append(Verdict("BCN-BODY", C.BEACON_REPORT, FAIL, "a 2-octet fragment ID", str(e), ev(i)))
            continue
        # fragments of one body share BSSID and Beacon Report ID
        key = f"{r.bssid.lower()}/{fr[0]}" if fr is not None else f"{r.bssid.lower()}#{i}"
        groups.setdefault(key, []).append((i, r, fr))
    for key, items in groups.items():
        items.sort(key=lambda x: x[2][1] if x[2] else 0)
        idx = [i for i, _, _ in items]
        evs = tuple(f"report {i}" for i in idx)
        b = items[0][1].bssid.lower()
        if items[0][2] is not None:
            out.append(_fragment_numbering(items, evs))
        if p.detail == 0:
            bad = [i for i, r, _ in items if r.frame_body]
            out.append(check("BCN-BODY", C.BEACON_REPORT, not bad, "no Reported Frame Body (detail 0)",
                             f"body present in report(s) {bad}" if bad else "no body", evs))
            continue
        if any(r.frame_body is None for _, r, _ in items):
            out.append(Verdict("BCN-BODY", C.BEACON_REPORT, FAIL,
                               f"a Reported Frame Body (detail {p.detail})", "body missing", evs))
            continue
        big = [(i, len(r.frame_body)) for i, r, _ in items if len(r.frame_body) > BODY_MAX]
        if big:
            out.append(Verdict("BCN-BODY-SIZE", C.BEACON_REPORT, FAIL, f"body <= {BODY_MAX} octets",
                               f"{big}", evs))
            continue
        first = bytes(items[0][1].frame_body)
        if len(first) < 12:
            out.append(Verdict("BCN-BODY-FIXED", C.BEACON_REPORT, FAIL, "12 octets of fixed fields",
                               f"{len(first)} octets", evs))
            continue
        try:
            got = parse_elements(first[12:])
            for _, r, _ in items[1:]:
                got += parse_elements(r.frame_body)
        except BeaconInputError as e:
            out.append(Verdict("BCN-BODY-ELEMENTS", C.BEACON_REPORT, FAIL, "whole elements", str(e), evs))
            continue
        last = items[-1]
        used = len(last[1].frame_body)
        room = BODY_MAX - used - (FRAG_SUBELEM_LEN if last[2] else 0) \
            - (LAST_IND_SUBELEM_LEN if last[1].last_indication is not None else 0)
        whys = [_check_elements(got, exp, room) for exp in p.bodies[b] if first[8:12] == exp.fixed[8:12]]
        why = None if None in whys else (whys[0] if whys else "no ground-truth body")
        fixed_any = any(first[8:12] == e.fixed[8:12] for e in p.bodies[b])
        out.append(check("BCN-BODY-FIXED", C.BEACON_REPORT, fixed_any,
                         "beacon interval and capability as on the air",
                         first[8:12].hex(), evs))
        if fixed_any:
            out.append(check("BCN-BODY-ELEMENTS", C.BEACON_REPORT, why is None,
                             f"elements allowed by detail {p.detail}"
                             + (f" and IDs {list(p.request_ids or ())}" if p.detail == 1 else "")
                             + ", equal to the ground truth, in frame order, cut only where the next would not fit",
                             why or f"{len(got)} element(s) as expected", evs))
        tims = [d for e, d in got if e == TIM and len(d) > 4]
        if tims:
            out.append(Verdict("BCN-BODY-TIM", C.BEACON_REPORT, INFO, "TIM reported truncated to 4 octets",
                               f"TIM of {len(tims[0])} octets", evs))
    return out


def _fragment_numbering(items, evs) -> Verdict:
    """Fragments of one Reported Frame Body (9.4.2.21.7): Fragment ID Numbers 0, 1, ...
    with none missing or repeated, More Frame Body Fragments set on every fragment but
    the last and clear on the last (as hostap's test_rrm_beacon_req_frame_body_fragmentation
    also asserts)."""
    nums = [fr[1] for _, _, fr in items]
    more = [fr[2] for _, _, fr in items]
    n = len(items)
    want_more = [True] * (n - 1) + [False]
    why = []
    if nums != list(range(n)):
        why.append(f"Fragment ID Numbers {nums}, expected {list(range(n))}")
    if more != want_more:
        why.append(f"More Frame Body Fragments {[int(m) for m in more]}, expected {[int(m) for m in want_more]}")
    return check("BCN-BODY-FRAGMENTS", C.BEACON_REPORT, not why,
                 f"fragments numbered 0..{n - 1}, More set on all but the last",
                 "; ".join(why) or f"{n} fragment(s) numbered 0..{n - 1}, More set on all but the last", evs)


def _last_indication(request: BeaconRequest, normal, ev) -> list[Verdict]:
    if not request.last_indication:
        extra = [i for i, r in normal if r.last_indication is not None]
        if extra:
            return [Verdict("BCN-LAST", C.BEACON_REPORT, INFO, "no Last Beacon Report Indication (not requested)",
                            f"present in report(s) {extra}", ev(extra[0]))]
        return []
    out = []
    n = len(normal)
    for k, (i, r) in enumerate(normal):
        want = k == n - 1
        if _is_empty(r) and r.last_indication is None:
            continue
        out.append(check("BCN-LAST", C.BEACON_REPORT, r.last_indication is want,
                         f"Last Beacon Report Indication {int(want)}",
                         "absent" if r.last_indication is None else f"{int(r.last_indication)}", ev(i)))
    return out
