"""Steps of the 802.11v BTM suite: build BSS_TM_REQ commands, observe the exchange, and
hand the evidence to the oracle (engine.btm through suites.steps.judge_btm)."""
from __future__ import annotations

import time

from engine.frames import convert, mac
from engine.air import Air, ap_events
from suites.steps import judge_btm

GHOST = "02:de:ad:be:ef:01"  # a BSSID no radio in the lab uses: never on the air
GHOST_CHANNEL = 11
BSSID_INFO = 0x0003  # AP reachability "reachable" (9.4.2.36); wpa_supplicant ignores the rest


def candidate(bssid: str, op_class: int, channel: int, pref: int | None) -> str:
    """One hostapd `neighbor=` argument: BSSID, BSSID info, op class, channel, PHY type 7 (HT),
    then the BSS Transition Candidate Preference subelement (id 3, length 1)."""
    s = f"neighbor={bssid},0x{BSSID_INFO:04x},{op_class},{channel},7"
    if pref is not None:
        s += f",0301{pref:02x}"
    return s


def bss_tm_req(sta: str, cands: list[str], token: int, opts: str = "") -> str:
    """hostapd 2.10 BSS_TM_REQ (hostapd/ctrl_iface.c): valid_int and dialog_token default to 1,
    `pref=1` sets the Preferred Candidate List Included bit, `url=` the ESS Disassociation
    Imminent bit, `bss_term=<tsf>,<minutes>` the BSS Termination Included bit."""
    parts = [f"BSS_TM_REQ {sta}", f"dialog_token={token}"] + ([opts] if opts else []) + list(cands)
    return " ".join(parts)


class Collect:
    """A record stand-in that keeps the oracle's verdicts apart (negative controls judge them)."""

    def __init__(self, record):
        self.record = record
        self.verdicts = []

    def add(self, verdicts):
        self.verdicts.extend([verdicts] if not isinstance(verdicts, list) else verdicts)

    def attach_json(self, name, obj):
        return self.record.attach_json(name, obj)


def judge_request(record, air: Air, dut, cur, aps, profile, index: int = 0, settings=None, joined=None,
                  keep_apart: bool = False):
    """judge_btm for request number `index` on the air. Returns (request, response, verdicts)."""
    sink = Collect(record) if keep_apart else record
    rq, rs = judge_btm(sink, air, dut, cur, aps, profile, settings=settings, joined=joined, request_index=index)
    return rq, rs, (sink.verdicts if keep_apart else None)


def btm_queries(air: Air, sta: str):
    return [(f, convert.btm_query_from(f.raw)) for f in air.of_kind("btm_query") if mac(f.raw[10:16]) == sta]


def requests_to(air: Air, sta: str):
    return [(f, r) for f, r in air.btm_requests() if mac(f.raw[4:10]) == sta]


def responses_from(air: Air, sta: str):
    return [(f, r) for f, r in air.btm_responses() if mac(f.raw[10:16]) == sta]


def wait_responses(ap, n: int, since: int, timeout: float) -> list:
    """Wait for n BSS-TM-RESP events on the AP; returns what came (maybe fewer)."""
    deadline = time.monotonic() + timeout
    while True:
        got = ap_events(ap, "BSS-TM-RESP", since)
        if len(got) >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def final_bssid(dut, since: int, cur_bssid: str) -> str | None:
    """The BSS the DUT is connected to at the end, if it is not the one it started on."""
    last = None
    for e in dut.events()[since:]:
        if e.kind == "connected":
            last = e.get("bssid")
        elif e.kind == "disconnected":
            last = None
    return last if last and last != cur_bssid else None


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
