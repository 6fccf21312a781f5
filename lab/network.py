"""The lab's network plan: where the suites put their APs and how the DUTs join them.

These are lab facts, not test logic, so the DUT factories, fixtures and suites all read
them from here.
"""
from __future__ import annotations

from lab.hostapd import BSSConfig
from lab.wpas import Profile

LAB_FREQS = (2412, 2437, 2462)  # channels 1, 6, 11: where the suites put their APs
# Scanning only the lab's channels keeps a connect near 1 s instead of a full-band sweep.
PROFILE = Profile(scan_freqs=LAB_FREQS)

# Two FT-PSK APs of one mobility domain, each on its own bridge so that FT over the DS
# can pass RRB frames between them (see README "The lab").
FT_AP1 = BSSConfig(channel=1, bridge="br1")
FT_AP2 = BSSConfig(channel=6, bridge="br2")
# R0KH/R1KH keys of a second key pair, for cases that give the two APs different keys.
KEY_A = "00112233445566778899aabbccddeeff"
KEY_B = "ffeeddccbbaa99887766554433221100"
