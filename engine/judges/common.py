"""Judging steps the families share: connection failure, FT exchange checks, BTM
prediction and validation, the indication rules, and roam timeline data."""
from __future__ import annotations

from engine import btm, candidates
from engine.air import Air
from engine.evidence import APView, CaseEvidence, DutView, ProfileView
from engine.ft.exchange import find_exchanges
from engine.ft.keys import Secrets
from engine.indications import check as check_indications
from engine.verdict import check

R = "IEEE 802.11-2020"

FRAME_LABELS = {
    "btm_request": "BTM Request", "btm_response": "BTM Response", "btm_query": "BTM Query",
    "auth": "Authentication", "assoc_req": "Assoc Req", "assoc_resp": "Assoc Resp",
    "reassoc_req": "Reassoc Req", "reassoc_resp": "Reassoc Resp", "deauth": "Deauth",
    "disassoc": "Disassoc", "ft_action_req": "FT Action Req", "ft_action_resp": "FT Action Resp",
    "eapol": "EAPOL-Key", "nr_request": "NR Request", "nr_response": "NR Response",
    "rm_beacon_request": "Beacon Request", "rm_beacon_report": "Beacon Report",
}

_AKMS = {"ft-psk": frozenset({4}), "wpa2-psk": frozenset({2}), "open": frozenset()}


def connect_failed(ev: CaseEvidence):
    """The DUT could not connect to the case's network: the case judges nothing else."""
    err = str(ev.facts["connect_error"]).splitlines() or [""]
    return check("CONNECT", f"{R} 11.3 (STA authentication and association)", False,
                 f"a connection to SSID {ev.profile.ssid_b!r} ({ev.profile.security})",
                 err[0], message="\n".join(err[1:8]))


def secrets(profile: ProfileView) -> Secrets:
    return Secrets.from_passphrase(profile.passphrase, profile.ssid_b)


def judge_ft_roam(j, air: Air, dut: DutView, over_ds: bool | None, target: APView | None,
                  profile: ProfileView):
    """FT exchange checks (MICs, PMKR1Name, nonces, no 4-way) for the DUT's FT roam(s)."""
    ft = find_exchanges(air.frames, secrets(profile))
    j.attach_json("ft-analysis", ft.to_dict())
    mine = [x for x in ft.exchanges if x.sta == dut.mac]
    j.add(check("FT-EXCHANGE", f"{R} 13.5/13.6", len(mine) >= 1,
                "an FT exchange by the DUT", f"{len(mine)} exchange(s)"))
    for x in mine:
        if over_ds is not None:
            method = ft_method(air, x)
            j.add(check("FT-METHOD", f"{R} 13.5/13.6", method == over_ds,
                        "over the DS" if over_ds else "over the air",
                        "over the DS" + (" (FT Action frames protected: PMF)" if x.over_ds is None else "")
                        if method else "over the air" if method is False else "neither seen"))
        if target is not None:
            j.add(check("FT-TARGET", f"{R} 13.8.4", x.target == target.bssid, target.bssid, x.target))
        if x.latency_us is not None:
            j.metrics.setdefault("ft_latency_us", []).append(x.latency_us)
    j.add(ft.verdicts())
    return ft, mine


def ft_method(air: Air, x) -> bool | None:
    """Over the DS (True) or over the air (False) for one FT exchange. With PMF the FT Action
    frames of an over-the-DS exchange are protected, so the finder sees only the
    reassociation (x.over_ds None): a protected Action frame from the STA to the AP it is
    leaving, within the second before its Reassociation Request, is then the FT Request."""
    if x.over_ds is not None:
        return x.over_ds
    rq = x.reassoc_req
    if rq is None or x.current is None:
        return None
    for f in air.of_kind("protected_action"):
        if f.src == x.sta and f.dst == x.current and rq.t - 1.0 <= f.t < rq.t:
            return True
    return None


def scan_view(aps, rssi: int = -30) -> list[candidates.ScanEntry]:
    out = []
    for ap in aps:
        akms = _AKMS[ap.config.security]
        if ap.config.security == "ft-psk" and ap.config.also_wpa_psk:
            akms = akms | {2}
        mdid = bytes.fromhex(ap.config.mdid) if ap.config.security == "ft-psk" else None
        out.append(candidates.ScanEntry(ap.bssid, ap.config.ssid_b, ap.freq, ap.config.channel, rssi,
                                        frozenset(akms), mdid))
    return out


