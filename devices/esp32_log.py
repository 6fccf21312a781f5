"""ESP-IDF serial log -> normalized Events -> Native 802.11 indications.

Line grammar: `L (ms) tag: message` with L in E/W/I/D/V, or `L (HH:MM:SS.sss) tag: ...`.
Wi-Fi driver lines use the tag `wifi` with no space after the colon
(`wifi:state: run -> init (0)`); old IDF printed `wifi: `. Supplicant lines (tag
`wpa`) carry wpa_supplicant's own texts (see wpas_log.SUPPLICANT). Lines without a
header matter too: the ROM's `rst:0x..` banner, panic dumps, the brownout message.

Other tasks print without locking, so one serial line may hold garbage before a
header or two log lines glued together; each header starts a new segment.
The mapping onto indications is documented in devices/INDICATIONS.md.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from devices.lines import clean
from devices.wpas_log import MAC, SUPPLICANT, Pending, SupplicantState, mac, match_table
from engine.verdict import FIRMWARE
from engine.events import FAILURE, SUCCESS, Event, Ind, Indication

_M = f"({MAC})"
_IP = r"(\d{1,3}(?:\.\d{1,3}){3})"

HEADER = re.compile(r"([EWIDV]) \((\d{1,10}|\d{1,2}:\d{2}:\d{2}\.\d{3})\) ([^:\s][^:]{0,40}?):")

WIFI = [
    (re.compile(r"^state: (\w+) -> (\w+) \(([0-9a-fA-F]+)\)"), "state",
     lambda m: {"old": m[1], "new": m[2], "code": m[3], "code_int": int(m[3], 16)}),
    (re.compile(r"^connected with (.*?), (?:aid = (\d+), )?channel (\d+)(?:, ([^,]*))?, bssid = " + _M),
     "_connected", lambda m: {"ssid": m[1], "aid": int(m[2]) if m[2] else None, "channel": int(m[3]),
                              "bandwidth": m[4], "bssid": mac(m[5]), "security": None}),
    (re.compile(r"^security(?: type)?: ([^,]+)(?:, phy: ([^,]+))?(?:, rssi: (-?\d+))?"), "_security",
     lambda m: {"security": m[1].strip(), "phy": m[2], "rssi": int(m[3]) if m[3] else None}),
]

# esp_wifi_types.h: the firmware left its AP to roam (ESP-IDF's own reason code, above 200)
WIFI_REASON_ROAMING = 207

APP = [
    # examples/wifi/roaming (roaming_example / roaming_11kvr)
    # Its STA_DISCONNECTED handler prints this line, then calls esp_wifi_connect() for every
    # reason but WIFI_REASON_ROAMING ("station roaming, do nothing"): `app_reconnects`.
    (re.compile(r"station got disconnected reason=(\d+)"), "disconnected",
     lambda m: {"bssid": None, "reason": int(m[1]), "locally_generated": None,
                "app_reconnects": int(m[1]) != WIFI_REASON_ROAMING}),
    (re.compile(r"RMM neighbor report bssid=" + _M + r" info=0x([0-9a-fA-F]+) op_class=(\d+) chan=(\d+)"
                r" phy_type=(\d+)"), "_nr_entry",
     lambda m: {"bssid": mac(m[1]), "info": int(m[2], 16), "op_class": int(m[3]), "chan": int(m[4]),
                "phy_type": int(m[5])}),
    # examples/wifi/roaming/roaming_app
    (re.compile(r"station disconnected with reason (\d+)"), "disconnected",
     lambda m: {"bssid": None, "reason": int(m[1]), "locally_generated": None}),
    (re.compile(r"station disconnected during roaming"), "disconnected",  # printed only for reason 207
     lambda m: {"bssid": None, "reason": 207, "locally_generated": None}),
    # IDF 3.x event loop debug lines, and their WIFI_EVENT spelling
    # (IDF 3.x prints "SYSTEM_EVENT_STA_DISCONNECTED, ssid:%s, ssid_len:%d, bssid:" MACSTR
    # ", reason:%d": an SSID of at most 32 octets between. The bounds keep a line that repeats
    # the event name thousands of times linear to search, and cheap.)
    (re.compile(r"(?:SYSTEM|WIFI)_EVENT_STA_DISCONNECTED\b(?:[^\n]{0,72}?bssid:" + _M + r")?[^\n]{0,40}?reason[:=]\s{0,8}(\d+)"),
     "disconnected", lambda m: {"bssid": mac(m[1]), "reason": int(m[2]), "locally_generated": None}),
    (re.compile(r"^sta ip: " + _IP + r", mask: " + _IP + r", gw: " + _IP), "got_ip",
     lambda m: {"ip": m[1], "mask": m[2], "gw": m[3]}),
    (re.compile(r"SYSTEM_EVENT_STA_GOT_IP, ip:\s*" + _IP + r", mask:\s*" + _IP + r", gw:\s*" + _IP), "got_ip",
     lambda m: {"ip": m[1], "mask": m[2], "gw": m[3]}),
    (re.compile(r"^got ip:\s*" + _IP), "got_ip", lambda m: {"ip": m[1], "mask": None, "gw": None}),
    # ESP-IDF's supplicant port words these two differently from hostap
    (re.compile(r"^scan issued at time=(\d+)"), "scan_started", lambda m: {"time": int(m[1])}),
    (re.compile(r"^scan done received"), "scan_results", lambda m: {}),
]

RST = re.compile(r"rst:(0x[0-9a-fA-F]+) \(([A-Za-z0-9_]+)\)(?:,\s*boot:(0x[0-9a-fA-F]+) \(([^)]*)\))?")
BOOTLOADER = re.compile(r"2nd stage bootloader|^ESP-IDF .*bootloader")
PANIC_START = re.compile(r"Guru Meditation Error: Core\s+(\d+) panic'ed \(([^)]*)\)"
                         r"|abort\(\) was called at PC (0x[0-9a-fA-F]+) on core (\d+)"
                         r"|assert failed: |Stack smashing protect failure|\*\*\*ERROR\*\*\* A stack overflow")
PANIC_END = re.compile(r"Rebooting\.\.\.|CPU halted")
BROWNOUT = re.compile(r"Brownout detector was triggered")


def parse_time(stamp: str) -> float:
    if ":" in stamp:
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)
    return int(stamp) / 1000.0


def segments(line: str):
    """Yield (header match or None, text) pieces of one serial line."""
    heads = list(HEADER.finditer(line))
    if not heads:
        yield None, line
        return
    if heads[0].start() > 0 and line[:heads[0].start()].strip():
        yield None, line[:heads[0].start()]
    for i, h in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(line)
        yield h, line[h.end():end]


class Esp32LogParser:
    """Feed lines in order; get Events. Some events wait for the next line
    (a BTM request for its candidate lines, `connected` for its `security:` line);
    call flush() when the stream goes quiet. Never raises on bad input."""

    def __init__(self, source_name: str = "serial"):
        self.name = source_name
        self.n = 0
        self.sup = SupplicantState()
        self.t = 0.0
        self.panic: dict | None = None
        self.lines_since_rst = 10 ** 6
        self.last_ip: tuple | None = None

    def feed_line(self, line: str, source: str | None = None) -> list[Event]:
        self.n += 1
        src = source or f"{self.name}:{self.n}"
        try:
            return self._feed(clean(line.encode("utf-8", "replace")) if "\x1b" in line else line, src)
        except Exception:  # a parser bug must not end a run; the raw log keeps the line
            return []

    def _feed(self, line: str, src: str) -> list[Event]:
        out: list[Event] = []
        self.lines_since_rst += 1
        for head, text in segments(line):
            if head is None:
                out += self._bare(text.strip(), src)
                continue
            if self.panic:
                out += self._end_panic()
            self.t = parse_time(head[2])
            tag, msg = head[3].strip(), text.strip()
            raw = (head[0] + text).strip()  # this segment only: a glued line may hold thousands
            if tag.startswith("boot") and BOOTLOADER.search(msg) and self.lines_since_rst > 40:
                out += self.sup.flush()
                self.last_ip = None
                out.append(Event(self.t, "reboot", {"banner": raw, "rst": None, "reason": None}, src, raw))
                continue
            hit = None
            if tag == "wifi":
                hit = match_table(WIFI, msg)
            hit = hit or match_table(SUPPLICANT, msg) or match_table(APP, msg)
            if hit:
                out += self._event(hit[0], hit[1], src, raw)
        return out

    def _event(self, kind, fields, src, raw) -> list[Event]:
        p = self.sup.pending
        if kind == "_security":
            if p and p.ev["kind"] == "connected":
                p.ev["fields"].update({k: v for k, v in fields.items() if v is not None})
                return self.sup.flush()
            return []
        if kind == "_connected":
            out = self.sup.flush()
            self.sup.pending = _pending(self.t, "connected", fields, src, raw)
            return out
        if kind == "got_ip":
            key = (fields["ip"], self.t)
            if self.last_ip and self.last_ip[0] == key[0] and abs(self.last_ip[1] - key[1]) < 0.5:
                return []  # the app and esp_netif both log the same GOT_IP event
            self.last_ip = key
        return self.sup.take(self.t, kind, fields, src, raw)

    def _bare(self, text: str, src: str) -> list[Event]:
        out: list[Event] = []
        if not text:
            return out
        m = RST.search(text)
        if m:
            out += self._end_panic() + self.sup.flush()
            self.lines_since_rst = 0
            self.last_ip = None  # the clock restarts: an address at the same ms is a new event
            out.append(Event(self.t, "reboot", {"banner": text, "rst": m[1], "reason": m[2],
                                                "boot": m[3]}, src, text))
            return out
        if BROWNOUT.search(text):
            out += self._end_panic() + self.sup.flush()
            out.append(Event(self.t, "brownout", {}, src, text))
            return out
        if self.panic:
            self.panic["fields"]["lines"].append(text)
            if PANIC_END.search(text) or len(self.panic["fields"]["lines"]) >= 80:
                out += self._end_panic()
            return out
        m = PANIC_START.search(text)
        if m:
            out += self.sup.flush()
            cause = m[2] or ("abort() at " + m[3] if m[3] else text[m.start():].split(".")[0])
            self.panic = {"t": self.t, "source": src, "raw": text,
                          "fields": {"lines": [text], "cause": cause}}
        return out

    def _end_panic(self) -> list[Event]:
        if not self.panic:
            return []
        p, self.panic = self.panic, None
        f = p["fields"]
        bt = [ln for ln in f["lines"] if ln.lstrip().startswith("Backtrace")]
        f["backtrace"] = bt[0].split(":", 1)[1].strip() if bt else None
        f["lines"] = tuple(f["lines"])
        return [Event(p["t"], "panic", f, p["source"], p["raw"])]

    def flush(self) -> list[Event]:
        return self._end_panic() + self.sup.flush()


def _pending(t, kind, fields, src, raw):
    return Pending({"t": t, "kind": kind, "fields": fields, "source": src, "raw": raw})


def parse_lines(lines: Iterable[str], name: str = "serial") -> list[Event]:
    p = Esp32LogParser(name)
    out: list[Event] = []
    for i, line in enumerate(lines, 1):
        out += p.feed_line(line, f"{name}:{i}")
    return out + p.flush()


def parse_file(path) -> list[Event]:
    path = Path(path)
    text = path.read_bytes().decode("utf-8", "replace")
    return parse_lines(text.splitlines(), path.name)


# ---------------------------------------------------------------------------
# Indications (see devices/INDICATIONS.md, section "ESP32")

IDLE, CONNECTING, OP, ROAMING = "idle", "connecting", "op", "roaming"


def _disconnect_near(evs: list[Event], i: int, used: set) -> Event | None:
    """The `disconnected` event that belongs to the run->X state change at i:
    between the previous state change and the next one (the app logs it after
    the driver's state line)."""
    for step in (1, -1):
        j = i + step
        while 0 <= j < len(evs) and evs[j].kind != "state" and evs[j].kind != "reboot":
            if evs[j].kind == "disconnected" and j not in used:
                used.add(j)
                return evs[j]
            j += step
    return None


def _app_reconnects_after(evs: list[Event], i: int) -> bool:
    """The run -> init at i is followed, before the next state change, by roaming_11kvr's
    disconnect line for a reason after which that app calls esp_wifi_connect() itself
    (roaming_11kvr/main/roaming_example.c: every reason but WIFI_REASON_ROAMING). Only
    forward: the app logs after the driver's state line, and a disconnect line printed
    before it was handled on its own."""
    j = i + 1
    while j < len(evs) and evs[j].kind not in ("state", "reboot"):
        if evs[j].kind == "disconnected":
            return bool(evs[j].get("app_reconnects"))
        j += 1
    return False


def to_indications(events: Iterable[Event]) -> list[Indication]:
    evs = list(events)
    out: list[Indication] = []
    state, current, target = IDLE, None, None
    assoc_open, media_up = False, False
    btm: Event | None = None  # btm_transition since the last connection
    used: set[int] = set()  # disconnected events already folded into a state change

    def ind(e, kind, bssid=None, status=None, reason=None):
        out.append(Indication(e.t, kind, bssid, status, reason, e.source, layer=FIRMWARE, evidence=e.raw))

    def media(e, kind, bssid=None, reason=None):
        # WIFI_EVENT_STA_CONNECTED / DISCONNECTED as the firmware prints them: the driver's
        # `connected with` line, the app's disconnect line (its STA_DISCONNECTED handler)
        out.append(Indication(e.t, kind, bssid, None, reason, e.source, layer=FIRMWARE, evidence=e.raw))

    def assoc_bssid(i):
        # the BSSID this attempt reaches: the next `connected` before the attempt ends
        for e in evs[i + 1:]:
            if e.kind == "connected":
                return e.get("bssid")
            if e.kind == "state" and e.get("new") == "init" or e.kind == "reboot":
                break
        return target

    for i, e in enumerate(evs):
        k = e.kind
        if k in ("btm_request", "btm_response") and current is None:
            current = e.get("from") or e.get("to")  # the AP we talk to is the one we are on
        if k == "btm_transition":
            btm, target = e, e.get("bssid")
        elif k == "reboot":
            if assoc_open:
                ind(e, Ind.ASSOCIATION_COMPLETION, target, FAILURE, "DUT rebooted")
            if state == ROAMING:
                ind(e, Ind.ROAMING_COMPLETION, target, FAILURE, "DUT rebooted")
            elif state == CONNECTING:
                ind(e, Ind.CONNECTION_COMPLETION, target, FAILURE, "DUT rebooted")
            if media_up:
                media(e, Ind.MEDIA_DISCONNECT, current, reason="DUT rebooted")
            state, current, target, assoc_open, media_up, btm = IDLE, None, None, False, False, None
        elif k == "state":
            old, new = e.get("old"), e.get("new")
            if old == "run" and new != "run":
                if state == IDLE and not out:
                    state, media_up = OP, True  # the log began with the station connected
                if state == OP and btm is None and new == "init" and _app_reconnects_after(evs, i):
                    # The firmware left `run` without a BTM transition and posted
                    # STA_DISCONNECTED, and the app answers with esp_wifi_connect(): the host
                    # starts a new connection (the test's own stimulus in BTM-08/17, where
                    # hostapd disassociates at the BTM timer). No roam opens here; the app's
                    # line makes the MEDIA_DISCONNECT and ends the connection.
                    continue
                if state == OP:
                    d = _disconnect_near(evs, i, used)
                    if btm is not None:
                        reason = f"BTM request: transition to {btm.get('bssid')}"
                    elif d is not None:
                        reason = f"disconnected reason={d.get('reason')}"
                    else:
                        reason = None  # nothing in the log says why
                    state = ROAMING
                    ind(e, Ind.ROAMING_START, reason=reason)
                    # No MEDIA_DISCONNECT for the state change itself: the driver leaving `run`
                    # is not WIFI_EVENT_STA_DISCONNECTED. Only the app's disconnect line is.
                    if new in ("auth", "assoc"):
                        target = assoc_bssid(i)
                        assoc_open = True
                        ind(e, Ind.ASSOCIATION_START, target)
            elif old == "init" and new in ("auth", "assoc"):
                if state in (IDLE, OP):
                    # OP here means the link dropped without a run -> X line; start afresh
                    state = CONNECTING
                    ind(e, Ind.CONNECTION_START)
                if assoc_open:
                    ind(e, Ind.ASSOCIATION_COMPLETION, target, FAILURE, "superseded by a new attempt")
                target = assoc_bssid(i)
                assoc_open = True
                ind(e, Ind.ASSOCIATION_START, target)
            elif old in ("auth", "assoc") and new == "init" and assoc_open:
                assoc_open = False
                d = _disconnect_near(evs, i, used)
                why = f"reason={d.get('reason')}" if d is not None else f"state {old} -> init ({e.get('code')})"
                ind(e, Ind.ASSOCIATION_COMPLETION, target, FAILURE, why)
                if d is not None:  # the driver gave up on this attempt and told the app
                    if state == ROAMING:
                        ind(e, Ind.ROAMING_COMPLETION, target, FAILURE, why)
                    elif state == CONNECTING:
                        ind(e, Ind.CONNECTION_COMPLETION, target, FAILURE, why)
                    state, btm = IDLE, None
            elif new == "run" and assoc_open:
                assoc_open = False
                target = assoc_bssid(i)
                ind(e, Ind.ASSOCIATION_COMPLETION, target, SUCCESS)
        elif k == "connected":
            b = e.get("bssid")
            if state == CONNECTING:
                ind(e, Ind.CONNECTION_COMPLETION, b, SUCCESS)
            elif state == ROAMING:
                ind(e, Ind.ROAMING_COMPLETION, b, SUCCESS)
            # every `connected with` line is a WIFI_EVENT_STA_CONNECTED, after a roam too
            media(e, Ind.MEDIA_CONNECT, b)
            media_up = True
            state, current, target, btm = OP, b, b, None
        elif k == "disconnected":
            reason = f"reason={e.get('reason')}"
            if i not in used:  # one folded into a state change already failed or started its operation
                if assoc_open:
                    assoc_open = False
                    ind(e, Ind.ASSOCIATION_COMPLETION, target, FAILURE, reason)
                if state == ROAMING:
                    ind(e, Ind.ROAMING_COMPLETION, target, FAILURE, reason)
                elif state == CONNECTING:
                    ind(e, Ind.CONNECTION_COMPLETION, target, FAILURE, reason)
                state, btm = IDLE, None
            if media_up:
                media_up = False
                media(e, Ind.MEDIA_DISCONNECT, current, reason=reason)
        elif k == "got_ip":
            # the IP layer (esp_netif's DHCP), not media: no indication. An address proves the
            # link was up, though, so a later disconnect line is a MEDIA_DISCONNECT.
            media_up = True
    return out
