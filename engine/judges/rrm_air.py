"""Reading 802.11k exchanges off the air: neighbor report request/response frames, the
beacon request to the DUT and its reports, the RM capabilities on the air."""
from __future__ import annotations

from engine import beacon, ies
from engine.air import Air, ap_events
from engine.caps import caps_from_assoc
from engine.frames import convert
from engine.frames.elements import EID_MEAS_REQ, EID_RM_CAPS
from engine.verdict import FAIL, INFO, LAB, REFERENCE_AP, Verdict, check

R = "IEEE 802.11-2020"


def nr_requests(air: Air, sta: str):
    return [(f, convert.nr_request_from(f.raw)) for f in air.of_kind("nr_request") if f.src == sta]


def nr_responses(air: Air, sta: str):
    return [(f, convert.nr_response_from(f.raw)) for f in air.of_kind("nr_response") if f.dst == sta]


def meas_requests_in(frame) -> list[tuple[int, int, int, bytes]]:
    """(token, mode, type, rest) of each Measurement Request element of a NR Request frame
    (the elements follow Category, Action and Dialog Token: 9.6.6.6)."""
    out = []
    for e in ies.walk(frame.body, 3):
        if e.id == EID_MEAS_REQ and len(e.body) >= 3:
            out.append((e.body[0], e.body[1], e.body[2], bytes(e.body[3:])))
    return out


def beacon_rm_caps(air: Air, bssid: str) -> bytes | None:
    """Body of the RM Enabled Capabilities element in the AP's last beacon, None if absent
    (a beacon body starts with 12 octets of fixed fields: 9.3.3.2)."""
    body = None
    for f in air.of_kind("beacon"):
        if f.addr3 == bssid:
            body = f.body
    if body is None:
        return None
    e = ies.find(body, EID_RM_CAPS, start=12)
    return bytes(e.body) if e else None


def sta_caps(air: Air, sta: str):
    reqs = [f for f in air.of_kind("assoc_req", "reassoc_req") if f.src == sta]
    return caps_from_assoc(reqs[-1].raw) if reqs else None


def beacon_exchange(air: Air, dut, token: int):
    """The request frame to the DUT with this dialog token, and the DUT's reports to it."""
    # "rm_request": a frame whose first Measurement Request is not a Beacon request (e.g. a
    # Measurement Pause before it) may still carry one
    rq = [(f, r) for f in air.of_kind("rm_beacon_request", "rm_request") if f.dst == dut.mac
          for r in convert.beacon_requests_from(f.raw)[:1] if r.dialog_token == token]
    reps = []
    for f in air.of_kind("rm_beacon_report", "rm_report"):
        if f.src != dut.mac:
            continue
        rs = convert.beacon_reports_from(f.raw)
        if rs and rs[0].token == token:
            reps.extend((f, r) for r in rs)
    return rq, reps


def judge_beacon_air(j, air: Air, ap, dut, aps, token: int, dut_view: beacon.BeaconDut | None = None,
                     since: int = 0):
    """The oracle's prediction from the request on the air and the air's ground truth,
    then its field-by-field validation of the DUT's reports on the air."""
    rq, reps = beacon_exchange(air, dut, token)
    # hostapd's own word that the DUT acknowledged the request: then a request missing from
    # the capture is the capture's loss (the lab's), not the reference AP's silence
    acked = [text for _, text in ap.events()[since:]
             if f"BEACON-REQ-TX-STATUS {dut.mac} {token} ack=1" in text]
    j.add(check("BCN-REQUEST-SENT", f"{R} 11.10.9.3", len(rq) >= 1,
                f"the AP's beacon request (dialog token {token}) on the air", f"{len(rq)} frame(s)",
                layer=LAB if acked and not rq else REFERENCE_AP,
                message=("hostapd reports the request acknowledged by the DUT (" + acked[0].strip() +
                         "): the capture lost it, so the reports cannot be judged") if acked and not rq else ""))
    if not rq:
        return None, []
    rq_f, req = rq[0]
    reports = [r for _, r in reps]
    truth = air.truth(aps)
    unseen = sorted(a.bssid for a in truth if not a.beacon_body)
    if unseen:
        # Only a reported frame body needs the Beacon as ground truth; the BSSID sets need
        # only the AP's presence, which the lab knows without the capture.
        bodies = sorted({r.bssid for r in reports if r.bssid in unseen and r.frame_body})
        j.add(Verdict("BCN-GROUND-TRUTH", f"{R} 11.10.9.3", FAIL if bodies else INFO,
                      "a Beacon of every AP on the air in the capture", f"none of {unseen}", (),
                      (f"the capture lost them; the frame bodies reported for {bodies} cannot be judged"
                       if bodies else "the capture lost them; no report carries a body of theirs to judge, "
                       "their BSSIDs and channels are judged"), layer=LAB))
    pred = beacon.predict(req, truth, dut_view)
    if req.mode == beacon.ACTIVE:
        pred, unheard = beacon.unheard_answers(pred, req, _answered_after_leaving(air, dut.mac, rq_f.t, reps, pred))
        if unheard:
            j.add(Verdict("BCN-ANSWER-UNHEARD", f"{R} 11.10.9.3", INFO,
                          "the BSSs on the measured channel answer the DUT's Probe Request while it listens",
                          "; ".join(unheard), (), "these BSSs answered after the DUT had left the channel, "
                          "so they are not a must", layer=REFERENCE_AP))
    j.attach_json("beacon-exchange", {
        "request": repr(req), "request_frame": rq_f.index,
        "report_frames": sorted({f.index for f, _ in reps}),
        "reports": [repr(r) for r in reports], "prediction": repr(pred),
        "hostapd_events": [repr(ev.value) for _, ev in ap_events(ap, "BEACON-RESP-RX", since)]})
    j.add(beacon.validate(req, reports, pred))
    return pred, reports


