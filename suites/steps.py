"""Steps the suites share: drive a scenario, then hand the evidence to the oracle.
Verdicts come only from engine/; this module only gathers and records."""
from __future__ import annotations

import time

from engine import btm, candidates
from engine.frames import mac
from engine.ft.exchange import find_exchanges
from engine.ft.keys import Secrets
from engine.indications import check as check_indications
from engine.verdict import check
from lab.network import LAB_FREQS, PROFILE  # noqa: F401 (the suites' network)
from lab.wpas import Profile
from engine.air import Air

R = "IEEE 802.11-2020"

FRAME_LABELS = {
    "btm_request": "BTM Request", "btm_response": "BTM Response", "btm_query": "BTM Query",
    "auth": "Authentication", "assoc_req": "Assoc Req", "assoc_resp": "Assoc Resp",
    "reassoc_req": "Reassoc Req", "reassoc_resp": "Reassoc Resp", "deauth": "Deauth",
    "disassoc": "Disassoc", "ft_action_req": "FT Action Req", "ft_action_resp": "FT Action Resp",
    "eapol": "EAPOL-Key", "nr_request": "NR Request", "nr_response": "NR Response",
    "rm_beacon_request": "Beacon Request", "rm_beacon_report": "Beacon Report",
}


def connect_first(dut, record, ap_a, ap_b, profile: Profile = PROFILE):
    """Connect to whichever AP the DUT picks, then let it learn the other by a scan.
    Returns (current AP, other AP)."""
    first = connect(dut, record, profile)
    cur, other = (ap_a, ap_b) if first == ap_a.bssid else (ap_b, ap_a)
    with record.step("scan"):
        dut.scan(tuple(sorted({ap_a.freq, ap_b.freq})))
    return cur, other


def connect(dut, record, profile: Profile = PROFILE) -> str:
    """Connect the DUT; a DUT that cannot connect fails the case on a CONNECT verdict."""
    from devices.base import DutError
    from lab.daemon import DaemonError
    with record.step("connect"):
        try:
            return dut.connect(profile)
        except (DutError, DaemonError) as e:
            record.judge_evidence("connect", dut, {}, profile, {"connect_error": str(e)})
            raise  # the CONNECT verdict always fails the case first


def wait_connected(dut, bssid: str, since: int, timeout: float = 15):
    return dut.wait_for(lambda e: e.kind == "connected" and e.get("bssid") == bssid, timeout, since=since)


def secrets(profile: Profile = PROFILE) -> Secrets:
    return Secrets.from_passphrase(profile.passphrase, profile.ssid_b)


def judge_ft_roam(record, air: Air, dut, over_ds: bool | None, target, profile: Profile = PROFILE):
    """FT exchange checks (MICs, PMKR1Name, nonces, no 4-way) for the DUT's FT roam(s)."""
    ft = find_exchanges(air.frames, secrets(profile))
    record.attach_json("ft-analysis", ft.to_dict())
    mine = [x for x in ft.exchanges if x.sta == dut.mac]
    record.add(check("FT-EXCHANGE", f"{R} 13.5/13.6", len(mine) >= 1,
                     "an FT exchange by the DUT", f"{len(mine)} exchange(s)"))
    for x in mine:
        if over_ds is not None:
            record.add(check("FT-METHOD", f"{R} 13.5/13.6", x.over_ds == over_ds,
                             "over the DS" if over_ds else "over the air",
                             "over the DS" if x.over_ds else "over the air"))
        if target is not None:
            record.add(check("FT-TARGET", f"{R} 13.8.4", x.target == target.bssid, target.bssid, x.target))
        if x.latency_us is not None:
            record.metrics.setdefault("ft_latency_us", []).append(x.latency_us)
    record.add(ft.verdicts())
    return ft, mine


def scan_view(aps, rssi: int = -30) -> list[candidates.ScanEntry]:
    out = []
    for ap in aps:
        akms = {"ft-psk": frozenset({4} | ({2} if ap.config.also_wpa_psk else set())),
                "wpa2-psk": frozenset({2}), "open": frozenset()}[ap.config.security]
        mdid = bytes.fromhex(ap.config.mdid) if ap.config.security == "ft-psk" else None
        out.append(candidates.ScanEntry(ap.bssid, ap.config.ssid_b, ap.freq, ap.config.channel, rssi,
                                        akms, mdid))
    return out


