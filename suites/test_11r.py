"""802.11r FT-PSK: initial mobility domain association, roams over the air and over the
DS, repeated roams, a foreign mobility domain, FT over the DS where it is not offered,
R0KH/R1KH key mismatch, and the data-plane outage of a roam."""
from __future__ import annotations

import os
import time

import pytest

from devices.base import WaitTimeout
from engine.clauses import rule
from engine.ft.exchange import find_exchanges
from engine.ies import split
from engine.indications import Observation
from engine.verdict import check
from fixtures.case import CaseSpec
from lab import dataplane
from lab.hostapd import BSSConfig
from lab.network import FT_AP1, FT_AP2, KEY_A, KEY_B
from engine.air import Air
from suites.roam_steps import (DS_CLAUSE, MD_CLAUSE, auth_alg, ind, judge_rules, latency_summary,
                               mde_of_beacon, roam_cmd, sent_by)
from suites.steps import (PROFILE, R, connect_first, judge_ft_roam, observe, roam_timeline, secrets, settle,
                          wait_connected)

AP1, AP2 = FT_AP1, FT_AP2
EPIC, FEAT = "802.11r", "FT-PSK"
LOSS_LIMIT = 25  # lost 10 ms pings per roam (ChromeOS tast wificell)
LOSS_CLAUSE = (f"{R} 13.1 (FT keeps the loss of connectivity during a transition small); "
               f"ChromeOS tast wificell: at most {LOSS_LIMIT} lost 10 ms pings per roam")


def spec(id, title, story, reqs, needs, severity, **params):
    return CaseSpec(id, title, EPIC, FEAT, story, reqs, needs, severity, params)


CASES = [
    spec("FT-01", "Initial mobility domain association", "Initial mobility domain association",
         (f"{R} 13.4", f"{R} 9.4.2.46", f"{R} 9.4.2.47", f"{R} 12.7.1.7"), ("ft_psk",), "blocker",
         kind="initial"),
    spec("FT-02", "FT over-the-air roam", "Over-the-air FT protocol",
         (f"{R} 13.5.2", f"{R} 13.8.4", f"{R} 13.8.5", f"{R} 12.7.1.7.4", *ind("IND-2", "IND-6", "IND-7")),
         ("ft_psk", "ft_over_air", "commands"), "blocker", kind="roam", over_ds=False),
    spec("FT-03", "FT over-the-DS roam", "Over-the-DS FT protocol",
         (f"{R} 13.5.4", f"{R} 13.6", f"{R} 13.8.4", f"{R} 13.8.5", f"{R} 12.7.1.7.4",
          *ind("IND-2", "IND-6", "IND-7")),
         ("ft_psk", "ft_over_ds", "commands"), "blocker", kind="roam", over_ds=True),
    spec("FT-04", "20 FT roams back and forth", "Repeated over-the-air FT roams",
         (f"{R} 13.5.2", f"{R} 13.8.4", f"{R} 13.8.5", *ind("IND-2", "IND-6", "IND-7")),
         ("ft_psk", "ft_over_air", "commands"), "critical", kind="repeat", rounds=20),
    spec("FT-05", "Target in another mobility domain", "No FT across mobility domains",
         (f"{R} 13.5.1", f"{R} 13.4", f"{R} 9.4.2.46", *ind("IND-2", "IND-7")),
         ("ft_psk", "ft_over_air", "commands"), "critical", kind="other_md"),
    spec("FT-06", "FT over the DS not offered (ft_over_ds=0)", "No FT over the DS where the MDE says no",
         (f"{R} 13.6", f"{R} 9.4.2.46", *ind("IND-2")),
         ("ft_psk", "ft_over_ds", "commands"), "critical", kind="no_ds"),
    spec("FT-07", "R0KH/R1KH key mismatch over the DS", "A failed FT roam keeps the current link",
         (f"{R} 13.5.4", f"{R} 13.7.2", *ind("IND-7", "IND-8")),
         ("ft_psk", "ft_over_ds", "commands"), "critical", kind="key_mismatch"),
    spec("FT-08", "Ping loss across FT roams", "Data-plane outage of an FT roam",
         (f"{R} 13.1", f"{R} 13.5.2", *ind("IND-6")),
         ("ft_psk", "ft_over_air", "commands", "data_plane"), "critical", kind="dataplane", rounds=2),
]


