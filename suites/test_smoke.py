"""The five smoke cases: they prove the lab, the DUT and the oracle work end to end.
They judge the frames and the daemons; the Native 802.11 indication rules are judged by
the roaming cases of the full suites (test_11r, test_11v, test_native)."""
from __future__ import annotations

import pytest

from engine import beacon
from engine.ft.exchange import find_exchanges
from engine.verdict import check
from fixtures.case import CaseSpec
from lab.hostapd import BSSConfig
from lab.network import FT_AP1, FT_AP2, KEY_A, KEY_B
from suites.air import Air, ap_events
from suites.k_steps import judge_beacon_air
from suites.steps import (R, connect, connect_first, judge_btm, judge_ft_roam,
                          observe, roam_timeline, secrets, settle, wait_connected)

pytestmark = pytest.mark.smoke

AP1, AP2 = FT_AP1, FT_AP2

CASES = [
    CaseSpec("SMOKE-01", "FT-PSK initial association", "802.11r", "FT-PSK", "Initial mobility domain association",
             (f"{R} 13.4", f"{R} 12.7.1.7"), ("ft_psk",), "blocker", {"kind": "ft_assoc"}),
    CaseSpec("SMOKE-02", "FT over-the-air roam", "802.11r", "FT-PSK", "Over-the-air FT protocol",
             (f"{R} 13.5", f"{R} 13.8.4", ), ("ft_over_air", "commands"), "blocker",
             {"kind": "ft_roam", "over_ds": False}),
    CaseSpec("SMOKE-03", "BTM request to a named candidate", "802.11v", "BSS Transition Management",
             "Solicited transition to a preferred candidate",
             (f"{R} 11.24.7.3", f"{R} 9.6.13.10"), ("btm",), "blocker", {"kind": "btm"}),
    CaseSpec("SMOKE-04", "FT over-the-DS roam", "802.11r", "FT-PSK", "Over-the-DS FT protocol",
             (f"{R} 13.6", f"{R} 13.8.4", ), ("ft_over_ds", "commands"), "blocker",
             {"kind": "ft_roam", "over_ds": True}),
    CaseSpec("SMOKE-05", "Table-mode beacon request", "802.11k", "Beacon report", "Table mode reports every known BSS",
             (f"{R} 11.10.9.3", f"{R} 9.4.2.21.7"), ("rrm_beacon_table",), "critical", {"kind": "beacon_table"}),
]


@pytest.fixture
def two_aps(aps):
    return aps.get("a", AP1), aps.get("b", AP2)


