"""The 802.11k cases' judges: the DUT's neighbor report requests (NR-) and its answers to
the reference AP's beacon requests (BCN-).

Every expectation comes from the case's stimulus as the evidence records it: the neighbor
database the test gave the AP (facts["neighbors"]), the command it gave the DUT and its
reply, the DUT's scan table before a table-mode request, the request's dialog token.
"""
from __future__ import annotations

from engine import beacon
from engine.air import Air
from engine.evidence import CaseEvidence
from engine.judges import judge
from engine.judges.common import R
from engine.judges.rrm_air import beacon_rm_caps, judge_beacon_air, meas_requests_in, nr_requests, nr_responses, sta_caps
from engine.models import NeighborEntry
from engine.verdict import INFO, REFERENCE_AP, Verdict, check

NR_REQ = f"{R} 9.6.6.6 (Neighbor Report Request frame format)"
NR_RESP = f"{R} 9.6.6.7 (Neighbor Report Response frame format)"
NR_ELEM = f"{R} 9.4.2.36 (Neighbor Report element)"
NR_PROC = f"{R} 11.10.10.2 (Requesting a neighbor report)"
RM_CAPS = f"{R} 9.4.2.44 (RM Enabled Capabilities element)"
MEAS_REQ_ELEM = f"{R} 9.4.2.20 (Measurement Request element)"
MEAS_REP_ELEM = f"{R} 9.4.2.21 (Measurement Report element)"
LCI, CIVIC = 8, 11  # Measurement Types (Table 9-107)
RRM_NR_BIT = 1  # Neighbor Report Capability Enabled (Table 9-201)
MEAS_REPORT_SUB = 39  # Measurement Report subelement of a Neighbor Report element (Table 9-173)
PREFERENCE_SUB = 3  # BSS Transition Candidate Preference subelement (Table 9-173)


def _hex_or_none(s: str | None) -> bytes | None:
    return bytes.fromhex(s) if s else None


def configured_entry(n: dict) -> NeighborEntry:
    """The Neighbor Report element the test gave the AP for one neighbor, from its fields
    (facts["neighbors"][i]: bssid, info, op_class, chan, phy, pref)."""
    pref = n.get("pref")
    return NeighborEntry(n["bssid"], n["info"], n["op_class"], n["chan"], n["phy"], pref,
                         ((PREFERENCE_SUB, bytes([pref])),) if pref is not None else ())


def expected_neighbors(ev: CaseEvidence) -> dict[str, NeighborEntry]:
    """The entries the AP's database holds for the SSID the case expects: the serving ESS
    (expect "own": a request without an SSID element), or the requested SSID ("alt")."""
    serving = ev.ap(ev.facts["serving"])
    p = ev.params
    ssid = bytes.fromhex(p["ssid"]) if p.get("expect") == "alt" else serving.config.ssid_b
    return {n["bssid"]: configured_entry(n) for n in ev.facts.get("neighbors", ())
            if bytes.fromhex(n["ssid"]) == ssid}


def expect_entries(j, got, want: dict, evidence: str, prefix: str) -> None:
    """Neighbor entries `got` (NeighborEntry or the DUT's event dicts) equal `want` {bssid: NeighborEntry}."""
    def fields(x):
        if isinstance(x, dict):
            return (x["bssid"], x["info"], x["op_class"], x["chan"], x["phy_type"])
        return (x.bssid, x.bssid_info, x.op_class, x.channel, x.phy_type)

    got_f = sorted(fields(x) for x in got)
    want_f = sorted(fields(x) for x in want.values())
    fmt = lambda fs: "; ".join(f"{b} info=0x{i:x} op_class={o} chan={c} phy={p}" for b, i, o, c, p in fs) or "none"
    j.add(check(f"{prefix}-SET", NR_PROC,
                {f[0] for f in got_f} == {f[0] for f in want_f} and len(got_f) == len(want_f),
                f"exactly the BSSIDs {sorted(want)}", f"{[f[0] for f in got_f]}", (evidence,)))
    j.add(check(f"{prefix}-FIELDS", NR_ELEM, got_f == want_f, fmt(want_f), fmt(got_f), (evidence,)))


