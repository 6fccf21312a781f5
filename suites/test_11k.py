"""802.11k cases against the DUT: neighbor report requests (NR-) and beacon requests (BCN-).

Each row names its reference APs ({role: BSSConfig}, or a tuple of BSSConfigs for a
multi-BSS radio) and its scenario: a function below that
drives the stimulus and returns (judge name, {role: live AP}, facts, capture, profile). The
verdicts come from engine/judges/rrm.py, which judges the case's recorded evidence."""
from __future__ import annotations

from dataclasses import replace

import pytest

from engine import beacon
from engine.frames import build as fb
from fixtures.case import CaseSpec
from lab.hostapd import OPEN, BSSConfig
from lab.network import LAB_FREQS, PROFILE
from lab.wpas import Profile
from suites import rrm_steps as K
from suites.steps import R, observe, settle

AP_A = BSSConfig(channel=1)
AP_B = BSSConfig(channel=6)
AP_C = BSSConfig(channel=11, ssid="roamcert-alt")  # another SSID, for the SSID filters
AP_NONR = BSSConfig(channel=6, ssid="roamcert-nonr", rrm_neighbor_report=False)
LAB3 = {"a": AP_A, "b": AP_B, "c": AP_C}  # the three APs every other case of the module expects on the air
# BCN-20's APs of the serving ESS beacon every 20 TU instead of 100 (both: the DUT may join either).
# A measurement scan of one other channel takes 60-100 ms here; whether a Beacon of the serving
# AP fell inside it was the beacon phase's luck at 100 TU, and it decides whether
# wpa_supplicant 2.10 reports its serving BSS (the BCN-20 comment below). At 20 TU one always
# does, so every run puts the same question to the DUT.
FAST_BEACON_TU = 20
LAB3_FAST_SERVING = {"a": replace(AP_A, beacon_int=FAST_BEACON_TU), "b": replace(AP_B, beacon_int=FAST_BEACON_TU),
                     "c": AP_C}
ALT = b"roamcert-alt"
FAKE = "02:00:00:00:0b:0b"  # a neighbor that is configured but not on the air
LCI_REP = bytes.fromhex("010008" "0010" "52834d12efd2b08b9b4bf1cc2c000041")  # token, mode, type 8, LCI subelement
CIVIC_REP = bytes.fromhex("01000b" "00" "00" "0a" "0002555301024341" "0000")  # type 11, RFC 4776 civic

NR = "Neighbor report"
BCN = "Beacon report"
NEED_NR = ("rrm_neighbor", "commands")


def bring_up(spec, pool) -> dict:
    """The row's reference APs, from the module's pool: {role: live AP}. A role whose
    config is a tuple is a multi-BSS radio; its BSSs are roles <role>.0, <role>.1, ..."""
    live = {}
    for role, cfg in spec.aps.items():
        if isinstance(cfg, tuple):
            for i, ap in enumerate(pool.get_radio(role, list(cfg))):
                live[f"{role}.{i}"] = ap
        else:
            live[role] = pool.get(role, cfg)
    return live


def on_air(pool) -> dict:
    """Every AP the module's pool has up, single or on a multi-BSS radio: the beacon cases'
    ground truth is everything on the air, whichever row brought it up."""
    out = {r: ap for r, (_, ap) in pool.aps.items()}
    for role, (_, aps) in pool.radios.items():
        out.update({f"{role}.{i}": ap for i, ap in enumerate(aps)})
    return out


def serving_role(live: dict, bssid: str) -> str:
    return next(role for role, ap in live.items() if ap.bssid == bssid)


# ---- neighbor reports ------------------------------------------------------------------------

def fill_neighbor_database(cur, live, p) -> list[dict]:
    """Give the serving AP three neighbors: the other lab AP of its ESS, a neighbor that is
    not on the air (FAKE), and the AP of another ESS (ALT); with the row's preference
    subelements and, if the row says so, LCI and civic reports for the first two. Returns
    the entries as configured, field by field, for the judge."""
    K.clear_neighbors(cur)
    other = next(ap for ap in (live["a"], live["b"]) if ap is not cur)
    prefs = p.get("prefs", {})
    rows = [("other", other.bssid, cur.config.ssid_b, 0x8f, other.op_class, other.config.channel, 7),
            ("fake", FAKE, cur.config.ssid_b, 0x0d, 81, 11, 7),
            ("alt", live["c"].bssid, ALT, 0x83, live["c"].op_class, live["c"].config.channel, 7)]
    out = []
    for name, bssid, ssid, info, oc, ch, phy in rows:
        pref = prefs.get(name)
        subs = K.sub(3, bytes([pref])) if pref is not None else b""
        loc = p.get("location") and name != "alt"
        lci, civic = (LCI_REP, CIVIC_REP) if loc else (None, None)
        K.set_neighbor(cur, bssid, ssid, K.nr_body(bssid, info, oc, ch, phy, subs), lci, civic)
        out.append({"name": name, "bssid": bssid, "ssid": ssid.hex(), "info": info, "op_class": oc, "chan": ch,
                    "phy": phy, "pref": pref, "lci": lci.hex() if lci else None,
                    "civic": civic.hex() if civic else None})
    return out


