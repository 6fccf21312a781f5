"""The fault catalogue: deliberately broken evidence the oracle must catch.

Each mutant takes a case recorded on the virtual lab by real hostapd and wpa_supplicant
(tests/data/rejudge/<case>), breaks one thing the way a faulty DUT (or a faulty AP, or a
faulty adapter) would, judges the result with the same engine judge as the live run, and
names the rule that must now FAIL. A mutant is caught when that rule FAILs on the mutant
and did not FAIL on the recorded case.

Kinds of mutant:
- frame: one frame on the air is changed (a MIC, a dialog token, an op class, a status...);
- air: frames are dropped, duplicated or moved in time;
- trace: the adapter's indication trace is reordered, dropped, duplicated or changed, as an
  adapter wrapper that garbles what it reports would do (one per IND rule it can reach).

`./roamcert bench mutants` prints caught/total; tests/test_mutants.py requires all caught.
The live configuration mutants (linux-wpas:no-btm, no-ft, pinned, filtered, wrong-psk) run
on the lab in tests/test_teeth.py.
"""
from __future__ import annotations

import argparse
import copy
import json
import struct
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine import ies
from engine.air import Air
from engine.capture import open_capture
from engine.evidence import CaseEvidence
from engine.frames import classify
from engine.frames.header import header_len
from engine.judges import run
from engine.verdict import FAIL

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "rejudge"
FT, BTM, BCN = "SMOKE-02-linux-wpas", "BTM-01-linux-wpas", "SMOKE-05-linux-wpas"
BCN_LAST = "BCN-13-linux-wpas"  # a beacon request asking for the Last Beacon Report Indication
ABSENT_TARGET = "IND-01-linux-wpas"  # ROAM to a BSSID no radio has: the candidate list is empty
CUT_SHORT = "IND-03-linux-wpas"  # a roam the test cuts short with DISCONNECT
FT_DS_REFUSED = "FT-07-linux-wpas"  # an FT over the DS roam to one named candidate, refused
GHOST = "02:de:ad:be:ef:99"  # no radio of the lab has this address

EID_RSN, EID_MDE, EID_FTE = 48, 54, 55


# ---- the capture as records ------------------------------------------------------------------

@dataclass
class Record:
    ts_sec: int
    ts_usec: int
    rt: bytes  # radiotap header
    raw: bytes  # 802.11 frame (no FCS in the lab's captures)

    @property
    def kind(self) -> str:
        return classify(self.raw)

    def src(self) -> str:
        return ":".join(f"{b:02x}" for b in self.raw[10:16])

    def pack(self) -> bytes:
        data = self.rt + self.raw
        return struct.pack("<IIII", self.ts_sec, self.ts_usec, len(data), len(data)) + data


def read_records(pcap: bytes) -> tuple[bytes, list[Record]]:
    """Classic little-endian pcap with radiotap (linktype 127), as the lab writes it."""
    head, pos, out = pcap[:24], 24, []
    if head[:4] != b"\xd4\xc3\xb2\xa1" or int.from_bytes(head[20:24], "little") != 127:
        raise ValueError("the corpus captures are little-endian pcap with radiotap")
    while pos + 16 <= len(pcap):
        sec, usec, incl, _ = struct.unpack_from("<IIII", pcap, pos)
        data = pcap[pos + 16:pos + 16 + incl]
        rt_len = int.from_bytes(data[2:4], "little")
        out.append(Record(sec, usec, data[:rt_len], data[rt_len:]))
        pos += 16 + incl
    return head, out


def write_records(head: bytes, recs: list[Record]) -> bytes:
    return head + b"".join(r.pack() for r in recs)


def first(recs: list[Record], kind: str, src: str | None = None) -> int:
    for i, r in enumerate(recs):
        if r.kind == kind and (src is None or r.src() == src):
            return i
    raise LookupError(f"no {kind} frame in the corpus capture")