def configs(kind):
    if kind == "other_md":
        return AP1, BSSConfig(channel=6, bridge="br2", mdid="c3d4")
    if kind == "no_ds":
        return BSSConfig(channel=1, bridge="br1", ft_over_ds=False), BSSConfig(channel=6, bridge="br2",
                                                                               ft_over_ds=False)
    if kind == "key_mismatch":
        return (BSSConfig(channel=1, bridge="br1", ft_psk_generate_local=False, ft_key=KEY_A),
                BSSConfig(channel=6, bridge="br2", ft_psk_generate_local=False, ft_key=KEY_B))
    return AP1, AP2


@pytest.mark.parametrize("spec", CASES, ids=lambda s: s.id)
def test_ft(spec, record, dut, aps, air, lab):
    kind = spec.params["kind"]
    c1, c2 = configs(kind)
    ap_a, ap_b = aps.get("a", c1), aps.get("b", c2)
    if kind == "initial":
        initial(record, dut, air, ap_a, ap_b)
    elif kind == "roam":
        one_roam(spec, record, dut, air, lab, ap_a, ap_b)
    elif kind == "repeat":
        repeat(spec, record, dut, air, lab, ap_a, ap_b)
    elif kind == "other_md":
        other_md(spec, record, dut, air, lab, ap_a, ap_b)
    elif kind == "no_ds":
        no_ds(spec, record, dut, air, lab, ap_a, ap_b)
    elif kind == "key_mismatch":
        key_mismatch(spec, record, dut, air, lab, ap_a, ap_b)
    elif kind == "dataplane":
        data_plane(spec, record, dut, air, lab, ap_a, ap_b)
    record.judge()


def initial(record, dut, air, ap_a, ap_b):
    with record.step("connect"):
        bssid = dut.connect(PROFILE)
    settle(0.5)
    a = Air(air.stop())
    with record.step("judge"):
        ft = find_exchanges(a.frames, secrets())
        record.attach_json("ft-analysis", ft.to_dict())
        mine = [i for i in ft.initial if i.sta == dut.mac]
        record.add(check("FT-INITIAL", f"{R} 13.4", len(mine) == 1,
                         "one initial mobility domain association (MDE and FT AKM in the Association Request)",
                         f"{len(mine)}", tuple(f"frame {i.request.index}" for i in mine)))
        for i in mine:
            record.add(check("FT-INITIAL-MDE", f"{R} 13.4, 9.4.2.46", i.request.mde is not None,
                             "an MDE in the Association Request", "present" if i.request.mde else "absent",
                             (f"frame {i.request.index}",)))
            h = i.handshake
            ids = []
            if h is not None and h.m2 is not None:
                ids = [e.id for e in split(h.m2.key_data, what="M2 Key Data")[0]]
            record.add(check("FT-INITIAL-FTE", f"{R} 13.4.2, 9.4.2.47", 55 in ids and 54 in ids,
                             "MDE and FTE in the Key Data of 4-way message 2",
                             f"element ids {ids}" if h and h.m2 else "no message 2",
                             tuple(f"frame {x}" for x in (h.messages.get(2, []) if h else []))))
        hs = [h for h in ft.handshakes if h.sta == dut.mac]
        record.add(check("FT-4WAY-ONCE", f"{R} 13.4", len(hs) == 1, "exactly one 4-way handshake",
                         f"{len(hs)}"))
        record.add(ft.verdicts())
        record.add(check("CONNECTED", f"{R} 13.4", bssid in (ap_a.bssid, ap_b.bssid),
                         "connected to a lab AP", bssid))
        judge_rules(record, dut, focus=("IND-3",))