def dut_neighbor_entries(events) -> list[dict]:
    """The entries of the DUT's neighbor_report events (RRM-NEIGHBOR-REP-RECEIVED lines)."""
    return [dict(x) for e in events if e.kind == "neighbor_report" for x in e.get("entries", ())]


def _judge_location(j, e: NeighborEntry, meas, configured: dict, rev: str) -> None:
    """The Measurement Report subelements of one entry on the air against what was
    configured on the AP and what the DUT's request asked for (11.10.10.2)."""
    reps = [b for i, b in e.subelements if i == MEAS_REPORT_SUB]
    if not meas:
        j.add(check("NR-LOCATION-UNASKED", NR_PROC, not reps,
                    f"{e.bssid}: no LCI/civic Measurement Report (none requested)",
                    f"{len(reps)} Measurement Report subelement(s)", (rev,)))
        return
    tok = {t: tk for tk, _, t, _ in meas}
    for typ, conf in ((LCI, _hex_or_none(configured.get("lci"))), (CIVIC, _hex_or_none(configured.get("civic")))):
        got = [b for b in reps if len(b) >= 3 and b[2] == typ]
        if conf is None:
            ok, want = not got, f"{e.bssid}: no type {typ} report (none configured)"
        else:
            # the AP puts the requesting element's measurement token in front of the
            # configured report (token, mode, type, body)
            ok = len(got) == 1 and got[0][0] == tok.get(typ) and got[0][1:] == conf[1:]
            want = f"{e.bssid}: one type {typ} report, token {tok.get(typ)}, body {conf[1:].hex()}"
        j.add(check(f"NR-LOCATION-{typ}", MEAS_REP_ELEM, ok, want, f"{[b.hex() for b in got]}", (rev,)))