def profile_view(profile: ProfileView) -> candidates.Profile:
    akms = _AKMS[profile.security]
    if profile.key_mgmt:
        akms = frozenset({"FT-PSK": 4, "WPA-PSK": 2}[k] for k in profile.key_mgmt.split())
    return candidates.Profile(profile.ssid_b, akms)


def judge_btm(j, air: Air, dut: DutView, cur: APView, aps, profile: ProfileView,
              settings: btm.DutSettings | None = None, joined: str | None = None, request_index: int = 0,
              dialog_token: int | None = None):
    """Predict the acceptable outcomes of the request on the air and judge the response.
    dialog_token picks the case's own request among the AP's requests to the DUT (an ESP32
    running the roaming example sends a BTM query on every connect, and hostapd answers
    each query with a request of its own)."""
    reqs = [(f, r) for f, r in air.btm_requests() if f.dst == dut.mac]
    if dialog_token is not None:
        reqs = [(f, r) for f, r in reqs if r.dialog_token == dialog_token]
    j.add(check("BTM-REQUEST-SENT", f"{R} 11.24.7.2", len(reqs) > request_index,
                "the AP's BTM request on the air", f"{len(reqs)} request(s)", layer="reference AP"))
    if len(reqs) <= request_index:
        return None, None
    rq_f, rq = reqs[request_index]
    resps = [(f, r) for f, r in air.btm_responses()
             if f.src == dut.mac and f.t >= rq_f.t and r.dialog_token == rq.dialog_token]
    for f, kind, err in air.malformed:
        if kind == "btm_response" and f.src == dut.mac and f.t >= rq_f.t and \
                not any(v.rule == "BTM-RESPONSE-FORMAT" and f"frame {f.index}" in v.evidence for v in j.verdicts):
            j.add(check("BTM-RESPONSE-FORMAT", f"{R} 9.6.13.10 (BSS Transition Management Response frame format)",
                        False, "a BSS Transition Management Response laid out as 9.6.13.10 says",
                        err, (f"frame {f.index}",)))
    rs_f, rs = resps[0] if resps else (None, None)
    pred = btm.predict(rq, cur.bssid, scan_view(aps), profile_view(profile), settings)
    reassoc = air.first_after(rq_f.t, dut.mac, "reassoc_req", "assoc_req", "auth", "ft_action_req")
    disassoc = air.first_after(rq_f.t, dut.mac, "disassoc", "deauth")
    tl = btm.Timeline(request_t=rq_f.t, response_t=rs_f.t if rs_f else None,
                      reassoc_t=reassoc.t if reassoc else None, joined_bssid=joined,
                      disassociated_t=disassoc.t if disassoc else None)
    j.attach_json("btm-exchange", {
        "request": repr(rq), "request_frame": rq_f.index,
        "response": repr(rs), "response_frame": rs_f.index if rs_f else None,
        "prediction": repr(pred)})
    j.add(btm.validate(rq, rs, pred, tl))
    return rq, rs


def judge_indications(j, dut: DutView, **kw):
    trace = dut.indications()
    j.attach_json("indications", [i.to_dict() for i in trace])
    j.add(check_indications(trace, **kw))
    return trace


def roam_timeline(j, air: Air, dut: DutView, cur: APView, target: APView, title: str,
                  t_from: float | None = None, latencies: dict | None = None) -> None:
    """Add the roam's sequence picture data: frames between the DUT and either AP, and the
    DUT's indications, on the capture clock (t_from is on that clock too)."""
    lanes = {dut.mac: "dut", cur.bssid: "current", target.bssid: "target"}
    frames = []
    for f, k in zip(air.frames, air.kinds):
        if k not in FRAME_LABELS or (t_from is not None and f.t < t_from):
            continue
        src, dst = f.src, f.dst
        if src in lanes and dst in lanes and dut.mac in (src, dst):
            frames.append({"t": f.t, "src": lanes[src], "dst": lanes[dst], "label": FRAME_LABELS[k],
                           "index": f.index})
    inds = [i.to_dict() for i in dut.indications() if t_from is None or i.t >= t_from - 1]
    j.roams.append({"title": title, "dut": {"name": dut.name, "mac": dut.mac},
                    "current": {"name": "current AP", "bssid": cur.bssid},
                    "target": {"name": "target AP", "bssid": target.bssid},
                    "frames": frames, "indications": inds, "latencies": latencies or {}})