def one_roam(spec, record, dut, air, lab, ap_a, ap_b):
    over_ds = spec.params["over_ds"]
    cur, other = connect_first(dut, record, ap_a, ap_b)
    m = dut.mark()
    t0 = lab.now()
    with record.step("trigger " + roam_cmd(over_ds, other.bssid)):
        reply = dut.ctrl(roam_cmd(over_ds, other.bssid))
    record.add(check("ROAM-ACCEPTED", f"{R} 13.5.1", reply.startswith("OK"), "OK", reply.strip()))
    with record.step("observe"):
        try:
            wait_connected(dut, other.bssid, m)
            done = "connected"
        except WaitTimeout as e:
            done = str(e).splitlines()[0]
    record.add(check("ROAM-COMPLETED", f"{R} 13.5.1", done == "connected", f"connected to {other.bssid}", done))
    settle(0.5)
    a = Air(air.stop())
    with record.step("judge"):
        ft, mine = judge_ft_roam(record, a, dut, over_ds, other)
        hs = [h for h in ft.handshakes if h.sta == dut.mac and h.ap == other.bssid]
        record.add(check("FT-NO-4WAY-TARGET", f"{R} 13.5.1", not hs,
                         "no 4-way handshake with the target", f"{len(hs)} handshake(s)"))
        lat = mine[0].latency_us if mine else None
        record.metrics["ft_latency"] = latency_summary([x.latency_us for x in mine if x.latency_us])
        judge_rules(record, dut, focus=("IND-2", "IND-6", "IND-7"))
        roam_timeline(record, a, dut, cur, other, spec.title, t0, {"ft": lat} if lat else None)


def repeat(spec, record, dut, air, lab, ap_a, ap_b):
    n = spec.params["rounds"]
    cur, other = connect_first(dut, record, ap_a, ap_b)
    first = (cur, other)
    t0 = lab.now()
    fails, done = [], 0
    with record.step(f"{n} roams"):
        for i in range(n):
            m = dut.mark()
            reply = dut.ctrl(roam_cmd(False, other.bssid))
            try:
                if not reply.startswith("OK"):
                    raise WaitTimeout(f"ROAM answered {reply.strip()!r}")
                wait_connected(dut, other.bssid, m, timeout=10)
                done += 1
                cur, other = other, cur
            except WaitTimeout as e:
                fails.append(f"roam {i + 1} to {other.bssid}: {str(e).splitlines()[0]}")
                break  # the DUT is in an unknown state; what happened is on the air
    settle(0.5)
    a = Air(air.stop())
    with record.step("judge"):
        record.add(check("FT-REPEAT", f"{R} 13.5.2", done == n and not fails,
                         f"{n} successful roams, no failure", f"{done} succeeded; " + ("; ".join(fails) or
                                                                                          "no failure")))
        ft, mine = judge_ft_roam(record, a, dut, False, None)
        ok = [x for x in mine if x.reassoc_status == 0 and x.ok]
        record.add(check("FT-REPEAT-EXCHANGES", f"{R} 13.5.2, 13.8.4, 13.8.5", len(ok) == n,
                         f"{n} FT exchanges that pass every check", f"{len(ok)} of {len(mine)}"))
        hs = [h for h in ft.handshakes if h.sta == dut.mac]
        record.add(check("FT-REPEAT-NO-4WAY", f"{R} 13.5.1", len(hs) == 1,
                         "one 4-way handshake (the initial association) and none after any roam",
                         f"{len(hs)} handshake(s)"))
        lats = [x.latency_us for x in mine if x.latency_us]
        record.metrics["ft_latency"] = latency_summary(lats)
        record.attach_json("ft-latencies-us", lats)
        judge_rules(record, dut, focus=("IND-2", "IND-6", "IND-7"))
        roam_timeline(record, a, dut, first[0], first[1], spec.title + " (all roams)", t0,
                      {"ft_median": int(latency_summary(lats)["median_ms"] * 1000)} if lats else None)


