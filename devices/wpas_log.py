"""wpa_supplicant output -> normalized Events -> Native 802.11 indications.

Two kinds of input, often mixed:
- control-interface events: `<3>CTRL-EVENT-CONNECTED - Connection to <b> completed [id=0 id_str=]`,
  optionally behind `IFNAME=wlan2 ` (global control interface);
- the debug log of `wpa_supplicant -dd -t`: `<sec>.<usec>: [wlan2: ]<message>`.

Message texts follow hostap 2.10 (src/common/wpa_ctrl.h, wpa_supplicant/sme.c,
events.c, wnm_sta.c, rrm.c, src/rsn_supp/wpa.c, wpa_ft.c). ESP-IDF's supplicant is
a port of the same code, so esp32_log reuses the supplicant table below.
The mapping onto indications is documented in devices/INDICATIONS.md.
"""
from __future__ import annotations

import re
from typing import Iterable

from engine.events import FAILURE, SUCCESS, Event, Ind, Indication
from engine.verdict import KERNEL
from engine.verdict import SUPPLICANT as SUPPLICANT_LAYER

MAC = r"[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}"
_M = f"({MAC})"


def mac(s: str | None) -> str | None:
    return s.lower() if s else s


# wpa_supplicant prints SSIDs through printf_encode() (hostap src/utils/common.c): octets
# 0x20-0x7e as themselves except '"' and '\\', which get a backslash; \e \n \r \t for ESC, LF,
# CR and TAB; every other octet as \xNN. Its printf_decode() also reads \NNN octal.
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)", re.S)
_NAMED = {"\\": b"\\", '"': b'"', "n": b"\n", "r": b"\r", "t": b"\t", "e": b"\x1b"}


def printf_decode(text: str) -> bytes:
    """The octets behind wpa_supplicant's escaped text of an SSID."""
    out = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(text):
        out += text[pos:m.start()].encode("utf-8", "surrogateescape" if _escapable(text) else "replace")
        esc = m[1]
        if esc[0] == "x":
            out.append(int(esc[1:], 16))
        elif esc[0] in "01234567":
            out.append(int(esc, 8) & 0xFF)
        else:
            out += _NAMED.get(esc, b"")  # printf_decode drops an unknown escape
        pos = m.end()
    out += text[pos:].encode("utf-8", "surrogateescape" if _escapable(text) else "replace")
    return bytes(out)


def _escapable(text: str) -> bool:
    try:
        text.encode("utf-8", "surrogateescape")
        return True
    except UnicodeEncodeError:
        return False


def _with_octets(fields: dict) -> dict:
    if fields.get("ssid") is not None:
        fields["ssid_hex"] = printf_decode(fields["ssid"]).hex()  # hex: events stay JSON (evidence.json)
    return fields


# Supplicant messages shared by wpa_supplicant and ESP-IDF's port:
# (regex, kind, converter(match) -> fields). A kind of None marks a line that
# only adds to the pending event (see Pending below).
def _btm_req(m):
    return {"dialog_token": int(m[1]), "request_mode": int(m[2], 16),
            "disassoc_timer": int(m[3]), "validity_interval": int(m[4]), "candidates": []}


def _cand(m):
    c = {"bssid": mac(m[2]), "info": int(m[3], 16), "op_class": int(m[4]), "chan": int(m[5]),
         "phy": int(m[6]), "pref": int(m[7])}
    if c["pref"] < 0:
        c["pref"] = None  # printed as -1 when the preference subelement is absent
    if m[8]:
        c["freq"] = int(m[8])
    return c


def _nr_entry(m):
    # wpa_supplicant appends the LCI and civic Measurement Reports it got for the entry as
    # " lci=<hex>" and " civic=<hex>" (rrm.c); None when absent.
    lci, civic = re.search(r" lci=([0-9a-fA-F]+)", m.string), re.search(r" civic=([0-9a-fA-F]+)", m.string)
    return {"bssid": mac(m[1]), "info": int(m[2], 16), "op_class": int(m[3]), "chan": int(m[4]),
            "phy_type": int(m[5]), "lci": lci[1].lower() if lci else None,
            "civic": civic[1].lower() if civic else None}


