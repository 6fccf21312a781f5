"""Find FT exchanges and FT initial associations in a frame sequence and judge them.

Input: any iterable of objects with `.index`, `.t` (seconds) and `.raw` (the 802.11
frame, no radiotap, no FCS). Over the air (13.5.2): Authentication algorithm 2 seq 1
STA -> target, seq 2 target -> STA. Over the DS (13.5.4): FT Request/Response Action
frames (category 6, actions 1/2) via the current AP. Both continue with the
Reassociation Request/Response between STA and target (13.7.1, 13.8.4, 13.8.5).

Bad bytes never raise: they become FT-FRAME findings.
"""
from __future__ import annotations

from engine.ies import MalformedFrame
from engine.verdict import DUT, FAIL, INFO, REFERENCE_AP, Verdict

from . import frame as fr
from .checks import cl, ev, judge_exchange, judge_initial
from .keys import KeyInputError, Secrets
from .model import FTAnalysis, FTExchange, Handshake, InitialFTAssociation, _Msg

__all__ = ["find_exchanges", "FTAnalysis", "FTExchange", "Handshake", "InitialFTAssociation"]


def _elements_of(f: fr.Frame80211, index: int, t: float, status: int | None = None) -> _Msg:
    """MDE span, FTE and RSNE of a frame; MalformedFrame if any is broken."""
    m = _Msg(index, t, status=status, raw=f.raw)
    m.mde = f.span(fr.EID_MDE)
    if m.mde is not None:
        fr.parse_mde(m.mde[2:])
    rsne = f.element(fr.EID_RSNE)
    if rsne is not None:
        m.rsne = fr.parse_rsne(rsne.body)
        if len(m.rsne.akms) == 1:
            m.akm = m.rsne.akms[0]
    fte = f.element(fr.EID_FTE)
    if fte is not None:
        m.fte = fr.parse_fte(fte.body, fr.fte_mic_len(m.akm))
    return m


def _from_ap(f) -> bool:
    """Sent by the BSS: a management frame whose transmitter is the BSSID (A2 = A3), or a
    data frame with From DS set."""
    if f.ftype == 2:
        return bool(f.raw[1] & 0x02) and not f.raw[1] & 0x01
    return f.addr2 == f.addr3


