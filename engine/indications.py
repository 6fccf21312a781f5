"""Judge a Native 802.11 indication trace against the rules IND-1..IND-9.

Positions: "indication N" is the 0-based index of the indication in the trace list.

A roam is the span that a ROAMING_START opens. It ends at the first ROAMING_COMPLETION
after it, unless another ROAMING_START comes first (then the roam is unclosed, an
IND-2 violation, and it runs up to that next ROAMING_START). Roams are numbered 0, 1,
... in trace order; `candidates_by_roam` is keyed by that number.

Some rules need facts the trace cannot carry; `Observation` holds them:
- os_requests: what the OS/lab did, with times: "phy_off", "phy_on", "reset",
  "disconnect" (OID_DOT11_NIC_POWER_STATE off/on, OID_DOT11_RESET_REQUEST,
  OID_DOT11_DISCONNECT_REQUEST or their lab equivalents).
- observed_until: the observation continued at least until this time (default: the
  last indication's time). IND-8's "retries periodically" is only judged when the
  observation ran retry_within_s past a failed roam.
- retry_within_s: after a failed roam the next ROAMING_START must come within this.
- empty_candidate_windows: (t0, t1) spans in which the candidate list was known to be
  empty; any ROAMING_START inside one violates IND-4.
- complete: the trace covers the whole run. When False, operations still open at the
  end are not judged.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Mapping

from engine.clauses import rule
from engine.events import FAILURE, SUCCESS, Ind, Indication, fmt_time
from engine.verdict import DUT, FAIL, INFO, PASS, Verdict

# roam_command: the test (or the OS) told the station to roam to a named BSS. Such a roam is
# the stimulus's, not the station's own roaming operation, so IND-8's retry is not owed for it.
OS_REQUEST_KINDS = ("phy_off", "phy_on", "reset", "disconnect", "roam_command")
COMMANDED_WITHIN_S = 2.0  # a ROAMING_START this soon after a roam command is that command's


class TraceError(ValueError):
    """The input is not a trace this module can judge."""


@dataclass(frozen=True)
class OsRequest:
    t: float
    kind: str  # one of OS_REQUEST_KINDS
    source: str = ""


@dataclass(frozen=True)
class Observation:
    os_requests: tuple[OsRequest, ...] = ()
    observed_until: float | None = None
    retry_within_s: float = 60.0
    empty_candidate_windows: tuple[tuple[float, float], ...] = ()
    complete: bool = True


@dataclass(frozen=True)
class Roam:
    index: int
    start: int  # position of the ROAMING_START
    end: int | None  # position of the ROAMING_COMPLETION, None when unclosed
    stop: int  # first position after the roam's span (end + 1, or where it was cut off)

    def inside(self) -> range:
        return range(self.start + 1, self.end if self.end is not None else self.stop)


def _where(trace, i: int) -> str:
    ind = trace[i]
    return f"indication {i} at t={fmt_time(ind.t)}, source={ind.source or '?'}"


def _validate(trace) -> list[Indication]:
    if trace is None:
        raise TraceError("no trace given (None)")
    trace = list(trace)
    for i, ind in enumerate(trace):
        if not isinstance(ind, Indication):
            raise TraceError(f"item {i} is a {type(ind).__name__}, not an Indication")
        if not isinstance(ind.kind, Ind):
            raise TraceError(f"item {i} has kind {ind.kind!r}, not an Ind")
    return trace


def roams(trace: Iterable[Indication]) -> list[Roam]:
    trace = _validate(trace)
    starts = [i for i, x in enumerate(trace) if x.kind == Ind.ROAMING_START]
    out = []
    for k, s in enumerate(starts):
        nxt = starts[k + 1] if k + 1 < len(starts) else len(trace)
        end = next((i for i in range(s + 1, nxt) if trace[i].kind == Ind.ROAMING_COMPLETION), None)
        out.append(Roam(k, s, end, end + 1 if end is not None else nxt))
    return out


def _bssids(c) -> frozenset[str]:
    if c is None:
        return frozenset()
    if hasattr(c, "bssids"):
        c = c.bssids
    if isinstance(c, str):
        raise TraceError(f"candidate list given as a single string {c!r}; give a list of BSSIDs")
    return frozenset(str(b).lower() for b in c)


def _candidates(candidates_by_roam) -> dict[int, frozenset[str]]:
    if candidates_by_roam is None:
        return {}
    if isinstance(candidates_by_roam, Mapping):
        items = candidates_by_roam.items()
    else:
        items = enumerate(candidates_by_roam)
    out = {}
    for k, c in items:
        if not isinstance(k, int) or k < 0:
            raise TraceError(f"candidates_by_roam key {k!r} is not a roam number")
        if c is not None:
            out[k] = _bssids(c)
    return out


class _Judge:
    def __init__(self, trace, cands, obs: Observation):
        self.trace = trace
        self.roams = roams(trace)
        self.cands = cands
        self.obs = obs
        self.out: list[Verdict] = []
        for r in obs.os_requests:
            if r.kind not in OS_REQUEST_KINDS:
                raise TraceError(f"unknown OS request kind {r.kind!r}; known: {', '.join(OS_REQUEST_KINDS)}")

    def w(self, i):
        return _where(self.trace, i)

    def emit(self, rid, fails, expected, passed_obs, applicable=True, not_applicable=""):
        r = rule(rid)
        if fails:
            for observed, evidence, msg, *layer in fails:
                self.out.append(Verdict(rid, r.clause, FAIL, expected, observed, tuple(evidence), msg,
                                        layer[0] if layer else DUT))
        elif applicable:
            self.out.append(Verdict(rid, r.clause, PASS, expected, passed_obs))
        else:
            self.out.append(Verdict(rid, r.clause, INFO, expected, not_applicable, (), "not judged"))

    # IND-1
    def ind1(self):
        fails, n = [], 0
        op, in_conn = False, False
        reqs = sorted((r for r in self.obs.os_requests if r.kind in ("reset", "disconnect")), key=lambda r: r.t)
        ri = 0
        for i, x in enumerate(self.trace):
            while ri < len(reqs) and reqs[ri].t <= x.t:
                op = False  # reset/disconnect ends the connection the roam would need
                ri += 1
            if x.kind == Ind.CONNECTION_START:
                in_conn, op = True, False
            elif x.kind == Ind.CONNECTION_COMPLETION:
                in_conn, op = False, x.status == SUCCESS
            elif x.kind == Ind.ROAMING_START:
                n += 1
                if in_conn:
                    fails.append(("ROAMING_START inside an unfinished connection operation",
                                  [self.w(i)], ""))
                elif not op:
                    fails.append(("ROAMING_START with no completed connection before it "
                                  "(no successful CONNECTION_COMPLETION, or the connection was "
                                  "reset/disconnected)", [self.w(i)], ""))
        self.emit("IND-1", fails, "every ROAMING_START after a successful CONNECTION_COMPLETION, "
                  "outside a connection operation", f"{n} ROAMING_START(s), all in OP", n > 0,
                  "no ROAMING_START in the trace")

    # IND-2
    def ind2(self):
        fails, open_at, n = [], None, 0
        for i, x in enumerate(self.trace):
            if x.kind == Ind.ROAMING_START:
                n += 1
                if open_at is not None:
                    fails.append((f"second ROAMING_START before the ROAMING_COMPLETION of the roam "
                                  f"opened at indication {open_at}", [self.w(open_at), self.w(i)], ""))
                open_at = i
            elif x.kind == Ind.ROAMING_COMPLETION:
                if open_at is None:
                    fails.append(("ROAMING_COMPLETION with no open ROAMING_START", [self.w(i)], ""))
                open_at = None
        if open_at is not None and self.obs.complete:
            fails.append(("ROAMING_START never closed by a ROAMING_COMPLETION", [self.w(open_at)], ""))
        any_roam = any(x.kind in (Ind.ROAMING_START, Ind.ROAMING_COMPLETION) for x in self.trace)
        self.emit("IND-2", fails, "ROAMING_START and ROAMING_COMPLETION strictly paired",
                  f"{n} roam(s), each closed once", any_roam, "no roaming indication in the trace")

    # IND-3
    def ind3(self):
        fails, n = [], 0
        in_conn, in_roam, open_assoc = False, False, None
        for i, x in enumerate(self.trace):
            k = x.kind
            if k == Ind.CONNECTION_START:
                in_conn = True
            elif k == Ind.ROAMING_START:
                in_roam = True
            elif k in (Ind.CONNECTION_COMPLETION, Ind.ROAMING_COMPLETION):
                if open_assoc is not None:
                    fails.append((f"{k.value} while the association opened at indication "
                                  f"{open_assoc} is still open", [self.w(open_assoc), self.w(i)], ""))
                    open_assoc = None
                if k == Ind.CONNECTION_COMPLETION:
                    in_conn = False
                else:
                    in_roam = False
            elif k == Ind.ASSOCIATION_START:
                n += 1
                if open_assoc is not None:
                    fails.append((f"ASSOCIATION_START while the association opened at indication "
                                  f"{open_assoc} has no ASSOCIATION_COMPLETION",
                                  [self.w(open_assoc), self.w(i)], ""))
                if not (in_conn or in_roam):
                    fails.append(("ASSOCIATION_START outside any connection or roaming operation",
                                  [self.w(i)], ""))
                open_assoc = i
            elif k == Ind.ASSOCIATION_COMPLETION:
                if open_assoc is None:
                    fails.append(("ASSOCIATION_COMPLETION with no open ASSOCIATION_START", [self.w(i)], ""))
                else:
                    a, b = self.trace[open_assoc].bssid, x.bssid
                    if a and b and a.lower() != b.lower():
                        fails.append((f"ASSOCIATION_COMPLETION for {b} closes ASSOCIATION_START for {a}",
                                      [self.w(open_assoc), self.w(i)], ""))
                open_assoc = None
        if open_assoc is not None and self.obs.complete:
            fails.append(("ASSOCIATION_START never closed", [self.w(open_assoc)], ""))
        any_assoc = any(x.kind in (Ind.ASSOCIATION_START, Ind.ASSOCIATION_COMPLETION) for x in self.trace)
        self.emit("IND-3", fails, "each association bracketed by ASSOCIATION_START/COMPLETION "
                  "inside a connection or roaming operation",
                  f"{n} association(s), all bracketed inside an operation", any_assoc,
                  "no association indication in the trace")

    # IND-4
    def ind4(self):
        fails, judged = [], 0
        for r in self.roams:
            if r.index in self.cands:
                judged += 1
                if not self.cands[r.index]:
                    fails.append((f"roam {r.index} started with an empty candidate list",
                                  [self.w(r.start)], ""))
        windows = self.obs.empty_candidate_windows
        for t0, t1 in windows:
            for r in self.roams:
                if t0 <= self.trace[r.start].t <= t1:
                    fails.append((f"roam {r.index} started at t={fmt_time(self.trace[r.start].t)}, inside a "
                                  f"span with an empty candidate list ({fmt_time(t0)}..{fmt_time(t1)})",
                                  [self.w(r.start)], ""))
        applicable = judged > 0 or bool(windows)
        self.emit("IND-4", fails, "no ROAMING_START while the candidate list is empty",
                  f"{judged} roam(s) with a non-empty candidate list; {len(windows)} empty-list "
                  f"span(s) without a roam", applicable,
                  "no candidate list given for any roam and no empty-list span")

    # IND-5
    def ind5(self):
        fails = [("ROAMING_START without a reason", [self.w(r.start)], "")
                 for r in self.roams if not (self.trace[r.start].reason or "").strip()]
        self.emit("IND-5", fails, "a reason on every ROAMING_START",
                  f"{len(self.roams)} ROAMING_START(s), each with a reason", bool(self.roams),
                  "no ROAMING_START in the trace")

    # IND-6
    def media(self, i) -> tuple[list[str], str, str]:
        """Evidence, layer and a message for a MEDIA_* indication: the adapter says which layer
        of the DUT made it (carrier is the kernel's, not the supplicant's) and with what line."""
        x = self.trace[i]
        layer = x.layer or DUT
        ev = [self.w(i)] + ([f"{layer}: {x.evidence}"] if x.evidence else [])
        msg = f"{x.kind.value} made by the {layer} layer" if x.layer else ""
        return ev, layer, msg

    def ind6(self):
        fails, ok = [], [r for r in self.roams if r.end is not None
                         and self.trace[r.end].status == SUCCESS]
        for r in ok:
            for i in r.inside():
                k = self.trace[i].kind
                if k not in (Ind.MEDIA_CONNECT, Ind.MEDIA_DISCONNECT):
                    continue
                ev, layer, msg = self.media(i)
                if k == Ind.MEDIA_CONNECT:
                    fails.append((f"MEDIA_CONNECT inside successful roam {r.index}",
                                  [self.w(r.start)] + ev + [self.w(r.end)], msg, layer))
                else:
                    fails.append((f"MEDIA_DISCONNECT inside successful roam {r.index}: the link went "
                                  f"down, and no MEDIA_CONNECT may bring it back",
                                  [self.w(r.start)] + ev + [self.w(r.end)], msg, layer))
            # a MEDIA_CONNECT right after the completion, before anything else starts, belongs to the roam
            for i in range(r.end + 1, len(self.trace)):
                k = self.trace[i].kind
                if k == Ind.MEDIA_CONNECT:
                    ev, layer, msg = self.media(i)
                    fails.append((f"MEDIA_CONNECT after successful roam {r.index}, with no "
                                  f"disconnect or new operation between",
                                  [self.w(r.end)] + ev, msg, layer))
                if k in (Ind.MEDIA_CONNECT, Ind.MEDIA_DISCONNECT, Ind.CONNECTION_START, Ind.ROAMING_START):
                    break
        # A trace with no MEDIA_* at all comes from a source that shows no link state (a
        # supplicant's control events alone): it cannot show that the link stayed up.
        shows_media = any(x.kind in (Ind.MEDIA_CONNECT, Ind.MEDIA_DISCONNECT) for x in self.trace)
        self.emit("IND-6", fails, "no MEDIA_CONNECT (and no link loss) for a successful roam",
                  f"{len(ok)} successful roam(s) without MEDIA_CONNECT", bool(ok) and shows_media,
                  "no successful roam in the trace" if not ok else
                  "the trace has no MEDIA_* indication at all: its source shows no link state")

    # IND-7
    def ind7(self):
        fails, n = [], 0
        for r in self.roams:
            if r.end is None:
                continue
            n += 1
            st = self.trace[r.end].status
            assocs = [i for i in r.inside() if self.trace[i].kind == Ind.ASSOCIATION_COMPLETION]
            last = self.trace[assocs[-1]].status if assocs else None
            ev = [self.w(r.start)] + ([self.w(assocs[-1])] if assocs else []) + [self.w(r.end)]
            if st not in (SUCCESS, FAILURE):
                fails.append((f"ROAMING_COMPLETION of roam {r.index} carries no status ({st!r})", ev, ""))
            elif last is None and st == SUCCESS:
                fails.append((f"roam {r.index} reports success with no association inside it", ev, ""))
            elif last is not None and st != last:
                fails.append((f"roam {r.index} completed with {st} but its last association "
                              f"completed with {last}", ev, ""))
        self.emit("IND-7", fails, "ROAMING_COMPLETION status = status of the roam's last association "
                  "(failure when none)", f"{n} closed roam(s), statuses consistent", n > 0,
                  "no closed roam in the trace")

    # IND-8
    def ind8(self):
        fails, notes, judged = [], [], 0
        reqs = sorted(self.obs.os_requests, key=lambda q: q.t)
        until = self.obs.observed_until
        if until is None:
            until = self.trace[-1].t if self.trace else 0.0
        N = self.obs.retry_within_s
        commands = [q for q in reqs if q.kind == "roam_command"]
        reqs = [q for q in reqs if q.kind != "roam_command"]
        for r in self.roams:
            if r.end is None:
                continue
            t0, t1 = self.trace[r.start].t, self.trace[r.end].t
            st = self.trace[r.end].status
            cmd = next((q for q in commands if 0 <= t0 - q.t <= COMMANDED_WITHIN_S), None)
            during = [q for q in reqs if t0 <= q.t <= t1 and q.kind != "phy_on"]
            if during:
                judged += 1  # the roam had to fail
                if st != FAILURE:
                    fails.append((f"roam {r.index} completed with {st} although "
                                  f"{', '.join(q.kind for q in during)} was requested during it",
                                  [self.w(r.start), self.w(r.end)] + [q.source or f"os request at t={fmt_time(q.t)}" for q in during],
                                  ""))
            if st != FAILURE:
                continue
            tried = {(self.trace[i].bssid or "").lower() for i in r.inside()
                     if self.trace[i].kind == Ind.ASSOCIATION_START}
            if not during:
                # "must remain in the OP operating state": owed after any failed roam, the
                # station's own or commanded, unless the OS ended the connection
                nxt_op = next((i for i in range(r.end + 1, len(self.trace))
                               if self.trace[i].kind in (Ind.ROAMING_START, Ind.CONNECTION_START)), None)
                if nxt_op is not None and self.trace[nxt_op].kind == Ind.CONNECTION_START:
                    judged += 1
                    drop = next((i for i in range(r.start, r.end + 1)
                                 if self.trace[i].kind == Ind.MEDIA_DISCONNECT), None)
                    layer = (getattr(self.trace[drop], "layer", "") or DUT) if drop is not None else DUT
                    fails.append((f"after failed roam {r.index} the station left the OP state: a new connection "
                                  f"operation started at indication {nxt_op}"
                                  + (f" (the link went down inside the roam at indication {drop})"
                                     if drop is not None else ""),
                                  [self.w(r.start), self.w(r.end), self.w(nxt_op)]
                                  + ([self.w(drop)] if drop is not None else []), "", layer))
                    continue
            if cmd is not None and not during:
                # The command named its target: other candidates were not the station's to try,
                # and a retry is owed only for the station's own roaming operations.
                notes.append(f"roam {r.index} was started by the test's roam command at t={cmd.t:.6f} "
                             f"({cmd.source or 'roam command'}): a stimulus, not the station's own roaming "
                             f"operation, so no periodic retry is owed for it")
                continue
            if not during and r.index in self.cands:
                judged += 1
                untried = self.cands[r.index] - tried
                if untried:
                    fails.append((f"roam {r.index} failed with untried candidates "
                                  f"{', '.join(sorted(untried))} and no PHY-off, reset or disconnect",
                                  [self.w(r.start), self.w(r.end)], ""))
            if any(q.kind in ("reset", "disconnect") for q in during):
                continue  # the OS ended the connection: no retry is owed
            later = [q for q in reqs if q.t >= t0]
            off = next((q for q in later if q.kind == "phy_off"), None)
            if off is not None and not any(q.kind == "phy_on" and q.t > off.t for q in later):
                notes.append(f"roam {r.index}: PHYs left off, retry not judged")
                continue
            start_from = t1
            if off is not None:
                on = next(q for q in later if q.kind == "phy_on" and q.t > off.t)
                start_from = max(t1, on.t)
            nxt = next((i for i in range(r.end + 1, len(self.trace))
                        if self.trace[i].kind in (Ind.ROAMING_START, Ind.CONNECTION_START)), None)
            if nxt is not None and self.trace[nxt].kind == Ind.CONNECTION_START \
                    and self.trace[nxt].t - start_from <= N:
                notes.append(f"roam {r.index}: a connection operation followed at indication {nxt}")
                continue
            if nxt is not None and self.trace[nxt].kind == Ind.ROAMING_START \
                    and self.trace[nxt].t - start_from <= N:
                judged += 1
                continue
            if until - start_from < N:
                notes.append(f"roam {r.index}: observation ended {until - start_from:g} s after the "
                             f"failure, less than {N:g} s; retry not judged")
                continue
            judged += 1
            fails.append((f"no new ROAMING_START within {N:g} s after failed roam {r.index} "
                          f"(observed until t={fmt_time(until)})", [self.w(r.start), self.w(r.end)], ""))
        self.emit("IND-8", fails, f"a failed roam has a cause (candidates exhausted, PHY off, reset, "
                  f"disconnect) and is followed by a new ROAMING_START within {N:g} s",
                  f"{judged} check(s) held" + (f"; {'; '.join(notes)}" if notes else ""),
                  judged > 0, "; ".join(notes) or "no failed roam and no OS request during a roam")

    # IND-9
    def ind9(self):
        fails, n = [], 0
        for r in self.roams:
            if r.index not in self.cands:
                continue
            c = self.cands[r.index]
            for i in r.inside():
                x = self.trace[i]
                if x.kind != Ind.ASSOCIATION_START:
                    continue
                n += 1
                if not x.bssid:
                    fails.append((f"ASSOCIATION_START in roam {r.index} names no BSSID, so its target "
                                  f"cannot be shown to be a candidate", [self.w(i)], ""))
                elif x.bssid.lower() not in c:
                    fails.append((f"roam {r.index} associates with {x.bssid}, not in its candidate list "
                                  f"({', '.join(sorted(c)) or 'empty'})", [self.w(i)], ""))
        self.emit("IND-9", fails, "association attempts in a roam target members of its candidate list",
                  f"{n} association attempt(s), all to candidates", n > 0,
                  "no association attempt in a roam with a known candidate list")


def check(trace: list[Indication], candidates_by_roam=None,
          observation: Observation | None = None) -> list[Verdict]:
    """Judge a trace. candidates_by_roam: {roam number: BSSIDs or a CandidateList}, or a list
    indexed by roam number; None entries mean unknown. Returns at least one verdict per rule."""
    trace = _validate(trace)
    obs = observation or Observation()
    cands = _candidates(candidates_by_roam)
    j = _Judge(trace, cands, obs)
    bad = [i for i in range(1, len(trace)) if trace[i].t < trace[i - 1].t]
    if bad:
        j.out.append(Verdict("IND-TRACE", "trace order", INFO, "indications in time order",
                             f"time goes backwards at {len(bad)} place(s)", tuple(j.w(i) for i in bad[:5]),
                             "judged in list order"))
    for f in (j.ind1, j.ind2, j.ind3, j.ind4, j.ind5, j.ind6, j.ind7, j.ind8, j.ind9):
        f()
    return j.out


def trace_to_json(trace: Iterable[Indication]) -> str:
    return json.dumps([x.to_dict() for x in _validate(trace)], indent=2)


def trace_from_json(text: str) -> list[Indication]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise TraceError(f"trace JSON does not parse: {e}") from None
    if not isinstance(data, list):
        raise TraceError("trace JSON must be a list of indications")
    out = []
    for i, d in enumerate(data):
        try:
            out.append(Indication(t=float(d["t"]), kind=Ind(d["kind"]), bssid=d.get("bssid"),
                                  status=d.get("status"), reason=d.get("reason"),
                                  source=d.get("source", ""), layer=d.get("layer", ""),
                                  evidence=d.get("evidence", "")))
        except (KeyError, ValueError, TypeError) as e:
            raise TraceError(f"trace item {i} is not an indication: {e!r}") from None
    return out
