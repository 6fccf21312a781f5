"""802.11r FT-PSK: initial mobility domain association, roams over the air and over the
DS, repeated roams, a foreign mobility domain, FT over the DS where it is not offered,
R0KH/R1KH key mismatch, and the data-plane outage of a roam; FT with PMF required, a target
that cannot pull PMK-R1 from the R0KH, the reassociation deadline, FT after a BTM request,
long series of roams over the DS, FT between 5 GHz VHT80 APs and across bands, a tour of
three APs of one mobility domain, and the initial association with PMF required.

Each row names its reference APs and its scenario (a function below: the stimulus only).
The scenario returns the judge (engine/judges/ft.py), the APs by role, the facts of what
it did, and the capture; the judge's verdicts come from that evidence alone."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import os
import time

import pytest

from devices.base import WaitTimeout
from engine.channels import channel_freq
from engine.evidence import DutView
from engine.outage import dut_packets
from fixtures.case import CaseSpec
from lab import dataplane
from lab.hostapd import BSSConfig
from lab.network import FT_AP1, FT_AP2, KEY_A, LAB_FREQS
from lab.wpas import Profile
from suites.btm_steps import bss_tm_req, candidate, wait_responses, wait_settled
from suites.ft_native_steps import (ROLES, KEYS_DIFFER, PROFILE, R, connect, connect_first, ind, observe, ping_fact,
                               roam_cmd, settle, start_aps, status_fact, wait_connected)

EPIC, FEAT = "802.11r", "FT-PSK"
OTHER_MD = BSSConfig(channel=6, bridge="br2", mdid="c3d4")
NO_DS = (BSSConfig(channel=1, bridge="br1", ft_over_ds=False),
         BSSConfig(channel=6, bridge="br2", ft_over_ds=False))
# PMF required on both APs (hostapd ieee80211w=2), joined by a DUT that requires it too.
PMF_APS = (BSSConfig(channel=1, bridge="br1", pmf=2), BSSConfig(channel=6, bridge="br2", pmf=2))
# A key holder no AP of the lab is: both APs list only it as R0KH and R1KH and derive no PMK-R1
# locally, so a target can neither pull PMK-R1 from the DUT's R0KH nor be pushed one; hostapd
# refuses the FT authentication at once (status 53, INVALID_PMKID) instead of timing out a pull.
NOBODY = "02:00:00:00:99:00"
NO_R0KH = tuple(BSSConfig(channel=ch, bridge=br, ft_psk_generate_local=False,
                          r0kh=(f"{NOBODY} nobody.roamcert {KEY_A}",), r1kh=(f"{NOBODY} {NOBODY} {KEY_A}",))
                for ch, br in ((1, "br1"), (6, "br2")))
# hostapd's reassociation_deadline (TUs; 1000 is its minimum and hostap's test_ap_ft value)
DEADLINE_TU = 1000
DEADLINE_APS = tuple(BSSConfig(channel=ch, bridge=br, extra={"reassociation_deadline": DEADLINE_TU})
                     for ch, br in ((1, "br1"), (6, "br2")))
VHT80_APS = (BSSConfig(channel=36, bridge="br1", vht80=True), BSSConfig(channel=149, bridge="br2", vht80=True))
CROSS_BAND = (FT_AP1, BSSConfig(channel=36, bridge="br2", vht80=True))
THREE_APS = (FT_AP1, FT_AP2, BSSConfig(channel=11, bridge="br3"))
PING_INTERVAL = 0.01  # s: the 10 ms pings of the loss limit (engine/judges/ft.py LOSS_LIMIT)


def row_profile(spec) -> Profile:
    """The DUT's profile for the row: the lab's, with PMF required (params pmf) or the row's
    APs' frequencies (5 GHz rows) to scan."""
    freqs = tuple(sorted({cfg_freq(c) for c in spec.aps.values()}))
    if set(freqs) <= set(LAB_FREQS) and not spec.params.get("pmf"):
        return PROFILE
    return Profile(scan_freqs=tuple(sorted(set(freqs) | set(LAB_FREQS))), pmf=spec.params.get("pmf", 0))


