"""The five smoke cases: they prove the lab, the DUT and the oracle work end to end."""
from __future__ import annotations

import time

import pytest

from engine import beacon, btm, candidates
from engine.ft.exchange import find_exchanges
from engine.ft.keys import Secrets
from engine.indications import check as check_indications
from engine.verdict import check
from fixtures.case import CaseSpec
from lab.hostapd import BSSConfig
from lab.wpas import Profile
from suites.air import Air, ap_events

pytestmark = pytest.mark.smoke

PROFILE = Profile()
AP1 = BSSConfig(channel=1, bridge="br1")
AP2 = BSSConfig(channel=6, bridge="br2")

R = "IEEE 802.11-2020"
CASES = [
    CaseSpec("SMOKE-01", "FT-PSK initial association", "802.11r", "FT-PSK", "Initial mobility domain association",
             (f"{R} 13.4", f"{R} 12.7.1.7"), ("ft_psk",), "blocker", {"kind": "ft_assoc"}),
    CaseSpec("SMOKE-02", "FT over-the-air roam", "802.11r", "FT-PSK", "Over-the-air FT protocol",
             (f"{R} 13.5", f"{R} 13.8.4", "IND-2", "IND-6", "IND-7"), ("ft_over_air", "commands"), "blocker",
             {"kind": "ft_roam", "over_ds": False}),
    CaseSpec("SMOKE-03", "BTM request to a named candidate", "802.11v", "BSS Transition Management",
             "Solicited transition to a preferred candidate",
             (f"{R} 11.24.7.3", f"{R} 9.6.13.10"), ("btm",), "blocker", {"kind": "btm"}),
    CaseSpec("SMOKE-04", "FT over-the-DS roam", "802.11r", "FT-PSK", "Over-the-DS FT protocol",
             (f"{R} 13.6", f"{R} 13.8.4", "IND-2", "IND-6", "IND-7"), ("ft_over_ds", "commands"), "blocker",
             {"kind": "ft_roam", "over_ds": True}),
    CaseSpec("SMOKE-05", "Table-mode beacon request", "802.11k", "Beacon report", "Table mode reports every known BSS",
             (f"{R} 11.10.9.3", f"{R} 9.4.2.21.7"), ("rrm_beacon_table",), "critical", {"kind": "beacon_table"}),
]


@pytest.fixture
def two_aps(aps):
    return aps.get("a", AP1), aps.get("b", AP2)


def connect_first(dut, record, ap_a, ap_b):
    """Connect to whichever AP the DUT picks, then let it learn the other by a scan."""
    with record.step("connect"):
        first = dut.connect(PROFILE)
    cur, other = (ap_a, ap_b) if first == ap_a.bssid else (ap_b, ap_a)
    with record.step("scan"):
        dut.scan()
    return cur, other


def judge_ft(record, air: Air, dut, over_ds: bool, target):
    ft = find_exchanges(air.frames, Secrets.from_passphrase(PROFILE.passphrase, PROFILE.ssid_b))
    record.attach_json("ft-analysis", ft.to_dict())
    mine = [x for x in ft.exchanges if x.sta == dut.mac]
    record.add(check("FT-EXCHANGE", f"{R} 13.5/13.6", len(mine) == 1,
                     "exactly one FT exchange by the DUT", f"{len(mine)} exchange(s)"))
    for x in mine:
        record.add(check("FT-METHOD", f"{R} 13.5/13.6", x.over_ds == over_ds,
                         "over the DS" if over_ds else "over the air",
                         "over the DS" if x.over_ds else "over the air"))
        record.add(check("FT-TARGET", f"{R} 13.8.4", x.target == target.bssid,
                         target.bssid, x.target))
        if x.latency_us is not None:
            record.metrics["ft_latency_us"] = x.latency_us
    record.add(ft.verdicts())
    return mine