def _nr_outcome(e) -> bool:
    return e.kind in ("neighbor_report_notified", "neighbor_report_failed")


def request_neighbor_report(spec, record, dut, pool, air, neighbors_of):
    """Connect, let neighbors_of(cur, live) fill the serving AP's database, send the row's
    NEIGHBOR_REP_REQUEST, and wait until the DUT took a response or gave up on one."""
    live = bring_up(spec, pool)
    with record.step("connect"):
        bssid = K.connect_steady(dut, PROFILE)
    role = serving_role(live, bssid)
    cur = live[role]
    with record.step("configure the AP's neighbors"):
        neighbors = neighbors_of(cur, live)
        record.attach_text("hostapd-neighbors", cur.ctrl("SHOW_NEIGHBOR"))
    m = dut.mark()
    cmd = ("NEIGHBOR_REP_REQUEST " + spec.params["request"]).strip()
    with record.step(cmd):
        reply = dut.ctrl(cmd)
    with record.step("observe"):
        if observe(record, "the DUT's neighbor report outcome", dut.wait_for, _nr_outcome, 5, since=m):
            settle(0.5)  # the RRM-NEIGHBOR-REP-RECEIVED lines follow
    facts = {"serving": role, "neighbors": neighbors, "command": cmd, "reply": reply, "dut_mark": m}
    return "rrm.neighbor_report", live, facts, air.stop(), PROFILE


def neighbor_report_from_database(spec, record, dut, pool, air):
    """The serving AP knows three neighbors (fill_neighbor_database); the DUT asks for a report."""
    return request_neighbor_report(spec, record, dut, pool, air,
                                   lambda cur, live: fill_neighbor_database(cur, live, spec.params))


def neighbor_report_from_empty_database(spec, record, dut, pool, air):
    """The serving AP knows no neighbors, not even itself; the DUT asks for a report."""
    def empty(cur, live):
        K.clear_neighbors(cur)
        return []
    return request_neighbor_report(spec, record, dut, pool, air, empty)


def neighbor_report_to_ap_without_support(spec, record, dut, pool, air):
    """Connect to an AP whose beacons do not advertise neighbor reports; ask for one anyway."""
    live = bring_up(spec, pool)
    profile = Profile(ssid=AP_NONR.ssid, scan_freqs=LAB_FREQS)
    with record.step("connect"):
        bssid = K.connect_steady(dut, profile)
    m = dut.mark()
    with record.step("NEIGHBOR_REP_REQUEST"):
        reply = dut.ctrl("NEIGHBOR_REP_REQUEST")
    settle(2)
    facts = {"serving": serving_role(live, bssid), "command": "NEIGHBOR_REP_REQUEST", "reply": reply, "dut_mark": m}
    return "rrm.neighbor_report_unsupported", live, facts, air.stop(), profile


def _nr(id, title, story, params, scenario=neighbor_report_from_database, sev="critical", reqs=K.NR_CLAUSES,
        aps=LAB3):
    return CaseSpec(id, title, "802.11k", NR, story, reqs, NEED_NR, sev, params, scenario, aps)


# params: request = NEIGHBOR_REP_REQUEST's arguments; ssid = the SSID element it must carry;
# expect = whose neighbors the report lists ("own": the serving ESS's, "alt": the requested SSID's);
# location = the AP holds LCI/civic reports; want_location = the request asks for them;
# prefs = BSS Transition Candidate Preference per configured neighbor.
NR_CASES = [
    _nr("NR-01", "Neighbor report lists exactly the AP's neighbors", "Solicited neighbor report",
        {"request": "", "ssid": None, "expect": "own"}, sev="blocker"),
    _nr("NR-02", "SSID-specific neighbor report request", "Neighbor report for a named SSID",
        {"request": f'ssid="{ALT.decode()}"', "ssid": ALT, "expect": "alt"}),
    _nr("NR-03", "Empty neighbor list", "The AP knows no neighbors",
        {"request": "", "ssid": None, "expect": "own"}, neighbor_report_from_empty_database),
    _nr("NR-04", "No request to an AP without neighbor report support", "AP does not advertise neighbor reports",
        {}, neighbor_report_to_ap_without_support, reqs=(f"{R} 11.10.10.2", f"{R} 9.4.2.44"),
        aps={"nonr": AP_NONR}),
    _nr("NR-05", "LCI and civic location not requested", "Location reports only on request",
        {"request": "", "ssid": None, "expect": "own", "location": True}, sev="normal",
        reqs=K.NR_CLAUSES + (f"{R} 9.4.2.21.10", f"{R} 9.4.2.21.13")),
    _nr("NR-06", "LCI and civic location requested", "Neighbor report with location",
        {"request": "lci civic", "ssid": None, "expect": "own", "location": True, "want_location": True},
        sev="normal",
        reqs=K.NR_CLAUSES + (f"{R} 9.4.2.20.10", f"{R} 9.4.2.20.13", f"{R} 9.4.2.21.10", f"{R} 9.4.2.21.13")),
    _nr("NR-07", "Candidate preferences carried through", "Neighbor entries with preference subelements",
        {"request": "", "ssid": None, "expect": "own", "prefs": {"other": 255, "fake": 1}}, sev="normal"),
]