def forget_dut(record, dut, *aps) -> None:
    """Make the APs drop any association of the DUT left from an earlier case (mac80211 leaves
    an AP without a frame when it roams away), without a frame on the air (hostapd's
    DEAUTHENTICATE tx=0). With PMF such a stale association makes the AP refuse the next
    association for a while (status 30 and an SA Query): hygiene of the stimulus, not a test."""
    with record.step("the APs forget the DUT's earlier associations"):
        for ap in aps:
            ap.ctrl(f"DEAUTHENTICATE {dut.mac} tx=0")


def cfg_freq(cfg: BSSConfig) -> int:
    return channel_freq(cfg.channel)


def initial_association(spec, record, dut, ap_a, ap_b, air, lab):
    """Connect with FT-PSK (PMF required where the row says pmf); the judge checks the initial
    mobility domain association."""
    if spec.params.get("pmf"):
        forget_dut(record, dut, ap_a, ap_b)
    bssid = connect(dut, record, row_profile(spec))
    settle(0.5)
    return "ft.initial_association", {"a": ap_a, "b": ap_b}, {"connected_to": bssid}, air.stop()


def roam_by_command(spec, record, dut, ap_a, ap_b, air, lab):
    """Connect, then command one FT roam to the other AP (ROAM over the air, FT_DS over the DS)."""
    over_ds = spec.params["over_ds"]
    if spec.params.get("pmf"):
        forget_dut(record, dut, ap_a, ap_b)
    cur, other = connect_first(dut, record, ap_a, ap_b, row_profile(spec))
    m = dut.mark()
    t0 = lab.now()
    with record.step("trigger " + roam_cmd(over_ds, other.bssid)):
        reply = dut.ctrl(roam_cmd(over_ds, other.bssid))
    with record.step("observe"):
        try:
            wait_connected(dut, other.bssid, m)
            outcome = "connected"
        except WaitTimeout as e:
            outcome = str(e).splitlines()[0]
    settle(0.5)
    facts = {"t0": t0, "dut_mark": m, "command_reply": reply, "outcome": outcome}
    return "ft.roam", {"cur": cur, "other": other}, facts, air.stop()


def roam_back_and_forth(spec, record, dut, ap_a, ap_b, air, lab):
    """Command n roams (over the air, or over the DS with params over_ds), each to the AP the
    DUT is not on; stop at the first failure."""
    n, over_ds = spec.params["rounds"], bool(spec.params.get("over_ds"))
    if spec.params.get("pmf"):
        forget_dut(record, dut, ap_a, ap_b)
    cur, other = connect_first(dut, record, ap_a, ap_b, row_profile(spec))
    roles = {"cur": cur, "other": other}
    t0 = lab.now()
    fails, done = [], 0
    with record.step(f"{n} roams"):
        for i in range(n):
            m = dut.mark()
            reply = dut.ctrl(roam_cmd(over_ds, other.bssid))
            try:
                if not reply.startswith("OK"):
                    raise WaitTimeout(f"{roam_cmd(over_ds, other.bssid)} answered {reply.strip()!r}")
                wait_connected(dut, other.bssid, m, timeout=10)
                done += 1
                cur, other = other, cur
            except WaitTimeout as e:
                fails.append(f"roam {i + 1} to {other.bssid}: {str(e).splitlines()[0]}")
                break  # the DUT is in an unknown state; what happened is on the air
    settle(0.5)
    return "ft.repeated_roams", roles, {"t0": t0, "succeeded": done, "failures": fails}, air.stop()