SUPPLICANT = [
    (re.compile(r"WNM: RX action (\d+) from " + _M), "_wnm_rx", lambda m: {"action": int(m[1]), "from": mac(m[2])}),
    (re.compile(r"WNM: BSS Transition Management Request: dialog_token=(\d+) request_mode=0x([0-9a-fA-F]+)"
                r" disassoc_timer=(\d+) validity_interval=(\d+)"), "btm_request", _btm_req),
    (re.compile(r"^(\d+): " + _M + r" info=0x([0-9a-fA-F]+) op_class=(\d+) chan=(\d+) phy=(\d+) pref=(-?\d+)"
                r"(?: freq=(\d+))?"), "_candidate", _cand),
    (re.compile(r"WNM: Candidate list valid for (\d+) ms"), "_valid", lambda m: {"valid_ms": int(m[1])}),
    (re.compile(r"WNM: Transition to BSS " + _M + r" based on BSS Transition Management Request"
                r"(?: \(old BSSID " + _M + r")? after_new_scan=(\d+)\)?"), "btm_transition",
     lambda m: {"bssid": mac(m[1]), "old_bssid": mac(m[2]), "after_new_scan": int(m[3])}),
    (re.compile(r"WNM: Send BSS Transition Management Response to " + _M +
                r" dialog_token=(\d+) status=(\d+) reason=(\d+) delay=(-?\d+)"), "btm_response",
     lambda m: {"to": mac(m[1]), "dialog_token": int(m[2]), "status": int(m[3]), "reason": int(m[4]),
                "delay": int(m[5]), "target": None}),
    (re.compile(r"WNM: Send BSS Transition Management Query to " + _M + r" query_reason=(\d+)( candidate list)?"),
     "btm_query", lambda m: {"to": mac(m[1]), "reason": int(m[2]), "candidate_list": bool(m[3])}),
    # the SSID is wpa_ssid_txt()'s: at most 32 octets, 4 characters each escaped. Anchored
    # (the message starts there once a log prefix or interface name is off) and bounded, so a
    # line repeating this text thousands of times costs one try, not one per repeat
    (re.compile(r"^RRM: Neighbor report request \(for (.{0,128})\), token=(\d+)"), "neighbor_report_request",
     lambda m: _with_octets({"ssid": m[1] or None, "token": int(m[2])})),
    (re.compile(r"RRM: Notifying neighbor report - NONE"), "neighbor_report_failed", lambda m: {}),
    # the supplicant took a Neighbor Report Response with this dialog token (rrm.c)
    (re.compile(r"RRM: Notifying neighbor report \(token = (\d+)\)"), "neighbor_report_notified",
     lambda m: {"token": int(m[1])}),
    # NEIGHBOR_REP_REQUEST refused before anything went on the air
    (re.compile(r"RRM: (No network support for Neighbor Report)"), "neighbor_report_refused",
     lambda m: {"reason": m[1]}),
    (re.compile(r"^Measurement request type (\d+) token (\d+)"), "measurement_request",
     lambda m: {"type": int(m[1]), "token": int(m[2]), "mode": None, "op_class": None, "chan": None}),
    (re.compile(r"^BSS: Add new id (\d+) BSSID " + _M + r" SSID '(.*)'(?: chan (\d+))?(?: freq (\d+))?"),
     "bss_added", lambda m: _with_octets({"id": int(m[1]), "bssid": mac(m[2]), "ssid": m[3],
                                          "chan": int(m[4]) if m[4] else None,
                                          "freq": int(m[5]) if m[5] else None})),
    (re.compile(r"^FT: Completed successfully"), "ft_completed", lambda m: {"bssid": None}),
    (re.compile(r"^FT: Request over-the-DS with " + _M), "connect_attempt",
     lambda m: {"bssid": mac(m[1]), "ssid": None, "freq": None, "ft_over_ds": True}),
    (re.compile(r"^FT: Received FT Action Response: STA " + _M + r" TargetAP " + _M + r" status (\d+)"),
     "_ft_action_resp", lambda m: {"bssid": mac(m[2]), "status": int(m[3])}),
]