def element(raw: bytes, eid: int, start: int) -> ies.Element:
    """The first element eid of a frame body whose elements begin at `start` (after the MAC header)."""
    h = header_len(raw)
    for e in ies.walk(raw, h + start):
        if e.id == eid:
            return e
    raise LookupError(f"no element {eid} in the frame")


def poke(raw: bytes, at: int, value: bytes) -> bytes:
    return raw[:at] + value + raw[at + len(value):]


def flip(raw: bytes, at: int) -> bytes:
    return poke(raw, at, bytes([raw[at] ^ 0xFF]))


def mac_bytes(m: str) -> bytes:
    return bytes.fromhex(m.replace(":", ""))


# ---- the mutants ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutant:
    id: str
    kind: str  # frame, air, trace
    case: str  # corpus folder
    rule: str  # the rule that must FAIL
    what: str
    air: Callable[[list[Record], dict], list[Record]] | None = None
    evidence: Callable[[dict], dict] | None = None
    baseline: Callable[[dict], dict] | None = None  # a conformant form of the recording, where needed


def _frame(kind: str, fn, dut_sent: bool = True):
    """Change the first frame of this kind the DUT sent (or received) with fn(raw) -> raw."""
    def mutate(recs, ev):
        dut = ev["dut"]["mac"]
        i = next(k for k, r in enumerate(recs) if r.kind == kind and (r.src() == dut) == dut_sent)
        recs[i].raw = fn(recs[i].raw)
        return recs
    return mutate


# FT (9.4.2.47 FTE: MIC Control 2, MIC 16, ANonce 32, SNonce 32, then subelements; the
# Reassociation Request body starts with Capability 2, Listen Interval 2, Current AP 6 = 10
# octets; the Response with Capability 2, Status 2, AID 2 = 6; Authentication with
# Algorithm 2, Transaction 2, Status 2 = 6)
def _fte(start: int, off: int):
    return lambda raw: flip(raw, element(raw, EID_FTE, start).offset + 2 + off)


def _status(raw: bytes, at: int, code: int) -> bytes:
    return poke(raw, header_len(raw) + at, code.to_bytes(2, "little"))


def _pmkid(raw: bytes) -> bytes:
    e = element(raw, EID_RSN, 10)
    return flip(raw, e.end - 1)  # the PMKR1Name is the last field of the RSNE's PMKID list


def _mdid(raw: bytes) -> bytes:
    return flip(raw, element(raw, EID_MDE, 10).offset + 2)


def _add_eapol_after_reassoc(recs, ev):
    """A 4-way handshake message after the FT reassociation (FT needs none)."""
    dut = ev["dut"]["mac"]
    i = first(recs, "reassoc_resp")
    target = recs[i].raw[10:16]
    m1 = next(r for r in recs if r.kind == "eapol" and r.src() != dut)
    late = copy.copy(m1)
    late.raw = m1.raw[:10] + target + target + m1.raw[22:]  # from the target AP (Address 2 and 3)
    late.ts_sec, late.ts_usec = recs[i].ts_sec, recs[i].ts_usec + 5000
    if late.ts_usec >= 1_000_000:
        late.ts_sec, late.ts_usec = late.ts_sec + 1, late.ts_usec - 1_000_000
    return recs[:i + 1] + [late] + recs[i + 1:]


# BTM Response (9.6.13.10): Category 1, Action 1, Dialog Token 1, Status 1, Termination Delay 1,
# Target BSSID 6 (status 0)
def _btm_token(raw):
    return poke(raw, header_len(raw) + 2, bytes([(raw[header_len(raw) + 2] + 1) & 0xFF]))


def _btm_status(code):
    return lambda raw: poke(raw, header_len(raw) + 3, bytes([code]))


def _btm_target(bssid):
    return lambda raw: poke(raw, header_len(raw) + 5, mac_bytes(bssid))


def _btm_no_target(raw):
    """Everything after the BSS Termination Delay goes: a status-0 response that just stops."""
    return raw[:header_len(raw) + 5]