def judge_scenario(spec, record, dut, aps, air):
    """Run the row's scenario, judge its evidence, and take down any AP the row added to the
    module's three (the beacon cases' ground truth is every AP on the air)."""
    try:
        judge, live, facts, pcap, profile = spec.scenario(spec, record, dut, aps, air)
        with record.step("judge"):
            record.judge_evidence(judge, dut, live, profile, facts, pcap)
    finally:
        for role in spec.aps:
            if role not in LAB3 and role not in SHARED:
                aps.drop(role)


@pytest.mark.parametrize("spec", NR_CASES, ids=lambda s: s.id)
def test_neighbor_report(spec, record, dut, aps, air):
    judge_scenario(spec, record, dut, aps, air)


# ---- beacon requests -------------------------------------------------------------------------

def request_hex(p, cur, other, c) -> str:
    """REQ_BEACON's request from the row: channel ("cur", "other", "c" name an AP's channel),
    duration, mode, BSSID filter, and the optional subelements (9.4.2.20.7)."""
    chan = {"cur": cur.config.channel, "other": other.config.channel, "c": c.config.channel}.get(
        p["chan"], p["chan"])
    subs = b""
    if "ssid" in p:
        subs += K.sub(0, p["ssid"])
    if "detail" in p:
        subs += K.sub(2, bytes([p["detail"]]))
    if "ids" in p:
        subs += K.sub(10, bytes(p["ids"]))
    for oc, chans in p.get("acr", ()):
        subs += K.sub(51, bytes([oc, *chans]))
    if "last" in p:
        subs += K.sub(164, bytes([p["last"]]))
    bssid = other.bssid if p.get("bssid") == "other" else "ff:ff:ff:ff:ff:ff"
    return K.req_hex(p.get("op_class", 81), chan, p["dur"], p["mode"], bssid, subs)


def _connect_and_scan(spec, record, dut, pool):
    live = bring_up(spec, pool)
    with record.step("connect"):
        bssid = K.connect_steady(dut, PROFILE)
    with record.step("scan the lab's channels"):
        K.scan_lab(dut)
    return live, serving_role(live, bssid)


def beacon_request_from_row(spec, record, dut, pool, air):
    """Connect, scan the lab's channels, then the serving AP sends the row's beacon request
    (request_hex); in table mode the DUT's scan table is read first, for the prediction."""
    p = spec.params
    live, role = _connect_and_scan(spec, record, dut, pool)
    cur = live[role]
    other = next(ap for ap in (live["a"], live["b"]) if ap is not cur)
    hexreq = request_hex(p, cur, other, live["c"])
    record.attach_text("req_beacon", hexreq)
    table = K.table_of(dut) if p["mode"] == beacon.TABLE else None
    mm = cur.mark()
    token = K.send_beacon_request(record, cur, dut, hexreq)
    pcap = air.stop()
    # Every AP of the pool is on the air, so every one is ground truth for the prediction.
    facts = {"serving": role, "req_beacon": hexreq, "token": token, "ap_mark": mm,
             "scan_table": sorted(table) if table is not None else None}
    return "rrm.beacon", on_air(pool), facts, pcap, PROFILE


def association_for_unadvertised_mode(spec, record, dut, pool, air):
    """Connect and scan; the judge reads which beacon measurement modes the DUT advertised
    (a request for one it did not advertise is all the case could send)."""
    live, role = _connect_and_scan(spec, record, dut, pool)
    return "rrm.beacon_modes_advertised", live, {"serving": role}, air.stop(), PROFILE


