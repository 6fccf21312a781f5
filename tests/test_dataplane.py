"""Ping output parsing for the data-plane cases (lab/dataplane.py); busybox 1.35 lines as
printed in the lab VM."""
import pytest

from lab.dataplane import DataPlaneError, parse_ping

BUSYBOX = """\
PING 10.77.0.1 (10.77.0.1): 56 data bytes
64 bytes from 10.77.0.1: seq=0 ttl=64 time=46.547 ms
64 bytes from 10.77.0.1: seq=1 ttl=64 time=5.256 ms
64 bytes from 10.77.0.1: seq=4 ttl=64 time=1.964 ms
64 bytes from 10.77.0.1: seq=5 ttl=64 time=1.522 ms

--- 10.77.0.1 ping statistics ---
7 packets transmitted, 4 packets received, 42% packet loss
round-trip min/avg/max = 1.522/13.822/46.547 ms
"""

IPUTILS_TAIL = "64 bytes from 10.77.0.1: icmp_seq=1 ttl=64 time=0.05 ms\n\n--- 10.77.0.1 ping statistics ---\n" \
               "2 packets transmitted, 1 received, 50% packet loss, time 1001ms\n"


def test_busybox_counts_and_gaps():
    r = parse_ping(BUSYBOX)
    assert (r.transmitted, r.received, r.lost) == (7, 4, 3)
    assert r.seqs == [0, 1, 4, 5]
    assert r.gaps() == [(2, 3), (6, 6)]


def test_iputils_format():
    r = parse_ping(IPUTILS_TAIL)
    assert (r.transmitted, r.received, r.seqs) == (2, 1, [1])


def test_no_statistics_is_an_error():
    with pytest.raises(DataPlaneError):
        parse_ping("PING 10.77.0.1 (10.77.0.1): 56 data bytes\n")