def _drop(kind):
    def mutate(recs, ev):
        del recs[first(recs, kind, ev["dut"]["mac"])]
        return recs
    return mutate


def _btm_response_after_reassoc(recs, ev):
    """The response sent only after the DUT reassociated elsewhere (too late, out of order)."""
    dut = ev["dut"]["mac"]
    i = first(recs, "btm_response", dut)
    r = recs.pop(i)
    j = first(recs, "reassoc_resp")
    r.ts_sec, r.ts_usec = recs[j].ts_sec, recs[j].ts_usec + 1000
    if r.ts_usec >= 1_000_000:
        r.ts_sec, r.ts_usec = r.ts_sec + 1, r.ts_usec - 1_000_000
    recs.insert(j + 1, r)
    return recs


# Beacon report (9.4.2.21.7) inside a Measurement Report element (9.4.2.21: Token 1, Mode 1,
# Type 1, then the report: Op Class 1, Channel 1, Start Time 8, Duration 2, Frame Info 1, RCPI 1,
# RSNI 1, BSSID 6, Antenna 1, Parent TSF 4, subelements). A Radio Measurement Report frame body
# is Category 1, Action 1, Dialog Token 1, then the elements.
def _report(field_off: int, value: bytes | None = None, xor: bool = False):
    def fn(raw):
        e = element(raw, 39, 3)  # Measurement Report element
        at = e.offset + 2 + 3 + field_off
        return flip(raw, at) if xor else poke(raw, at, value)
    return fn


# Indication traces (the adapter's output, evidence.json dut.indications)
def _trace(fn):
    def mutate(ev):
        ev["dut"]["indications"] = fn(ev["dut"]["indications"])
        return ev
    return mutate


def _roam_span(tr):
    s = next(i for i, x in enumerate(tr) if x["kind"] == "ROAMING_START")
    c = next(i for i, x in enumerate(tr) if x["kind"] == "ROAMING_COMPLETION" and i > s)
    return s, c


def _without_media_in_roam(ev):
    """The recorded trace with the roam's media indications removed: the conformant form of
    a roam (what a driver that reports nl80211 ROAM would give)."""
    def fn(tr):
        s, c = _roam_span(tr)
        keep = [x for i, x in enumerate(tr) if not (s <= i <= c + 1 and x["kind"].startswith("MEDIA_"))]
        return keep
    return _trace(fn)(ev)


def _media_connect_in_roam(tr):
    s, c = _roam_span(tr)
    extra = dict(tr[c], kind="MEDIA_CONNECT", status=None, reason=None)
    return tr[:c + 1] + [extra] + tr[c + 1:]


def _drop_kind_in_roam(kind):
    def fn(tr):
        s, c = _roam_span(tr)
        i = next(i for i in range(s, len(tr)) if tr[i]["kind"] == kind)
        return tr[:i] + tr[i + 1:]
    return fn


def _second_roam_start(tr):
    s, c = _roam_span(tr)
    return tr[:s + 1] + [dict(tr[s])] + tr[s + 1:]


def _no_reason(tr):
    s, _ = _roam_span(tr)
    tr[s] = dict(tr[s], reason=None)
    return tr


def _completion_failed(tr):
    _, c = _roam_span(tr)
    tr[c] = dict(tr[c], status="failure")
    return tr


def _roam_before_connected(tr):
    """ROAMING_START reported before the connection completed (moved ahead of it)."""
    s, _ = _roam_span(tr)
    cc = next(i for i, x in enumerate(tr) if x["kind"] == "CONNECTION_COMPLETION")
    rs = dict(tr[s], t=tr[cc]["t"])
    rest = tr[:s] + tr[s + 1:]
    return rest[:cc] + [rs] + rest[cc:]