# wpa_supplicant-only messages and control events (after any <N> / ifname prefix).
WPAS = [
    (re.compile(r"^CTRL-EVENT-CONNECTED - Connection to " + _M + r" completed(?: \[id=(-?\d+) id_str=([^\]]*)\])?"),
     "connected", lambda m: {"bssid": mac(m[1]), "id": int(m[2]) if m[2] else None, "ssid": None,
                             "channel": None, "security": None}),
    (re.compile(r"^CTRL-EVENT-DISCONNECTED bssid=" + _M + r" reason=(\d+)( locally_generated=1)?"),
     "disconnected", lambda m: {"bssid": mac(m[1]), "reason": int(m[2]), "locally_generated": bool(m[3])}),
    (re.compile(r"^CTRL-EVENT-ASSOC-REJECT (?:bssid=" + _M + r" )?status_code=(\d+)( timeout)?"),
     "assoc_reject", lambda m: {"bssid": mac(m[1]), "status": int(m[2]), "timeout": bool(m[3])}),
    (re.compile(r"^CTRL-EVENT-AUTH-REJECT " + _M + r" auth_type=(\d+) auth_transaction=(\d+) status_code=(\d+)"),
     "auth_reject", lambda m: {"bssid": mac(m[1]), "auth_type": int(m[2]), "status": int(m[4])}),
    (re.compile(r"^CTRL-EVENT-SCAN-STARTED\b"), "scan_started", lambda m: {}),
    (re.compile(r"^CTRL-EVENT-SCAN-RESULTS\b"), "scan_results", lambda m: {}),
    (re.compile(r"^CTRL-EVENT-BSS-ADDED (\d+) " + _M), "bss_added",
     lambda m: {"id": int(m[1]), "bssid": mac(m[2]), "ssid": None, "chan": None}),
    (re.compile(r"^RRM-NEIGHBOR-REP-RECEIVED bssid=" + _M + r" info=0x([0-9a-fA-F]+) op_class=(\d+) chan=(\d+)"
                r" phy_type=(\d+)"), "_nr_entry", _nr_entry),
    (re.compile(r"^RRM-NEIGHBOR-REP-REQUEST-FAILED\b"), "neighbor_report_failed", lambda m: {}),
    (re.compile(r"^ESS-DISASSOC-IMMINENT (\d+) (\d+) ?(.*)"), "ess_disassoc_imminent",
     lambda m: {"pmf": int(m[1]), "timeout_ms": int(m[2]), "url": m[3] or None}),
    (re.compile(r"^SME: Trying to authenticate with " + _M + r" \(SSID='(.*)' freq=(\d+) MHz\)"),
     "connect_attempt", lambda m: _with_octets({"bssid": mac(m[1]), "ssid": m[2], "freq": int(m[3])})),
    (re.compile(r"^Trying to associate with " + _M + r"(?: \(SSID='(.*)' freq=(\d+) MHz\))?"),
     "associating", lambda m: _with_octets({"bssid": mac(m[1]), "ssid": m[2],
                                            "freq": int(m[3]) if m[3] else None})),
    (re.compile(r"^Associated with " + _M), "associated", lambda m: {"bssid": mac(m[1])}),
    (re.compile(r"^WPA: Key negotiation completed with " + _M), "key_negotiation_completed",
     lambda m: {"bssid": mac(m[1])}),
    (re.compile(r"^State: ([A-Z0-9_]+) -> ([A-Z0-9_]+)"), "state",
     lambda m: {"old": m[1], "new": m[2], "code": None}),
    (re.compile(r"^nl80211: RFKILL blocked|^Interface was disabled|^nl80211: Interface down"), "radio_off",
     lambda m: {"cause": m[0]}),
    (re.compile(r"^nl80211: RFKILL unblocked|^Interface was enabled|^nl80211: Interface up"), "radio_on",
     lambda m: {"cause": m[0]}),
    # The supplicant sets the interface's RFC 2863 operstate: DORMANT below COMPLETED, UP at
    # COMPLETED (wpa_supplicant_set_state -> wpa_drv_set_operstate). That is the 802.1X port
    # (authorized or not), not media connect. Only real changes count.
    (re.compile(r"^nl80211: Set (\S+) operstate 1->0 \((\w+)\)"), "port_unauthorized",
     lambda m: {"ifname": m[1], "operstate": m[2], "layer": SUPPLICANT_LAYER}),
    (re.compile(r"^nl80211: Set (\S+) operstate 0->1 \((\w+)\)"), "port_authorized",
     lambda m: {"ifname": m[1], "operstate": m[2], "layer": SUPPLICANT_LAYER}),
    # The kernel's own messages as the supplicant relays them in its debug log (driver_nl80211):
    # every RTM_NEWLINK it reads (any interface in its namespace; carrier is IFF_LOWER_UP), and
    # each nl80211 event it takes for its interface. Carrier changes are picked out in
    # WpasLogParser; CONNECT/ROAM/DISCONNECT here. The log line names neither the BSSID nor
    # the status or reason code.
    (re.compile(r"^RTM_NEWLINK: ifi_index=\d+ ifname=(\S+) (?:.* )?ifi_family=0 ifi_flags=0x([0-9a-fA-F]+)"),
     "_newlink", lambda m: {"ifname": m[1], "flags": int(m[2], 16)}),
    (re.compile(r"^nl80211: Drv Event 46 \(NL80211_CMD_CONNECT\) received for (\S+)"), "nl80211_connect",
     lambda m: {"ifname": m[1], "bssid": None, "status": None, "layer": KERNEL}),
    (re.compile(r"^nl80211: Drv Event 47 \(NL80211_CMD_ROAM\) received for (\S+)"), "nl80211_roam",
     lambda m: {"ifname": m[1], "bssid": None, "layer": KERNEL}),
    (re.compile(r"^nl80211: Drv Event 48 \(NL80211_CMD_DISCONNECT\) received for (\S+)"),
     "nl80211_disconnect", lambda m: {"ifname": m[1], "reason": None, "by_ap": None, "layer": KERNEL}),
    # wpa_ft_process_response() rejecting an FT response (hostap 2.10 wpa_ft.c); over the DS
    # nothing else is logged and the supplicant stays with its current AP.
    (re.compile(r"^FT: (Invalid MDIE|Invalid FTIE|SNonce mismatch in FTIE|No R0KH-ID subelem in FTIE"
                r"|R0KH-ID in FTIE did not match with the current R0KH-ID|No R1KH-ID subelem in FTIE"
                r"|Reject FT IEs since FT is not initialized)"), "ft_failed",
     lambda m: {"bssid": None, "reason": m[1]}),
]

