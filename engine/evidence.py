"""A case's evidence, as the oracle reads it: what the test did (the stimulus), what the
DUT and the reference APs said (events), and what went over the air (frames).

The live run snapshots its DUT and APs into these views and judges them; `analyze` loads
the same views from a case folder's evidence.json and air.pcap and judges them again. One
judge, one input: a certificate can be re-derived by anyone who holds the evidence.

The views offer the few attributes the judges read (dut.mac, dut.events(), ap.bssid,
ap.config.channel, ap.events(), ...), so a judge cannot tell a live case from a recorded
one. Loading bad evidence raises EvidenceError with what is wrong.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from engine.events import Event, Ind, Indication

SCHEMA = "roamcert.evidence/1"


class EvidenceError(ValueError):
    """Evidence that cannot be judged: a missing key, a wrong type, an unknown judge."""


@dataclass(frozen=True)
class APConfigView:
    """The parts of a reference AP's configuration the judges read (lab.hostapd.BSSConfig)."""
    ssid: str  # hex of the SSID bytes: any SSID survives JSON
    channel: int
    security: str
    mdid: str = "a1b2"
    also_wpa_psk: bool = False
    ft_over_ds: bool = True
    pmf: int = 0
    beacon_int: int = 100
    bss_transition: bool = True
    rrm_neighbor_report: bool = True
    rrm_beacon_report: bool = True

    @property
    def ssid_b(self) -> bytes:
        return bytes.fromhex(self.ssid)

    @classmethod
    def of(cls, config) -> "APConfigView":
        """From any object with BSSConfig's attributes."""
        names = [f.name for f in dataclasses.fields(cls) if f.name != "ssid"]
        return cls(ssid=config.ssid_b.hex(), **{n: getattr(config, n) for n in names})


@dataclass
class APView:
    """A reference AP: its identity, configuration, and hostapd events [(t, line)]."""
    role: str
    bssid: str
    freq: int
    op_class: int
    config: APConfigView
    ap_events: list[tuple[float, str]] = field(default_factory=list)

    def events(self) -> list[tuple[float, str]]:
        return self.ap_events

    def mark(self) -> int:
        return len(self.ap_events)

    def to_dict(self) -> dict:
        return {"role": self.role, "bssid": self.bssid, "freq": self.freq, "op_class": self.op_class,
                "config": dataclasses.asdict(self.config), "events": [[t, s] for t, s in self.ap_events]}

    @classmethod
    def from_dict(cls, d: dict) -> "APView":
        try:
            return cls(d["role"], d["bssid"], int(d["freq"]), int(d["op_class"]), APConfigView(**d["config"]),
                       [(float(t), str(s)) for t, s in d.get("events", [])])
        except (KeyError, TypeError, ValueError) as e:
            raise EvidenceError(f"AP evidence: {type(e).__name__}: {e}") from None

    @classmethod
    def snapshot(cls, role: str, ap) -> "APView":
        """From a live lab.hostapd.RefAP (anything with bssid, freq, op_class, config, events())."""
        return cls(role, ap.bssid, ap.freq, ap.op_class, APConfigView.of(ap.config), list(ap.events()))


def event_from_dict(d: dict) -> Event:
    return Event(float(d["t"]), str(d["kind"]), dict(d.get("fields") or {}), d.get("source", ""), d.get("raw", ""))


def indication_from_dict(d: dict) -> Indication:
    known = {f.name for f in dataclasses.fields(Indication)}
    kw = {k: v for k, v in d.items() if k in known}
    kw["kind"] = Ind(d["kind"])
    return Indication(**kw)


