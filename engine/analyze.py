"""Offline analysis of a capture and DUT logs taken anywhere: the FT, BTM and beacon
report exchanges and the indication trace, each judged by the engine's own rules.

Pure: frames come in as objects with .index, .t, .raw (802.11, no radiotap/FCS) and
optionally .freq and .bad_fcs (engine.capture.Frame); logs come in as parsed Events.
One pass, memory flat: every frame is classified from fixed offsets first, only the
frames of roaming exchanges are kept, and of beacons only the last one per BSSID.

What a capture cannot tell is said, not guessed: the DUT's scan view is rebuilt from
the beacons the monitor heard, so verdicts that hinge on what the DUT heard (a target
that was never listed, a BSS the DUT did not report) are INFO with a reason.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Iterable

from engine.channels import channel_freq, op_class_of
from engine import beacon, btm, candidates as cand, clauses as C
from engine.caps import StaCaps, caps_from_assoc
from engine.events import Event, Ind, Indication
from engine.frames import classify, convert
from engine.frames.elements import rsne
from engine.frames.header import mac
from engine.ft.exchange import _Finder
from engine.ft.keys import Secrets
from engine.ies import MalformedFrame, walk
from engine.indications import Observation, TraceError, check as check_indications
from engine.models import AirBSS, BeaconReport, BeaconRequest, BTMRequest, BTMResponse, NeighborEntry
from engine.verdict import DUT, FAIL, INFO, LAB, PASS, REFERENCE_AP, Verdict

ROAM_WINDOW_S = 5.0  # a move this long after a BTM response counts as caused by it
FORMAT = "IEEE 802.11-2020 9.4.2.1 (element format), 9.6 (Action frame formats)"
OFFLINE = "offline analysis"
# verdicts whose outcome rests on the PMK the passphrase and SSID give (12.7.1.7, 12.7.2)
KEYED_RULES = frozenset({"FT-PMKR0NAME", "FT-PMKR1NAME", "FT-MIC-5", "FT-MIC-6",
                         "FT-INIT-PMKR1NAME", "FT-INIT-M2-MIC"})
MIC_RULES = frozenset({"FT-MIC-5", "FT-MIC-6", "FT-INIT-M2-MIC"})
WRONG_KEY = "no EAPOL MIC verifies with this passphrase and SSID"

# kinds that matter to some exchange; everything else is only counted
_FT_KINDS = {"auth", "assoc_req", "assoc_resp", "reassoc_req", "reassoc_resp",
             "ft_action_req", "ft_action_resp", "ft_action_confirm", "ft_action_ack", "eapol"}
_FT_STARTERS = {"auth", "assoc_req", "reassoc_req", "ft_action_req"}
_MOVE_KINDS = {"auth", "assoc_req", "reassoc_req", "ft_action_req"}
_ACTION_KINDS = {"btm_request", "btm_response", "rm_beacon_request", "rm_beacon_report",
                 "nr_request", "nr_response"}
_BSS_KINDS = {"beacon", "probe_resp"}
_WANTED = _FT_KINDS | _ACTION_KINDS | _BSS_KINDS | {"deauth", "disassoc"}


def vdict(v: Verdict) -> dict:
    return {"rule": v.rule, "clause": v.clause, "status": v.status, "expected": v.expected,
            "observed": v.observed, "evidence": list(v.evidence), "message": v.message, "layer": v.layer}


def entry_dict(n: NeighborEntry) -> dict:
    return {"bssid": n.bssid, "bssid_info": n.bssid_info, "op_class": n.op_class, "channel": n.channel,
            "phy_type": n.phy_type, "preference": n.preference}


@dataclass
class NeighborExchange:
    """A Neighbor Report Request (9.6.6.6) and its Response (9.6.6.7), from frames or a log."""
    sta: str | None
    ap: str | None
    dialog_token: int | None
    ssid: bytes | None = None
    request_t: float | None = None
    request_src: str | None = None
    entries: tuple[NeighborEntry, ...] = ()
    response_t: float | None = None
    response_src: str | None = None

    def to_dict(self) -> dict:
        return {"sta": self.sta, "ap": self.ap, "dialog_token": self.dialog_token,
                "ssid": None if self.ssid is None else ssid_text(self.ssid),
                "request": self.request_src, "response": self.response_src,
                "entries": [entry_dict(n) for n in self.entries]}


def ft_item(x) -> dict:
    """engine.ft.FTExchange.to_dict(), with verdicts made by vdict (asdict is slow)."""
    def idx(m):
        return None if m is None else m.index
    return {"sta": x.sta, "target": x.target, "current": x.current, "over_ds": x.over_ds,
            "frames": {"request": idx(x.request), "response": idx(x.response),
                       "reassoc_request": idx(x.reassoc_req), "reassoc_response": idx(x.reassoc_resp)},
            "auth_status": None if x.response is None else x.response.status,
            "reassoc_status": x.reassoc_status, "snonce_ok": x.snonce_ok, "anonce_ok": x.anonce_ok,
            "mde_ok": x.mde_ok, "pmkr1name_ok": x.pmkr1name_ok, "mic5_ok": x.mic5_ok,
            "mic6_ok": x.mic6_ok, "mic_ok": x.mic_ok, "eapol_after": list(x.eapol_after),
            "latency_us": x.latency_us, "ok": x.ok, "verdicts": [vdict(v) for v in x.findings + x.verdicts]}


def _ev(*idx) -> tuple[str, ...]:
    return tuple(f"frame {i}" for i in idx if i is not None)


def _status(verdicts: list[Verdict]) -> str:
    if any(v.status == FAIL for v in verdicts):
        return "FAIL"
    if any(v.status == PASS for v in verdicts):
        return "PASS"
    return "INFO"


def _soften(v: Verdict, why: str) -> Verdict:
    """A FAIL that rests on what the capture could not show becomes INFO, saying why."""
    if v.status != FAIL:
        return v
    msg = f"not judged offline: {why}" + (f"; {v.message}" if v.message else "")
    return replace(v, status=INFO, message=msg)

def channel_of_freq(freq: int | None) -> int:
    if not freq:
        return 0
    if freq == 2484:
        return 14
    if 2412 <= freq < 2484:
        return (freq - 2407) // 5
    if 5000 <= freq < 5950:
        return (freq - 5000) // 5
    return 0


@dataclass
class BssView:
    """A BSS as the capture saw it, from its last Beacon/Probe Response."""
    bssid: str
    ssid: bytes | None = None
    channel: int = 0
    freq: int = 0
    akms: tuple[int, ...] = ()
    mdid: bytes | None = None
    beacon_body: bytes = b""
    probe_body: bytes = b""
    problem: str | None = None

    def to_dict(self) -> dict:
        return {"bssid": self.bssid, "ssid": None if self.ssid is None else ssid_text(self.ssid),
                "channel": self.channel, "freq": self.freq, "akms": list(self.akms),
                "mdid": self.mdid.hex() if self.mdid else None, "problem": self.problem}


def ssid_text(b: bytes) -> str:
    """An SSID for people: UTF-8 where it is, \\x escapes elsewhere (never raw control bytes)."""
    s = b.decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}"
                   for c in s)


def bss_view(bssid: str, body: bytes, freq: int | None) -> BssView:
    """Parse the fixed fields + elements of a Beacon/Probe Response body."""
    v = BssView(bssid, freq=freq or 0)
    try:
        for e in walk(body, 12, what="Beacon body"):
            if e.id == 0 and v.ssid is None:
                v.ssid = e.body
            elif e.id == 3 and e.body and not v.channel:
                v.channel = e.body[0]
            elif e.id == 48 and not v.akms:
                v.akms = rsne(e.body).akms
            elif e.id == 54 and len(e.body) >= 2:
                v.mdid = e.body[:2]
    except MalformedFrame as err:
        v.problem = str(err)
    if not v.channel:
        v.channel = channel_of_freq(freq)
    if not v.freq and v.channel:
        v.freq = channel_freq(v.channel)
    return v


@dataclass
class BtmExchange:
    ap: str
    sta: str
    request: BTMRequest
    request_t: float
    request_src: str
    current: str  # BSSID the request came from
    response: BTMResponse | None = None
    response_t: float | None = None
    response_src: str | None = None
    move_t: float | None = None
    joined: str | None = None
    disassoc_t: float | None = None
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return _status(self.verdicts)

    def to_dict(self) -> dict:
        r, s = self.request, self.response
        return {"ap": self.ap, "sta": self.sta, "dialog_token": r.dialog_token,
                "request_mode": r.request_mode, "validity_interval": r.validity_interval,
                "disassoc_timer": r.disassoc_timer,
                "candidates": [{"bssid": c.bssid, "preference": c.preference, "op_class": c.op_class,
                                "channel": c.channel, "bssid_info": c.bssid_info} for c in r.candidates],
                "status": None if s is None else s.status, "response_token": None if s is None else s.dialog_token,
                "target": None if s is None else s.target, "joined": self.joined,
                "request": self.request_src, "response": self.response_src,
                "verdict": self.verdict, "verdicts": [vdict(v) for v in self.verdicts]}


@dataclass
class BeaconExchange:
    ap: str
    sta: str
    dialog_token: int
    requests: tuple[BeaconRequest, ...]
    request_t: float
    request_src: str
    reports: list[BeaconReport] = field(default_factory=list)
    report_srcs: list[str] = field(default_factory=list)
    air: tuple = ({}, {})  # last Beacon / Probe Response frames per BSSID when the first report came
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return _status(self.verdicts)

    def to_dict(self) -> dict:
        rq = self.requests[0]
        return {"ap": self.ap, "sta": self.sta, "token": self.dialog_token,
                "measurement_token": rq.token, "mode": beacon.MODE_NAMES.get(rq.mode, f"reserved {rq.mode}"),
                "op_class": rq.op_class, "channel": rq.channel, "bssid_filter": rq.bssid,
                "ssid_filter": None if rq.ssid is None else ssid_text(bytes(rq.ssid)),
                "reporting_detail": rq.reporting_detail,
                "bssids": sorted({r.bssid for r in self.reports if r.bssid}),
                "reports": [{"bssid": r.bssid, "op_class": r.op_class, "channel": r.channel, "mode": r.mode,
                             "measurement_token": r.measurement_token, "source": s,
                             "body_octets": None if r.frame_body is None else len(r.frame_body)}
                            for r, s in zip(self.reports, self.report_srcs)],
                "request": self.request_src, "verdict": self.verdict,
                "verdicts": [vdict(v) for v in self.verdicts]}


@dataclass
class Report:
    frames: Counter
    frame_total: int
    dropped: Counter
    ft: list[dict]
    ft_initial: list[dict]
    btm: list[BtmExchange]
    beacon_reports: list[BeaconExchange]
    indications: list[Indication]
    bss: list[BssView]
    verdicts: list[Verdict]  # every verdict, exchanges' included
    findings: list[Verdict]  # input problems and notes not tied to an exchange
    neighbor_reports: list[NeighborExchange] = field(default_factory=list)

    @property
    def violations(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.status == FAIL]

    def to_dict(self) -> dict:
        return {
            "frames": dict(sorted(self.frames.items())),
            "frame_total": self.frame_total,
            "dropped": dict(self.dropped),
            "bss": [b.to_dict() for b in self.bss],
            "ft": self.ft,
            "ft_initial": self.ft_initial,
            "btm": [x.to_dict() for x in self.btm],
            "beacon_reports": [x.to_dict() for x in self.beacon_reports],
            "neighbor_reports": [x.to_dict() for x in self.neighbor_reports],
            "indications": [i.to_dict() for i in self.indications],
            "findings": [vdict(v) for v in self.findings],
            "violations": [{"rule": v.rule, "clause": v.clause, "message": v.describe(),
                            "expected": v.expected, "observed": v.observed,
                            "evidence": list(v.evidence), "layer": v.layer} for v in self.violations],
        }


class Analyzer:
    """feed() frames in capture order, add_events() per log, then finish()."""

    def __init__(self, secrets: Secrets | None = None, ssid: bytes | None = None):
        self.secrets = secrets
        self.ssid = ssid
        self.counts: Counter = Counter()
        self.dropped: Counter = Counter()  # frames of interest left out: retransmissions, bad FCS
        self.total = 0
        self.ft = _Finder(secrets)
        self.last_bss: dict[bytes, object] = {}  # BSSID octets -> last Beacon frame
        self.last_probe: dict[bytes, object] = {}
        self.ft_pending: dict[bytes, object] = {}  # beacons the FT finder has not seen
        self.last_seq: dict[bytes, bytes] = {}
        self.caps: dict[str, StaCaps] = {}
        self.btm_x: list[BtmExchange] = []
        self.btm_open: dict[str, list[BtmExchange]] = {}  # sta -> exchanges still gathering a timeline
        self.rm_x: list[BeaconExchange] = []
        self.nr_x: list[NeighborExchange] = []
        self.nr_log: list[NeighborExchange] = []
        self.findings: list[Verdict] = []
        self.verdicts: list[Verdict] = []
        self.logs: list[tuple[str, list[Event], list[Indication]]] = []
        self.views: dict[tuple, BssView] = {}
        self.air_trace = AirTrace()

    # -- frames ---------------------------------------------------------------------
    def feed(self, f) -> None:
        raw = f.raw
        k = classify(raw)
        self.total += 1
        self.counts[k] += 1
        if k not in _WANTED:
            return
        if getattr(f, "bad_fcs", False):
            self.dropped["bad_fcs"] += 1
            return
        if k in _BSS_KINDS:
            key = raw[16:22]
            (self.last_bss if k == "beacon" else self.last_probe)[key] = f
            self.ft_pending[key] = f
            return
        # a retransmission: Retry bit and the sender's last Sequence Control again
        sender, seq = raw[10:16], raw[22:24]
        if raw[1] & 0x08 and self.last_seq.get(sender) == seq:
            self.dropped["retry"] += 1
            return
        self.last_seq[sender] = seq
        if k in _FT_KINDS:
            if k in _FT_STARTERS and self.ft_pending:
                # the finder compares the target's MDE with the target's last beacon only
                target = raw[32:38] if k == "ft_action_req" else raw[4:10]
                b = self.ft_pending.pop(target, None)
                if b is not None:
                    self.ft.feed(b.index, b.t, b.raw)
            self.ft.feed(f.index, f.t, raw)
            if k in ("assoc_req", "reassoc_req"):
                try:
                    c = caps_from_assoc(raw)
                    self.caps[c.sta] = c
                except (MalformedFrame, convert.WrongFrame):
                    pass  # the FT finder reports broken elements
        if k in _MOVE_KINDS or k in ("assoc_resp", "reassoc_resp", "deauth", "disassoc"):
            self._timeline(k, f)
            self.air_trace.feed(k, f)
        elif k == "btm_request":
            self._btm_request(f)
        elif k == "btm_response":
            self._btm_response(f)
        elif k == "rm_beacon_request":
            self._rm_request(f)
        elif k == "rm_beacon_report":
            self._rm_report(f)
        elif k == "nr_request":
            self._nr_request(f)
        elif k == "nr_response":
            self._nr_response(f)

    def _nr_request(self, f) -> None:
        try:
            rq = convert.nr_request_from(f.raw)
        except convert.WrongFrame:
            return
        except MalformedFrame as err:
            return self._bad_frame(f, "Neighbor Report Request", err)
        raw = f.raw
        self.nr_x.append(NeighborExchange(mac(raw[10:16]), mac(raw[4:10]), rq.dialog_token, rq.ssid,
                                          f.t, f"frame {f.index}"))

    def _nr_response(self, f) -> None:
        try:
            rs = convert.nr_response_from(f.raw)
        except convert.WrongFrame:
            return
        except MalformedFrame as err:
            return self._bad_frame(f, "Neighbor Report Response", err)
        raw = f.raw
        sta, ap = mac(raw[4:10]), mac(raw[10:16])
        x = next((x for x in self.nr_x[::-1] if x.sta == sta and x.ap == ap and x.response_src is None
                  and x.dialog_token == rs.dialog_token), None)
        if x is None:  # the request may predate the capture; the contents still count
            x = NeighborExchange(sta, ap, rs.dialog_token)
            self.nr_x.append(x)
        x.entries, x.response_t, x.response_src = rs.entries, f.t, f"frame {f.index}"

    def _bad_frame(self, f, what: str, err) -> None:
        # the fault is the sender's: a frame the BSS transmitted (TA = BSSID) is the AP's
        raw = f.raw
        from_ap = len(raw) >= 22 and raw[10:16] == raw[16:22]
        self.findings.append(Verdict("FRAME-FORMAT", FORMAT, FAIL, f"a well-formed {what}",
                                     f"malformed: {err}", _ev(f.index),
                                     "sent by the AP" if from_ap else "sent by the station",
                                     layer=REFERENCE_AP if from_ap else DUT))

    def _btm_request(self, f) -> None:
        try:
            rq = convert.btm_request_from(f.raw)
        except convert.WrongFrame:
            return
        except MalformedFrame as err:
            return self._bad_frame(f, "BTM Request", err)
        if rq.problems:  # judged below against what a malformed request allows
            self._bad_frame(f, "BTM Request", "; ".join(rq.problems))
        raw = f.raw
        x = BtmExchange(mac(raw[10:16]), mac(raw[4:10]), rq, f.t, f"frame {f.index}", mac(raw[16:22]))
        self.btm_x.append(x)
        self.btm_open[x.sta] = [x]  # a new request closes the timeline of the previous one

    def _btm_response(self, f) -> None:
        try:
            rs = convert.btm_response_from(f.raw)
        except convert.WrongFrame:
            return
        except MalformedFrame as err:
            return self._bad_frame(f, "BTM Response", err)
        raw = f.raw
        sta, ap = mac(raw[10:16]), mac(raw[4:10])
        waiting = [x for x in self.btm_x[::-1] if x.sta == sta and x.ap == ap and x.response is None]
        # the request with this token, else the latest unanswered one (then BTM-TOKEN judges the echo)
        x = next((x for x in waiting if x.request.dialog_token == rs.dialog_token), waiting[0] if waiting else None)
        if x is None:
            self.findings.append(Verdict("BTM-UNSOLICITED", C.BTM_RESPONSE, INFO,
                                         "a BTM Response answers a BTM Request in the capture",
                                         f"dialog token {rs.dialog_token}, status {rs.status}: no request seen",
                                         _ev(f.index), "the request may predate the capture"))
            return
        x.response, x.response_t, x.response_src = rs, f.t, f"frame {f.index}"

    def _timeline(self, k: str, f) -> None:
        raw = f.raw
        if k in _MOVE_KINDS or k in ("deauth", "disassoc"):
            sta = mac(raw[10:16])
            if k in ("deauth", "disassoc") and sta not in self.btm_open:
                sta = mac(raw[4:10])  # sent by the AP
        else:
            sta = mac(raw[4:10])
        xs = self.btm_open.get(sta)
        if not xs:
            return
        x = xs[0]
        if x.response_t is not None and f.t - x.response_t > ROAM_WINDOW_S:
            del self.btm_open[sta]
            return
        if k in _MOVE_KINDS:
            if x.move_t is None and mac(raw[4:10]) != x.current:
                x.move_t = f.t
        elif k in ("deauth", "disassoc"):
            if x.disassoc_t is None and mac(raw[10:16]) == x.current:
                x.disassoc_t = f.t
        elif len(raw) >= 28 and int.from_bytes(raw[26:28], "little") == 0 and mac(raw[10:16]) != x.current:
            x.joined = mac(raw[10:16])  # (re)association response, status 0, from another BSS
            del self.btm_open[sta]

    def _rm_request(self, f) -> None:
        try:
            reqs = convert.beacon_requests_from(f.raw)
        except convert.WrongFrame:
            return
        except MalformedFrame as err:
            return self._bad_frame(f, "Radio Measurement Request", err)
        if not reqs:
            return
        for rq in reqs:
            if rq.problems:  # judged below against what a malformed request allows
                self._bad_frame(f, "Beacon request", "; ".join(rq.problems))
        raw = f.raw
        self.rm_x.append(BeaconExchange(mac(raw[10:16]), mac(raw[4:10]), reqs[0].dialog_token, reqs,
                                        f.t, f"frame {f.index}"))

    def _rm_report(self, f) -> None:
        try:
            reps = convert.beacon_reports_from(f.raw)
        except convert.WrongFrame:
            return
        except MalformedFrame as err:
            return self._bad_frame(f, "Radio Measurement Report", err)
        raw = f.raw
        sta, ap = mac(raw[10:16]), mac(raw[4:10])
        token = raw[26] if len(raw) > 26 else None
        mine = [x for x in self.rm_x[::-1] if x.sta == sta and x.ap == ap]
        x = next((x for x in mine if x.dialog_token == token), mine[0] if mine else None)
        if x is None:
            self.findings.append(Verdict("BCN-UNSOLICITED", C.BEACON_REPORT, INFO,
                                         "a beacon report answers a request in the capture",
                                         f"dialog token {token}: no request seen", _ev(f.index),
                                         "the request may predate the capture"))
            return
        if not x.reports:
            x.air = (dict(self.last_bss), dict(self.last_probe))  # parsed when judged
        for r in reps:
            x.reports.append(r)
            x.report_srcs.append(f"frame {f.index}")

    def _air_now(self, beacons=None, probes=None) -> dict:
        beacons = self.last_bss if beacons is None else beacons
        probes = self.last_probe if probes is None else probes
        out = {}
        for key, fr in beacons.items():
            v = self._view(key, fr)
            out[v.bssid] = BssView(**{**v.__dict__, "beacon_body": fr.raw[24:]})
        for key, fr in probes.items():
            b = mac(key)
            if b not in out:
                out[b] = self._view(key, fr)
            out[b] = BssView(**{**out[b].__dict__, "probe_body": fr.raw[24:]})
        return out

    def _view(self, key: bytes, fr) -> BssView:
        """bss_view of one Beacon/Probe Response frame, parsed once however often it is asked for."""
        memo = (key, fr.raw[32:], getattr(fr, "freq", None))  # all but the TSF changes rarely
        v = self.views.get(memo)
        if v is None:
            if len(self.views) > 4096:
                self.views.clear()
            v = self.views[memo] = bss_view(mac(key), fr.raw[24:], getattr(fr, "freq", None))
        return v

    # -- logs --------------------------------------------------------------------------
    def add_events(self, name: str, events: list[Event], indications: list[Indication]) -> None:
        self.logs.append((name, list(events), list(indications)))

    def note(self, rule: str, observed: str, evidence=(), message: str = "") -> None:
        self.findings.append(Verdict(rule, OFFLINE, INFO, "readable input", observed, tuple(evidence), message))

    # -- judging -------------------------------------------------------------------------
    def finish(self) -> Report:
        for b in self.ft_pending.values():
            self.ft.feed(b.index, b.t, b.raw)
        self.ft_pending.clear()
        ft = self.ft.finish()
        for a in ft.initial:
            a.verdicts = [_soften(v, "no Association Response in the capture")
                          if v.rule == "FT-INIT-ASSOC" and v.observed == "none" else v for v in a.verdicts]
        self._judge_key(ft)
        air = self._air_now()
        verdicts = list(ft.verdicts())
        for x in self.btm_x:
            self._judge_btm(x, air)
            verdicts += x.verdicts
        for x in self.rm_x:
            self._judge_beacon(x)
            verdicts += x.verdicts
        ft_items = [ft_item(x) for x in ft.exchanges]
        trace: list[Indication] = []
        for name, events, inds in self.logs:
            bx, fx = self._from_log(name, events)
            self.btm_x += bx
            for x in bx:
                verdicts += x.verdicts
            if not ft.exchanges:
                ft_items += fx
            trace += inds
            if inds:
                try:
                    vs = _mid_connection(inds, check_indications(inds, observation=Observation(complete=False)))
                except TraceError as err:
                    vs = [Verdict("IND-TRACE", OFFLINE, INFO, "a trace", str(err))]
                verdicts += vs
        if not self.logs and self.air_trace.out:
            trace = self.air_trace.out
            self.findings.append(Verdict("IND-AIR", OFFLINE, INFO, "the DUT's own indication trace (its log)",
                                         f"{len(trace)} indication(s) inferred from the frames",
                                         (trace[0].source,), "indications inferred from the air are shown, "
                                         "not judged: IND rules are judged on a DUT log (--wpas-log/--esp32-log)"))
        verdicts += self.findings
        return Report(self.counts, self.total, self.dropped, ft_items, [a.to_dict() for a in ft.initial],
                      self.btm_x, self.rm_x, trace, sorted(air.values(), key=lambda b: b.bssid),
                      verdicts, list(self.findings) + list(ft.findings), self.nr_x + self.nr_log)

    def _judge_key(self, ft) -> None:
        """With a passphrase that is not the network's, every MIC and key name comparison fails:
        that says nothing of the DUT. When MICs were checked and none verifies, the key-based
        verdicts are not judged and one finding against the input says so."""
        if self.secrets is None:
            return
        holders = list(ft.initial) + list(ft.exchanges)
        mics = [v for h in holders for v in h.verdicts if v.rule in MIC_RULES and v.status in (PASS, FAIL)]
        if not mics or any(v.status == PASS for v in mics):
            return
        for h in holders:
            h.verdicts = [_soften(v, WRONG_KEY) if v.rule in KEYED_RULES else v for v in h.verdicts]
        ev = tuple(e for v in mics for e in v.evidence)[:8]
        self.findings.append(Verdict("KEY-INPUT", "IEEE 802.11-2020 12.7.1.7, 12.7.2", FAIL,
                                     "a passphrase and SSID under which the captured MICs verify",
                                     f"{WRONG_KEY} ({len(mics)} MIC(s) checked, none verifies)", ev,
                                     "check --ssid/--ssid-hex and --passphrase: a wrong key is an input "
                                     "problem, not the DUT's", LAB))

    def _judge_btm(self, x: BtmExchange, air: dict) -> None:
        cur = air.get(x.current)
        caps = self.caps.get(x.sta)
        ssid = self.ssid if self.ssid is not None else (cur.ssid if cur else None)
        profile = cand.Profile(ssid if ssid is not None else b"",
                               frozenset(map(cand.akm_name, cur.akms)) if cur else frozenset())
        scan = [cand.ScanEntry(b.bssid, b.ssid or b"", b.freq, b.channel, None, tuple(map(cand.akm_name, b.akms)),
                               b.mdid.hex() if b.mdid else None) for b in air.values()]
        settings = btm.DutSettings(btm_supported=caps.bss_transition if caps else True)
        pred = btm.predict(x.request, x.current, scan, profile, settings)
        tl = btm.Timeline(x.request_t, x.response_t, x.move_t, x.joined, x.disassoc_t)
        ev = tuple(s for s in (x.request_src, x.response_src) if s)
        listed = {c.bssid.lower(): c.preference for c in x.request.candidates}
        out = []
        for v in btm.validate(x.request, x.response, pred, tl, ev):
            if v.rule == "BTM-RESPONSE" and caps is None:
                v = _soften(v, "the STA's (re)association request is not in the capture, so its BTM "
                               "support is unknown; the response may also have been missed")
            elif v.rule == "BTM-TARGET-ALLOWED" and x.response and x.response.target:
                t = x.response.target.lower()
                if cur is None or ssid is None:
                    v = _soften(v, "the current BSS's SSID/security is unknown (no beacon in the capture, "
                                   "no --ssid)")
                elif t not in listed and not x.request.abridged:
                    v = _soften(v, f"{t} is not listed; the DUT may have heard it where the monitor did not")
                elif t in listed and t not in air:
                    v = _soften(v, f"{t} is listed but the monitor did not hear it; the DUT may have")
            out.append(v)
        if x.response is not None and x.joined is None and x.response.status == 0:
            out.append(Verdict("BTM-ROAM-SEEN", C.BTM_RESPONSE, INFO, "a move to the target in the capture",
                               f"no successful (re)association within {ROAM_WINDOW_S:g} s", ev))
        x.verdicts = out

    def _judge_beacon(self, x: BeaconExchange) -> None:
        caps = self.caps.get(x.sta)
        known = self._air_now(*x.air) if x.reports else {}
        modes = None
        if caps is not None and caps.rm_enabled:
            modes = frozenset(m for m, ok in ((beacon.PASSIVE, caps.rm_beacon_passive),
                                              (beacon.ACTIVE, caps.rm_beacon_active),
                                              (beacon.TABLE, caps.rm_beacon_table)) if ok)
        dut = beacon.BeaconDut(modes=modes) if modes is not None else beacon.BeaconDut()
        # a request frame may hold several beacon requests; the reports are judged against the first
        rq = x.requests[0]
        # only BSSs that can be in the must/may sets or were reported bear on the verdicts
        keep = {r.bssid.lower() for r in x.reports if r.bssid}
        if rq.mode != beacon.TABLE:
            keep |= {b for b, v in known.items() if rq.channel in (0, 255) or v.channel == rq.channel}
        truth = [AirBSS(b, v.ssid or b"", v.channel, op_class_of(v.channel), v.freq, v.beacon_body,
                        {"probe_response_body": v.probe_body} if v.probe_body else {})
                 for b, v in known.items() if b in keep and v.beacon_body and v.problem is None]
        out = []
        try:
            pred = beacon.predict(rq, truth, dut)
            vs = beacon.validate(rq, x.reports, pred, "report")
        except beacon.BeaconInputError as err:
            vs = [Verdict("BCN-INPUT", C.BEACON_REPORT, INFO, "ground truth to judge against", str(err),
                          (x.request_src,))]
        srcs = x.report_srcs
        for v in vs:
            # "report N" -> the frame that carried it
            ev = tuple(srcs[int(e.split()[1])] if e.startswith("report ") and e.split()[1].isdigit()
                       and int(e.split()[1]) < len(srcs) else e for e in v.evidence) or (x.request_src,)
            v = replace(v, evidence=ev)
            if v.rule == "BCN-PRESENT" and not (caps is not None and caps.rm_enabled):
                v = _soften(v, "the STA's RM capabilities are unknown (no association request in the "
                               "capture); the report may also have been missed")
            elif v.rule == "BCN-BSSID-MUST":
                v = _soften(v, "the DUT may not hear every BSS the monitor heard")
            elif v.rule == "BCN-BSSID-MAY" and v.status == FAIL:
                b = v.observed.split()[0]
                if b not in known:
                    v = _soften(v, f"{b} was not heard by the monitor")
            out.append(v)
        if len(x.requests) > 1:
            out.append(Verdict("BCN-MULTI", C.BEACON_REQUEST, INFO, "one beacon request per frame",
                               f"{len(x.requests)} requests; reports judged against the first", (x.request_src,)))
        x.verdicts = out

    def _from_log(self, name: str, events: list[Event]) -> tuple[list[BtmExchange], list[dict]]:
        """BTM exchanges and FT roams as the DUT's log tells them."""
        scan, ssid_seen = {}, None
        for e in events:
            if e.kind == "bss_added" and e.get("bssid"):
                ch = e.get("chan") or channel_of_freq(e.get("freq"))
                scan[e.get("bssid")] = cand.ScanEntry(e.get("bssid"), _log_ssid(e) or b"",
                                                      e.get("freq") or 0, ch or 0)
            if e.kind == "connected" and e.get("ssid") and ssid_seen is None:
                ssid_seen = _log_ssid(e)
            if e.kind == "neighbor_report_request":
                self.nr_log.append(NeighborExchange(None, None, e.get("token"), _log_ssid(e), e.t, e.source))
            elif e.kind == "neighbor_report":
                ents = tuple(NeighborEntry(n["bssid"], n.get("info", 0), n.get("op_class", 0), n.get("chan", 0),
                                           n.get("phy_type", 0)) for n in e.get("entries", ()))
                x = next((x for x in self.nr_log[::-1] if x.response_src is None), None)
                if x is None:
                    x = NeighborExchange(None, None, None)
                    self.nr_log.append(x)
                x.entries, x.response_t, x.response_src = ents, e.t, e.source
        ssid = self.ssid if self.ssid is not None else ssid_seen
        out: list[BtmExchange] = []
        fts: list[dict] = []
        open_x: BtmExchange | None = None
        ft_start = None
        for e in events:
            k = e.kind
            if k == "btm_request":
                cands = tuple(NeighborEntry(c["bssid"], c.get("info", 0), c.get("op_class", 0), c.get("chan", 0),
                                            c.get("phy", 0), c.get("pref")) for c in e.get("candidates", ()))
                rq = BTMRequest(e.get("dialog_token"), e.get("request_mode"), e.get("disassoc_timer"),
                                e.get("validity_interval"), cands)
                open_x = BtmExchange(None, None, rq, e.t, e.source, e.get("from"))
                out.append(open_x)
            elif k == "btm_response" and open_x is not None and open_x.response is None:
                open_x.response = BTMResponse(e.get("dialog_token"), e.get("status"), 0, e.get("target"))
                open_x.response_t, open_x.response_src = e.t, e.source
                open_x.current = open_x.current or e.get("to")
                open_x.ap = open_x.ap or e.get("to")
            elif k in ("connect_attempt", "associating") or (k == "state" and e.get("new") in ("auth", "assoc")):
                if open_x is not None and open_x.response_t is not None and open_x.move_t is None:
                    open_x.move_t = e.t
                if k == "connect_attempt":
                    ft_start = (e, bool(e.get("ft_over_ds")))
            elif k == "connected":
                if open_x is not None and open_x.response_t is not None and open_x.joined is None \
                        and e.t - open_x.response_t <= ROAM_WINDOW_S and e.get("bssid") != open_x.current:
                    open_x.joined = e.get("bssid")
                open_x = None if open_x is not None and open_x.response is not None else open_x
            elif k == "ft_completed" and ft_start is not None:
                s, ds = ft_start
                fts.append({"sta": None, "target": s.get("bssid"), "over_ds": ds, "mic_ok": None,
                            "pmkr1name_ok": None, "latency_us": round((e.t - s.t) * 1e6),
                            "source": s.source, "completed": e.source})
                ft_start = None
        for x in out:
            x.ap = x.ap or x.current
            x.current = (x.current or "").lower()
            profile = cand.Profile(ssid or b"")
            pred = btm.predict(x.request, x.current, list(scan.values()), profile)
            tl = btm.Timeline(x.request_t, x.response_t, x.move_t, x.joined, None)
            ev = tuple(s for s in (x.request_src, x.response_src) if s)
            vs = []
            listed = {c.bssid.lower() for c in x.request.candidates}
            for v in btm.validate(x.request, x.response, pred, tl, ev):
                if v.rule == "BTM-TARGET-ALLOWED" and x.response and x.response.target:
                    if ssid is None:
                        v = _soften(v, "the SSID is unknown (give --ssid)")
                    elif x.response.target.lower() not in listed and not x.request.abridged:
                        v = _soften(v, "the target is not listed; the log may not show every scanned BSS")
                    elif x.response.target.lower() not in scan:
                        v = _soften(v, "the target is listed but the log shows no scan result for it")
                elif v.rule == "BTM-RESPONSE":
                    v = _soften(v, "the log may not show the response")
                vs.append(v)
            if not scan:
                vs.append(Verdict("BTM-SCAN-VIEW", OFFLINE, INFO, "the DUT's scan view",
                                  "no BSS lines in the log: candidates judged from the request alone", ev))
            x.verdicts = vs
        return out, fts


