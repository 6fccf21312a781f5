"""Stimulus steps shared by the 802.11r and Native 802.11 suites (test_11r.py, test_native.py):
start a row's APs, command a roam, record what a ping saw. The verdicts are the judges' in
engine/judges/ft.py and engine/judges/native.py; nothing here judges."""
from __future__ import annotations

import re

from engine.clauses import rule
from lab.hostapd import BSSConfig
from lab.network import KEY_A, KEY_B
from suites.steps import PROFILE, R, connect, connect_first, observe, settle, wait_connected  # noqa: F401

ROLES = ("a", "b", "c")  # a row names two APs, or three (a tour of the mobility domain)
# Two FT APs whose R0KH/R1KH keys differ: neither can get PMK-R1 for the other's roams.
KEYS_DIFFER = (BSSConfig(channel=1, bridge="br1", ft_psk_generate_local=False, ft_key=KEY_A),
               BSSConfig(channel=6, bridge="br2", ft_psk_generate_local=False, ft_key=KEY_B))


def ind(*ids: str) -> tuple[str, ...]:
    """Rule ids for CaseSpec.requirements, checked against the clause registry."""
    for i in ids:
        rule(i)
    return ids


def roam_cmd(over_ds: bool, bssid: str) -> str:
    return ("FT_DS " if over_ds else "ROAM ") + bssid


def start_aps(pool, configs: dict) -> list:
    """The row's reference APs ({role: BSSConfig}, role "a" first); roles the row does not
    use are stopped (a one-AP row must leave the DUT no other BSS of the ESS)."""
    for role in list(pool.aps):
        if role not in configs:
            pool.drop(role)  # first: a radio the row does not use is free again
    return [pool.get(role, cfg) for role, cfg in configs.items()]


def status_fact(dut) -> dict:
    """The DUT's state at the end of the observation (the supplicant's STATUS)."""
    s = dut.status()
    return {"wpa_state": s.get("wpa_state"), "bssid": s.get("bssid")}


_REPLY = re.compile(r"bytes from \S+ (?:icmp_)?seq=(\d+)\b.*?time=([\d.]+) ?ms")


def ping_fact(res, t_start: float, interval: float) -> dict:
    """A lab.dataplane PingResult as evidence: counts, the answered sequence numbers, and
    per ping its sequence number, send time, whether it was answered and its reply time.

    busybox ping prints no send times, so sent_t is nominal: t_start (the lab clock just
    before the ping was spawned) plus seq times the interval; reply_t is sent_t plus the
    round-trip time it printed."""
    rtt = {int(s): float(ms) / 1000 for s, ms in _REPLY.findall(res.text)}
    answered = set(res.seqs)
    pings = []
    for seq in range(res.transmitted):
        sent = t_start + seq * interval
        pings.append({"seq": seq, "sent_t": round(sent, 6), "answered": seq in answered,
                      "reply_t": round(sent + rtt[seq], 6) if seq in rtt else None})
    return {"transmitted": res.transmitted, "received": res.received, "answered": list(res.seqs),
            "interval_s": interval, "t_start": t_start, "sent_t_nominal": True, "pings": pings}