class _Finder:
    def __init__(self, secrets: Secrets | None):
        self.secrets = secrets
        self.out = FTAnalysis()
        self.open: dict[str, FTExchange] = {}  # sta -> exchange before its reassoc resp
        self.after: dict[str, FTExchange] = {}  # sta -> exchange whose reassoc resp was seen
        self.init_open: dict[str, InitialFTAssociation] = {}
        self.hs: dict[tuple[str, str], Handshake] = {}
        self.beacons: dict[str, list[tuple[int, bytes]]] = {}
        self.last_seq: dict[str, bytes] = {}

    # -- bookkeeping ----------------------------------------------------------
    def _finding(self, index, what: str, err: str, x: FTExchange | None = None,
                 clause: str = "9.4.2.1", from_ap: bool = False):
        # the fault is the sender's: a frame the AP sent is the reference AP's
        v = Verdict("FT-FRAME", cl(clause), FAIL, f"a well-formed {what}",
                    f"malformed: {err}", ev(index), "sent by the AP" if from_ap else "",
                    layer=REFERENCE_AP if from_ap else DUT)
        (x.findings if x else self.out.findings).append(v)

    def _start(self, x: FTExchange):
        old = self.open.pop(x.sta, None)
        if old is not None:
            self.out.exchanges.append(old)  # superseded before its reassoc response
        self.after.pop(x.sta, None)
        self.init_open.pop(x.sta, None)
        self.open[x.sta] = x

    # -- per frame --------------------------------------------------------------
    def feed(self, index, t, raw):
        if len(raw) >= 2 and (raw[0] >> 2) & 3 in (1, 3):
            return  # control and extension frames carry nothing FT needs
        try:
            f = fr.parse(raw)
        except MalformedFrame as err:
            self.out.findings.append(Verdict("FT-FRAME", cl("9.2.3"), INFO,
                                             "a management or data frame", str(err),
                                             ev(index), "frame skipped"))
            return
        # a retransmission (Retry bit, same Sequence Control from the same sender)
        seq = (f.raw[1] & 0x08, f.raw[22:24])
        last = self.last_seq.get(f.addr2)
        self.last_seq[f.addr2] = seq[1]
        if seq[0] and last == seq[1]:
            return
        try:
            if f.ftype == 2:
                self._data(index, t, f)
            elif f.ftype == 0 and not f.protected:
                self._mgmt(index, t, f)
        except (MalformedFrame, KeyInputError) as err:
            self._finding(index, fr.kind(f), str(err), self._owner(f),
                          "12.7.2" if f.ftype == 2 else "9.4.2.1", _from_ap(f))

    def _owner(self, f: fr.Frame80211) -> FTExchange | None:
        return (self.open.get(f.addr2) or self.open.get(f.addr1)
                or self.after.get(f.addr2) or self.after.get(f.addr1))

    def _mgmt(self, index, t, f: fr.Frame80211):
        st = f.subtype
        body = f.raw[f.body_offset:]
        if st in (fr.BEACON, fr.PROBE_RESP):
            mde = f.span(fr.EID_MDE)
            if mde is not None:
                self.beacons.setdefault(f.addr3, []).append((index, mde))
            return
        if st in (fr.AUTH, fr.ASSOC_REQ, fr.REASSOC_REQ):
            done = self.after.get(f.addr2)
            if done is not None and done.restarted_at is None and f.addr2 != f.addr3:
                done.restarted_at = index
        if st == fr.AUTH:
            alg, seq, status = fr.u16(body, 0), fr.u16(body, 2), fr.u16(body, 4)
            if alg != fr.FT_AUTH_ALG:
                return
            if seq == 1:
                x = FTExchange(sta=f.addr2, target=f.addr1, over_ds=False)
                old = self.open.get(x.sta)
                request = _elements_of(f, index, t)
                if old is not None and old.target == x.target and not old.over_ds and old.reassoc_req is None \
                        and _snonce(old.request) is not None and _snonce(old.request) == _snonce(request):
                    # the same attempt sent again: judged as one exchange, not a superseded one
                    x.repeats = self.open.pop(x.sta)
                self._start(x)
                self._check_elems(index, f, x)
                x.request = request
            elif seq == 2:
                x = self.open.get(f.addr1)
                if x is not None and x.target == f.addr2 and x.response is None and not x.over_ds:
                    self._check_elems(index, f, x)
                    x.response = _elements_of(f, index, t, status)
                elif x is not None and x.target == f.addr2 and x.repeats is not None and not x.over_ds \
                        and x.second_response is None and x.reassoc_req is None:
                    x.second_response = _elements_of(f, index, t, status)
            return
        if st == fr.ACTION:
            if len(body) < 2 or body[0] != fr.CAT_FT:
                return
            if body[1] == 1 and len(body) >= 14:
                sta, target = _mac(body[2:8]), _mac(body[8:14])
                x = FTExchange(sta=sta, target=target, over_ds=True, current=f.addr1)
                self._start(x)
                self._check_elems(index, f, x)
                x.request = _elements_of(f, index, t)
            elif body[1] == 2 and len(body) >= 16:
                sta, target = _mac(body[2:8]), _mac(body[8:14])
                x = self.open.get(sta)
                if x is not None and x.target == target and x.over_ds and x.response is None:
                    self._check_elems(index, f, x)
                    x.response = _elements_of(f, index, t, fr.u16(body, 14))
            return
        if st == fr.REASSOC_REQ:
            x = self.open.get(f.addr2)
            if x is None or x.target != f.addr1:
                if f.element(fr.EID_FTE) is None:
                    return
                x = FTExchange(sta=f.addr2, target=f.addr1, over_ds=None)
                self._start(x)
            self._check_elems(index, f, x)
            if x.current is None and len(body) >= 10:
                x.current = _mac(body[4:10])
            x.reassoc_req = _elements_of(f, index, t)
            x.reassoc_tries.append(x.reassoc_req)
            return
        if st == fr.REASSOC_RESP:
            x = self.open.get(f.addr1)
            if x is None or x.target != f.addr2 or x.reassoc_req is None:
                return
            self._check_elems(index, f, x)
            x.reassoc_resp = _elements_of(f, index, t, fr.u16(body, 2))
            self.open.pop(x.sta)
            self.out.exchanges.append(x)
            self.after[x.sta] = x
            return
        if st == fr.ASSOC_REQ:
            self.after.pop(f.addr2, None)
            m = _elements_of(f, index, t)
            if m.mde is not None and m.rsne is not None and set(m.rsne.akms) & fr.FT_AKMS:
                self._check_elems(index, f)
                prev = self.init_open.get(f.addr2)
                if prev is not None and prev.ap == f.addr1 and prev.response is None:
                    prev.repeated_by = index
                a = InitialFTAssociation(sta=f.addr2, ap=f.addr1, request=m)
                self.init_open[a.sta] = a
                self.out.initial.append(a)
            return
        if st == fr.ASSOC_RESP:
            a = self.init_open.get(f.addr1)
            if a is not None and a.ap == f.addr2 and a.response is None:
                a.response = _Msg(index, t, status=fr.u16(body, 2), mde=f.span(fr.EID_MDE))

    def _check_elems(self, index, f: fr.Frame80211, x: FTExchange | None = None):
        """A broken element list is a finding; the whole elements before it still count."""
        if f.element_error:
            self._finding(index, fr.kind(f), f.element_error, x or self._owner(f), from_ap=_from_ap(f))

    def _data(self, index, t, f: fr.Frame80211):
        k = fr.eapol_key(f)
        if k is None or k.message is None:
            return
        if f.to_ds and not f.from_ds:
            sta, ap = f.addr2, f.addr1
        elif f.from_ds and not f.to_ds:
            sta, ap = f.addr1, f.addr2
        else:
            return
        msg = k.message
        key = (sta, ap)
        h = self.hs.get(key)
        if h is None or (msg == 1 and (set(h.messages) - {1} or h.anonce != k.nonce)):
            h = Handshake(sta, ap)
            self.hs[key] = h
            self.out.handshakes.append(h)
        h.messages.setdefault(msg, []).append(index)
        if msg == 1:
            h.anonce = k.nonce
        elif msg == 2:
            h.snonce, h.m2 = k.nonce, k
        elif msg == 3 and h.m3 is None:
            h.m3 = k
        x = self.after.get(sta)
        if x is not None and x.target == ap:
            x.eapol_after.append(index)
        a = self.init_open.get(sta)
        if a is not None and a.ap == ap and (a.handshake is None or not a.handshake.complete and h.complete):
            # the AP may start the 4-way again (message 1 anew after its retransmissions ran out):
            # the handshake that completes is the association's
            a.handshake = h

    # -- judging --------------------------------------------------------------
    def finish(self) -> FTAnalysis:
        self.out.exchanges.extend(self.open.values())
        self.open.clear()
        self.out.exchanges.sort(key=lambda x: x._msgs()[0].index if x._msgs() else -1)
        for x in self.out.exchanges:
            x.beacon_mde = self._beacon_mde(x.target, x._msgs()[0].index if x._msgs() else 0)
            x.verdicts = judge_exchange(x, self.secrets)
        for a in self.out.initial:
            a.beacon_mde = self._beacon_mde(a.ap, a.request.index)
            a.verdicts = judge_initial(a, self.secrets)
        return self.out

    def _beacon_mde(self, bssid, before):
        seen = self.beacons.get(bssid, [])
        prior = [b for b in seen if b[0] <= before]
        return prior[-1] if prior else (seen[0] if seen else None)


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def find_exchanges(frames, secrets: Secrets | None = None) -> FTAnalysis:
    """Every FT exchange, FT initial association and 4-way handshake in `frames`,
    judged. `secrets` (PMK + SSID) enables the PMKR1Name and MIC checks."""
    f = _Finder(secrets)
    for fm in frames:
        f.feed(fm.index, fm.t, fm.raw)
    return f.finish()


def _snonce(m) -> bytes | None:
    return m.fte.snonce if m is not None and m.fte is not None else None
