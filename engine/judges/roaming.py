"""Judging steps the 802.11r and Native 802.11 families share: the indication rules with
the scenario's focus, frames a station sent, the MDE an AP beacons, latency figures, and
the OS requests a scenario recorded as facts."""
from __future__ import annotations

import dataclasses

import statistics

from engine.air import Air
from engine.clauses import rule
from engine.evidence import DutView
from engine.ft import frame as ft_frame
from engine.indications import Observation, OsRequest
from engine.indications import check as check_indications
from engine.verdict import INFO, check

DS_CLAUSE = "IEEE 802.11-2020 13.6, 9.4.2.46"  # FT over the DS only where the MDE advertises it
MD_CLAUSE = "IEEE 802.11-2020 13.5.1, 13.4"  # FT only inside the mobility domain; otherwise an initial association


def indication_rules(j, dut: DutView, focus: tuple[str, ...] = (), commands: tuple[OsRequest, ...] = (), **kw):
    """Judge the DUT's indication trace (IND-1..9); each focus rule must have been judged,
    not left as "not applicable", or the scenario proved nothing about it. commands are the
    roam commands the scenario gave (roam_commands(ev)): roams they started are the
    stimulus's, not the station's own."""
    if commands:
        obs = kw.get("observation") or Observation()
        kw["observation"] = dataclasses.replace(obs, os_requests=tuple(obs.os_requests) + tuple(commands))
    trace = dut.indications()
    j.attach_json("indications", [i.to_dict() for i in trace])
    vs = check_indications(trace, **kw)
    j.add(vs)
    for rid in focus:
        mine = [v for v in vs if v.rule == rid]
        judged = [v for v in mine if v.status != INFO]
        j.add(check(f"{rid}-JUDGED", rule(rid).clause, bool(judged),
                    f"the scenario gives {rid} something to judge",
                    "; ".join(v.observed for v in mine) or "no verdict"))
    return trace, vs


def roam_commands(ev) -> tuple[OsRequest, ...]:
    """The roam command a scenario gave (ROAM, FT_DS, ...): it records t0 just before the
    command and the command's reply."""
    f = ev.facts
    if "command_reply" not in f or "t0" not in f:
        return ()
    return (OsRequest(float(f["t0"]), "roam_command", f"the test's roam command (reply {str(f['command_reply']).strip()!r})"),)


def os_requests(facts: dict) -> tuple[OsRequest, ...]:
    """The requests the scenario made of the DUT's OS (facts["os_requests"]: t, kind, how)."""
    return tuple(OsRequest(float(r["t"]), str(r["kind"]), str(r.get("how", ""))) for r in facts.get("os_requests", ()))


def sent_by(air: Air, sta: str, t0: float, *kinds: str, to: str | None = None):
    """Frames of these kinds sent by sta at or after t0 (optionally to one address)."""
    sta = sta.lower()
    return [f for f in air.of_kind(*kinds)
            if f.t >= t0 and f.src == sta and (to is None or f.dst == to.lower())]


def auth_algorithm(frame) -> int:
    """Authentication Algorithm Number (9.4.1.1), the first field of an Authentication body."""
    return int.from_bytes(frame.body[0:2], "little")


def mde_of_beacon(air: Air, bssid: str) -> bytes | None:
    """The MDE body (MDID 2, FT capability 1) of the last beacon of bssid."""
    body = None
    for f in air.of_kind("beacon"):
        if f.addr3 == bssid.lower():
            span = ft_frame.parse(f.raw).span(ft_frame.EID_MDE)
            if span is not None:
                body = span[2:]
    return body


def latency_summary(values_us: list[int]) -> dict:
    if not values_us:
        return {}
    return {"n": len(values_us), "min_ms": min(values_us) / 1000,
            "median_ms": statistics.median(values_us) / 1000, "max_ms": max(values_us) / 1000}


def state_of(status: dict) -> str:
    """A supplicant STATUS reply, as the verdicts quote it."""
    return f"{status.get('wpa_state')} with {status.get('bssid')}"