_STAMP = re.compile(r"^\s*(\d{1,12}\.\d{6}): ")  # "%ld.%06u: " (wpa_debug_print_timestamp)
# journalctl's prefix: "Dec 07 03:54:43 host wpa_supplicant[123]: " (short, short-precise) or
# "2026-12-07T03:54:43+0000 host ..." (short-iso, short-iso-precise)
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                       "Nov", "Dec"), 1)}
_JOURNAL = re.compile(r"^(?:(?P<mon>[A-Z][a-z]{2}) {1,2}(?P<day>\d{1,2}) (?P<hms>\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)"
                      r"|(?P<iso>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[+-]\d{2}:?\d{2}|Z)?))"
                      r" \S{1,64} [A-Za-z0-9_.@/-]{1,64}(?:\[\d{1,10}\])?: ")


def journal_time(m) -> float | None:
    """Seconds of a journald stamp: a Unix time for the ISO forms; for the year-less short
    form, seconds since 1 January (its year is not in the line)."""
    from datetime import datetime, timezone
    try:
        if m["iso"]:
            iso = m["iso"].replace("Z", "+00:00")
            if re.search(r"[+-]\d{4}$", iso):
                iso = iso[:-2] + ":" + iso[-2:]
            d = datetime.fromisoformat(iso)
            if d.tzinfo is None:
                d = d.replace(tzinfo=timezone.utc)
            return d.timestamp()
        h, mi, sec = m["hms"].split(":")
        start = datetime(2000, 1, 1, tzinfo=timezone.utc)  # a leap year: 29 Feb stays valid
        day = datetime(2000, _MONTHS[m["mon"]], int(m["day"]), tzinfo=timezone.utc)
        return (day - start).total_seconds() + int(h) * 3600 + int(mi) * 60 + float(sec)
    except (ValueError, KeyError):
        return None