ALL3 = ((81, (1, 6, 11)),)
BCN_CLAUSES = (f"{R} 11.10.9.3", f"{R} 9.4.2.20.7", f"{R} 9.4.2.21.7")


def _b(id, title, story, needs, params, sev="normal", extra=(), scenario=beacon_request_from_row, aps=LAB3):
    return CaseSpec(id, title, "802.11k", BCN, story, BCN_CLAUSES + tuple(extra), needs, sev, params, scenario,
                    aps)


# params: mode (0 passive, 1 active, 2 table), op_class (default 81), chan (a number, or the
# channel of "cur", "other", "c"), dur (TUs), bssid ("other": the other lab AP, else wildcard),
# and the subelements: ssid, detail (reporting detail), ids (Request element IDs),
# acr (AP Channel Reports), last (Last Beacon Report Indication request).


P, A, T = ("rrm_beacon_passive",), ("rrm_beacon_active",), ("rrm_beacon_table",)
BCN_CASES = [
    _b("BCN-01", "Passive mode, wildcard BSSID", "Passive scan reports every BSS heard", P,
       {"mode": 0, "chan": 255, "acr": ALL3, "dur": 110}, "critical"),
    _b("BCN-02", "Active mode, wildcard BSSID", "Active scan reports every BSS that answers", A,
       {"mode": 1, "chan": 255, "acr": ALL3, "dur": 50}, "critical"),
    _b("BCN-03", "Table mode, wildcard BSSID", "Table mode reports the stored BSSs", T,
       {"mode": 2, "chan": 255, "dur": 0}, "critical"),
    _b("BCN-04", "Active mode, a specific BSSID", "BSSID filter", A,
       {"mode": 1, "chan": "other", "dur": 50, "bssid": "other"}),
    _b("BCN-05", "Table mode, a specific BSSID", "BSSID filter on the stored table", T,
       {"mode": 2, "chan": 255, "dur": 0, "bssid": "other"}),
    _b("BCN-06", "Active mode, SSID subelement of the serving ESS", "SSID filter", A,
       {"mode": 1, "chan": 255, "acr": ALL3, "dur": 50, "ssid": b"roamcert"}),
    # detail 0 keeps this case on the filter (BCN-01/10 judge passive-mode bodies)
    _b("BCN-07", "Passive mode, SSID subelement of another ESS", "SSID filter", P,
       {"mode": 0, "chan": 255, "acr": ALL3, "dur": 110, "ssid": ALT, "detail": 0}),
    _b("BCN-08", "Reporting detail 0", "No frame body", P,
       {"mode": 0, "chan": 255, "acr": ALL3, "dur": 110, "detail": 0}),
    _b("BCN-09", "Reporting detail 1 with requested element IDs", "Frame body limited to requested elements", P,
       {"mode": 0, "chan": 255, "acr": ALL3, "dur": 110, "detail": 1, "ids": (0, 48, 54, 221)}),
    _b("BCN-10", "Reporting detail 2", "All fixed fields and elements", P,
       {"mode": 0, "chan": "cur", "dur": 110, "detail": 2}),
    _b("BCN-11", "Reporting detail 1 without a Request subelement", "Fixed fields only", P,
       {"mode": 0, "chan": "cur", "dur": 110, "detail": 1}),
    _b("BCN-12", "AP Channel Report across two channels", "Channels from the AP Channel Report", A,
       {"mode": 1, "chan": 255, "acr": ((81, (1, 6)),), "dur": 50}, "normal", (f"{R} 9.4.2.35",)),
    _b("BCN-13", "Last beacon report indication requested", "Last report flagged", A,
       {"mode": 1, "chan": 255, "acr": ALL3, "dur": 50, "last": 1}),
    _b("BCN-14", "Last beacon report indication not requested", "No last-report flag", A,
       {"mode": 1, "chan": 255, "acr": ALL3, "dur": 50, "last": 0}),
    _b("BCN-15", "Unknown operating class, all its channels", "Refuse what cannot be measured", P,
       {"mode": 0, "op_class": 200, "chan": 0, "dur": 50}, "normal", (f"{R} 11.10.6",)),
    _b("BCN-16", "Unknown operating class, one channel", "Refuse what cannot be measured", P,
       {"mode": 0, "op_class": 200, "chan": 6, "dur": 50}, "normal", (f"{R} 11.10.6",)),
    _b("BCN-18", "Zero measurement duration", "A zero duration still gets an answer", P,
       {"mode": 0, "chan": 255, "acr": ALL3, "dur": 0}, "normal", (f"{R} 11.10.6",)),
    _b("BCN-19", "Reserved reporting detail", "A request it cannot honour gets an answer", P,
       {"mode": 0, "chan": "cur", "dur": 110, "detail": 3}, "minor", (f"{R} 11.10.6",)),
    # The request names one channel (11) that is not the serving AP's. wpa_supplicant 2.10 reports
    # every scan result updated since the measurement scan started (8 ms slack), on any channel
    # (wpas_beacon_rep_scan_process() has no frequency filter); mac80211 updates the serving BSS's
    # entry from each of its Beacons heard while the scan runs, and mac80211_hwsim delivers the
    # serving channel's frames to an associated STA during its whole software scan. So the DUT
    # reports its serving AP iff one of its Beacons falls inside the scan: LAB3_FAST_SERVING makes
    # that always so (registry WPAS-BCN-SERVING-BSS-UNREQUESTED-CHANNEL). A DUT that filters by
    # the requested channel passes either way.
    _b("BCN-20", "Active mode on the channel of another ESS", "Active scan of a single channel", A,
       {"mode": 1, "chan": "c", "dur": 50, "detail": 1, "ids": (0, 221)}, aps=LAB3_FAST_SERVING),
]



