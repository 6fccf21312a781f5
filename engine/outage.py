"""Where a roam's data-plane outage goes: a pure decomposition of one roam under ping.

Inputs, all on the lab kernel's clock (the pcaps' and the link monitor's):
- the air (engine.capture Frames from hwsim0): the FT / reassociation exchange and the
  DUT's data frames through the old and the new AP. Data frames on the air are CCMP
  ciphertext, so the air gives their timing only, never what they carry;
- the DUT's events (engine.events.Event): carrier_off / carrier_on (the kernel's link),
  port_authorized (operstate UP: the supplicant's 802.1X port), nl80211_*;
- the DUT's own interface capture (DutPacket, from dut_packets()): its ARP and ICMP as its
  kernel hands them to the driver and gets them back, in the clear. Packets the kernel
  drops before the driver (carrier off, no neighbour yet) are in neither capture;
- the ping's own count (answered sequence numbers), from lab/dataplane.py.

Every Milestone says which of those its time comes from. `decompose` judges nothing: the
outage and its parts are measurements (INFO), and `Outage.verdict` words them.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from engine.events import Event
from engine.frames.header import Header, classify
from engine.ies import MalformedFrame
from engine.verdict import INFO, KERNEL, LAB, SUPPLICANT, Verdict

AUTH_ALG_FT = 2  # IEEE 802.11-2020 9.4.1.1 Authentication Algorithm Number: Fast BSS Transition
DATA_SUBTYPES = (0, 8)  # Data, QoS Data: the subtypes that carry an MSDU (9.2.4.1.3)


class OutageError(ValueError):
    """The inputs do not describe one roam this module can decompose."""


# -- the DUT interface capture -----------------------------------------------------------
LINKTYPE_ETHERNET = 1
ETH_P_IP, ETH_P_ARP = 0x0800, 0x0806
ARP_REQUEST, ARP_REPLY = 1, 2
IPPROTO_ICMP, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST = 1, 0, 8
_PCAP_MAGIC = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
               b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}


@dataclass(frozen=True)
class DutPacket:
    index: int  # 1-based, as Wireshark numbers packets
    t: float
    kind: str  # arp_request, arp_reply, echo_request, echo_reply, other
    src: str | None = None  # IPv4 sender (ARP: sender protocol address)
    dst: str | None = None  # IPv4 destination (ARP: target protocol address)
    seq: int | None = None  # ICMP echo sequence number
    hw_src: str | None = None  # Ethernet source address
    ident: int | None = None  # ICMP echo identifier: one ping run


def _ip(b: bytes) -> str:
    return ".".join(str(x) for x in b)


def _hw(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def decode_ethernet(index: int, t: float, frame: bytes) -> DutPacket:
    """One Ethernet frame -> DutPacket (IPv4 ICMP echo and ARP are told apart; all else is other)."""
    if len(frame) < 14:
        return DutPacket(index, t, "other")
    _dst, src, ethertype = struct.unpack_from("!6s6sH", frame, 0)
    body = frame[14:]
    if ethertype == ETH_P_ARP and len(body) >= 28:
        _htype, _ptype, _hlen, _plen, oper, _sha, spa, _tha, tpa = struct.unpack_from("!HHBBH6s4s6s4s", body)
        kind = {ARP_REQUEST: "arp_request", ARP_REPLY: "arp_reply"}.get(oper, "other")
        return DutPacket(index, t, kind, _ip(spa), _ip(tpa), None, _hw(src))
    if ethertype == ETH_P_IP and len(body) >= 20:
        ver_ihl, proto, saddr, daddr = body[0], body[9], body[12:16], body[16:20]
        ihl = (ver_ihl & 0x0F) * 4
        if proto == IPPROTO_ICMP and len(body) >= ihl + 8:
            icmp_type, _code, _csum, ident, seq = struct.unpack_from("!BBHHH", body, ihl)
            kind = {ICMP_ECHO_REQUEST: "echo_request", ICMP_ECHO_REPLY: "echo_reply"}.get(icmp_type, "other")
            if kind == "other":
                return DutPacket(index, t, kind, _ip(saddr), _ip(daddr), hw_src=_hw(src))
            return DutPacket(index, t, kind, _ip(saddr), _ip(daddr), seq, _hw(src), ident)
        return DutPacket(index, t, "other", _ip(saddr), _ip(daddr), None, _hw(src))
    return DutPacket(index, t, "other", hw_src=_hw(src))


def dut_packets(data: bytes) -> list[DutPacket]:
    """A classic pcap of Ethernet frames (tcpdump -w on the DUT's interface) -> DutPackets.
    A truncated last record is dropped; anything else that is not such a pcap is an error."""
    if len(data) < 24 or data[:4] not in _PCAP_MAGIC:
        raise OutageError("the DUT interface capture is not a classic pcap file")
    end, unit = _PCAP_MAGIC[data[:4]]
    linktype = struct.unpack_from(end + "I", data, 20)[0] & 0x0FFFFFFF
    if linktype != LINKTYPE_ETHERNET:
        raise OutageError(f"the DUT interface capture has link type {linktype}, not Ethernet (1)")
    out, off, n = [], 24, 0
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack_from(end + "IIII", data, off)
        off += 16
        if off + incl > len(data):
            break
        n += 1
        out.append(decode_ethernet(n, sec + frac * unit, data[off:off + incl]))
        off += incl
    return out


def unanswered_runs(transmitted: int, answered) -> list[tuple[int, int]]:
    """Runs (first, last) of the sequence numbers 0..transmitted-1 a ping got no reply to."""
    got = set(answered)
    out, start = [], None
    for s in range(transmitted):
        if s not in got and start is None:
            start = s
        elif s in got and start is not None:
            out.append((start, s - 1))
            start = None
    if start is not None:
        out.append((start, transmitted - 1))
    return out


# -- the decomposition --------------------------------------------------------------------
@dataclass(frozen=True)
class Milestone:
    name: str
    t: float
    source: str  # where the time comes from: "air frame 812", "DUT interface packet 217", an event source
    what: str = ""


@dataclass(frozen=True)
class Phase:
    start: str  # milestone names
    end: str
    ms: float
    layer: str  # whose doing the span is, as far as the inputs show
    why: str


@dataclass(frozen=True)
class Outage:
    sta: str
    old_bssid: str
    new_bssid: str
    milestones: tuple[Milestone, ...]
    phases: tuple[Phase, ...]
    gap_ms: float | None  # last echo reply before the roam -> first echo reply after it
    lost: int | None = None  # pings the ping itself counted as unanswered
    unanswered: tuple[tuple[int, int], ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def at(self, name: str) -> Milestone | None:
        return next((m for m in self.milestones if m.name == name), None)

    def to_dict(self) -> dict:
        return {"sta": self.sta, "old_bssid": self.old_bssid, "new_bssid": self.new_bssid,
                "gap_ms": self.gap_ms, "lost": self.lost, "unanswered": [list(r) for r in self.unanswered],
                "milestones": [{"name": m.name, "t": m.t, "source": m.source, "what": m.what}
                               for m in self.milestones],
                "phases": [{"from": p.start, "to": p.end, "ms": p.ms, "layer": p.layer, "why": p.why}
                           for p in self.phases],
                "notes": list(self.notes)}

    def verdict(self, rule: str = "DP-OUTAGE", clause: str = "data-plane outage of a roam") -> Verdict:
        head = f"{self.gap_ms:.1f} ms from the last echo reply before the roam to the first after it" \
            if self.gap_ms is not None else "no echo reply on both sides of the roam: the gap is not measured"
        parts = "; ".join(f"{p.start} -> {p.end} {p.ms:.1f} ms ({p.layer}: {p.why})" for p in self.phases)
        ev = tuple(f"{m.name} t={m.t:.6f} ({m.source})" for m in self.milestones)
        return Verdict(rule, clause, INFO, "where the outage goes (measured, not judged)",
                       head + (f"; {parts}" if parts else ""), ev, "; ".join(self.notes))


def _air_roam(frames, sta, old, new, after):
    """The roam's frames on the air: the STA's first FT authentication (or reassociation
    request, over the DS) toward new after `after`, and the reassociation response."""
    auth_req = auth_resp = reassoc_req = reassoc_resp = None
    for f in frames:
        if f.t < after:
            continue
        k = classify(f.raw)
        if k not in ("auth", "reassoc_req", "reassoc_resp", "ft_action_req"):
            continue
        try:
            h = Header(f.raw)
        except MalformedFrame:
            continue
        if k == "auth" and len(f.raw) >= h.body_offset + 6:
            alg, seq, _status = struct.unpack_from("<HHH", f.raw, h.body_offset)
            if alg != AUTH_ALG_FT:
                continue
            if seq == 1 and h.addr2 == sta and h.addr1 == new and auth_req is None and reassoc_resp is None:
                auth_req = f
            elif seq == 2 and h.addr1 == sta and h.addr2 == new and auth_req is not None and auth_resp is None:
                auth_resp = f
        elif k == "reassoc_req" and h.addr2 == sta and h.addr1 == new and reassoc_resp is None:
            reassoc_req = reassoc_req or f
        elif k == "reassoc_resp" and h.addr1 == sta and h.addr2 == new and reassoc_req is not None:
            reassoc_resp = f
            break
    return auth_req, auth_resp, reassoc_req, reassoc_resp


def _data_frames(frames, sta, ap):
    """Protected data frames carrying an MSDU between sta and ap: (frame, uplink?)."""
    out = []
    for f in frames:
        if classify(f.raw) != "data":
            continue
        try:
            h = Header(f.raw)
        except MalformedFrame:
            continue
        if h.subtype not in DATA_SUBTYPES or not h.protected:
            continue  # null data and the clear EAPOL of a 4-way handshake are not the data plane
        if h.to_ds and not h.from_ds and h.addr2 == sta and h.addr1 == ap:
            out.append((f, True))
        elif h.from_ds and not h.to_ds and h.addr1 == sta and h.addr2 == ap:
            out.append((f, False))
    return out


def decompose(frames: Iterable, sta: str, old_bssid: str, new_bssid: str, events: Iterable[Event] = (),
              packets: Sequence[DutPacket] = (), target: str | None = None,
              answered: Iterable[int] | None = None, transmitted: int | None = None,
              after: float = 0.0) -> Outage:
    """One roam of sta from old_bssid to new_bssid that began after `after` (a time on the lab
    clock before the roam, e.g. when the roam was commanded). target: the pinged address
    (default: the destination of the DUT's echo requests). answered/transmitted: the ping's
    own count. Raises OutageError when the air shows no reassociation to new_bssid."""
    sta, old, new = sta.lower(), old_bssid.lower(), new_bssid.lower()
    frames = list(frames)
    auth_req, auth_resp, reassoc_req, reassoc_resp = _air_roam(frames, sta, old, new, after)
    if reassoc_resp is None:
        raise OutageError(f"no reassociation response from {new} to {sta} on the air after t={after:.6f}")
    start = (auth_req or reassoc_req).t
    ms: list[Milestone] = []
    notes: list[str] = []

    def add(name, t, source, what=""):
        ms.append(Milestone(name, t, source, what))

    for name, f, what in (("ft_auth_request", auth_req, "FT Authentication (seq 1) to the new AP"),
                          ("ft_auth_response", auth_resp, "FT Authentication (seq 2) from the new AP"),
                          ("reassoc_request", reassoc_req, "Reassociation Request to the new AP"),
                          ("reassoc_response", reassoc_resp, "Reassociation Response from the new AP")):
        if f is not None:
            add(name, f.t, f"air frame {f.index}", what)
    old_data = [(f, up) for f, up in _data_frames(frames, sta, old) if after <= f.t <= reassoc_resp.t]
    if old_data:
        f, up = old_data[-1]
        add("last_data_old_ap", f.t, f"air frame {f.index}",
            f"last data frame {'to' if up else 'from'} the old AP (CCMP: timing only)")
    new_data = [(f, up) for f, up in _data_frames(frames, sta, new) if f.t > reassoc_resp.t]
    for up in (True, False):
        first = next((f for f, u in new_data if u == up), None)
        if first is not None:
            add("first_data_to_new_ap" if up else "first_data_from_new_ap", first.t, f"air frame {first.index}",
                f"first data frame {'to' if up else 'from'} the new AP (CCMP: timing only)")

    # the kernel's link and the supplicant's port, from the DUT's events
    evs = sorted((e for e in events if e.t >= after), key=lambda e: e.t)
    off = next((e for e in evs if e.kind == "carrier_off" and e.t <= reassoc_resp.t + 1.0), None)
    on = next((e for e in evs if e.kind == "carrier_on" and off is not None and e.t > off.t), None)
    port = next((e for e in evs if e.kind == "port_authorized" and e.t >= (on.t if on else reassoc_resp.t)), None)
    for name, e, what in (("carrier_off", off, "the kernel dropped carrier (IFF_LOWER_UP off)"),
                          ("carrier_on", on, "carrier back (IFF_LOWER_UP on)"),
                          ("port_authorized", port, "operstate UP: the supplicant opened the 802.1X port")):
        if e is not None:
            add(name, e.t, e.source, f"{what}: {e.get('evidence') or e.raw}")

    # the DUT interface: echo replies around the roam, neighbour resolution after it
    pk = sorted(packets, key=lambda p: p.t)
    cut = off.t if off is not None else start
    # the ping run under way at the roam: the last echo request before the link went
    run = next((p for p in reversed(pk) if p.kind == "echo_request" and p.t < cut
                and (target is None or p.dst == target)), None)
    if target is None and run is not None:
        target = run.dst
    if run is not None:  # sequence numbers restart with every ping run: keep to this one
        pk = [p for p in pk if p.kind not in ("echo_request", "echo_reply") or p.ident == run.ident]
    before = [p for p in pk if p.kind == "echo_reply" and p.src == target and after <= p.t < cut]
    if before:
        p = before[-1]
        add("last_echo_reply_before", p.t, f"DUT interface packet {p.index}", f"echo reply seq {p.seq}")
    after_reply = next((p for p in pk if p.kind == "echo_reply" and p.src == target and p.t >= cut), None)
    until = after_reply.t if after_reply is not None else float("inf")
    arp_req = [p for p in pk if p.kind == "arp_request" and p.dst == target and cut <= p.t < until]
    arp_rep = next((p for p in pk if p.kind == "arp_reply" and p.src == target and arp_req
                    and p.t >= arp_req[0].t), None)
    if arp_req:
        add("arp_request", arp_req[0].t, f"DUT interface packet {arp_req[0].index}",
            f"the DUT asks who has {target}: its neighbour entry is gone")
    if arp_rep is not None:
        add("arp_reply", arp_rep.t, f"DUT interface packet {arp_rep.index}", f"{target} is at {arp_rep.hw_src}")
    t_on = on.t if on is not None else reassoc_resp.t
    sent = [p for p in pk if p.kind == "echo_request" and p.dst == target and p.t >= cut]
    if after_reply is not None:
        add("first_echo_reply_after", after_reply.t, f"DUT interface packet {after_reply.index}",
            f"echo reply seq {after_reply.seq}")
    gap = round((after_reply.t - before[-1].t) * 1000, 3) if before and after_reply is not None else None

    # what the DUT's kernel sent while the port was closed, and what never reached the driver
    if port is not None:
        closed = [p for p in sent if t_on <= p.t < port.t]
        if closed:
            on_air = [f for f, up in new_data if up and f.t < port.t]
            notes.append(f"{len(closed)} echo request(s) went to the driver between carrier on and the port's "
                         f"authorization; {len(on_air)} data frame(s) to the new AP are on the air before it")
    if answered is not None:
        # the ping's count is the truth about replies; a capture can miss some in a burst
        got_ping = set(answered)
        captured = {p.seq for p in pk if p.kind == "echo_reply" and p.src == target}
        first_ok = next((p for p in sent if p.seq in got_ping), None)
        if first_ok is not None:
            add("first_answered_echo_request", first_ok.t, f"DUT interface packet {first_ok.index}",
                f"echo request seq {first_ok.seq}, the first after the drop the ping counts as answered: "
                f"its reply is later")
        missed = sorted(s for s in got_ping - captured if any(p.seq == s for p in sent))
        if missed:
            notes.append(f"the ping counted {len(missed)} reply(ies) after the roam that the DUT interface "
                         f"capture lacks (seq {missed[0]}..{missed[-1]}): the capture dropped packets, so "
                         f"first_echo_reply_after may be late; first_answered_echo_request bounds it")
    if answered is not None and transmitted is not None:
        got = set(answered)
        runs = unanswered_runs(transmitted, got)
        lost = transmitted - len(got & set(range(transmitted)))
        seen = {p.seq for p in pk if p.kind == "echo_request" and p.dst == target}
        never = sum(1 for a, b in runs for s in range(a, b + 1) if s not in seen)
        if never and packets:
            notes.append(f"{never} unanswered echo request(s) are not in the DUT's interface capture: the kernel "
                         f"dropped them before the driver (carrier off, no neighbour entry, a full neighbour "
                         f"queue), or the capture missed them")
    else:
        lost, runs = None, []
    if arp_req:
        since = f", {(arp_req[0].t - off.t) * 1000:.0f} ms after carrier went" if off is not None else ""
        notes.append(f"the DUT re-resolved {target} after the roam ({len(arp_req)} ARP request(s) seen{since}): "
                     f"its neighbour entry was gone, as a carrier drop flushes it while "
                     f"net.ipv4.conf.<if>.arp_evict_nocarrier is 1; a request made while carrier was off does "
                     f"not reach the driver (nor this capture), and the next waits for the ARP retransmit timer "
                     f"(1 s by default)")

    ms.sort(key=lambda m: m.t)
    return Outage(sta, old, new, tuple(ms), tuple(_phases(ms)), gap, lost, tuple(runs), tuple(notes))


# Whose doing the span between two milestones is, for the spans the inputs can tell.
_SPAN = {
    ("carrier_off", "carrier_on"): (KERNEL, "no link: mac80211 left the old AP for the FT exchange"),
    ("carrier_on", "port_authorized"): (SUPPLICANT, "link up, 802.1X port not yet authorized "
                                                    "(mac80211 drops data until it is)"),
    ("port_authorized", "arp_request"): (KERNEL, "neighbour entry flushed at the carrier drop; waiting for "
                                                 "the ARP retransmit"),
    ("carrier_on", "arp_request"): (KERNEL, "neighbour entry flushed at the carrier drop; waiting for "
                                            "the ARP retransmit"),
    ("arp_request", "arp_reply"): (LAB, "ARP answered by the lab's distribution system"),
}


def _phases(ms: list[Milestone]) -> list[Phase]:
    """The spans between the link/port/neighbour milestones that are present, in time order."""
    keys = ("last_echo_reply_before", "carrier_off", "carrier_on", "port_authorized", "arp_request",
            "arp_reply", "first_echo_reply_after")
    chain = [m for m in ms if m.name in keys]
    out = []
    for a, b in zip(chain, chain[1:]):
        layer, why = _SPAN.get((a.name, b.name), ("", ""))
        if not layer:
            if a.name == "last_echo_reply_before":
                why = "the last reply before the roam, to the next milestone"
            elif b.name == "first_echo_reply_after":
                layer, why = "", "the next echo request and its reply"
        out.append(Phase(a.name, b.name, round((b.t - a.t) * 1000, 3), layer or "DUT", why))
    return out