@pytest.mark.parametrize("spec", CASES, ids=lambda s: s.id)
def test_smoke(spec, record, dut, two_aps, air, lab):
    kind = spec.params["kind"]
    ap_a, ap_b = two_aps
    if kind == "ft_assoc":
        bssid = connect(dut, record)
        a = Air(air.stop())
        with record.step("judge"):
            ft = find_exchanges(a.frames, secrets())
            record.attach_json("ft-analysis", ft.to_dict())
            mine = [i for i in ft.initial if i.sta == dut.mac]
            record.add(check("FT-INITIAL", f"{R} 13.4", len(mine) == 1,
                             "one initial mobility domain association", f"{len(mine)}"))
            hs = [h for h in ft.handshakes if h.sta == dut.mac]
            record.add(check("FT-4WAY-ONCE", f"{R} 13.4", len(hs) == 1,
                             "exactly one 4-way handshake", f"{len(hs)}"))
            record.add(ft.verdicts())
            record.add(check("CONNECTED", f"{R} 13.4", bssid in (ap_a.bssid, ap_b.bssid),
                             "connected to a lab AP", bssid))
    elif kind == "ft_roam":
        over_ds = spec.params["over_ds"]
        cur, other = connect_first(dut, record, ap_a, ap_b)
        m = dut.mark()
        t0 = lab.now()
        with record.step("trigger FT_DS" if over_ds else "trigger ROAM"):
            r = dut.ctrl(("FT_DS " if over_ds else "ROAM ") + other.bssid)
            record.metrics["command_reply"] = r
        with record.step("observe"):
            moved = observe(record, "roam to the target", wait_connected, dut, other.bssid, m, 10)
        a = Air(air.stop())
        with record.step("judge"):
            record.add(check("ROAM-COMPLETED", f"{R} 13.5/13.6", bool(moved),
                             f"connected to {other.bssid} after the FT roam",
                             "connected" if moved else f"not connected to it (command reply "
                             f"{record.metrics.get('command_reply')!r})"))
            _, mine = judge_ft_roam(record, a, dut, over_ds, other)
            record.attach_json("indications", [i.to_dict() for i in dut.indications()])
            roam_timeline(record, a, dut, cur, other, spec.title, t0,
                          {"ft": mine[0].latency_us} if mine and mine[0].latency_us else None)
    elif kind == "btm":
        cur, other = connect_first(dut, record, ap_a, ap_b)
        m, mm = dut.mark(), cur.mark()
        t0 = lab.now()
        with record.step("send BTM request"):
            cur.ctrl_ok(f"BSS_TM_REQ {dut.mac} dialog_token=7 pref=1 "
                        f"neighbor={other.bssid},0x0000,{other.op_class},{other.config.channel},7,0301ff")
        with record.step("observe"):
            observe(record, "BSS-TM-RESP", cur.wait_event, "BSS-TM-RESP", 10, since=mm)
            moved = observe(record, "roam to the candidate", wait_connected, dut, other.bssid, m, 10)
        a = Air(air.stop())
        with record.step("judge"):
            rq, rs = judge_btm(record, a, dut, cur, [ap_a, ap_b], joined=other.bssid if moved else None,
                               dialog_token=7)
            # The one candidate is on the air, preferred (255), seen by the DUT and in its
            # profile: a conformant roaming client takes it (the smoke case's own requirement).
            record.add(check("BTM-ACCEPT-PREFERRED", f"{R} 11.24.7.3",
                             rs is not None and rs.status == 0 and rs.target == other.bssid and bool(moved),
                             f"status 0 with target {other.bssid}, then a roam to it",
                             f"response {rs}, roamed: {bool(moved)}"))
            hev = ap_events(cur, "BSS-TM-RESP", mm)
            record.add(check("BTM-HOSTAPD-EVENT", f"{R} 11.24.7.3",
                             bool(hev) and rs is not None and hev[0][1].value.status == rs.status
                             and hev[0][1].value.target == rs.target,
                             "hostapd's BSS-TM-RESP matches the frame on the air",
                             f"event {hev[0][1].value if hev else None}, frame {rs}"))
            record.attach_json("indications", [i.to_dict() for i in dut.indications()])
            roam_timeline(record, a, dut, cur, other, spec.title, t0)
    elif kind == "beacon_table":
        cur, other = connect_first(dut, record, ap_a, ap_b)
        mm = cur.mark()
        with record.step("send beacon request (table mode)"):
            token = int(cur.ctrl_ok(f"REQ_BEACON {dut.mac} " + "5100" + "0000" + "0000" + "02" + "ff" * 6))
        with record.step("observe"):
            observe(record, "BEACON-RESP-RX", cur.wait_event, r"BEACON-RESP-RX", 10, since=mm)
            settle(2)  # the DUT may send more than one report frame
        a = Air(air.stop())
        with record.step("judge"):
            _, reports = judge_beacon_air(record, a, cur, dut, [ap_a, ap_b], token,
                                          beacon.BeaconDut(cache=frozenset({ap_a.bssid, ap_b.bssid})), mm)
            got = {r.bssid for r in reports}
            record.add(check("BCN-TABLE-ALL", f"{R} 11.10.9.3", got == {ap_a.bssid, ap_b.bssid},
                             f"one report per BSS in the DUT's table: {sorted({ap_a.bssid, ap_b.bssid})}",
                             f"{sorted(got)}"))
    record.judge()