_PRIO = re.compile(r"^(?:IFNAME=\S+ )?<\d>")
_IFNAME = re.compile(r"^([A-Za-z0-9_.@-]{1,20}): ")


_GATES: dict[int, tuple] = {}


def _gate(table):
    """(table, gate, anchored steps, floating steps). The gate is one regex that matches
    wherever an anchored pattern of the table could: most lines match none, and one call
    in C rejects them where a call per pattern would not. Floating patterns (searched at
    every position) are tried one by one: each starts with a literal that the regex engine
    scans for quickly, which an alternation of them would lose."""
    g = _GATES.get(id(table))
    if g is None or g[0] is not table:
        anchored = [(rx.match, kind, conv, i) for i, (rx, kind, conv) in enumerate(table)
                    if rx.pattern.startswith("^")]
        floating = [(rx.search, kind, conv, i) for i, (rx, kind, conv) in enumerate(table)
                    if not rx.pattern.startswith("^")]
        pats = [rx.pattern[1:] for rx, _k, _c in table if rx.pattern.startswith("^")]
        gate = re.compile("|".join(f"(?:{p})" for p in pats)) if pats else None
        g = _GATES[id(table)] = (table, gate, anchored, floating)
    return g


def match_table(table, msg: str):
    """(kind, fields) of the first pattern in the table that matches the message, or None."""
    _t, gate, anchored, floating = _gate(table)
    hits = []
    if gate is not None and gate.match(msg):
        hits = [(i, find, kind, conv) for find, kind, conv, i in anchored]
    hits += [(i, find, kind, conv) for find, kind, conv, i in floating]
    for _i, find, kind, conv in sorted(hits, key=lambda h: h[0]):  # the table's order decides
        m = find(msg)
        if m:
            return kind, conv(m)
    return None
    for find, kind, conv in steps:
        m = find(msg)
        if m:
            return kind, conv(m)
    return None


class Pending:
    """An event being assembled from several lines (a BTM request and the
    candidate lines after it, a run of neighbor report entries)."""

    def __init__(self, ev: dict):
        self.ev = ev

    def event(self) -> Event:
        e = self.ev
        return Event(e["t"], e["kind"], e["fields"], e["source"], e["raw"])


class SupplicantState:
    """Shared line-level assembly for both supplicants."""

    def __init__(self):
        self.pending: Pending | None = None
        self.last_transition: dict | None = None  # last btm_transition, for the response's target
        self.last_rx_from: str | None = None

    def take(self, t, kind, fields, source, raw) -> list[Event]:
        out: list[Event] = []
        p = self.pending
        if kind == "_candidate":
            if p and p.ev["kind"] == "btm_request":
                p.ev["fields"]["candidates"].append(fields)
            return out
        if kind == "_valid":
            if p and p.ev["kind"] == "btm_request":
                p.ev["fields"]["valid_ms"] = fields["valid_ms"]
            return out
        if kind == "_nr_entry":
            if p and p.ev["kind"] == "neighbor_report":
                p.ev["fields"]["entries"].append(fields)
                return out
            out += self.flush()
            self.pending = Pending({"t": t, "kind": "neighbor_report", "fields": {"entries": [fields]},
                                   "source": source, "raw": raw})
            return out
        if kind == "_wnm_rx":
            self.last_rx_from = fields["from"]
            return out
        out += self.flush()
        if kind == "_ft_action_resp":
            if fields["status"] != 0:
                out.append(Event(t, "auth_reject", {"bssid": fields["bssid"], "status": fields["status"],
                                                    "ft_over_ds": True}, source, raw))
            return out
        if kind == "btm_request":
            fields["from"] = self.last_rx_from
            self.last_transition = None
            self.pending = Pending({"t": t, "kind": kind, "fields": fields, "source": source, "raw": raw})
            return out
        if kind == "btm_transition":
            self.last_transition = fields
        if kind == "btm_response":
            # Both supplicants log the target only in the "Transition to BSS" line just before
            # an accepting response (wnm_bss_tm_connect sends bss->bssid as the target).
            if fields["status"] == 0 and self.last_transition:
                fields["target"] = self.last_transition["bssid"]
            self.last_transition = None
        out.append(Event(t, kind, fields, source, raw))
        return out

    def flush(self) -> list[Event]:
        if not self.pending:
            return []
        p, self.pending = self.pending, None
        f = p.ev["fields"]
        if "candidates" in f:
            f["candidates"] = tuple(f["candidates"])
        if "entries" in f:
            f["entries"] = tuple(f["entries"])
        return [p.event()]


