"""The smoke cases' judges: FT initial association, an FT roam, a BTM request to a named
candidate, a table-mode beacon request."""
from __future__ import annotations

from engine import beacon
from engine.air import Air, ap_events
from engine.evidence import CaseEvidence
from engine.ft.exchange import find_exchanges
from engine.judges import judge
from engine.judges.common import R, judge_btm, judge_ft_roam, roam_timeline, secrets
from engine.judges.rrm_air import judge_beacon_air
from engine.verdict import REFERENCE_AP, check


@judge("smoke.ft_assoc")
def ft_assoc(ev: CaseEvidence, air: Air, j) -> None:
    dut, bssid = ev.dut, ev.facts["connected_to"]
    ft = find_exchanges(air.frames, secrets(ev.profile))
    j.attach_json("ft-analysis", ft.to_dict())
    mine = [i for i in ft.initial if i.sta == dut.mac]
    j.add(check("FT-INITIAL", f"{R} 13.4", len(mine) == 1,
                "one initial mobility domain association", f"{len(mine)}"))
    hs = [h for h in ft.handshakes if h.sta == dut.mac]
    j.add(check("FT-4WAY-ONCE", f"{R} 13.4", len(hs) == 1, "exactly one 4-way handshake", f"{len(hs)}"))
    j.add(ft.verdicts())
    j.add(check("CONNECTED", f"{R} 13.4", bssid in {ap.bssid for ap in ev.aps.values()},
                "connected to a lab AP", bssid))


@judge("smoke.ft_roam")
def ft_roam(ev: CaseEvidence, air: Air, j) -> None:
    dut, cur, other = ev.dut, ev.ap("cur"), ev.ap("other")
    over_ds, moved = ev.params["over_ds"], ev.facts["moved"]
    j.add(check("ROAM-COMPLETED", f"{R} 13.5/13.6", bool(moved),
                f"connected to {other.bssid} after the FT roam",
                "connected" if moved else f"not connected to it (command reply {ev.facts.get('command_reply')!r})"))
    _, mine = judge_ft_roam(j, air, dut, over_ds, other, ev.profile)
    j.attach_json("indications", [i.to_dict() for i in dut.indications()])
    roam_timeline(j, air, dut, cur, other, ev.title, ev.facts["t0"],
                  {"ft": mine[0].latency_us} if mine and mine[0].latency_us else None)


@judge("smoke.btm")
def btm_named(ev: CaseEvidence, air: Air, j) -> None:
    dut, cur, other = ev.dut, ev.ap("cur"), ev.ap("other")
    moved, mm = ev.facts["moved"], ev.facts["ap_mark"]
    rq, rs = judge_btm(j, air, dut, cur, list(ev.aps.values()), ev.profile,
                       joined=other.bssid if moved else None, dialog_token=ev.params["token"])
    # The one candidate is on the air, preferred (255), seen by the DUT and in its profile:
    # a conformant roaming client takes it (the smoke case's own requirement).
    j.add(check("BTM-ACCEPT-PREFERRED", f"{R} 11.24.7.3",
                rs is not None and rs.status == 0 and rs.target == other.bssid and bool(moved),
                f"status 0 with target {other.bssid}, then a roam to it",
                f"response {rs}, roamed: {bool(moved)}"))
    hev = ap_events(cur, "BSS-TM-RESP", mm)
    j.add(check("BTM-HOSTAPD-EVENT", f"{R} 11.24.7.3",
                bool(hev) and rs is not None and hev[0][1].value.status == rs.status
                and hev[0][1].value.target == rs.target,
                "hostapd's BSS-TM-RESP matches the frame on the air",
                f"event {hev[0][1].value if hev else None}, frame {rs}", layer=REFERENCE_AP))
    j.attach_json("indications", [i.to_dict() for i in dut.indications()])
    roam_timeline(j, air, dut, cur, other, ev.title, ev.facts["t0"])


@judge("smoke.beacon_table")
def beacon_table(ev: CaseEvidence, air: Air, j) -> None:
    dut, cur = ev.dut, ev.ap("cur")
    aps = [ev.ap("a"), ev.ap("b")]
    want = {a.bssid for a in aps}
    _, reports = judge_beacon_air(j, air, cur, dut, aps, ev.facts["token"],
                                  beacon.BeaconDut(cache=frozenset(want)), ev.facts["ap_mark"])
    got = {r.bssid for r in reports}
    j.add(check("BCN-TABLE-ALL", f"{R} 11.10.9.3", got == want,
                f"one report per BSS in the DUT's table: {sorted(want)}", f"{sorted(got)}"))
