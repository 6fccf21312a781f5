"""Steps of the 802.11k cases: the stimulus only. They fill the reference AP's neighbor
database, build and send beacon requests, scan, and read the DUT's scan table; the
verdicts come from engine/judges/rrm.py."""
from __future__ import annotations

import re

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