@pytest.mark.parametrize("spec", CASES, ids=lambda s: s.id)
def test_smoke(spec, record, dut, two_aps, air, lab):
    kind = spec.params["kind"]
    ap_a, ap_b = two_aps
    if kind == "ft_assoc":
        with record.step("connect"):
            bssid = dut.connect(PROFILE)
        path = air.stop()
        a = Air(path)
        ft = find_exchanges(a.frames, Secrets.from_passphrase(PROFILE.passphrase, PROFILE.ssid_b))
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
        cur, other = connect_first(dut, record, ap_a, ap_b)
        m = dut.mark()
        with record.step("trigger FT_DS" if spec.params["over_ds"] else "trigger ROAM"):
            dut.ctrl(("FT_DS " if spec.params["over_ds"] else "ROAM ") + other.bssid)
        with record.step("observe"):
            dut.wait_for(lambda e: e.kind == "connected" and e.get("bssid") == other.bssid, 15, since=m)
        a = Air(air.stop())
        with record.step("judge"):
            judge_ft(record, a, dut, spec.params["over_ds"], other)
            record.add(check_indications(dut.indications()))
    elif kind == "btm":
        cur, other = connect_first(dut, record, ap_a, ap_b)
        m, mm = dut.mark(), cur.mark()
        with record.step("send BTM request"):
            cur.ctrl_ok(f"BSS_TM_REQ {dut.mac} dialog_token=7 pref=1 "
                        f"neighbor={other.bssid},0x0000,{other.op_class},{other.config.channel},7,0301ff")
        with record.step("observe"):
            cur.wait_event("BSS-TM-RESP", 15, since=mm)
            dut.wait_for(lambda e: e.kind == "connected" and e.get("bssid") == other.bssid, 15, since=m)
        a = Air(air.stop())
        with record.step("judge"):
            (rq_f, rq), = a.btm_requests()
            resp = a.btm_responses()
            scan = [candidates.ScanEntry(ap.bssid, ap.config.ssid_b, ap.freq, ap.config.channel, -30,
                                         frozenset({4}), None) for ap in (ap_a, ap_b)]
            prof = candidates.Profile(PROFILE.ssid_b, frozenset({4}))
            pred = btm.predict(rq, cur.bssid, scan, prof)
            rs_f, rs = resp[0] if resp else (None, None)
            reassoc = a.first_after(rq_f.t, dut.mac, "reassoc_req", "auth", "ft_action_req")
            tl = btm.Timeline(request_t=rq_f.t, response_t=rs_f.t if rs_f else None,
                              reassoc_t=reassoc.t if reassoc else None, joined_bssid=other.bssid)
            record.add(btm.validate(rq, rs, pred, tl))
            hev = ap_events(cur, "BSS-TM-RESP", mm)
            record.add(check("BTM-HOSTAPD-EVENT", f"{R} 11.24.7.3",
                             bool(hev) and rs is not None and hev[0][1].value.status == rs.status
                             and hev[0][1].value.target == rs.target,
                             "hostapd's BSS-TM-RESP matches the frame on the air",
                             f"event {hev[0][1].value if hev else None}, frame {rs}"))
            record.add(check_indications(dut.indications()))
    elif kind == "beacon_table":
        cur, other = connect_first(dut, record, ap_a, ap_b)
        mm = cur.mark()
        with record.step("send beacon request (table mode)"):
            tok = cur.ctrl_ok(f"REQ_BEACON {dut.mac} " + "5100" + "0000" + "0000" + "02" + "ff" * 6)
        with record.step("observe"):
            cur.wait_event(r"BEACON-RESP-RX", 15, since=mm)
            # the DUT may send more than one report frame; give the rest a moment to land
            time.sleep(2)
        a = Air(air.stop())
        with record.step("judge"):
            (rq_f, rq), = a.beacon_requests()
            reports = [ev.value for _, ev in ap_events(cur, "BEACON-RESP-RX", mm)]
            record.attach_json("beacon-reports", [repr(r) for r in reports])
            pred = beacon.predict(rq, a.truth([ap_a, ap_b]),
                                  beacon.BeaconDut(cache=frozenset({ap_a.bssid, ap_b.bssid})))
            record.add(beacon.validate(rq, reports, pred))
            got = {r.bssid for r in reports}
            record.add(check("BCN-TABLE-ALL", f"{R} 11.10.9.3", got == {ap_a.bssid, ap_b.bssid},
                             f"one report per BSS in the DUT's table: {sorted({ap_a.bssid, ap_b.bssid})}",
                             f"{sorted(got)} (token {tok})"))
    record.judge()