# A request for a mode the DUT did not advertise: the lab can only check the advertisement,
# since hostapd 2.10 refuses to send such a request (see test_beacon_request_unadvertised).
BCN_UNADVERTISED_CASES = [
    _b("BCN-17", "Measurement mode the DUT did not advertise", "Only advertised modes are requested", (),
       {}, "normal", (f"{R} 9.4.2.44", f"{R} 11.10.6"), association_for_unadvertised_mode),
]


@pytest.mark.parametrize("spec", BCN_CASES, ids=lambda s: s.id)
def test_beacon_request(spec, record, dut, aps, air):
    judge_scenario(spec, record, dut, aps, air)


@pytest.mark.parametrize("spec", BCN_UNADVERTISED_CASES, ids=lambda s: s.id)
def test_beacon_request_unadvertised(spec, record, dut, aps, air):
    judge_scenario(spec, record, dut, aps, air)
    missing = record.metrics["unadvertised_modes"]
    if not missing:
        pytest.skip(f"{dut.name} advertises passive, active and table beacon measurement "
                    "(wpa_supplicant 2.10 sets all three bits unconditionally, sme.c), and hostapd 2.10 "
                    "refuses REQ_BEACON for a mode the STA did not advertise (src/ap/rrm.c), so no "
                    "request for an unadvertised mode can reach this DUT")
    pytest.skip(f"{dut.name} does not advertise {missing}; hostapd 2.10 will not send such a request "
                "(REQ_BEACON fails), so the lab cannot build this case")


# ---- beacon requests in depth: built field by field (issue 10) ----------------------------
#
# Each row's request is built from the Beacon request layout (engine/frames/build.py) and
# sent by the serving AP: by REQ_BEACON, or, for what REQ_BEACON cannot carry (a Measurement
# Pause before the Beacon request), as a whole injected frame. The oracle (engine/beacon.py)
# predicts from the request it reads back off the air, so a malformed request is judged for
# what the standard lets a STA do with it (silence, refused, incapable), and its fault is
# the reference AP's (BCN-REQUEST-FORMAT). Rows mirror what hostap's tests/hwsim/test_rrm.py
# sends (docs/calibration.md).

# A radio of eight BSSs on channel 11 (hostapd multi-BSS), brought up once and shared by every
# row that needs a crowded neighbourhood; the first BSS carries three 200-octet vendor
# elements, so its beacon body (about 800 octets) needs several Reported Frame Body fragments.
BIG_VENDOR_ELEMENTS = "".join("dd" + f"{200:02x}" + "001122" + f"{i:02x}" * 197 for i in (1, 2, 3))
CROWD_SSID = "roamcert-crowd"
CROWD = tuple([BSSConfig(channel=11, ssid=CROWD_SSID, security=OPEN, extra={"vendor_elements": BIG_VENDOR_ELEMENTS})]
              + [BSSConfig(channel=11, ssid=CROWD_SSID, security=OPEN) for _ in range(7)])
AP_VHT = BSSConfig(channel=36, vht80=True, ssid="roamcert-vht", security=OPEN)  # 5 GHz, 80 MHz (class 128)
AP_STALE = BSSConfig(channel=11, ssid="roamcert-stale", security=OPEN)  # scanned, then taken off the air
SHARED = {"crowd": CROWD, "vht": AP_VHT}  # kept up until the module ends, not rebuilt per row
NOBODY = "02:11:22:33:44:55"  # a BSSID no AP has (hostap's test_rrm_beacon_req_passive_no_match)
INJECTED_TOKEN = 200  # dialog token of injected requests: clear of hostapd's own REQ_BEACON tokens


