"""The candidate list, on a hand-made scan view. Expected membership is worked out
from the membership rules in engine/candidates.py's docstring, entry by entry."""
import pytest

from engine.candidates import Profile, ScanEntry, build
from engine.models import NeighborEntry

SSID = b"roaming_test123"
A, B, C, D, E = (f"02:00:00:00:00:0{x}" for x in "abcde")
VIEW = [
    ScanEntry(A, SSID, 2437, 6, -40, ("PSK",)),
    ScanEntry(B, SSID, 2412, 1, -60, ("PSK", "FT-PSK")),
    ScanEntry(C, b"other", 2412, 1, -30, ("PSK",)),  # other SSID
    ScanEntry(D, SSID, 2462, 11, -50, ("SAE",)),  # no common AKM with a PSK profile
    ScanEntry(E, SSID, 2462, 11, -50, ()),  # open BSS, same SSID
]
PSK = Profile(SSID, frozenset({"PSK", "FT-PSK"}))


def test_scan_view_filtered_by_ssid_and_akm():
    cl = build(VIEW, PSK)
    assert cl.bssids == {A, B}
    why = dict(cl.dropped)
    assert "SSID" in why[C] and "AKM" in why[D] and "AKM" in why[E]


def test_open_profile_takes_only_open_bss():
    assert build(VIEW, Profile(SSID)).bssids == {E}


def test_excluded_and_desired_lists():
    assert build(VIEW, Profile(SSID, PSK.akms, excluded=frozenset({A.upper()}))).bssids == {B}
    assert build(VIEW, Profile(SSID, PSK.akms, desired_bssids=frozenset({B}))).bssids == {B}


def test_btm_and_neighbor_entries_join_even_unseen():
    unseen = "02:00:00:00:00:99"
    btm = [NeighborEntry(unseen, 0, 81, 6, 7, preference=200), NeighborEntry(A, 0, 81, 6, 7, preference=0)]
    nr = [NeighborEntry("02:00:00:00:00:98", 0, 81, 1, 7), NeighborEntry(D, 0, 81, 11, 7)]
    cl = build(VIEW, PSK, btm, nr)
    # A excluded by preference 0 (9.4.2.36); D seen with the wrong AKM stays out.
    assert cl.bssids == {B, unseen, "02:00:00:00:00:98"}
    assert not cl.get(unseen).seen and cl.get(unseen).preference == 200
    assert cl.get(B).seen


def test_abridged_drops_unlisted_scan_entries():
    btm = [NeighborEntry(B, 0, 81, 1, 7, preference=10)]
    assert build(VIEW, PSK, btm, abridged=True).bssids == {B}
    assert build(VIEW, PSK, btm, abridged=False).bssids == {A, B}


def test_bad_scan_entry_is_a_clear_error():
    with pytest.raises(TypeError, match="bytes"):
        ScanEntry(A, "roaming_test123")
    with pytest.raises(TypeError, match="ScanEntry"):
        build([("a", "b")], PSK)