def profile_view(profile: Profile = PROFILE) -> candidates.Profile:
    akms = {"ft-psk": frozenset({4}), "wpa2-psk": frozenset({2}), "open": frozenset()}[profile.security]
    if profile.key_mgmt:
        akms = frozenset({"FT-PSK": 4, "WPA-PSK": 2}[k] for k in profile.key_mgmt.split())
    return candidates.Profile(profile.ssid_b, akms)


def judge_btm(record, air: Air, dut, cur, aps, profile: Profile = PROFILE,
              settings: btm.DutSettings | None = None, joined: str | None = None, request_index: int = 0,
              dialog_token: int | None = None):
    """Predict the acceptable outcomes of the request on the air and judge the response.
    dialog_token picks the case's own request among the AP's requests to the DUT (an ESP32
    running the roaming example sends a BTM query on every connect, and hostapd answers
    each query with a request of its own)."""
    reqs = [(f, r) for f, r in air.btm_requests() if mac(f.raw[4:10]) == dut.mac]
    if dialog_token is not None:
        reqs = [(f, r) for f, r in reqs if r.dialog_token == dialog_token]
    record.add(check("BTM-REQUEST-SENT", f"{R} 11.24.7.2", len(reqs) > request_index,
                     "the AP's BTM request on the air", f"{len(reqs)} request(s)"))
    if len(reqs) <= request_index:
        return None, None
    rq_f, rq = reqs[request_index]
    resps = [(f, r) for f, r in air.btm_responses()
             if mac(f.raw[10:16]) == dut.mac and f.t >= rq_f.t and r.dialog_token == rq.dialog_token]
    rs_f, rs = resps[0] if resps else (None, None)
    pred = btm.predict(rq, cur.bssid, scan_view(aps), profile_view(profile), settings)
    reassoc = air.first_after(rq_f.t, dut.mac, "reassoc_req", "assoc_req", "auth", "ft_action_req")
    disassoc = air.first_after(rq_f.t, dut.mac, "disassoc", "deauth")
    tl = btm.Timeline(request_t=rq_f.t, response_t=rs_f.t if rs_f else None,
                      reassoc_t=reassoc.t if reassoc else None, joined_bssid=joined,
                      disassociated_t=disassoc.t if disassoc else None)
    record.attach_json("btm-exchange", {
        "request": repr(rq), "request_frame": rq_f.index,
        "response": repr(rs), "response_frame": rs_f.index if rs_f else None,
        "prediction": repr(pred)})
    record.add(btm.validate(rq, rs, pred, tl))
    return rq, rs


def judge_indications(record, dut, **kw):
    trace = dut.indications()
    record.attach_json("indications", [i.to_dict() for i in trace])
    record.add(check_indications(trace, **kw))
    return trace


def settle(seconds: float) -> None:
    """Let frames in flight land before the capture stops."""
    time.sleep(seconds)


def roam_timeline(record, air: Air, dut, cur, target, title: str, t_from: float | None = None,
                  latencies: dict | None = None) -> None:
    """Add the roam's sequence picture data: frames between the DUT and either AP, and the
    DUT's indications, on the capture clock (t_from is on that clock too: use lab.now())."""
    lanes = {dut.mac: "dut", cur.bssid: "current", target.bssid: "target"}
    frames = []
    for f, k in zip(air.frames, air.kinds):
        if k not in FRAME_LABELS or (t_from is not None and f.t < t_from):
            continue
        src, dst = mac(f.raw[10:16]), mac(f.raw[4:10])
        if src in lanes and dst in lanes and dut.mac in (src, dst):
            frames.append({"t": f.t, "src": lanes[src], "dst": lanes[dst], "label": FRAME_LABELS[k],
                           "index": f.index})
    inds = [i.to_dict() for i in dut.indications() if t_from is None or i.t >= t_from - 1]
    record.roams.append({"title": title, "dut": {"name": dut.name, "mac": dut.mac},
                         "current": {"name": "current AP", "bssid": cur.bssid},
                         "target": {"name": "target AP", "bssid": target.bssid},
                         "frames": frames, "indications": inds, "latencies": latencies or {}})


def observe(record, what: str, fn, *args, **kwargs):
    """Wait for something the DUT should do. A timeout is not an error of the case: the
    oracle judges what happened, so the wait only notes that the thing did not come."""
    from devices.base import WaitTimeout
    from lab.daemon import EventTimeout
    try:
        return fn(*args, **kwargs)
    except (WaitTimeout, EventTimeout) as e:
        record.metrics.setdefault("not_observed", []).append(f"{what}: {str(e).splitlines()[0]}")
        return None