def tour_of_the_mobility_domain(spec, record, dut, ap_a, ap_b, ap_c, air, lab):
    """Three APs of one mobility domain: command n over-the-air roams, each to the next AP in
    the ring a -> b -> c -> a from the one the DUT is on; stop at the first failure."""
    n = spec.params["rounds"]
    ring = [ap_a, ap_b, ap_c]
    first = connect(dut, record)
    with record.step("scan"):
        dut.scan(tuple(sorted({ap.freq for ap in ring})))
    i = next(k for k, ap in enumerate(ring) if ap.bssid == first)
    roles = {"cur": ring[i], "other": ring[(i + 1) % 3], "third": ring[(i + 2) % 3]}
    t0 = lab.now()
    fails, done = [], 0
    with record.step(f"{n} roams around three APs"):
        for k in range(n):
            target = ring[(i + 1) % 3]
            m = dut.mark()
            reply = dut.ctrl(roam_cmd(False, target.bssid))
            try:
                if not reply.startswith("OK"):
                    raise WaitTimeout(f"ROAM answered {reply.strip()!r}")
                wait_connected(dut, target.bssid, m, timeout=10)
                done += 1
                i = (i + 1) % 3
            except WaitTimeout as e:
                fails.append(f"roam {k + 1} to {target.bssid}: {str(e).splitlines()[0]}")
                break
    settle(0.5)
    return "ft.repeated_roams", roles, {"t0": t0, "succeeded": done, "failures": fails}, air.stop()


def roam_to_target_without_r0kh(spec, record, dut, ap_a, ap_b, air, lab):
    """Command an FT roam (ROAM, or FT_DS with params over_ds) to an AP that knows no R0KH of
    the lab: it cannot get PMK-R1 and refuses. Observe what the DUT does next (20 s at most:
    keep its link, or come back by a new association)."""
    over_ds = spec.params["over_ds"]
    cur, other = connect_first(dut, record, ap_a, ap_b)
    m = dut.mark()
    t0 = lab.now()
    with record.step(f"trigger {roam_cmd(over_ds, other.bssid)} (the target cannot get PMK-R1)"):
        reply = dut.ctrl(roam_cmd(over_ds, other.bssid))
    with record.step("observe"):
        if over_ds:
            settle(4)
        else:  # the old association is gone once the STA authenticates elsewhere: wait for a new one
            observe(record, "a new connection", dut.wait_for, lambda e: e.kind == "connected", 20, since=m)
            settle(2)
    facts = {"t0": t0, "dut_mark": m, "command_reply": reply, "status": status_fact(dut), "t_end": lab.now()}
    return "ft.pull_failure", {"cur": cur, "other": other}, facts, air.stop()


def btm_request_to_ft_target(spec, record, dut, ap_a, ap_b, air, lab):
    """The current AP sends a BTM request whose one candidate (preference 255) is the other AP
    of the mobility domain (row params: token, opts); the DUT roams by itself, no command."""
    token, opts = spec.params["token"], spec.params["opts"]
    cur, other = connect_first(dut, record, ap_a, ap_b)
    m, mm = dut.mark(), cur.mark()
    t0 = lab.now()
    with record.step(f"BTM request naming {other.bssid}"):
        cur.ctrl_ok(bss_tm_req(dut.mac, [candidate(other.bssid, other.op_class, other.config.channel, 255)],
                               token, opts))
    with record.step("observe"):
        observe(record, "BTM response", wait_responses, cur, 1, mm, 15)
        observe(record, "roam to the target", dut.wait_for,
                lambda e: e.kind == "connected" and e.get("bssid") == other.bssid, 20, since=m)
        wait_settled(dut, m, 10)
    facts = {"t0": t0, "dut_mark": m, "ap_mark": mm, "token": token}
    return "ft.btm_roam", {"cur": cur, "other": other}, facts, air.stop()


def roam_into_other_mobility_domain(spec, record, dut, ap_a, ap_b, air, lab):
    """ROAM to an AP that advertises another MDID; a refusal is acceptable, the air decides."""
    cur, other = connect_first(dut, record, ap_a, ap_b)
    m = dut.mark()
    t0 = lab.now()
    with record.step("trigger ROAM into another mobility domain"):
        reply = dut.ctrl(roam_cmd(False, other.bssid))
    with record.step("observe"):
        observe(record, "roam to the target", wait_connected, dut, other.bssid, m, 10)
        settle(1)
    facts = {"t0": t0, "dut_mark": m, "command_reply": reply, "status": status_fact(dut)}
    return "ft.other_mobility_domain", {"cur": cur, "other": other}, facts, air.stop()