IFF_LOWER_UP = 0x10000  # linux/if.h: the driver signals L1 up (carrier)
KERNEL_KINDS = ("carrier_on", "carrier_off", "nl80211_connect", "nl80211_roam", "nl80211_disconnect")


class WpasLogParser:
    """Feed lines one at a time; get Events back. Never raises on bad input.

    kernel=False drops the kernel's messages that the supplicant relays (RTM_NEWLINK, nl80211
    events) and its operstate lines: the live adapter takes the link's carrier, operstate and
    nl80211 events from the lab agent's own netlink monitor instead (one source, no doubles)."""

    def __init__(self, source_name: str = "wpas", kernel: bool = True):
        self.name = source_name
        self.n = 0
        self.sup = SupplicantState()
        self.last_t = 0.0
        self.kernel = kernel
        self.carrier: dict[str, bool] = {}  # ifname -> IFF_LOWER_UP in its last RTM_NEWLINK

    def feed_line(self, line: str, t: float | None = None, source: str | None = None) -> list[Event]:
        self.n += 1
        src = source or f"{self.name}:{self.n}"
        try:
            return self._feed(line, t, src)
        except Exception:  # a parser bug must not kill a run; the line is kept in the source log
            return []

    def _feed(self, line: str, t, src) -> list[Event]:
        raw = line.rstrip("\r\n")
        msg = raw.strip()
        j = _JOURNAL.match(msg)
        if j:
            msg = msg[j.end():]
            if not _STAMP.match(msg):
                jt = journal_time(j)
                t = jt if jt is not None else t
        m = _STAMP.match(msg)
        if m:
            t = float(m[1])
            msg = msg[m.end():]
        msg = _PRIO.sub("", msg, count=1)
        if t is None:
            t = self.last_t
        self.last_t = t
        hit = match_table(WPAS, msg) or match_table(SUPPLICANT, msg)
        if not hit:
            m = _IFNAME.match(msg)
            if m:
                rest = _PRIO.sub("", msg[m.end():], count=1)
                hit = match_table(WPAS, rest) or match_table(SUPPLICANT, rest)
        if not hit:
            return []
        kind, fields = hit
        if kind in KERNEL_KINDS or kind == "_newlink":
            if not self.kernel:
                return []
            fields["evidence"] = f"{msg} (relayed in wpa_supplicant's debug log)"
        elif kind in ("port_authorized", "port_unauthorized"):
            if not self.kernel:
                return []
            fields["evidence"] = msg
        if kind == "_newlink":
            up = bool(fields["flags"] & IFF_LOWER_UP)
            if self.carrier.get(fields["ifname"]) == up:
                return []  # no change (wext events and operstate changes repeat the flags)
            self.carrier[fields["ifname"]] = up
            kind = "carrier_on" if up else "carrier_off"
            fields.update(operstate=None, layer=KERNEL)
        return self.sup.take(t, kind, fields, src, raw)

    def flush(self) -> list[Event]:
        return self.sup.flush()


def parse_lines(lines: Iterable[str], name: str = "wpas", t: float | None = None) -> list[Event]:
    p = WpasLogParser(name)
    out: list[Event] = []
    for i, line in enumerate(lines, 1):
        out += p.feed_line(line, t, f"{name}:{i}")
    return out + p.flush()


def parse_text(text: str, name: str = "wpas") -> list[Event]:
    return parse_lines(text.splitlines(), name)


# ---------------------------------------------------------------------------
# Indications (see devices/INDICATIONS.md, section "wpa_supplicant")

IDLE, CONNECTING, OP, ROAMING = "idle", "connecting", "op", "roaming"


