"""Steps of the 802.11v BTM suite: build BSS_TM_REQ commands and wait for the exchange.
The judging is engine/judges/bss_transition.py's."""
from __future__ import annotations

import time

from engine.air import ap_events

GHOST = "02:de:ad:be:ef:01"  # a BSSID no radio in the lab uses: never on the air
GHOST_CHANNEL = 11
BSSID_INFO = 0x0003  # AP reachability "reachable" (9.4.2.36); wpa_supplicant ignores the rest


def candidate(bssid: str, op_class: int, channel: int, pref: int | None, phy_type: int = 7,
              subelements: str = "") -> str:
    """One hostapd `neighbor=` argument: BSSID, BSSID info, op class, channel, PHY type (7 HT,
    9 VHT: 9.4.2.36), then the subelements in hex: the BSS Transition Candidate Preference
    (id 3, length 1) when `pref` is given, then `subelements` as they are."""
    s = f"neighbor={bssid},0x{BSSID_INFO:04x},{op_class},{channel},{phy_type}"
    sub = (f"0301{pref:02x}" if pref is not None else "") + subelements
    if sub:
        s += f",{sub}"
    return s


def bss_tm_req(sta: str, cands: list[str], token: int, opts: str = "") -> str:
    """hostapd 2.10 BSS_TM_REQ (hostapd/ctrl_iface.c): valid_int and dialog_token default to 1,
    `pref=1` sets the Preferred Candidate List Included bit, `url=` the ESS Disassociation
    Imminent bit, `bss_term=<tsf>,<minutes>` the BSS Termination Included bit."""
    parts = [f"BSS_TM_REQ {sta}", f"dialog_token={token}"] + ([opts] if opts else []) + list(cands)
    return " ".join(parts)


def wait_responses(ap, n: int, since: int, timeout: float) -> list:
    """Wait for n BSS-TM-RESP events on the AP; returns what came (maybe fewer)."""
    deadline = time.monotonic() + timeout
    while True:
        got = ap_events(ap, "BSS-TM-RESP", since)
        if len(got) >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def wait_settled(dut, since: int, timeout: float, quiet: float = 2.0) -> None:
    """Wait until no new DUT event came for `quiet` seconds (or the timeout)."""
    deadline = time.monotonic() + timeout
    seen, t_last = dut.mark(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        n = dut.mark()
        if n != seen:
            seen, t_last = n, time.monotonic()
        elif time.monotonic() - t_last >= quiet:
            return