def other_md(spec, record, dut, air, lab, ap_a, ap_b):
    cur, other = connect_first(dut, record, ap_a, ap_b)
    m = dut.mark()
    t0 = lab.now()
    with record.step("trigger ROAM into another mobility domain"):
        reply = dut.ctrl(roam_cmd(False, other.bssid))
    with record.step("observe"):
        observe(record, "roam to the target", wait_connected, dut, other.bssid, m, 10)  # a refusal is acceptable; the air decides
        settle(1)
    status = dut.sup.status()
    a = Air(air.stop())
    with record.step("judge"):
        ft = find_exchanges(a.frames, secrets())
        record.attach_json("ft-analysis", ft.to_dict())
        # the exchange checks assume an FT roam should succeed; here only the MD rules apply
        record.add([v for i in ft.initial if i.sta == dut.mac for v in i.verdicts])
        md_cur, md_oth = mde_of_beacon(a, cur.bssid), mde_of_beacon(a, other.bssid)
        record.add(check("MD-DIFFERENT", f"{R} 9.4.2.46", bool(md_cur and md_oth and md_cur[:2] != md_oth[:2]),
                         "the two APs advertise different MDIDs (the scenario)",
                         f"{md_cur.hex() if md_cur else None} / {md_oth.hex() if md_oth else None}"))
        fts = [x for x in ft.exchanges if x.sta == dut.mac and x.target == other.bssid]
        record.add(check("FT-MD-NO-FT", MD_CLAUSE, not fts,
                         "no FT exchange with a BSS of another mobility domain",
                         f"{len(fts)} FT exchange(s)", tuple(f"frame {x._msgs()[0].index}" for x in fts if x._msgs())))
        auths = sent_by(a, dut.mac, t0, "auth", to=other.bssid)
        acts = sent_by(a, dut.mac, t0, "ft_action_req")
        record.add(check("FT-MD-NO-FT-ACTION", MD_CLAUSE, not acts, "no FT Action Request",
                         f"{len(acts)}", tuple(f"frame {f.index}" for f in acts)))
        record.attach_json("auth-to-target", [{"frame": f.index, "algorithm": auth_alg(f.raw)} for f in auths])
        open_auths = [f for f in auths if auth_alg(f.raw) == 0]
        if open_auths:  # a full authentication: it must complete like an initial MD association
            hs = [h for h in ft.handshakes if h.sta == dut.mac and h.ap == other.bssid]
            record.add(check("FT-MD-4WAY", f"{R} 13.4, 12.7.6", any(h.complete for h in hs),
                             "a complete 4-way handshake with the target (initial MD association)",
                             "; ".join(str(h.to_dict()["messages"]) for h in hs) or "none"))
            record.add(check("FT-MD-JOINED", f"{R} 13.4", status.get("bssid") == other.bssid
                             and status.get("wpa_state") == "COMPLETED",
                             f"COMPLETED with {other.bssid}", f"{status.get('wpa_state')} with {status.get('bssid')}"))
        elif not auths:
            record.add(check("FT-MD-REFUSED-STAYS", MD_CLAUSE, status.get("bssid") == cur.bssid
                             and status.get("wpa_state") == "COMPLETED",
                             f"no transition attempted, still COMPLETED with {cur.bssid}",
                             f"ROAM answered {reply.strip()!r}; {status.get('wpa_state')} with {status.get('bssid')}"))
        judge_rules(record, dut)
        roam_timeline(record, a, dut, cur, other, spec.title, t0)


