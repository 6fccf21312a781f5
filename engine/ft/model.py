"""Result objects of the FT exchange finder: plain data with to_dict() for JSON."""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.verdict import FAIL, Verdict

from . import frame as fr


@dataclass
class Handshake:
    """EAPOL-Key 4-way handshake messages between one STA and one AP (12.7.6)."""
    sta: str
    ap: str
    messages: dict = field(default_factory=dict)  # message number -> [frame index]
    anonce: bytes | None = None
    snonce: bytes | None = None
    m2: fr.EapolKey | None = None
    m3: fr.EapolKey | None = None  # its Key Data is wrapped with the KEK (12.7.2)

    @property
    def complete(self) -> bool:
        return all(m in self.messages for m in (1, 2, 3, 4))

    def to_dict(self) -> dict:
        return {"sta": self.sta, "ap": self.ap, "complete": self.complete,
                "messages": {str(k): v for k, v in sorted(self.messages.items())}}


@dataclass
class _Msg:
    """One FT frame of an exchange, reduced to what the checks need."""
    index: int
    t: float
    status: int | None = None
    mde: bytes | None = None  # MDE span
    fte: fr.FTE | None = None
    rsne: fr.RSNE | None = None
    akm: int | None = None  # the one AKM of the RSNE, if it lists exactly one
    raw: bytes = b""


@dataclass
class FTExchange:
    sta: str
    target: str
    over_ds: bool | None  # None when the FT request/response were not seen
    current: str | None = None
    request: _Msg | None = None
    response: _Msg | None = None
    reassoc_req: _Msg | None = None
    reassoc_resp: _Msg | None = None
    beacon_mde: tuple[int, bytes] | None = None
    eapol_after: list[int] = field(default_factory=list)
    # An FT Authentication request sent again with the same SNonce before any answer reached
    # the STA (mac80211 resends after its authentication timeout): the earlier exchange it
    # repeats. The AP may answer both, each with its own ANonce.
    repeats: "FTExchange | None" = None
    second_response: _Msg | None = None  # the AP's answer to the repeated request, when it answered both
    # every Reassociation Request of the exchange (a STA sends it again when no answer comes)
    reassoc_tries: list[_Msg] = field(default_factory=list)
    # the STA's first Authentication or (Re)Association Request to any AP after the
    # Reassociation Response: it started over instead of using the reassociation
    restarted_at: int | None = None
    findings: list[Verdict] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    pmkr1name_ok: bool | None = None
    mic5_ok: bool | None = None
    mic6_ok: bool | None = None
    snonce_ok: bool | None = None
    anonce_ok: bool | None = None
    mde_ok: bool | None = None

    def _msgs(self):
        return [m for m in (self.request, self.response, self.reassoc_req, self.reassoc_resp) if m]

    @property
    def akm(self) -> int | None:
        return next((m.akm for m in (self.reassoc_req, self.request) if m and m.akm), None)

    @property
    def latency_us(self) -> int | None:
        ms = self._msgs()
        if not ms or self.reassoc_resp is None:
            return None
        return round((self.reassoc_resp.t - ms[0].t) * 1e6)

    @property
    def mic_ok(self) -> bool | None:
        if self.mic5_ok is None or self.mic6_ok is None:
            return None
        return self.mic5_ok and self.mic6_ok

    @property
    def reassoc_status(self) -> int | None:
        return None if self.reassoc_resp is None else self.reassoc_resp.status

    @property
    def ok(self) -> bool:
        return not any(v.status == FAIL for v in self.findings + self.verdicts)

    def to_dict(self) -> dict:
        def idx(m):
            return None if m is None else m.index
        return {"sta": self.sta, "target": self.target, "current": self.current,
                "over_ds": self.over_ds,
                "frames": {"request": idx(self.request), "response": idx(self.response),
                           "reassoc_request": idx(self.reassoc_req),
                           "reassoc_response": idx(self.reassoc_resp)},
                "auth_status": None if self.response is None else self.response.status,
                "reassoc_status": self.reassoc_status, "snonce_ok": self.snonce_ok,
                "anonce_ok": self.anonce_ok, "mde_ok": self.mde_ok,
                "pmkr1name_ok": self.pmkr1name_ok, "mic5_ok": self.mic5_ok,
                "mic6_ok": self.mic6_ok, "mic_ok": self.mic_ok,
                "eapol_after": list(self.eapol_after), "latency_us": self.latency_us,
                "ok": self.ok,
                "verdicts": [v.to_dict() for v in self.findings + self.verdicts]}


@dataclass
class InitialFTAssociation:
    """FT initial mobility domain association (13.4): Association with MDE and an FT
    AKM, then a 4-way handshake."""
    sta: str
    ap: str
    request: _Msg
    response: _Msg | None = None
    handshake: Handshake | None = None
    beacon_mde: tuple[int, bytes] | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    pmkr1name_ok: bool | None = None
    m2_mic_ok: bool | None = None
    # the STA sent its Association Request again before any answer came (the AP answered late
    # or not at all): the later request is the association that counts
    repeated_by: int | None = None

    def to_dict(self) -> dict:
        return {"sta": self.sta, "ap": self.ap, "request": self.request.index,
                "response": None if self.response is None else self.response.index,
                "status": None if self.response is None else self.response.status,
                "handshake": None if self.handshake is None else self.handshake.to_dict(),
                "pmkr1name_ok": self.pmkr1name_ok, "m2_mic_ok": self.m2_mic_ok,
                "verdicts": [v.to_dict() for v in self.verdicts]}


@dataclass
class FTAnalysis:
    exchanges: list[FTExchange] = field(default_factory=list)
    initial: list[InitialFTAssociation] = field(default_factory=list)
    handshakes: list[Handshake] = field(default_factory=list)
    findings: list[Verdict] = field(default_factory=list)  # not tied to one exchange

    @property
    def fourway_count(self) -> int:
        return len(self.handshakes)

    def verdicts(self) -> list[Verdict]:
        out = list(self.findings)
        for a in self.initial:
            out += a.verdicts
        for x in self.exchanges:
            out += x.findings + x.verdicts
        return out

    def to_dict(self) -> dict:
        return {"exchanges": [x.to_dict() for x in self.exchanges],
                "initial_associations": [a.to_dict() for a in self.initial],
                "fourway_handshakes": [h.to_dict() for h in self.handshakes],
                "fourway_count": self.fourway_count,
                "findings": [v.to_dict() for v in self.findings]}