@judge("rrm.neighbor_report")
def neighbor_report(ev: CaseEvidence, air: Air, j) -> None:
    """The DUT asks its serving AP for a neighbor report (NEIGHBOR_REP_REQUEST): the request
    on the air, the AP's response, and what the DUT made of it."""
    dut, cur, p, facts = ev.dut, ev.ap(ev.facts["serving"]), ev.params, ev.facts
    reply = facts["reply"]
    want = expected_neighbors(ev)
    configured = {n["bssid"]: n for n in facts.get("neighbors", ())}
    j.add(check("NR-CMD", NR_PROC, reply.startswith("OK"), "NEIGHBOR_REP_REQUEST accepted", reply.strip()))
    reqs = nr_requests(air, dut.mac)
    j.add(check("NR-REQUEST", NR_PROC, len(reqs) == 1, "one Neighbor Report Request to the AP",
                f"{len(reqs)}", tuple(f"frame {f.index}" for f, _ in reqs)))
    if not reqs:
        return
    rq_f, rq = reqs[0]
    evid = (f"frame {rq_f.index}",)
    j.add(check("NR-REQ-DEST", NR_PROC, rq_f.dst == cur.bssid, f"sent to the serving AP {cur.bssid}",
                rq_f.dst, evid))
    want_ssid = _hex_or_none(p.get("ssid"))
    j.add(check("NR-REQ-SSID", NR_REQ, rq.ssid == want_ssid,
                f"SSID element {want_ssid!r}" if want_ssid else "no SSID element",
                f"SSID element {rq.ssid!r}" if rq.ssid is not None else "no SSID element", evid))
    meas = meas_requests_in(rq_f)
    want_types = [LCI, CIVIC] if p.get("want_location") else []
    j.add(check("NR-REQ-LOCATION", NR_REQ, sorted(t for _, _, t, _ in meas) == sorted(want_types),
                f"Measurement Request elements of types {want_types}",
                f"types {[t for _, _, t, _ in meas]}", evid))
    if meas:
        toks = [t for t, _, _, _ in meas]
        j.add(check("NR-REQ-MEAS-TOKEN", MEAS_REQ_ELEM, 0 not in toks and len(set(toks)) == len(toks),
                    "nonzero measurement tokens, unique in the frame", f"{toks}", evid))
    resps = [(f, r) for f, r in nr_responses(air, dut.mac) if f.t >= rq_f.t]
    j.add(check("NR-RESPONSE", NR_PROC, len(resps) >= 1, "the AP's Neighbor Report Response", f"{len(resps)}"))
    if resps:
        rs_f, rs = resps[0]
        rev = f"frame {rs_f.index}"
        j.add(check("NR-TOKEN", NR_RESP, rs.dialog_token == rq.dialog_token,
                    f"dialog token {rq.dialog_token} echoed", f"dialog token {rs.dialog_token}", (rev,)))
        expect_entries(j, rs.entries, want, rev, "NR-AIR")
        for e in rs.entries:
            w = want.get(e.bssid)
            if w is None:
                continue
            plain = tuple(s for s in e.subelements if s[0] != MEAS_REPORT_SUB)
            j.add(check("NR-SUBELEMENTS", NR_ELEM, plain == w.subelements and e.preference == w.preference,
                        f"{e.bssid}: subelements {[(i, b.hex()) for i, b in w.subelements]}",
                        f"{[(i, b.hex()) for i, b in plain]}", (rev,)))
            if p.get("location"):
                _judge_location(j, e, meas, configured.get(e.bssid, {}), rev)
    since = dut.events()[facts["dut_mark"]:]
    got = dut_neighbor_entries(since)
    j.attach_json("dut-neighbor-entries", got)
    expect_entries(j, got, want, f"{dut.name}.log RRM-NEIGHBOR-REP-RECEIVED", "NR-DUT")
    if p.get("want_location") and resps:
        on_air = {e.bssid: {b[2]: b.hex() for i, b in e.subelements if i == MEAS_REPORT_SUB and len(b) >= 3}
                  for e in resps[0][1].entries}
        for x in got:
            if x["bssid"] in want:
                w = on_air.get(x["bssid"], {})
                j.add(check("NR-DUT-LOCATION", NR_PROC,
                            x.get("lci") == w.get(LCI) and x.get("civic") == w.get(CIVIC),
                            f"{x['bssid']}: lci={w.get(LCI)} civic={w.get(CIVIC)} as on the air",
                            f"lci={x.get('lci')} civic={x.get('civic')}"))
    consumed = [e for e in since if e.kind == "neighbor_report_notified" and e.get("token") == rq.dialog_token]
    none = [e for e in since if e.kind == "neighbor_report_failed" and "Notifying neighbor report - NONE" in e.raw]
    j.add(check("NR-DUT-CONSUMED", NR_PROC, bool(consumed),
                f"the DUT took the response with dialog token {rq.dialog_token}",
                consumed[0].raw.strip() if consumed else none[0].raw.strip() if none else "no sign of it"))
    caps = sta_caps(air, dut.mac)
    if caps is not None:
        j.add(Verdict("NR-DUT-RM-CAPS", RM_CAPS, INFO, "Neighbor Report Capability Enabled bit",
                      f"rm_enabled={caps.rm_enabled} neighbor_report={caps.rm_neighbor_report}"))