def no_ds(spec, record, dut, air, lab, ap_a, ap_b):
    cur, other = connect_first(dut, record, ap_a, ap_b)
    m = dut.mark()
    t0 = lab.now()
    with record.step("trigger FT_DS where the MDE forbids it"):
        reply = dut.ctrl(roam_cmd(True, other.bssid))
    with record.step("observe"):
        observe(record, "roam to the target", wait_connected, dut, other.bssid, m, 6)
        settle(1)
    status = dut.sup.status()
    a = Air(air.stop())
    with record.step("judge"):
        md_cur, md_oth = mde_of_beacon(a, cur.bssid), mde_of_beacon(a, other.bssid)
        record.add(check("MDE-NO-DS", f"{R} 9.4.2.46",
                         bool(md_cur and md_oth) and not (md_cur[2] & 1) and not (md_oth[2] & 1),
                         "both APs advertise FT over DS = 0 in their MDE (the scenario)",
                         f"MDE {md_cur.hex() if md_cur else None} / {md_oth.hex() if md_oth else None}"))
        acts = sent_by(a, dut.mac, t0, "ft_action_req")
        record.add(check("FT-DS-NOT-OFFERED", DS_CLAUSE, not acts,
                         "no FT Action Request: the current AP's MDE has FT over DS = 0",
                         f"{len(acts)} FT Action Request(s) sent to {sorted({f.raw[4:10].hex(':') for f in acts})}; "
                         f"FT_DS answered {reply.strip()!r}",
                         tuple(f"frame {f.index}" for f in acts)))
        ft = find_exchanges(a.frames, secrets())
        record.attach_json("ft-analysis", ft.to_dict())
        record.add(check("FT-DS-KEEPS-LINK", rule("IND-8").clause, status.get("wpa_state") == "COMPLETED",
                         "still COMPLETED (with either AP)", f"{status.get('wpa_state')} with {status.get('bssid')}"))
        judge_rules(record, dut)
        roam_timeline(record, a, dut, cur, other, spec.title, t0)


def key_mismatch(spec, record, dut, air, lab, ap_a, ap_b):
    cur, other = connect_first(dut, record, ap_a, ap_b)
    m = dut.mark()
    t0 = lab.now()
    with record.step("trigger FT_DS (the target cannot get PMK-R1)"):
        reply = dut.ctrl(roam_cmd(True, other.bssid))
    with record.step("observe"):
        observe(record, "roam to the target", wait_connected, dut, other.bssid, m, 8)
        settle(2)
    status = dut.sup.status()
    t_end = lab.now()
    a = Air(air.stop())
    with record.step("judge"):
        ft = find_exchanges(a.frames, secrets())
        record.attach_json("ft-analysis", ft.to_dict())
        mine = [x for x in ft.exchanges if x.sta == dut.mac]
        joined = [x for x in mine if x.reassoc_status == 0]
        record.add(check("FT-KEYS-ROAM-FAILS", f"{R} 13.5.4, 13.7.2", not joined,
                         "no successful FT reassociation (the target has no PMK-R1)",
                         f"{len(joined)} successful of {len(mine)} exchange(s); FT_DS answered {reply.strip()!r}",
                         tuple(f"frame {x.reassoc_resp.index}" for x in joined)))
        record.add(check("FT-KEYS-STAYS", rule("IND-8").clause,
                         status.get("wpa_state") == "COMPLETED" and status.get("bssid") == cur.bssid,
                         f"COMPLETED with the current AP {cur.bssid}",
                         f"{status.get('wpa_state')} with {status.get('bssid')}"))
        trace, _ = judge_rules(record, dut, focus=("IND-8",), candidates_by_roam={0: [other.bssid]},
                               observation=Observation(observed_until=t_end))
        roam_timeline(record, a, dut, cur, other, spec.title, t0)


def data_plane(spec, record, dut, air, lab, ap_a, ap_b):
    if dut.name != "linux-wpas":
        pytest.skip(f"the data-plane twin is built for linux-wpas only, not {dut.name}")
    from devices.linux_wpas import LinuxWpasDut
    ns = dataplane.DUT_NS
    with record.step("DUT twin in its own network namespace"):
        twin = LinuxWpasDut(lab, name="linux-wpas-netns", netns=ns)
    try:
        dataplane.address_ds(lab.agent)
        dataplane.address(lab.agent, twin.iface, netns=ns)
        twin.reset()
        data_plane_roams(spec, record, twin, air, lab, ap_a, ap_b)
    finally:
        twin.attach_evidence(record)
        twin.close()
        dataplane.move_back(lab.agent, twin.iface, ns)