def _request_mode(names) -> int:
    bits = dict(fb.MEASUREMENT_REQUEST_MODE)
    return sum(1 << bits[n] for n in names)


def beacon_request_built(spec, record, dut, pool, air):
    """Connect, scan the lab's channels (and a row's extra frequencies), take a row's stale
    AP off the air, then the serving AP sends the row's request, built field by field; in
    table mode the DUT's scan table is read first, for the prediction.

    params: mode, op_class (81), chan (a number, or a role: "cur", "other", "c", "crowd.N",
    "vht"), dur, rand (Randomization Interval, TU), bssid (wildcard, a role or a MAC),
    subs (rrm_steps.beacon_subelements entries), req_mode (Measurement Request Mode bit
    names), pause (a Measurement Pause of pause x 10 TU before the Beacon request, injected),
    scan_also (roles whose frequency the DUT also scans)."""
    p = spec.params
    live = bring_up(spec, pool)
    with record.step("connect"):
        bssid = K.connect_steady(dut, PROFILE)
    role = serving_role(live, bssid)
    cur = live[role]
    other = next(ap for ap in (live["a"], live["b"]) if ap is not cur)
    named = {"cur": cur, "other": other, **live}
    with record.step("scan the lab's channels"):
        K.scan_lab(dut, tuple(named[r].freq for r in p.get("scan_also", ())))
    if "stale" in spec.aps:
        with record.step("take the stale AP off the air"):
            pool.drop("stale")
    chan = p["chan"] if isinstance(p["chan"], int) else named[p["chan"]].config.channel
    target = p.get("bssid", fb.BROADCAST)
    target = named[target].bssid if target in named else target
    fields = fb.beacon_request_fields(op_class=p.get("op_class", 81), channel=chan, mode=p["mode"],
                                      bssid=target, duration=p["dur"],
                                      randomization_interval=p.get("rand", 0),
                                      subelements=K.beacon_subelements(p.get("subs", ())))
    record.attach_text("req_beacon", fields.hex())
    table = K.table_of(dut) if p["mode"] == beacon.TABLE else None
    mm = cur.mark()
    req_mode = _request_mode(p.get("req_mode", ()))
    if "pause" in p:
        measurements = [fb.measurement_pause(token=1, pause_time=p["pause"]),
                        fb.MEASUREMENT_REQUEST(token=2, request_mode=req_mode,
                                               measurement_type=fb.MEASUREMENT_BEACON, request=fields)]
        token = K.send_injected_request(record, cur, dut, fb.radio_measurement_request(
            dialog_token=INJECTED_TOKEN, measurements=measurements), INJECTED_TOKEN)
    else:
        token = K.send_beacon_request(record, cur, dut, fields.hex(), req_mode=req_mode)
    pcap = air.stop()
    facts = {"serving": role, "req_beacon": fields.hex(), "token": token, "ap_mark": mm,
             "scan_table": sorted(table) if table is not None else None}
    return "rrm.beacon", on_air(pool), facts, pcap, PROFILE


MALFORMED_REQS = (f"{R} 11.10.6", f"{R} 9.4.2.20.7")
ACR_REQ = (f"{R} 9.4.2.35",)
OP_CLASSES_REQ = (f"{R} Annex E (Table E-4)",)
FIVE = ("band_5ghz",)
LAB_CROWD = {**LAB3, "crowd": CROWD}
# The 5 GHz rows ask for channels the serving AP (channel 1) is not on: its Beacons beacon every
# 20 TU here too, so the serving BSS's Beacon always falls inside the measurement scan, as in
# BCN-20 (BCN-54's one-channel scan met one at 100 TU in some runs only).
LAB_VHT = {**LAB3_FAST_SERVING, "vht": AP_VHT}
ACR3 = ["acr", 81, [1, 6, 11]]


def _d(id, title, story, needs, params, sev="normal", extra=(), aps=LAB3):
    return CaseSpec(id, title, "802.11k", BCN, story, BCN_CLAUSES + tuple(extra), needs, sev, params,
                    beacon_request_built, aps)