def _log_ssid(e: Event) -> bytes | None:
    """An event's SSID as octets: the decoded octets when the adapter gives them (wpa_supplicant
    escapes what it prints), else the text as UTF-8."""
    o = e.get("ssid_hex")
    if isinstance(o, str):
        try:
            return bytes.fromhex(o)
        except ValueError:
            pass
    s = e.get("ssid")
    if not isinstance(s, str) or not s:
        return None
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return s.encode("utf-8", "replace")


@dataclass(frozen=True)
class AirIndication(Indication):
    sta: str = ""

    def to_dict(self) -> dict:
        return {**super().to_dict(), "sta": self.sta}


class AirTrace:
    """What the frames show of each station's connections and roams, in indication terms.
    Frames cannot show why a roam began, nor when the link is up for data, so these are
    observations to read next to the DUT's own trace, not a trace to judge."""

    def __init__(self):
        self.out: list[AirIndication] = []
        self.state: dict[str, tuple[str, str | None]] = {}  # sta -> (idle|connecting|op|roaming, bssid)

    def _ind(self, f, sta, kind, bssid=None, status=None, reason=None):
        self.out.append(AirIndication(f.t, kind, bssid, status, reason, f"frame {f.index}", sta=sta))

    def feed(self, k: str, f) -> None:
        raw = f.raw
        a1, a2 = mac(raw[4:10]), mac(raw[10:16])
        if k in ("auth", "assoc_req", "reassoc_req", "ft_action_req"):
            if k == "auth" and (len(raw) < 28 or raw[26:28] != b"\x01\x00"):
                return  # only the STA's first authentication frame starts anything
            sta, ap = a2, a1
            if k == "ft_action_req":
                ap = mac(raw[32:38]) if len(raw) >= 38 else a1
            st, cur = self.state.get(sta, ("idle", None))
            if st == "idle":
                self.state[sta] = ("connecting", ap)
                self._ind(f, sta, Ind.CONNECTION_START)
                self._ind(f, sta, Ind.ASSOCIATION_START, ap)
            elif st == "op" and ap != cur:
                self.state[sta] = ("roaming", cur)
                self._ind(f, sta, Ind.ROAMING_START, reason="not visible on the air")
                self._ind(f, sta, Ind.ASSOCIATION_START, ap)
        elif k in ("assoc_resp", "reassoc_resp"):
            sta, ap = a1, a2
            st, cur = self.state.get(sta, ("idle", None))
            if st not in ("connecting", "roaming") or len(raw) < 28:
                return
            ok = raw[26:28] == b"\x00\x00"
            code = int.from_bytes(raw[26:28], "little")
            res, why = ("success", None) if ok else ("failure", f"status {code}")
            self._ind(f, sta, Ind.ASSOCIATION_COMPLETION, ap, res, why)
            self._ind(f, sta, Ind.CONNECTION_COMPLETION if st == "connecting" else Ind.ROAMING_COMPLETION,
                      ap, res, why)
            if ok:
                self.state[sta] = ("op", ap)
            else:
                self.state[sta] = ("idle", None) if st == "connecting" else ("op", cur)
        elif k in ("deauth", "disassoc"):
            for sta, ap in ((a1, a2), (a2, a1)):
                st, cur = self.state.get(sta, ("idle", None))
                if st != "idle" and ap == cur:
                    self._ind(f, sta, Ind.MEDIA_DISCONNECT, ap,
                              reason=f"{k} reason {int.from_bytes(raw[24:26], 'little')}" if len(raw) >= 26 else k)
                    self.state[sta] = ("idle", None)


_POS = re.compile(r"^indication (\d+) ")


def _mid_connection(trace: list[Indication], verdicts: list[Verdict]) -> list[Verdict]:
    """A log that begins with the station already connected shows no connection operation
    before its first roams; IND-1 cannot be judged for those."""
    first = next((i for i, x in enumerate(trace) if x.kind in (Ind.CONNECTION_START, Ind.CONNECTION_COMPLETION)),
                 len(trace))
    out = []
    for v in verdicts:
        if v.rule == "IND-1" and v.status == FAIL:
            pos = [int(m[1]) for m in (_POS.match(e) for e in v.evidence) if m]
            if pos and max(pos) < first:
                v = _soften(v, "the log begins with the station already connected")
        out.append(v)
    return out


def analyze(frames: Iterable = (), secrets: Secrets | None = None, ssid: bytes | None = None,
            logs: Iterable[tuple[str, list[Event], list[Indication]]] = ()) -> Report:
    a = Analyzer(secrets, ssid)
    for f in frames:
        a.feed(f)
    for name, evs, inds in logs:
        a.add_events(name, evs, inds)
    return a.finish()