class _Tracker:
    def __init__(self):
        self.out: list[Indication] = []
        self.state = IDLE
        self.current: str | None = None  # BSSID we are connected to
        self.assoc: str | None = None  # BSSID of the open association, "" if unknown
        self.assoc_open = False
        self.pending_btm: dict | None = None  # btm_transition since the last connect
        self.ft_ds = False
        self.ds_pending = False  # FT over the DS requested, reassociation not yet begun
        self.media_up = False

    def ind(self, e: Event, kind: Ind, bssid=None, status=None, reason=None):
        # the supplicant's own events are its layer; the kernel's and the port's say theirs
        self.out.append(Indication(e.t, kind, bssid, status, reason, e.source,
                                   layer=e.get("layer") or SUPPLICANT_LAYER, evidence=e.get("evidence") or e.raw))

    def start_assoc(self, e, bssid):
        if self.assoc_open:
            self.ind(e, Ind.ASSOCIATION_COMPLETION, self.assoc, FAILURE, "superseded by a new attempt")
        self.assoc_open, self.assoc = True, bssid
        self.ind(e, Ind.ASSOCIATION_START, bssid)

    def fail_assoc(self, e, bssid, reason):
        if self.assoc_open:
            self.ind(e, Ind.ASSOCIATION_COMPLETION, self.assoc or bssid, FAILURE, reason)
            self.assoc_open = False

    def roam_reason(self, target) -> str:
        if self.pending_btm and (target is None or self.pending_btm.get("bssid") == target):
            return "BTM request (transition to %s)" % self.pending_btm.get("bssid")
        if self.ft_ds:
            return "requested FT over the DS"
        return "supplicant-initiated (authentication to another BSS while connected)"


def dut_ifname(events: list[Event]) -> str | None:
    """The supplicant's own interface: the one it sets operstate on or takes nl80211 events
    for (its RTM_NEWLINK lines cover every interface in its namespace, the APs' too)."""
    for e in events:
        if e.kind in ("port_authorized", "port_unauthorized", "nl80211_connect", "nl80211_roam",
                      "nl80211_disconnect"):
            name = e.get("ifname") or ""
            if name and not name.startswith("p2p-dev-"):
                return name
    names = {e.get("ifname") for e in events if e.kind in ("carrier_on", "carrier_off")}
    return names.pop() if len(names) == 1 else None