def _start_in_empty_window(ev):
    """A roam reported inside the span where no candidate was on the air (the adapter, or a
    station that roams with nothing to roam to)."""
    t = (float(ev["facts"]["t0"]) + float(ev["facts"]["t1"])) / 2
    tr = ev["dut"]["indications"]
    cur = next(x["bssid"] for x in tr if x["kind"] == "ASSOCIATION_COMPLETION")
    start = {"t": t, "kind": "ROAMING_START", "bssid": None, "status": None,
             "reason": "supplicant-initiated", "source": "mutant"}
    done = dict(start, t=t + 0.1, kind="ROAMING_COMPLETION", bssid=cur, status="failure", reason=None)
    ev["dut"]["indications"] = sorted(tr + [start, done], key=lambda x: x["t"])
    return ev


def _cut_short_reported_success(tr):
    """The roam the test disconnected mid-way reported as a success (association and roam)."""
    s, c = _roam_span(tr)
    for i in range(s, c + 1):
        if tr[i]["kind"] in ("ASSOCIATION_COMPLETION", "ROAMING_COMPLETION"):
            tr[i] = dict(tr[i], status="success", reason=None)
    return tr


def _associate_elsewhere(bssid):
    """The roam's association attempt aimed at a BSS outside its candidate list."""
    def fn(tr):
        s, c = _roam_span(tr)
        i = next(i for i in range(s, c + 1) if tr[i]["kind"] == "ASSOCIATION_START")
        tr[i] = dict(tr[i], bssid=bssid)
        return tr
    return fn


# Last Beacon Report Indication subelement (9.4.2.21.7, Table 9-152): Subelement ID 164,
# Length 1, Last Beacon Report Indication 1.
SUB_LAST_INDICATION = 164


def _drop_last_indication(recs, ev):
    """The last Radio Measurement Report the DUT sent loses its Last Beacon Report Indication
    subelement (and the element's length shrinks with it)."""
    dut = ev["dut"]["mac"]
    i = max(k for k, r in enumerate(recs) if r.kind == "rm_beacon_report" and r.src() == dut)
    raw = recs[i].raw
    e = ies.find_all(raw, 39, header_len(raw) + 3)[-1]  # the frame's last Measurement Report
    at = e.offset + 2 + 3 + 26  # element header, token/mode/type, the report's fixed fields
    while at < e.end:
        sid, slen = raw[at], raw[at + 1]
        if sid == SUB_LAST_INDICATION:
            raw = raw[:at] + raw[at + 2 + slen:]
            raw = poke(raw, e.offset + 1, bytes([raw[e.offset + 1] - 2 - slen]))
            recs[i].raw = raw
            return recs
        at += 2 + slen
    raise LookupError("no Last Beacon Report Indication subelement in the last report")