def ft_ds_where_not_offered(spec, record, dut, ap_a, ap_b, air, lab):
    """FT_DS while both APs' MDEs say FT over the DS = 0."""
    cur, other = connect_first(dut, record, ap_a, ap_b)
    m = dut.mark()
    t0 = lab.now()
    with record.step("trigger FT_DS where the MDE forbids it"):
        reply = dut.ctrl(roam_cmd(True, other.bssid))
    with record.step("observe"):
        observe(record, "roam to the target", wait_connected, dut, other.bssid, m, 6)
        settle(1)
    facts = {"t0": t0, "dut_mark": m, "command_reply": reply, "status": status_fact(dut)}
    return "ft.over_ds_not_offered", {"cur": cur, "other": other}, facts, air.stop()


def ft_ds_without_target_keys(spec, record, dut, ap_a, ap_b, air, lab):
    """FT_DS to an AP whose R0KH/R1KH key differs: the target cannot get PMK-R1."""
    cur, other = connect_first(dut, record, ap_a, ap_b)
    m = dut.mark()
    t0 = lab.now()
    with record.step("trigger FT_DS (the target cannot get PMK-R1)"):
        reply = dut.ctrl(roam_cmd(True, other.bssid))
    with record.step("observe"):
        observe(record, "roam to the target", wait_connected, dut, other.bssid, m, 8)
        settle(2)
    facts = {"t0": t0, "dut_mark": m, "command_reply": reply, "status": status_fact(dut), "t_end": lab.now()}
    return "ft.key_mismatch", {"cur": cur, "other": other}, facts, air.stop()


def roams_under_ping(spec, record, dut, ap_a, ap_b, air, lab):
    """A twin of the DUT in its own network namespace pings the distribution system every
    10 ms while it roams back and forth over the air. The case's DUT must offer the twin
    (capability data_plane, DUT method data_plane_twin)."""
    ns = dataplane.DUT_NS
    keep = spec.params.get("keep_neigh")
    with record.step("DUT twin in its own network namespace" +
                     (" (neighbour entries kept across a carrier drop)" if keep else "")):
        twin = dut.data_plane_twin(ns, keep_neigh=keep)
    cap = None
    try:
        dataplane.address_ds(lab.agent)
        dataplane.address(lab.agent, twin.iface, netns=ns)
        twin.reset()
        # the DUT's own interface, decrypted: where ARP and the echo requests really leave
        cap = lab.start_capture(rel(lab, record, "dut.cap"), iface=twin.iface, netns=ns)
        judge, roles, facts, pcap = ping_across_roams(spec, record, twin, ap_a, ap_b, air, lab)
        dut_cap = Path(cap.stop())
        record.attach_file(dut_cap, "dut.cap", "application/vnd.tcpdump.pcap")
        facts["dut_packets"] = [dataclasses.asdict(p) for p in dut_packets(dut_cap.read_bytes())]
        facts["keep_neigh"] = bool(keep)
        return judge, roles, facts, pcap, DutView.snapshot(twin)  # the twin is the DUT judged
    finally:
        if cap is not None:
            cap.stop()
        twin.attach_evidence(record)
        twin.close()
        dataplane.move_back(lab.agent, twin.iface, ns)