ACK_FC0 = 0xD4  # Frame Control octet 0 of an Ack (control type, subtype 13; 9.3.1.3)
# An Ack follows its frame after SIFS; hwsim0 logs the two in separate steps, so another
# radio's frame may land between them: any Ack to the transmitter this soon after counts.
ACK_WITHIN_S = 0.001
BROADCAST = "ff:ff:ff:ff:ff:ff"


def _answered_after_leaving(air: Air, sta: str, t_request: float, reps, pred) -> dict[str, str]:
    """The must BSSs of an active measurement that the air shows answering only after the DUT
    had left their channel: {BSSID: the frames that show it}.

    Only on hwsim0 (air.channels None): it hears the whole medium and records every Ack a
    radio gives, and the lab's hwsim radios have one channel each, so a DUT frame on another
    frequency means the radio left. Per measured frequency F: P is the DUT's first Probe
    Request on F after the beacon request; the DUT arrived on F after A, its last frame on
    another frequency before P (else the request); D, its first frame on another frequency
    after P, is its departure, and it must not come back to F before its last report. The DUT
    must have Acked a must BSS's Probe Response on F between A and D. A must BSS is then
    unheard when all its Probe Responses to the DUT came after D, none was Acked, and no
    Beacon or broadcast Probe Response of its own on F fell between A and D."""
    if air.channels is not None:
        return {}  # a sniffer misses Acks and frames of other channels: nothing is proven
    t_end = max((f.t for f, _ in reps), default=float("inf"))
    sent = [(f, k) for f, k in zip(air.frames, air.kinds)
            if k != "control" and f.src == sta and f.freq is not None and not f.bad_fcs
            and t_request <= f.t <= t_end]
    acks = [f for f in air.of_kind("control") if f.raw[:1] == bytes([ACK_FC0]) and not f.bad_fcs]

    def acked(f) -> bool:
        return any(a.dst == f.src and f.t <= a.t <= f.t + ACK_WITHIN_S for a in acks)

    by_freq: dict[int, list[str]] = {}
    for b in pred.must:
        a = pred.air.get(b)
        if a is not None:
            by_freq.setdefault(a.freq, []).append(b)
    resp = [f for f in air.of_kind("probe_resp") if f.dst == sta and not f.bad_fcs and t_request <= f.t <= t_end]
    # what any listener on F may have taken: Beacons and broadcast Probe Responses
    heard_any = [f for f in air.of_kind("beacon", "probe_resp") if not f.bad_fcs and f.dst == BROADCAST]
    out: dict[str, str] = {}
    for freq, bsss in by_freq.items():
        probe = next((f for f, k in sent if f.freq == freq and k == "probe_req"), None)
        if probe is None:
            continue
        before = [f for f, _ in sent if f.t < probe.t and f.freq != freq]
        arrived = before[-1].t if before else t_request
        left = next((f for f, _ in sent if f.t > probe.t and f.freq != freq), None)
        if left is None or any(f.freq == freq and f.t > left.t for f, _ in sent):
            continue  # never seen leaving F, or it came back to F before its report
        heard = [f for f in resp if f.freq == freq and arrived <= f.t < left.t and f.addr3 in bsss and acked(f)]
        if not heard:
            continue  # no proof the capture shows this DUT's Acks on F
        for b in bsss:
            mine = [f for f in resp if f.addr3 == b and f.freq == freq and f.t > arrived]
            if not mine or any(f.t < left.t or acked(f) for f in mine):
                continue
            if any(f.addr3 == b and f.freq == freq and arrived <= f.t <= left.t for f in heard_any):
                continue
            out[b] = (f"its Probe Response (frame {', '.join(str(f.index) for f in mine)}) came after the DUT "
                      f"left {freq} MHz (frame {left.index}, on {left.freq} MHz, "
                      f"{round((left.t - probe.t) * 1000, 1)} ms after its Probe Request, frame {probe.index}) "
                      f"and got no Ack; the DUT Acked frames {', '.join(str(f.index) for f in heard)} before it left")
    return out


def refused_modes(reports) -> list[int]:
    return [r.mode & ~beacon.REPORT_LATE for r in reports]
