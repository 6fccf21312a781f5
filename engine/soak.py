"""The soak bench's measurements: per roam of a long back-and-forth run, its roam time on the
air and its data-plane outage from the ping that ran through it, and why a roam failed.

The roam time is the FT judge's (FTExchange.latency_us: the first FT frame to the
Reassociation Response, engine/ft/model.py); a BTM-steered roam between the lab's FT APs is
an FT roam too, so it has one. The outage is the ping's: pings lost, and the longest run of
unanswered pings times the interval (engine/outage.unanswered_runs). Pure: the caller hands
in the capture's frames and what the bench did; nothing here reads files or judges conformance.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from engine.ft.exchange import find_exchanges
from engine.ft.keys import Secrets
from engine.ft.checks import SLOW_AP
from engine.outage import unanswered_runs
from engine.verdict import FAIL

FT_AIR, FT_DS, BTM = "ft-air", "ft-ds", "btm"
KINDS = (FT_AIR, FT_DS, BTM)


@dataclass
class RoamRecord:
    """What the bench did for one roam and what the DUT said (its own view, not yet measured)."""
    index: int
    kind: str                  # one of KINDS
    source: str                # BSSID the DUT was on
    target: str                # BSSID it was sent to
    t_command: float           # lab clock (the capture's clock) when the command/request went out
    t_end: float               # lab clock when the bench stopped waiting for this roam
    connected_to: str | None   # BSSID of the DUT's CTRL-EVENT-CONNECTED after t_command, if any
    problem: str = ""          # the bench's own note: command refused, wait timed out, ...
    ping_transmitted: int = 0
    ping_answered: list[int] = field(default_factory=list)
    ping_interval_s: float = 0.01


@dataclass
class RoamMeasurement:
    index: int
    kind: str
    source: str
    target: str
    ok: bool
    roam_time_us: int | None
    pings_lost: int | None
    outage_ms: float | None    # longest unanswered run x interval
    failure: str = ""
    layers: list[str] = field(default_factory=list)  # layers of the FT judge's FAILs in the roam's window

    def to_dict(self) -> dict:
        return asdict(self)


def _exchanges_in(exchanges, sta: str, r: RoamRecord):
    return [x for x in exchanges if x.sta == sta and x._msgs() and r.t_command <= x._msgs()[0].t <= r.t_end]


def measure(frames, sta: str, roams: list[RoamRecord], secrets: Secrets | None = None) -> list[RoamMeasurement]:
    """One RoamMeasurement per roam, from the capture's frames (covering every roam's
    [t_command, t_end]) and the bench's records. A roam fails when the DUT did not end on the
    target, when the air has no completed FT exchange to the target in its window (every roam
    of the soak is between two FT APs of one mobility domain), or when no ping went through
    it; the failure names which."""
    frames = list(frames)
    ft = find_exchanges(frames, secrets)
    t_of = {f.index: f.t for f in frames}
    out = []
    for r in roams:
        mine = _exchanges_in(ft.exchanges, sta, r)
        # completed: the target's Reassociation Response accepted the roam (status 0)
        done = [x for x in mine if x.target == r.target and x.latency_us is not None and x.reassoc_resp.status == 0]
        fails = [v for x in mine for v in x.findings + x.verdicts if v.status == FAIL]
        why = []
        if r.problem:
            why.append(r.problem)
        if r.connected_to != r.target:
            why.append(f"no connection to {r.target}" + (f" (connected to {r.connected_to})" if r.connected_to else ""))
            # a full connection (4-way handshake) in the window: the DUT gave up on FT and joined afresh
            full = sorted({h.ap for h in ft.handshakes if h.sta == sta and 1 in h.messages
                           and r.t_command <= t_of.get(h.messages[1][0], -1.0) <= r.t_end})
            if full:
                why.append(f"a 4-way handshake with {', '.join(full)} followed (a full connection, not FT)")
        if not done:
            def state(x):
                if x.reassoc_resp is None:
                    return "without Reassociation Response"
                return f"refused (Reassociation Response status {x.reassoc_resp.status})"
            seen = ", ".join(f"to {x.target} {state(x)}" for x in mine) or "none"
            why.append(f"no completed FT exchange to {r.target} on the air (exchanges seen: {seen})")
        if fails:
            rules = sorted({f"{v.rule} ({v.layer})" for v in fails})
            why.append("FT judge FAILs: " + ", ".join(rules))
            if any(SLOW_AP in (v.message or "") for v in fails):
                why.append(f"{SLOW_AP}: the STA resent its FT Authentication and the AP answered both with "
                           "different ANonces (lab note LAB-FT-AUTH-TIMEOUT)")
        elif r.kind in (FT_AIR, FT_DS) and any(x.over_ds is not None and x.over_ds != (r.kind == FT_DS) for x in done):
            why.append(f"FT {'over the air' if r.kind == FT_DS else 'over the DS'} where {r.kind} was commanded")
        lost = outage = None
        if r.ping_transmitted > 0:
            lost = r.ping_transmitted - len(set(r.ping_answered))
            runs = unanswered_runs(r.ping_transmitted, r.ping_answered)
            outage = round(max((b - a + 1 for a, b in runs), default=0) * r.ping_interval_s * 1000, 1)
        else:
            why.append("no ping ran through the roam")
        out.append(RoamMeasurement(r.index, r.kind, r.source, r.target, not why,
                                   done[-1].latency_us if done else None, lost, outage, "; ".join(why),
                                   sorted({v.layer for v in fails})))
    return out