def ping_across_roams(spec, record, dut, ap_a, ap_b, air, lab):
    n = spec.params["rounds"]
    cur, other = connect_first(dut, record, ap_a, ap_b)
    roles = {"cur": cur, "other": other}
    with record.step("warm up (ARP)"):
        t_warm = lab.now()
        warm = dataplane.Ping(lab, "ping-warm", rel(lab, record, "ping-warm.txt"), 20, PING_INTERVAL).wait()
    roams = []
    t0 = lab.now()
    for i in range(n):
        with record.step(f"roam {i + 1} under 10 ms ping"):
            t_ping = lab.now()
            p = dataplane.Ping(lab, f"ping-{i}", rel(lab, record, f"ping-raw-{i + 1}.txt"), 300, PING_INTERVAL)
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
            record.attach_text(f"ping-roam-{i + 1}", res.text)
            roams.append({"target": other.bssid, "t_command": tr, "dut_mark": m, "roamed": roamed,
                          "ping": ping_fact(res, t_ping, PING_INTERVAL)})
            if not roamed:
                break
            cur, other = other, cur
    settle(0.5)
    facts = {"t0": t0, "warm_up": ping_fact(warm, t_warm, PING_INTERVAL), "roams": roams}
    return "ft.ping_loss", roles, facts, air.stop()


def rel(lab, record, name: str) -> str:
    """A case-folder file as a path on the lab's results share."""
    return os.path.relpath(record.evidence_dir / name, lab.results_host)


def spec(id, title, story, reqs, needs, severity, scenario, aps=(FT_AP1, FT_AP2), **params):
    return CaseSpec(id, title, EPIC, FEAT, story, reqs, needs, severity, params, scenario, dict(zip(ROLES, aps)))