def data_plane_roams(spec, record, dut, air, lab, ap_a, ap_b):
    n = spec.params["rounds"]
    cur, other = connect_first(dut, record, ap_a, ap_b)
    first = (cur, other)
    with record.step("warm up (ARP)"):
        warm = dataplane.Ping(lab, "ping-warm", rel(lab, record, "ping-warm.txt"), 20).wait()
    results, marks = [], []
    t0 = lab.now()
    for i in range(n):
        with record.step(f"roam {i + 1} under 10 ms ping"):
            p = dataplane.Ping(lab, f"ping-{i}", rel(lab, record, f"ping-raw-{i + 1}.txt"), 300)
            time.sleep(1)
            m = dut.mark()
            tr = lab.now()
            dut.ctrl(roam_cmd(False, other.bssid))
            try:
                wait_connected(dut, other.bssid, m)
                roamed = True
            except WaitTimeout as e:
                roamed = False
                record.attach_text(f"roam-{i + 1}-timeout", str(e))
            res = p.wait()
            results.append(res)
            marks.append(tr)
            record.attach_text(f"ping-roam-{i + 1}", res.text)
            record.add(check(f"DP-ROAM-{i + 1}", f"{R} 13.5.2", roamed, f"FT roam to {other.bssid} completed",
                             "completed" if roamed else "no CTRL-EVENT-CONNECTED within 15 s"))
            if not roamed:
                break
            cur, other = other, cur
    settle(0.5)
    a = Air(air.stop())
    with record.step("judge"):
        record.add(check("DP-BASELINE", LOSS_CLAUSE, warm.received > 0,
                         "pings answered before any roam (the data path works)",
                         f"{warm.received}/{warm.transmitted}"))
        ft, mine = judge_ft_roam(record, a, dut, False, None)
        lats = [x.latency_us for x in mine if x.latency_us]
        for i, res in enumerate(results):
            gaps = res.gaps()
            record.add(check(f"DP-LOSS-{i + 1}", LOSS_CLAUSE, res.lost <= LOSS_LIMIT,
                             f"at most {LOSS_LIMIT} of {res.transmitted} pings lost across roam {i + 1}",
                             f"{res.lost} lost; unanswered seq runs {gaps}; FT exchange "
                             f"{lats[i] / 1000 if i < len(lats) else '?'} ms on the air",
                             (f"ping-roam-{i + 1}",)))
        record.metrics["ping_lost_per_roam"] = [r.lost for r in results]
        record.metrics["ft_latency"] = latency_summary(lats)
        record.attach_json("air-gaps", air_gaps(a, dut.mac, mine))
        judge_rules(record, dut, focus=("IND-6",))
        roam_timeline(record, a, dut, first[0], first[1], spec.title, t0)


def rel(lab, record, name: str) -> str:
    """A case-folder file as a path on the lab's results share."""
    return os.path.relpath(record.evidence_dir / name, lab.results_host)


def air_gaps(a: Air, sta: str, exchanges) -> list[dict]:
    """For each FT exchange: the DUT's last data frame before it and first data frame
    after the Reassociation Response, on the air (frames are CCMP, so only timing)."""
    out = []
    data = sent_by(a, sta, 0, "data")
    for x in exchanges:
        ms = x._msgs()
        if not ms or x.reassoc_resp is None:
            continue
        start, end = ms[0].t, x.reassoc_resp.t
        before = [f for f in data if f.t < start]
        after = [f for f in data if f.t > end]
        out.append({"target": x.target, "ft_start_t": start, "reassoc_resp_t": end,
                    "last_data_before_ms": round((start - before[-1].t) * 1000, 1) if before else None,
                    "first_data_after_ms": round((after[0].t - end) * 1000, 1) if after else None,
                    "data_gap_ms": round((after[0].t - before[-1].t) * 1000, 1) if before and after else None})
    return out