@judge("rrm.neighbor_report_unsupported")
def neighbor_report_unsupported(ev: CaseEvidence, air: Air, j) -> None:
    """The serving AP does not advertise neighbor reports: the DUT must not ask it for one."""
    dut, ap = ev.dut, ev.ap(ev.facts["serving"])
    caps = beacon_rm_caps(air, ap.bssid)
    # The AP's own beacon: a wrong bit here is the lab's AP, not the DUT.
    j.add(check("NR-AP-CAPS", RM_CAPS, caps is not None and not caps[0] & (1 << RRM_NR_BIT),
                "the AP's beacon has RM Enabled Capabilities without Neighbor Report Capability Enabled",
                f"RM Enabled Capabilities {caps.hex() if caps is not None else 'absent'}", layer=REFERENCE_AP))
    reqs = nr_requests(air, dut.mac)
    j.add(check("NR-NOT-SENT", NR_PROC, not reqs,
                "no Neighbor Report Request to an AP that does not advertise the capability",
                f"{len(reqs)} request(s)", tuple(f"frame {f.index}" for f, _ in reqs)))
    why = [e.raw.strip() for e in ev.dut.events()[ev.facts["dut_mark"]:] if e.kind == "neighbor_report_refused"]
    j.add(Verdict("NR-CMD-REFUSED", NR_PROC, INFO, "NEIGHBOR_REP_REQUEST refused locally",
                  f"{ev.facts['reply'].strip()}; {why[0] if why else ''}"))


@judge("rrm.beacon")
def beacon_request(ev: CaseEvidence, air: Air, j) -> None:
    """The reference AP sends the DUT a beacon request (REQ_BEACON): the oracle predicts the
    acceptable reports from the request on the air, the air's ground truth (every AP of the
    case) and, in table mode, the DUT's scan table; then validates the DUT's reports."""
    dut, cur, facts = ev.dut, ev.ap(ev.facts["serving"]), ev.facts
    table = facts.get("scan_table")
    view = beacon.BeaconDut(cache=frozenset(table)) if table is not None else None
    pred, reports = judge_beacon_air(j, air, cur, dut, list(ev.aps.values()), facts["token"], view,
                                     facts["ap_mark"])
    if pred is not None and table is not None:
        want = set(pred.may)
        got = {r.bssid for r in reports
               if (r.mode & ~beacon.REPORT_LATE) == 0 and r.bssid not in ("", "00:00:00:00:00:00")}
        declined = [r for r in reports if (r.mode & ~beacon.REPORT_LATE) != 0]
        if pred.malformed or pred.silence_ok or (declined and not got):
            # Silence (malformed request) or a refused/incapable answer carries no table:
            # BCN-PRESENT and BCN-MODE judge those; there is no table to compare.
            j.add(Verdict("BCN-TABLE-ALL", f"{R} 11.10.9.3", INFO,
                          f"one report per stored BSS the filters let through: {sorted(want)}",
                          "no measurement: " + ("the request is malformed" if pred.malformed
                                                else f"{len(declined)} refused/incapable report(s)")))
            return
        j.add(check("BCN-TABLE-ALL", f"{R} 11.10.9.3", got == want,
                    f"one report per stored BSS the filters let through: {sorted(want)}", f"{sorted(got)}"))


BEACON_MODES = ("rrm_beacon_passive", "rrm_beacon_active", "rrm_beacon_table")


@judge("rrm.beacon_modes_advertised")
def beacon_modes_advertised(ev: CaseEvidence, air: Air, j) -> None:
    """The beacon measurement modes the DUT advertises in its (Re)Association Request agree
    with the capabilities its adapter claims. metrics["unadvertised_modes"] lists the modes
    it does not advertise (the suite decides from it whether the lab can build a request
    for one)."""
    dut = ev.dut
    caps = sta_caps(air, dut.mac)
    j.add(check("BCN-CAPS-SEEN", f"{R} 9.4.2.44", caps is not None and caps.rm_enabled,
                "RM Enabled Capabilities in the DUT's (Re)Association Request",
                "absent" if caps is None or not caps.rm_enabled else "present"))
    if caps is None or not caps.rm_enabled:
        return
    adv = {"rrm_beacon_passive": caps.rm_beacon_passive, "rrm_beacon_active": caps.rm_beacon_active,
           "rrm_beacon_table": caps.rm_beacon_table}
    for name, on in adv.items():
        j.add(check("BCN-CAPS-CLAIMED", f"{R} 9.4.2.44", on == (name in dut.capabilities),
                    f"{name} advertised iff claimed ({name in dut.capabilities})", f"advertised {on}"))
    j.metrics["unadvertised_modes"] = [n for n, on in adv.items() if not on]