CASES = [
    spec("FT-01", "Initial mobility domain association", "Initial mobility domain association",
         (f"{R} 13.4", f"{R} 9.4.2.46", f"{R} 9.4.2.47", f"{R} 12.7.1.7"), ("ft_psk",), "blocker",
         initial_association),
    spec("FT-02", "FT over-the-air roam", "Over-the-air FT protocol",
         (f"{R} 13.5.2", f"{R} 13.8.4", f"{R} 13.8.5", f"{R} 12.7.1.7.4", *ind("IND-2", "IND-6", "IND-7")),
         ("ft_psk", "ft_over_air", "commands"), "blocker", roam_by_command, over_ds=False),
    spec("FT-03", "FT over-the-DS roam", "Over-the-DS FT protocol",
         (f"{R} 13.5.4", f"{R} 13.6", f"{R} 13.8.4", f"{R} 13.8.5", f"{R} 12.7.1.7.4",
          *ind("IND-2", "IND-6", "IND-7")),
         ("ft_psk", "ft_over_ds", "commands"), "blocker", roam_by_command, over_ds=True),
    spec("FT-04", "20 FT roams back and forth", "Repeated over-the-air FT roams",
         (f"{R} 13.5.2", f"{R} 13.8.4", f"{R} 13.8.5", *ind("IND-2", "IND-6", "IND-7")),
         ("ft_psk", "ft_over_air", "commands"), "critical", roam_back_and_forth, rounds=20),
    spec("FT-05", "Target in another mobility domain", "No FT across mobility domains",
         (f"{R} 13.5.1", f"{R} 13.4", f"{R} 9.4.2.46", *ind("IND-2", "IND-7")),
         ("ft_psk", "ft_over_air", "commands"), "critical", roam_into_other_mobility_domain,
         aps=(FT_AP1, OTHER_MD)),
    spec("FT-06", "FT over the DS not offered (ft_over_ds=0)", "No FT over the DS where the MDE says no",
         (f"{R} 13.6", f"{R} 9.4.2.46", *ind("IND-2")),
         ("ft_psk", "ft_over_ds", "commands"), "critical", ft_ds_where_not_offered, aps=NO_DS),
    spec("FT-07", "R0KH/R1KH key mismatch over the DS", "A failed FT roam keeps the current link",
         (f"{R} 13.5.4", f"{R} 13.7.2", *ind("IND-7", "IND-8")),
         ("ft_psk", "ft_over_ds", "commands"), "critical", ft_ds_without_target_keys, aps=KEYS_DIFFER),
    spec("FT-08", "Ping loss across FT roams", "Data-plane outage of an FT roam",
         (f"{R} 13.1", f"{R} 13.5.2", *ind("IND-6")),
         ("ft_psk", "ft_over_air", "commands", "data_plane"), "critical", roams_under_ping, rounds=2),
    spec("FT-09", "Ping loss across FT roams, neighbour entries kept (arp_evict_nocarrier=0)",
         "Data-plane outage of an FT roam",
         (f"{R} 13.1", f"{R} 13.5.2", *ind("IND-6")),
         ("ft_psk", "ft_over_air", "commands", "data_plane"), "critical", roams_under_ping, rounds=2,
         keep_neigh=True),
    spec("FT-10", "FT over the air with PMF required (ieee80211w=2)", "FT with management frame protection",
         (f"{R} 13.5.2", f"{R} 13.8.4", f"{R} 9.4.2.24.4", f"{R} 12.7.1.7.4", *ind("IND-2", "IND-6", "IND-7")),
         ("ft_psk", "ft_over_air", "commands"), "critical", roam_by_command, aps=PMF_APS, over_ds=False, pmf=2),
    spec("FT-11", "FT over the DS with PMF required (ieee80211w=2)", "FT with management frame protection",
         (f"{R} 13.5.4", f"{R} 13.8.4", f"{R} 9.4.2.24.4", f"{R} 12.7.1.7.4", *ind("IND-2", "IND-6", "IND-7")),
         ("ft_psk", "ft_over_ds", "commands"), "critical", roam_by_command, aps=PMF_APS, over_ds=True, pmf=2),
    spec("FT-12", "Target cannot get PMK-R1 (no R0KH), over the air: refused, then a full authentication",
         "A failed PMK-R1 pull", (f"{R} 13.5.2", f"{R} 13.8.3", f"{R} 13.4", f"{R} 12.7.1.7.4",
                                   *ind("IND-2", "IND-7", "IND-8")),
         ("ft_psk", "ft_over_air", "commands"), "critical", roam_to_target_without_r0kh, aps=NO_R0KH,
         over_ds=False),
    spec("FT-13", "Target cannot get PMK-R1 (no R0KH), over the DS: refused, the link kept",
         "A failed PMK-R1 pull", (f"{R} 13.5.4", f"{R} 13.8.3", f"{R} 12.7.1.7.4", *ind("IND-2", "IND-7", "IND-8")),
         ("ft_psk", "ft_over_ds", "commands"), "critical", roam_to_target_without_r0kh, aps=NO_R0KH,
         over_ds=True),
    spec("FT-14", "Reassociation deadline (Timeout Interval) kept, over the air", "Reassociation deadline",
         (f"{R} 13.8.3", f"{R} 13.8.4", f"{R} 9.4.2.48", f"{R} 13.5.2", *ind("IND-2", "IND-7")),
         ("ft_psk", "ft_over_air", "commands"), "normal", roam_by_command, aps=DEADLINE_APS, over_ds=False,
         reassociation_deadline=DEADLINE_TU),
    spec("FT-15", "Reassociation deadline (Timeout Interval) kept, over the DS", "Reassociation deadline",
         (f"{R} 13.8.3", f"{R} 13.8.4", f"{R} 9.4.2.48", f"{R} 13.5.4", *ind("IND-2", "IND-7")),
         ("ft_psk", "ft_over_ds", "commands"), "normal", roam_by_command, aps=DEADLINE_APS, over_ds=True,
         reassociation_deadline=DEADLINE_TU),
    spec("FT-16", "BTM request naming an FT target: the DUT roams by FT", "FT after a BTM request",
         (f"{R} 11.24.7.3", f"{R} 11.24.7.4", f"{R} 13.5.1", f"{R} 13.8.4", *ind("IND-2", "IND-7")),
         ("ft_psk", "ft_over_air", "btm"), "critical", btm_request_to_ft_target, token=41,
         opts="pref=1 abridged=1 valid_int=255"),
    spec("FT-17", "BTM disassociation imminent toward an FT target: FT before the timer", "FT after a BTM request",
         (f"{R} 11.24.7.3", f"{R} 11.24.7.4", f"{R} 13.5.1", f"{R} 13.8.4", *ind("IND-2", "IND-7")),
         ("ft_psk", "ft_over_air", "btm"), "critical", btm_request_to_ft_target, token=42,
         opts="pref=1 disassoc_imminent=1 disassoc_timer=100"),
    # Over the DS: FT Action frames carry no mac80211 authentication timeout, so a loaded lab's
    # slow hostapd cannot cut the series short (over the air, FT-04's 20 roams).
    spec("FT-18", "50 FT roams back and forth over the DS (the tast series length)", "Repeated over-the-DS FT roams",
         (f"{R} 13.5.4", f"{R} 13.8.4", f"{R} 13.8.5", *ind("IND-2", "IND-6", "IND-7")),
         ("ft_psk", "ft_over_ds", "commands"), "critical", roam_back_and_forth, rounds=50, over_ds=True),
    spec("FT-19", "20 FT roams back and forth over the DS with PMF required", "FT with management frame protection",
         (f"{R} 13.5.4", f"{R} 13.8.4", f"{R} 9.4.2.24.4", *ind("IND-2", "IND-6", "IND-7")),
         ("ft_psk", "ft_over_ds", "commands"), "normal", roam_back_and_forth, aps=PMF_APS, rounds=20, over_ds=True,
         pmf=2),
    spec("FT-20", "FT over the air between 5 GHz VHT80 APs", "FT on 5 GHz",
         (f"{R} 13.5.2", f"{R} 13.8.4", f"{R} 13.8.5", f"{R} 12.7.1.7.4", *ind("IND-2", "IND-6", "IND-7")),
         ("ft_psk", "ft_over_air", "commands"), "critical", roam_by_command, aps=VHT80_APS, over_ds=False),
    spec("FT-21", "FT over the DS between 5 GHz VHT80 APs", "FT on 5 GHz",
         (f"{R} 13.5.4", f"{R} 13.8.4", f"{R} 13.8.5", f"{R} 12.7.1.7.4", *ind("IND-2", "IND-6", "IND-7")),
         ("ft_psk", "ft_over_ds", "commands"), "critical", roam_by_command, aps=VHT80_APS, over_ds=True),
    spec("FT-22", "FT over the air across bands (2.4 GHz and 5 GHz VHT80)", "FT on 5 GHz",
         (f"{R} 13.5.2", f"{R} 13.8.4", f"{R} 13.8.5", f"{R} 12.7.1.7.4", *ind("IND-2", "IND-6", "IND-7")),
         ("ft_psk", "ft_over_air", "commands"), "normal", roam_by_command, aps=CROSS_BAND, over_ds=False),
    spec("FT-23", "A tour of three APs of one mobility domain (12 FT roams)", "FT among more than two APs",
         (f"{R} 13.3", f"{R} 13.5.2", f"{R} 13.8.4", f"{R} 13.8.5", *ind("IND-2", "IND-6", "IND-7")),
         ("ft_psk", "ft_over_air", "commands"), "critical", tour_of_the_mobility_domain, aps=THREE_APS, rounds=12),
    spec("FT-24", "Initial mobility domain association with PMF required (ieee80211w=2)",
         "FT with management frame protection",
         (f"{R} 13.4", f"{R} 13.4.2", f"{R} 9.4.2.24.4", f"{R} 12.7.1.7"), ("ft_psk",), "critical",
         initial_association, aps=PMF_APS, pmf=2),
]


@pytest.mark.parametrize("spec", CASES, ids=lambda s: s.id)
def test_ft(spec, record, dut, aps, air, lab):
    judge, roles, facts, pcap, *judged = spec.scenario(spec, record, dut, *start_aps(aps, spec.aps),
                                                       air, lab)
    with record.step("judge"):
        record.judge_evidence(judge, judged[0] if judged else dut, roles, row_profile(spec), facts, pcap)
