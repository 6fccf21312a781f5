"""Steps of the 802.11k cases: drive neighbor report and beacon requests, read the
evidence (frames on the air, the DUT's log, hostapd's events) for the oracle."""
from __future__ import annotations

import re

from devices import wpas_log
from engine import beacon, ies
from engine.frames import convert, header_len, mac
from engine.frames.elements import EID_MEAS_REQ, EID_RM_CAPS
from engine.verdict import check
from lab.daemon import DaemonError, EventTimeout
from engine.air import Air, ap_events
from suites.steps import LAB_FREQS, R, settle

NR_CLAUSES = (f"{R} 11.10.10.2", f"{R} 9.6.6.6", f"{R} 9.6.6.7", f"{R} 9.4.2.36")
NR_REQ = f"{R} 9.6.6.6 (Neighbor Report Request frame format)"
NR_RESP = f"{R} 9.6.6.7 (Neighbor Report Response frame format)"
NR_ELEM = f"{R} 9.4.2.36 (Neighbor Report element)"
NR_PROC = f"{R} 11.10.10.2 (Requesting a neighbor report)"
RM_CAPS = f"{R} 9.4.2.44 (RM Enabled Capabilities element)"
MEAS_REQ_ELEM = f"{R} 9.4.2.20 (Measurement Request element)"
MEAS_REP_ELEM = f"{R} 9.4.2.21 (Measurement Report element)"
MEAS_PROC = f"{R} 11.10.6 (Requesting and reporting of measurements)"
LCI, CIVIC = 8, 11  # Measurement Types (Table 9-107)
RRM_NR_BIT = 1  # Neighbor Report Capability Enabled (Table 9-201)


# ---- neighbor database on the reference AP ----------------------------------------------

def clear_neighbors(ap) -> None:
    """Empty the AP's neighbor database, its own entry included."""
    for line in ap.ctrl("SHOW_NEIGHBOR").splitlines():
        m = re.match(r"^([0-9a-f:]{17}) ssid=([0-9a-fA-F]*)", line.strip())
        if m:
            ap.ctrl_ok(f"REMOVE_NEIGHBOR {m[1]} ssid={m[2]}")
    left = ap.ctrl("SHOW_NEIGHBOR").strip()
    if left:
        raise DaemonError(f"{ap.name}: neighbor database not empty after removal: {left!r}")


def nr_body(bssid: str, info: int, op_class: int, chan: int, phy: int, subs: bytes = b"") -> bytes:
    """A Neighbor Report element body (9.4.2.36) built from its fields."""
    return (bytes.fromhex(bssid.replace(":", "")) + info.to_bytes(4, "little")
            + bytes([op_class, chan, phy]) + subs)


def set_neighbor(ap, bssid: str, ssid: bytes, body: bytes, lci: bytes | None = None,
                 civic: bytes | None = None) -> None:
    cmd = f"SET_NEIGHBOR {bssid} ssid={ssid.hex()} nr={body.hex()}"
    if lci is not None:
        cmd += f" lci={lci.hex()}"
    if civic is not None:
        cmd += f" civic={civic.hex()}"
    ap.ctrl_ok(cmd)


# ---- reading the evidence ------------------------------------------------------------------

def _src(f) -> str:
    return mac(f.raw[10:16])


def _dst(f) -> str:
    return mac(f.raw[4:10])


def nr_requests(air: Air, sta: str):
    return [(f, convert.nr_request_from(f.raw)) for f in air.of_kind("nr_request") if _src(f) == sta]


def nr_responses(air: Air, sta: str):
    return [(f, convert.nr_response_from(f.raw)) for f in air.of_kind("nr_response") if _dst(f) == sta]


def meas_requests_in(frame_raw: bytes) -> list[tuple[int, int, int, bytes]]:
    """(token, mode, type, rest) of each Measurement Request element of a NR Request."""
    h = header_len(frame_raw)
    out = []
    for e in ies.walk(frame_raw, h + 3):
        if e.id == EID_MEAS_REQ and len(e.body) >= 3:
            out.append((e.body[0], e.body[1], e.body[2], bytes(e.body[3:])))
    return out


def nr_received(dut) -> list[dict]:
    """The DUT's RRM-NEIGHBOR-REP-RECEIVED entries of this case, with their raw lines."""
    out = []
    for e in wpas_log.parse_lines(dut.log_lines(), dut.name):
        if e.kind == "neighbor_report":
            out.extend(dict(x) for x in e.get("entries", ()))
    raws = [ln for ln in dut.log_lines() if "RRM-NEIGHBOR-REP-RECEIVED" in ln]
    for x, ln in zip(out, raws):
        x["raw"] = ln
        m = re.search(r" lci=([0-9a-f]+)", ln)
        x["lci"] = m[1] if m else None
        m = re.search(r" civic=([0-9a-f]+)", ln)
        x["civic"] = m[1] if m else None
    return out


def beacon_rm_caps(air: Air, bssid: str) -> bytes | None:
    """Body of the RM Enabled Capabilities element in the AP's last beacon, None if absent."""
    body = None
    for f in air.of_kind("beacon"):
        if mac(f.raw[16:22]) == bssid:
            body = f.raw[header_len(f.raw):]
    if body is None:
        return None
    e = ies.find(body, EID_RM_CAPS, start=12)
    return bytes(e.body) if e else None


def sta_caps(air: Air, sta: str):
    from engine.caps import caps_from_assoc
    reqs = [f for f in air.of_kind("assoc_req", "reassoc_req") if _src(f) == sta]
    return caps_from_assoc(reqs[-1].raw) if reqs else None


