"""Steps shared by the 802.11r and Native 802.11 suites (test_11r.py, test_native.py).
Verdicts come from engine/; this module gathers facts and records them."""
from __future__ import annotations

import statistics

from engine.clauses import rule
from engine.frames import header_len, mac
from engine.indications import check as check_indications
from engine.verdict import INFO, check
from engine.air import Air
from suites.steps import R

DS_CLAUSE = f"{R} 13.6, 9.4.2.46"  # FT over the DS only where the MDE advertises it
MD_CLAUSE = f"{R} 13.5.1, 13.4"  # FT only inside the mobility domain; otherwise an initial association


def ind(*ids: str) -> tuple[str, ...]:
    """Rule ids for CaseSpec.requirements, checked against the clause registry."""
    for i in ids:
        rule(i)
    return ids


def roam_cmd(over_ds: bool, bssid: str) -> str:
    return ("FT_DS " if over_ds else "ROAM ") + bssid


def judge_rules(record, dut, focus: tuple[str, ...] = (), **kw):
    """Judge the DUT's indication trace (IND-1..9); each focus rule must have been judged,
    not left as "not applicable", or the scenario proved nothing about it."""
    trace = dut.indications()
    record.attach_json("indications", [i.to_dict() for i in trace])
    vs = check_indications(trace, **kw)
    record.add(vs)
    for rid in focus:
        mine = [v for v in vs if v.rule == rid]
        judged = [v for v in mine if v.status != INFO]
        record.add(check(f"{rid}-JUDGED", rule(rid).clause, bool(judged),
                         f"the scenario gives {rid} something to judge",
                         "; ".join(v.observed for v in mine) or "no verdict"))
    return trace, vs


def sent_by(air: Air, sta: str, t0: float, *kinds: str, to: str | None = None):
    """Frames of these kinds sent by sta at or after t0 (optionally to one address)."""
    out = []
    for f in air.of_kind(*kinds):
        if f.t < t0 or mac(f.raw[10:16]) != sta.lower():
            continue
        if to is not None and mac(f.raw[4:10]) != to.lower():
            continue
        out.append(f)
    return out


def auth_alg(raw: bytes) -> int:
    """Authentication Algorithm Number (9.4.1.1) of an Authentication frame."""
    b = raw[header_len(raw):]
    return int.from_bytes(b[0:2], "little")


def mde_of_beacon(air: Air, bssid: str) -> bytes | None:
    """The MDE body (MDID 2, FT capability 1) of the last beacon of bssid."""
    from engine.ft import frame as fr
    body = None
    for f, k in zip(air.frames, air.kinds):
        if k == "beacon" and mac(f.raw[16:22]) == bssid.lower():
            span = fr.parse(f.raw).span(fr.EID_MDE)
            if span is not None:
                body = span[2:]
    return body


def latency_summary(values_us: list[int]) -> dict:
    if not values_us:
        return {}
    return {"n": len(values_us), "min_ms": min(values_us) / 1000,
            "median_ms": statistics.median(values_us) / 1000, "max_ms": max(values_us) / 1000}