@dataclass
class DutView:
    """The DUT as the judges see it: identity, declared capabilities, normalized events and
    the adapter's indication trace (the mapping from native events is the adapter's, so the
    trace is evidence in its own right)."""
    name: str
    mac: str
    capabilities: frozenset[str]
    dut_events: list[Event] = field(default_factory=list)
    trace: list[Indication] = field(default_factory=list)
    iface: str = ""
    layer: str = "DUT"  # which of the DUT's layers makes its frames and events (engine.verdict.LAYERS)
    # the kernel's link events (carrier, nl80211, operstate) where the adapter reads them
    # apart from events(): events() is what marks count, so these stay a list of their own
    link: list[Event] = field(default_factory=list)

    def events(self) -> list[Event]:
        return self.dut_events

    def mark(self) -> int:
        return len(self.dut_events)

    def indications(self) -> list[Indication]:
        return self.trace

    def to_dict(self) -> dict:
        return {"name": self.name, "mac": self.mac, "capabilities": sorted(self.capabilities),
                "iface": self.iface, "layer": self.layer, "events": [e.to_dict() for e in self.dut_events],
                "link_events": [e.to_dict() for e in self.link],
                "indications": [i.to_dict() for i in self.trace]}

    @classmethod
    def from_dict(cls, d: dict) -> "DutView":
        try:
            return cls(d["name"], d["mac"], frozenset(d["capabilities"]),
                       [event_from_dict(e) for e in d.get("events", [])],
                       [indication_from_dict(i) for i in d.get("indications", [])], d.get("iface", ""),
                       d.get("layer", "DUT"), [event_from_dict(e) for e in d.get("link_events", [])])
        except (KeyError, TypeError, ValueError) as e:
            raise EvidenceError(f"DUT evidence: {type(e).__name__}: {e}") from None

    @classmethod
    def snapshot(cls, dut) -> "DutView":
        """From a live DUT adapter (devices.base.DUT); a DutView is already one."""
        if isinstance(dut, DutView):
            return dut
        link = getattr(dut, "link_events", None)
        return cls(dut.name, dut.mac, frozenset(dut.capabilities), list(dut.events()),
                   list(dut.indications()), getattr(dut, "iface", ""), getattr(dut, "layer", "DUT"),
                   list(link()) if callable(link) else [])

    def all_events(self) -> list[Event]:
        """events() and the link events in time order (one kernel clock stamps both)."""
        return sorted(self.dut_events + self.link, key=lambda e: e.t)


@dataclass(frozen=True)
class ProfileView:
    """The network profile the DUT was given (lab.wpas.Profile): what the candidate list
    and the FT keys derive from."""
    ssid: str  # hex
    security: str
    passphrase: str
    key_mgmt: str | None = None

    @property
    def ssid_b(self) -> bytes:
        return bytes.fromhex(self.ssid)

    @classmethod
    def of(cls, profile) -> "ProfileView":
        return cls(profile.ssid_b.hex(), profile.security, profile.passphrase, profile.key_mgmt)


@dataclass
class CaseEvidence:
    """Everything one case's verdicts are a function of, except the frames (air.pcap)."""
    judge: str  # name in engine.judges.JUDGES
    case: str  # case id, e.g. "BTM-04"
    title: str
    params: dict  # the case row's parameters: the stimulus as the table states it
    dut: DutView
    aps: dict[str, APView]  # by role ("a", "b", "cur", ...)
    profile: ProfileView
    facts: dict[str, Any] = field(default_factory=dict)  # what the stimulus did: marks, tokens, times, replies

    def ap(self, role: str) -> APView:
        try:
            return self.aps[role]
        except KeyError:
            raise EvidenceError(f"no AP with role {role!r} in the evidence (have {sorted(self.aps)})") from None

    def by_bssid(self, bssid: str | None) -> APView | None:
        return next((a for a in self.aps.values() if a.bssid == bssid), None)

    def to_dict(self) -> dict:
        return {"schema": SCHEMA, "judge": self.judge, "case": self.case, "title": self.title,
                "params": self.params, "dut": self.dut.to_dict(),
                "aps": {k: v.to_dict() for k, v in self.aps.items()},
                "profile": dataclasses.asdict(self.profile), "facts": self.facts}

    @classmethod
    def from_dict(cls, d: dict) -> "CaseEvidence":
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            raise EvidenceError(f"not roamcert evidence (schema {d.get('schema') if isinstance(d, dict) else None!r}, "
                                f"want {SCHEMA})")
        try:
            return cls(d["judge"], d["case"], d.get("title", ""), dict(d.get("params") or {}),
                       DutView.from_dict(d["dut"]), {k: APView.from_dict(v) for k, v in d.get("aps", {}).items()},
                       ProfileView(**d["profile"]), dict(d.get("facts") or {}))
        except KeyError as e:
            raise EvidenceError(f"evidence lacks {e}") from None
        except TypeError as e:
            raise EvidenceError(f"evidence: {e}") from None
