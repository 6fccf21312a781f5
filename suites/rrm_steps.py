"""Steps of the 802.11k cases: the stimulus only. They fill the reference AP's neighbor
database, build and send beacon requests, scan, and read the DUT's scan table; the
verdicts come from engine/judges/rrm.py."""
from __future__ import annotations

import re

from engine.frames import build as fb
from engine.frames.build import Tlv
from lab.daemon import DaemonError, EventTimeout
from lab.network import LAB_FREQS
from suites.steps import R, settle

# The clauses the neighbor report rows cite.
NR_CLAUSES = (f"{R} 11.10.10.2", f"{R} 9.6.6.6", f"{R} 9.6.6.7", f"{R} 9.4.2.36")


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


# ---- beacon requests -------------------------------------------------------------------------

def req_hex(op_class: int, chan: int, duration: int, mode: int, bssid: str = "ff:ff:ff:ff:ff:ff",
            subs: bytes = b"", rand: int = 0) -> str:
    """REQ_BEACON's hex: the Beacon request fields of 9.4.2.20.7, then subelements."""
    b = bytes([op_class, chan]) + rand.to_bytes(2, "little") + duration.to_bytes(2, "little") + bytes([mode])
    return (b + bytes.fromhex(bssid.replace(":", "")) + subs).hex()


def sub(sid: int, body: bytes) -> bytes:
    return bytes([sid, len(body)]) + body


def send_beacon_request(record, ap, dut, hexreq: str, timeout: float = 10, req_mode: int | None = None) -> int:
    """Send the request, wait for the DUT's answer (or its silence), return the dialog token.
    req_mode: the Measurement Request Mode octet (9.4.2.20), when not 0."""
    mm = ap.mark()
    with record.step("send beacon request"):
        mode = f"req_mode={req_mode:02x} " if req_mode else ""
        token = int(ap.ctrl_ok(f"REQ_BEACON {dut.mac} {mode}{hexreq}").strip())
    with record.step("observe"):
        try:
            ap.wait_event(rf"BEACON-RESP-RX {dut.mac} {token} ", timeout, since=mm)
            settle(1.5)  # a long answer may come in several report frames
        except EventTimeout:
            pass  # silence is evidence too: the oracle judges it
    return token


def scan_lab(dut, also=()) -> None:
    """Scan the lab's channels (and the frequencies `also` names, e.g. a 5 GHz AP's)."""
    dut.scan(tuple(LAB_FREQS) + tuple(also))


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


# ---- beacon requests built field by field (engine/frames/build.py) ------------------------

def _subelement(name: str, *args) -> Tlv:
    """One Beacon request subelement (Table 9-106) from a row's symbolic entry."""
    if name == "ssid":  # text, or "" for the wildcard SSID
        return fb.ssid(args[0])
    if name == "ssid_octets":  # n octets of "a": an SSID of any length, the invalid ones too
        return fb.ssid(b"a" * args[0])
    if name == "reporting":
        return fb.beacon_reporting(args[0], args[1])
    if name == "detail":
        return fb.reporting_detail(args[0])
    if name == "request":
        return fb.request(args[0])
    if name == "acr":
        return fb.ap_channel_report(args[0], args[1])
    if name == "last":
        return fb.last_beacon_report_indication(bool(args[0]))
    if name == "vendor":
        return fb.vendor_specific(bytes.fromhex(args[0]), args[1].encode())
    if name in ("unknown", "raw"):  # a reserved subelement ID, or a known one with a wrong body
        return Tlv(args[0], bytes.fromhex(args[1]), f"subelement {args[0]}")
    raise ValueError(f"unknown Beacon request subelement {name!r} in a case row")


def beacon_subelements(entries) -> list[Tlv]:
    """A row's subelements: entries [name, *args] or [name, *args, {fault}], where the fault
    is {"zero_length": True} or {"truncated": k} (only the first k encoded octets sent)."""
    out = []
    for entry in entries:
        entry = list(entry)
        fault = entry.pop() if entry and isinstance(entry[-1], dict) else {}
        t = _subelement(*entry)
        if fault.get("zero_length"):
            t = t.zero_length()
        if "truncated" in fault:
            t = t.truncated(fault["truncated"])
        out.append(t)
    return out


def send_injected_request(record, ap, dut, action_body: bytes, token: int, timeout: float = 10) -> int:
    """Send a whole Radio Measurement Request built by engine/frames/build.py from the AP
    (MGMT_TX: for frames REQ_BEACON cannot make), wait for the DUT's beacon report or its
    silence, return the dialog token."""
    mm = ap.mark()
    with record.step("send radio measurement request (injected)"):
        ap.send_action(dut.mac, action_body)
    with record.step("observe"):
        try:
            ap.wait_event(rf"BEACON-RESP-RX {dut.mac} {token} ", timeout, since=mm)
            settle(1.5)
        except EventTimeout:
            pass
    return token