def catalogue() -> list[Mutant]:
    return [
        # FT over the air (SMOKE-02)
        Mutant("ft-mic-req", "frame", FT, "FT-MIC-5", "MIC of the DUT's FT Reassociation Request corrupted",
               air=_frame("reassoc_req", _fte(10, 2))),
        Mutant("ft-mic-resp", "frame", FT, "FT-MIC-6", "MIC of the AP's Reassociation Response corrupted",
               air=_frame("reassoc_resp", _fte(6, 2), dut_sent=False)),
        Mutant("ft-snonce", "frame", FT, "FT-SNONCE", "SNonce of the Reassociation Request differs from the FT Authentication's",
               air=_frame("reassoc_req", _fte(10, 2 + 16 + 32))),
        Mutant("ft-anonce", "frame", FT, "FT-ANONCE", "ANonce of the Reassociation Response differs from the FT Authentication's",
               air=_frame("reassoc_resp", _fte(6, 2 + 16), dut_sent=False)),
        Mutant("ft-pmkr1name", "frame", FT, "FT-PMKR1NAME", "PMKR1Name in the Reassociation Request's RSNE corrupted",
               air=_frame("reassoc_req", _pmkid)),
        Mutant("ft-mdid", "frame", FT, "FT-MDE", "MDID of the Reassociation Request's MDE changed",
               air=_frame("reassoc_req", _mdid)),
        Mutant("ft-4way-after", "air", FT, "FT-NO-4WAY", "a 4-way handshake message after the FT reassociation",
               air=_add_eapol_after_reassoc),
        Mutant("ft-reassoc-refused", "frame", FT, "FT-REASSOC-STATUS", "the Reassociation Response refuses (status 1)",
               air=_frame("reassoc_resp", lambda raw: _status(raw, 2, 1), dut_sent=False)),
        Mutant("ft-no-reassoc", "air", FT, "FT-SEQUENCE", "the DUT's FT Reassociation Request lost from the air",
               air=_drop("reassoc_req")),
        # BTM (BTM-01: a preferred candidate, accepted, roamed)
        Mutant("btm-token", "frame", BTM, "BTM-RESPONSE", "the BTM Response carries another dialog token (swapped tokens)",
               air=_frame("btm_response", _btm_token)),
        Mutant("btm-no-response", "air", BTM, "BTM-RESPONSE", "no BTM Response at all", air=_drop("btm_response")),
        Mutant("btm-target-ghost", "frame", BTM, "BTM-TARGET-ALLOWED", "status 0 toward a BSS that is no candidate and not on the air",
               air=_frame("btm_response", _btm_target(GHOST))),
        Mutant("btm-no-target", "frame", BTM, "BTM-RESPONSE-FORMAT", "status 0 without a Target BSSID (the frame just ends)",
               air=_frame("btm_response", _btm_no_target)),
        Mutant("btm-reject-then-roam", "frame", BTM, "BTM-NO-ROAM", "rejects (status 7) but roams anyway",
               air=_frame("btm_response", lambda raw: _btm_no_target(_btm_status(7)(raw)))),
        Mutant("btm-late-response", "air", BTM, "BTM-ORDER", "the BTM Response sent after the reassociation",
               air=_btm_response_after_reassoc),
        # Beacon report, table mode (SMOKE-05)
        Mutant("bcn-opclass", "frame", BCN, "BCN-OPCLASS", "a report names op class 115 for a 2.4 GHz channel",
               air=_frame("rm_beacon_report", _report(0, bytes([115])))),
        Mutant("bcn-channel", "frame", BCN, "BCN-CHANNEL", "a report names the wrong channel",
               air=_frame("rm_beacon_report", _report(1, bytes([11])))),
        Mutant("bcn-bssid", "frame", BCN, "BCN-BSSID-MAY", "a report names a BSS that is not on the air",
               air=_frame("rm_beacon_report", _report(17, mac_bytes(GHOST)))),
        Mutant("bcn-body-fixed", "frame", BCN, "BCN-BODY-FIXED", "the reported beacon interval differs from the air's",
               air=_frame("rm_beacon_report", _report(26 + 2 + 8, xor=True))),
        Mutant("bcn-token", "frame", BCN, "BCN-TOKEN", "the Measurement Report's token differs from the request's",
               air=_frame("rm_beacon_report", lambda raw: flip(raw, element(raw, 39, 3).offset + 2))),
        # Indication traces (BTM-01's roam), as a garbling adapter wrapper would report them
        Mutant("ind1-roam-before-connected", "trace", BTM, "IND-1", "ROAMING_START reported before the connection completed",
               evidence=_trace(_roam_before_connected)),
        Mutant("ind2-no-completion", "trace", BTM, "IND-2", "the roam's ROAMING_COMPLETION dropped",
               evidence=_trace(_drop_kind_in_roam("ROAMING_COMPLETION"))),
        Mutant("ind2-second-start", "trace", BTM, "IND-2", "ROAMING_START duplicated",
               evidence=_trace(_second_roam_start)),
        Mutant("ind3-no-assoc-start", "trace", BTM, "IND-3", "the roam's ASSOCIATION_START dropped",
               evidence=_trace(_drop_kind_in_roam("ASSOCIATION_START"))),
        Mutant("ind5-no-reason", "trace", BTM, "IND-5", "ROAMING_START without a reason",
               evidence=_trace(_no_reason)),
        Mutant("ind6-media-connect", "trace", BTM, "IND-6", "MEDIA_CONNECT indicated across a successful roam",
               evidence=_trace(_media_connect_in_roam), baseline=_without_media_in_roam),
        Mutant("ind7-completion-failed", "trace", BTM, "IND-7", "ROAMING_COMPLETION says failure after a successful association",
               evidence=_trace(_completion_failed)),
        Mutant("ind4-roam-with-no-candidate", "trace", ABSENT_TARGET, "IND-4",
               "a roam reported while no candidate is on the air", evidence=_start_in_empty_window),
        Mutant("ind8-cut-short-roam-succeeds", "trace", CUT_SHORT, "IND-8",
               "the roam the OS disconnected mid-way reported as successful",
               evidence=_trace(_cut_short_reported_success)),
        Mutant("ind9-assoc-outside-candidates", "trace", FT_DS_REFUSED, "IND-9",
               "the roam's association attempt names a BSS outside its candidate list",
               evidence=_trace(_associate_elsewhere("02:00:00:00:03:00"))),
        Mutant("bcn-no-last-indication", "air", BCN_LAST, "BCN-LAST",
               "the last beacon report lacks the requested Last Beacon Report Indication",
               air=_drop_last_indication),
    ]


