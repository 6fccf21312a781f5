"""Steps the suites share: connect, observe, settle. They drive the stimulus and wait;
the verdicts come only from engine/judges (through record.judge_evidence)."""
from __future__ import annotations

import time

from lab.network import LAB_FREQS, PROFILE  # noqa: F401 (the suites' network)
from lab.wpas import Profile

R = "IEEE 802.11-2020"

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


def settle(seconds: float) -> None:
    """Let frames in flight land before the capture stops."""
    time.sleep(seconds)


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
