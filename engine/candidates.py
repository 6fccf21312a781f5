"""The Native 802.11 BSS candidate list, as the oracle rebuilds it.

Native 802.11 "BSS Network Candidate List": the station picks, from the BSSs it has
discovered, those that match the profile: the desired SSID, a security setting the
profile allows, and not on the excluded list (and on the desired BSSID list, if one
is set). We add what 802.11k/v hand the station: BTM candidates (IEEE 802.11-2020
11.24.7.3) and neighbor report entries (11.10.10). Those are same-ESS hints; the
station may scan for them, so they join the list even when unseen, marked as such.

Inputs used, and only these: the scan view (ScanEntry), the Profile, the BTM
request's candidate entries and abridged bit, and the neighbor report entries.
RSSI, band and load are not used: they order the list, they do not decide membership.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from engine.models import NeighborEntry

OPEN = "OPEN"

# AKM suite types of the 00-0F-AC OUI (IEEE 802.11-2020 Table 9-151), for callers that hold
# the numbers an RSNE carries
AKM_NAMES = {1: "802.1X", 2: "PSK", 3: "FT-802.1X", 4: "FT-PSK", 5: "802.1X-SHA256", 6: "PSK-SHA256",
             8: "SAE", 9: "FT-SAE", 18: "OWE", 24: "SAE-EXT-KEY", 25: "FT-SAE-EXT-KEY"}


def akm_name(akm) -> str:
    """"PSK", "SAE", ... for a suite type number; other values as text."""
    return AKM_NAMES.get(akm, f"AKM {akm}") if isinstance(akm, int) else str(akm)


def _akm_list(akms) -> str:
    return "/".join(sorted(akm_name(a) for a in akms))


@dataclass(frozen=True)
class ScanEntry:
    """One BSS in the DUT's scan view."""
    bssid: str
    ssid: bytes
    freq: int = 0
    channel: int = 0
    rssi: int | None = None
    akms: tuple[str, ...] = ()  # "PSK", "FT-PSK", "SAE", "FT-SAE", ...; () for an open BSS
    mdid: str | None = None  # Mobility Domain ID, hex in wire order

    def __post_init__(self):
        if not isinstance(self.ssid, (bytes, bytearray)):
            raise TypeError(f"ScanEntry.ssid must be bytes, got {type(self.ssid).__name__}")


@dataclass(frozen=True)
class Profile:
    ssid: bytes
    akms: frozenset[str] = frozenset()  # AKMs the profile may use; empty = open network
    excluded: frozenset[str] = frozenset()  # excluded BSSIDs
    desired_bssids: frozenset[str] | None = None  # None = any BSSID

    def allows(self, entry: ScanEntry) -> tuple[bool, str]:
        if bytes(entry.ssid) != bytes(self.ssid):
            return False, f"SSID {entry.ssid!r} is not the profile's {self.ssid!r}"
        b = entry.bssid.lower()
        if b in {x.lower() for x in self.excluded}:
            return False, "on the excluded list"
        if self.desired_bssids is not None and b not in {x.lower() for x in self.desired_bssids}:
            return False, "not on the desired BSSID list"
        if not self.akms:
            if entry.akms:
                return False, f"secured BSS ({_akm_list(entry.akms)}) for an open profile"
        elif not set(entry.akms) & set(self.akms):
            return False, (f"no common AKM: BSS {_akm_list(entry.akms) or 'open'}, "
                           f"profile {_akm_list(self.akms)}")
        return True, ""


@dataclass(frozen=True)
class Candidate:
    bssid: str
    sources: frozenset[str]  # "scan", "btm", "neighbor"
    scan: ScanEntry | None = None  # None: not in the scan view (the DUT may scan for it)
    preference: int | None = None  # BTM preference when listed with one

    @property
    def seen(self) -> bool:
        return self.scan is not None


@dataclass(frozen=True)
class CandidateList:
    entries: tuple[Candidate, ...]
    dropped: tuple[tuple[str, str], ...] = ()  # (bssid, why it is not a candidate)
    current: str | None = None

    @property
    def bssids(self) -> frozenset[str]:
        return frozenset(c.bssid for c in self.entries)

    def get(self, bssid: str) -> Candidate | None:
        b = bssid.lower()
        return next((c for c in self.entries if c.bssid == b), None)

    def __len__(self):
        return len(self.entries)


def build(scan_view: Iterable[ScanEntry], profile: Profile,
          btm_candidates: Iterable[NeighborEntry] = (), neighbor_report: Iterable[NeighborEntry] = (),
          abridged: bool = False, current_bssid: str | None = None) -> CandidateList:
    """The candidate list. A BTM candidate with preference 0 is excluded (9.4.2.36: 0 marks an
    excluded BSS); with `abridged`, scan entries missing from the BTM list get preference 0
    too (9.6.13.9 Abridged subfield) and so are dropped."""
    scan = {}
    for e in scan_view:
        if not isinstance(e, ScanEntry):
            raise TypeError(f"scan view item is a {type(e).__name__}, not a ScanEntry")
        scan[e.bssid.lower()] = e  # the latest entry for a BSSID wins
    btm = {n.bssid.lower(): n for n in btm_candidates}
    nr = {n.bssid.lower(): n for n in neighbor_report}
    excluded = {x.lower() for x in profile.excluded}
    out, dropped = {}, []

    def add(b, source, pref=None):
        c = out.get(b)
        if c is None:
            out[b] = Candidate(b, frozenset({source}), scan.get(b), pref)
        else:
            out[b] = Candidate(b, c.sources | {source}, c.scan, pref if pref is not None else c.preference)

    for b, e in scan.items():
        ok, why = profile.allows(e)
        if not ok:
            dropped.append((b, why))
        elif abridged and btm and b not in btm:
            dropped.append((b, "abridged BTM request without it: preference 0"))
        else:
            add(b, "scan")
    for src, table in (("btm", btm), ("neighbor", nr)):
        for b, n in table.items():
            if src == "btm" and n.preference == 0:
                dropped.append((b, "BTM preference 0 (excluded)"))
                out.pop(b, None)
                continue
            if b in excluded:
                dropped.append((b, "on the excluded list"))
                continue
            if b in scan and not profile.allows(scan[b])[0]:
                continue  # seen, and the scan shows it does not fit the profile
            if src == "neighbor" and b in btm and btm[b].preference == 0:
                continue
            add(b, src, n.preference if src == "btm" else None)
    entries = tuple(sorted(out.values(), key=lambda c: c.bssid))
    return CandidateList(entries, tuple(dropped), current_bssid.lower() if current_bssid else None)