def nr_expect_entries(record, got, want: dict, evidence: str, prefix: str = "NR") -> None:
    """Neighbor entries `got` (NeighborEntry or event dicts) equal `want` {bssid: NeighborEntry}."""
    def fields(x):
        if isinstance(x, dict):
            return (x["bssid"], x["info"], x["op_class"], x["chan"], x["phy_type"])
        return (x.bssid, x.bssid_info, x.op_class, x.channel, x.phy_type)

    got_f = sorted(fields(x) for x in got)
    want_f = sorted(fields(x) for x in want.values())
    fmt = lambda fs: "; ".join(f"{b} info=0x{i:x} op_class={o} chan={c} phy={p}" for b, i, o, c, p in fs) or "none"
    record.add(check(f"{prefix}-SET", NR_PROC, {f[0] for f in got_f} == {f[0] for f in want_f} and len(got_f) == len(want_f),
                     f"exactly the BSSIDs {sorted(want)}", f"{[f[0] for f in got_f]}", (evidence,)))
    record.add(check(f"{prefix}-FIELDS", NR_ELEM, got_f == want_f, fmt(want_f), fmt(got_f), (evidence,)))


# ---- beacon requests -------------------------------------------------------------------------

def req_hex(op_class: int, chan: int, duration: int, mode: int, bssid: str = "ff:ff:ff:ff:ff:ff",
            subs: bytes = b"", rand: int = 0) -> str:
    """REQ_BEACON's hex: the Beacon request fields of 9.4.2.20.7, then subelements."""
    b = bytes([op_class, chan]) + rand.to_bytes(2, "little") + duration.to_bytes(2, "little") + bytes([mode])
    return (b + bytes.fromhex(bssid.replace(":", "")) + subs).hex()


def sub(sid: int, body: bytes) -> bytes:
    return bytes([sid, len(body)]) + body


def send_beacon_request(record, ap, dut, hexreq: str, timeout: float = 10) -> int:
    """Send the request, wait for the DUT's answer (or its silence), return the dialog token."""
    mm = ap.mark()
    with record.step("send beacon request"):
        token = int(ap.ctrl_ok(f"REQ_BEACON {dut.mac} {hexreq}").strip())
    with record.step("observe"):
        try:
            ap.wait_event(rf"BEACON-RESP-RX {dut.mac} {token} ", timeout, since=mm)
            settle(1.5)  # a long answer may come in several report frames
        except EventTimeout:
            pass  # silence is evidence too: the oracle judges it
    return token


def beacon_exchange(air: Air, dut, token: int):
    """The request frame to the DUT with this dialog token, and the DUT's reports to it."""
    rq = [(f, r) for f in air.of_kind("rm_beacon_request") if _dst(f) == dut.mac
          for r in [convert.beacon_request_from(f.raw)] if r.dialog_token == token]
    reps = []
    for f in air.of_kind("rm_beacon_report", "rm_report"):
        if _src(f) != dut.mac:
            continue
        rs = convert.beacon_reports_from(f.raw)
        if rs and rs[0].token == token:
            reps.extend((f, r) for r in rs)
    return rq, reps


def judge_beacon_air(record, air: Air, ap, dut, aps, token: int, dut_view: beacon.BeaconDut | None = None,
                     since: int = 0):
    """The oracle's prediction from the request on the air and the air's ground truth,
    then its field-by-field validation of the DUT's reports on the air."""
    rq, reps = beacon_exchange(air, dut, token)
    record.add(check("BCN-REQUEST-SENT", f"{R} 11.10.9.3", len(rq) >= 1,
                     f"the AP's beacon request (dialog token {token}) on the air", f"{len(rq)} frame(s)"))
    if not rq:
        return None, []
    rq_f, req = rq[0]
    reports = [r for _, r in reps]
    pred = beacon.predict(req, air.truth(aps), dut_view)
    record.attach_json("beacon-exchange", {
        "request": repr(req), "request_frame": rq_f.index,
        "report_frames": sorted({f.index for f, _ in reps}),
        "reports": [repr(r) for r in reports], "prediction": repr(pred),
        "hostapd_events": [repr(ev.value) for _, ev in ap_events(ap, "BEACON-RESP-RX", since)]})
    record.add(beacon.validate(req, reports, pred))
    return pred, reports


def refused_modes(reports) -> list[int]:
    return [r.mode & ~beacon.REPORT_LATE for r in reports]


def scan_lab(dut) -> None:
    dut.scan(LAB_FREQS)


def connect_steady(dut, profile, settle_s: float = 1.0) -> str:
    """Connect, then make sure the link is still up a moment later: under TCG the AP may
    retransmit EAPOL-Key 1/4 and the handshake restarts; cases here judge 802.11k, not that."""
    bssid = dut.connect(profile)
    if not hasattr(dut, "ctrl"):
        return bssid
    settle(settle_s)
    st = dut.status()
    if st.get("wpa_state") != "COMPLETED":
        m = dut.mark()
        dut.wait_for(lambda e: e.kind == "connected", 20, since=m)
        settle(settle_s)
        st = dut.status()
    return st.get("bssid", bssid)


def table_of(dut) -> frozenset[str] | None:
    """BSSIDs the DUT holds after its scans (SCAN_RESULTS); None when the DUT cannot tell."""
    if not hasattr(dut, "ctrl"):
        return None
    out = set()
    for line in dut.ctrl("SCAN_RESULTS").splitlines()[1:]:
        m = re.match(r"^([0-9a-f:]{17})\s", line)
        if m:
            out.add(m[1])
    return frozenset(out)