BCN_DEPTH_CASES = [
    # table mode: filters, reporting detail, Request subelement, other subelements
    _d("BCN-21", "Table mode, wildcard SSID subelement", "A zero-length SSID is the wildcard", T,
       {"mode": 2, "chan": 0, "dur": 0, "subs": [["ssid", ""]]}),
    _d("BCN-22", "Table mode, SSID subelement of another ESS", "SSID filter on the stored table", T,
       {"mode": 2, "chan": 0, "dur": 0, "subs": [["ssid", ALT.decode()]]}),
    _d("BCN-23", "Table mode, SSID subelement of 33 octets", "Invalid SSID subelement", T,
       {"mode": 2, "chan": 0, "dur": 0, "subs": [["ssid_octets", 33]]}, extra=MALFORMED_REQS),
    _d("BCN-24", "Table mode, reporting detail 0", "No frame body from the table", T,
       {"mode": 2, "chan": 0, "dur": 0, "subs": [["detail", 0]]}),
    _d("BCN-25", "Table mode, detail 1 requesting SSID and Supported Rates", "Requested elements from the table", T,
       {"mode": 2, "chan": 0, "dur": 0, "subs": [["detail", 1], ["request", [0, 1]]]}),
    _d("BCN-26", "Table mode, detail 1 requesting the RSNE", "The whole RSNE reported", T,
       {"mode": 2, "chan": 0, "dur": 0, "subs": [["detail", 1], ["request", [48]]]}),
    _d("BCN-27", "Table mode, Request subelement with reporting detail 2", "Request only with detail 1", T,
       {"mode": 2, "chan": 0, "dur": 0, "subs": [["detail", 2], ["request", [0]]]}, extra=MALFORMED_REQS),
    _d("BCN-28", "Table mode, zero-length Request subelement", "A Request that lists nothing", T,
       {"mode": 2, "chan": 0, "dur": 0, "subs": [["detail", 1], ["request", [0], {"zero_length": True}]]},
       extra=MALFORMED_REQS),
    _d("BCN-29", "Table mode, two Request subelements", "A repeated Request subelement", T,
       {"mode": 2, "chan": 0, "dur": 0, "subs": [["detail", 1], ["request", [0]], ["request", [1]]]},
       extra=MALFORMED_REQS),
    _d("BCN-30", "Table mode, zero-length Reporting Detail subelement", "A Reporting Detail without its value", T,
       {"mode": 2, "chan": 0, "dur": 0, "subs": [["detail", 1, {"zero_length": True}]]}, extra=MALFORMED_REQS),
    _d("BCN-31", "Table mode, Beacon Reporting condition 1", "A reporting condition with a threshold", T,
       {"mode": 2, "chan": 0, "dur": 0, "subs": [["reporting", 1, 2]]}, extra=(f"{R} 11.10.6",)),
    # Beacon Reporting is Reporting Condition and Threshold/Offset: 2 octets; here 1
    _d("BCN-32", "Table mode, Beacon Reporting subelement of 1 octet", "A Beacon Reporting subelement cut short", T,
       {"mode": 2, "chan": 0, "dur": 0, "subs": [["raw", 1, "01"]]}, extra=MALFORMED_REQS),
    _d("BCN-33", "Table mode, truncated SSID subelement", "A subelement torn at the end of the request", T,
       {"mode": 2, "chan": 0, "dur": 0, "subs": [["ssid", "x", {"truncated": 2}]]}, extra=MALFORMED_REQS),
    _d("BCN-34", "Table mode, unknown and vendor subelements", "Subelements a STA skips", T,
       {"mode": 2, "chan": 0, "dur": 0,
        "subs": [["acr", 81, [1]], ["unknown", 254, ""], ["vendor", "001122", "roamcert"]]}),
    _d("BCN-35", "Table mode, Last Beacon Report Indication requested", "Last report flagged from the table", T,
       {"mode": 2, "chan": 0, "dur": 0, "subs": [["last", 1]]}),
    _d("BCN-36", "Table mode, a BSSID no AP has", "Nothing stored matches", T,
       {"mode": 2, "chan": 0, "dur": 0, "bssid": NOBODY}),
    # passive and active mode: request mode, timing fields, AP Channel Reports, filters
    _d("BCN-37", "Active mode, duration mandatory", "Exact duration or incapable", A,
       {"mode": 1, "chan": 255, "dur": 50, "subs": [ACR3], "req_mode": ["duration_mandatory"]},
       extra=(f"{R} 9.4.2.20",)),
    _d("BCN-38", "Passive mode, randomization interval 100 TU", "The measurement may start later", P,
       {"mode": 0, "chan": 255, "dur": 110, "rand": 100, "subs": [ACR3]}),
    _d("BCN-39", "Active mode after a Measurement Pause", "A pause before the beacon measurement", A,
       {"mode": 1, "chan": 255, "dur": 50, "subs": [ACR3], "pause": 10}, extra=(f"{R} 9.4.2.20", f"{R} 9.6.6.2")),
    _d("BCN-40", "Active mode, AP Channel Report of an unknown operating class", "Refuse what cannot be measured", A,
       {"mode": 1, "chan": 255, "dur": 50, "subs": [["acr", 255, [1]]]}, extra=ACR_REQ + (f"{R} 11.10.6",)),
    _d("BCN-41", "Passive mode, a zero-length AP Channel Report after two valid ones", "An empty channel report", P,
       {"mode": 0, "chan": 255, "dur": 110,
        "subs": [["acr", 81, [1]], ["acr", 81, [6]], ["acr", 81, [11], {"zero_length": True}]]}, extra=ACR_REQ),
    _d("BCN-42", "Active mode, AP Channel Report followed by vendor subelements", "Vendor subelements skipped", A,
       {"mode": 1, "chan": 255, "dur": 50,
        "subs": [ACR3, ["vendor", "001122", "roamcert"], ["vendor", "0050f2", "roamcert"]]}, extra=ACR_REQ),
    _d("BCN-43", "Passive mode, a BSSID no AP has", "An empty report when nothing matched", P,
       {"mode": 0, "chan": 255, "dur": 110, "bssid": NOBODY, "subs": [ACR3]}),
    _d("BCN-44", "Active mode, unknown subelement after the AP Channel Report", "Unknown subelements skipped", A,
       {"mode": 1, "chan": 255, "dur": 50, "subs": [ACR3, ["unknown", 254, "00"]]}),
    _d("BCN-45", "Active mode, a scan result of an AP now gone", "Stale scan results are not reported", A,
       {"mode": 1, "chan": 255, "dur": 50, "subs": [["acr", 81, [6, 11]]]}, aps={**LAB3_FAST_SERVING, "stale": AP_STALE}),
    # 5 GHz and VHT operating classes
    _d("BCN-52", "Passive mode, VHT80 operating class 128, one 80 MHz block", "An 80 MHz class's channels", P + FIVE,
       {"mode": 0, "op_class": 128, "chan": 42, "dur": 110}, extra=OP_CLASSES_REQ, aps=LAB_VHT),
    _d("BCN-53", "Active mode, operating class 128, every block", "All VHT80 channels", A + FIVE,
       {"mode": 1, "op_class": 128, "chan": 0, "dur": 30}, extra=OP_CLASSES_REQ, aps=LAB_VHT),
    _d("BCN-54", "Active mode, operating class 115 channel 36", "A 5 GHz 20 MHz class, one channel", A + FIVE,
       {"mode": 1, "op_class": 115, "chan": "vht", "dur": 50}, extra=OP_CLASSES_REQ, aps=LAB_VHT),
    _d("BCN-55", "Table mode with a VHT80 AP stored", "A 5 GHz BSS from the table", T + FIVE,
       {"mode": 2, "chan": 0, "dur": 0, "scan_also": ["vht"]}, extra=OP_CLASSES_REQ, aps=LAB_VHT),
    # many BSSs (one multi-BSS radio of eight, shared) and frame body fragmentation. They run
    # last: while the eight BSSs beacon, the lab's capture (hwsim0) holds no Beacon of the
    # other radios (docs/calibration.md), so these rows judge other APs' presence, not bodies.
    _d("BCN-46", "Passive mode on a channel of nine BSSs", "Every BSS heard on a crowded channel", P,
       {"mode": 0, "chan": "crowd.0", "dur": 110, "subs": [["detail", 0]]}, aps=LAB_CROWD),
    _d("BCN-47", "Active mode, SSID filter among nine BSSs", "Eight BSSs of one ESS answer", A,
       {"mode": 1, "chan": 255, "dur": 50, "subs": [["ssid", CROWD_SSID], ["detail", 0], ["acr", 81, [11]]]},
       aps=LAB_CROWD),
    _d("BCN-48", "Table mode with eleven stored BSSs", "A large table reported whole", T,
       {"mode": 2, "chan": 0, "dur": 0, "subs": [["detail", 0]]}, aps=LAB_CROWD),
    _d("BCN-49", "Table mode, frame body fragmentation", "A beacon body too large for one report", T,
       {"mode": 2, "chan": 0, "dur": 0, "bssid": "crowd.0"}, aps=LAB_CROWD),
    _d("BCN-50", "Passive mode, detail 1 requesting vendor elements of a large beacon",
       "Requested elements over several fragments", P,
       {"mode": 0, "chan": "crowd.0", "dur": 110, "bssid": "crowd.0", "subs": [["detail", 1], ["request", [221]]]},
       aps=LAB_CROWD),
    _d("BCN-51", "Active mode, one BSSID of a multi-BSS radio", "BSSID filter among BSSs of one radio", A,
       {"mode": 1, "chan": "crowd.0", "dur": 50, "bssid": "crowd.5"}, aps=LAB_CROWD),
]


@pytest.mark.parametrize("spec", BCN_DEPTH_CASES, ids=lambda s: s.id)
def test_beacon_request_in_depth(spec, record, dut, aps, air):
    judge_scenario(spec, record, dut, aps, air)