# ---- running them ---------------------------------------------------------------------------

@dataclass
class Outcome:
    mutant: Mutant
    caught: bool
    detail: str


def _judge(doc: dict, pcap: bytes) -> list:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "air.pcap"
        p.write_bytes(pcap)
        ev = CaseEvidence.from_dict(json.loads(json.dumps(doc)))
        air = Air(frames=list(open_capture(str(p))))
        return run(ev, air).verdicts


def try_mutant(m: Mutant, corpus: Path = CORPUS) -> Outcome:
    folder = corpus / m.case
    doc = json.loads((folder / "evidence.json").read_text())
    pcap = (folder / "air.pcap").read_bytes()
    if m.baseline:
        doc = m.baseline(copy.deepcopy(doc))
    before = [v for v in _judge(doc, pcap) if v.rule == m.rule]
    if any(v.status == FAIL for v in before):  # then a FAIL after the mutation would prove nothing
        return Outcome(m, False, f"{m.rule} already fails on the unmutated case")
    mdoc, mpcap = copy.deepcopy(doc), pcap
    if m.air:
        head, recs = read_records(pcap)
        mpcap = write_records(head, m.air(recs, mdoc))
    if m.evidence:
        mdoc = m.evidence(mdoc)
    try:
        after = _judge(mdoc, mpcap)
    except Exception as e:  # the oracle must judge broken evidence, not crash on it
        return Outcome(m, False, f"the oracle crashed: {type(e).__name__}: {e}")
    hit = [v for v in after if v.rule == m.rule and v.status == FAIL]
    return Outcome(m, bool(hit), hit[0].describe()[:300] if hit else
                   f"{m.rule}: {[v.status for v in after if v.rule == m.rule]}")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="roamcert bench mutants", description="the fault catalogue: caught/total")
    p.add_argument("-k", default="", help="only mutants whose id contains this")
    args = p.parse_args(argv)
    t0 = time.monotonic()
    outs = [try_mutant(m) for m in catalogue() if args.k in m.id]
    for o in outs:
        m = o.mutant
        print(f"{'CAUGHT' if o.caught else 'MISSED'}  {m.id:28} {m.kind:5} {m.case:22} {m.rule:18} {m.what}")
        if not o.caught:
            print(f"        {o.detail}")
    caught = sum(o.caught for o in outs)
    print(f"mutants: {caught}/{len(outs)} caught in {time.monotonic() - t0:.1f} s "
          f"(plus 5 live configuration mutants in tests/test_teeth.py)")
    return 0 if caught == len(outs) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