def to_indications(events: Iterable[Event], ifname: str | None = None) -> list[Indication]:
    """ifname: the DUT's interface, whose kernel link events count; by default found from
    the events (dut_ifname)."""
    events = list(events)
    ifname = ifname or dut_ifname(events)
    tr = _Tracker()
    for e in events:
        k, b = e.kind, e.get("bssid")
        if k in KERNEL_KINDS + ("port_authorized", "port_unauthorized") and e.get("ifname") != ifname:
            continue
        if k == "btm_transition":
            tr.pending_btm = dict(e.fields)
            if tr.state == IDLE and e.get("old_bssid") and not tr.out:
                tr.state, tr.current, tr.media_up = OP, e.get("old_bssid"), True  # log began mid-connection
        elif k == "btm_request" and tr.state == IDLE and e.get("from") and not tr.out:
            tr.state, tr.current, tr.media_up = OP, e.get("from"), True
        elif k == "state" and tr.state == IDLE and e.get("old") == "COMPLETED" and not tr.out:
            # only at the very start of a log: after our own trace a COMPLETED -> DISCONNECTED
            # line is just the disconnect we already saw
            tr.state, tr.media_up = OP, True
        elif k in ("connect_attempt", "associating"):
            if k == "associating":
                tr.ds_pending = False
            if k == "associating" and tr.assoc_open:
                continue  # the attempt already began with its authentication
            if tr.state == IDLE:
                tr.state = CONNECTING
                tr.ind(e, Ind.CONNECTION_START)
                tr.start_assoc(e, b)
            elif tr.state == OP:
                tr.ft_ds = bool(e.get("ft_over_ds"))
                tr.ds_pending = tr.ft_ds
                tr.state = ROAMING
                tr.ind(e, Ind.ROAMING_START, reason=tr.roam_reason(b))
                tr.start_assoc(e, b)
            else:
                tr.start_assoc(e, b)
        elif k == "associated":
            if tr.state == OP and b and b != tr.current:
                tr.state = ROAMING  # the driver reassociated without an SME authentication line
                tr.ind(e, Ind.ROAMING_START, reason="driver-initiated reassociation")
                tr.start_assoc(e, b)
        elif k in ("assoc_reject", "auth_reject"):
            reason = f"{k} status={e.get('status')}"
            if tr.state in (CONNECTING, ROAMING):
                tr.fail_assoc(e, b, reason)
            if tr.state == ROAMING:
                tr.ind(e, Ind.ROAMING_COMPLETION, b, FAILURE, reason)
                # over the DS the old association was never left; over the air authenticating
                # elsewhere tore it down (the kernel's carrier says so, not this line)
                tr.state = OP if e.get("ft_over_ds") else IDLE
                tr.pending_btm = None
        elif k == "disconnected":
            reason = f"reason={e.get('reason')}" + (" locally_generated" if e.get("locally_generated") else "")
            if tr.state == ROAMING and b and b == tr.current and tr.assoc and tr.assoc != b:
                continue  # the old link went down while the new association is under way
            if tr.state in (CONNECTING, ROAMING):
                tr.fail_assoc(e, b, "disconnected " + reason)
            if tr.state == ROAMING:
                tr.ind(e, Ind.ROAMING_COMPLETION, b, FAILURE, "disconnected " + reason)
            if tr.state != CONNECTING:
                tr.state = IDLE
            tr.pending_btm = None
        # Media connect is the kernel's: carrier (IFF_LOWER_UP) and nl80211 CONNECT/ROAM/DISCONNECT.
        elif k in ("carrier_off", "nl80211_disconnect"):
            if tr.media_up:
                tr.media_up = False
                why = "carrier off" if k == "carrier_off" else "nl80211 DISCONNECT" + (
                    f" reason={e.get('reason')}" if e.get("reason") is not None else "")
                tr.ind(e, Ind.MEDIA_DISCONNECT, tr.current, reason=why)
        elif k in ("carrier_on", "nl80211_roam") or (k == "nl80211_connect" and e.get("status") == 0):
            if not tr.media_up:
                tr.media_up = True
                tr.ind(e, Ind.MEDIA_CONNECT, b or tr.assoc or tr.current)
        # The 802.1X port: its own observation, beside the indications.
        elif k == "port_unauthorized":
            tr.ind(e, Ind.PORT_UNAUTHORIZED, tr.current, reason=f"operstate {e.get('operstate')}")
        elif k == "port_authorized":
            tr.ind(e, Ind.PORT_AUTHORIZED, tr.current, reason=f"operstate {e.get('operstate')}")
        elif k == "ft_failed" and tr.state == ROAMING and tr.ds_pending:
            reason = f"FT response rejected: {e.get('reason')}"
            target = tr.assoc
            tr.fail_assoc(e, target, reason)
            tr.ind(e, Ind.ROAMING_COMPLETION, target, FAILURE, reason)
            tr.state, tr.ds_pending, tr.ft_ds, tr.pending_btm = OP, False, False, None
        elif k == "radio_off" and tr.state == ROAMING:
            tr.fail_assoc(e, None, "radio off")
            tr.ind(e, Ind.ROAMING_COMPLETION, None, FAILURE, "radio off")
            tr.state = IDLE if not tr.media_up else OP
        elif k == "connected":
            if tr.state == CONNECTING:
                if not tr.assoc_open:
                    tr.start_assoc(e, b)  # only when the trace lacks the attempt lines
                tr.ind(e, Ind.ASSOCIATION_COMPLETION, b, SUCCESS)
                tr.assoc_open = False
                tr.ind(e, Ind.CONNECTION_COMPLETION, b, SUCCESS)
            elif tr.state == ROAMING:
                tr.ind(e, Ind.ASSOCIATION_COMPLETION, b, SUCCESS)
                tr.assoc_open = False
                tr.ind(e, Ind.ROAMING_COMPLETION, b, SUCCESS)
            # in OP with the same BSSID: a PTK rekey re-enters COMPLETED; nothing to indicate
            tr.state, tr.current, tr.pending_btm, tr.ft_ds = OP, b, None, False
    return tr.out
