"""hostapd control-interface event text -> engine.models.

Formats, as hostapd 2.10 prints them (src/ap/rrm.c, src/ap/wnm_ap.c):
- BEACON-RESP-RX <sta> <dialog token> <report mode %02x> <report hex>
  The hex is the Measurement Report element body after its token, mode and
  type octets: the beacon report of IEEE 802.11-2020 9.4.2.21.7. It is empty
  when the mode says late, incapable or refused and the STA sent no body.
- BSS-TM-RESP <sta> status_code=N bss_termination_delay=N[ target_bssid=<b>]
  (2.10 does not print the dialog token; later versions may add dialog_token=N.)
- BSS-TM-QUERY <sta> reason=N[ neighbor=<hex>] (newer hostapd; not in 2.10).
A line may start with a "<N>" priority, an "IFNAME=x " prefix or an "ifname: " prefix.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from engine.ies import MalformedFrame
from engine.models import BeaconReport, BTMQuery, BTMResponse
from engine.frames import elements as el


class EventFormatError(ValueError):
    """The text is not a well-formed hostapd event of the expected kind."""


class UnknownEvent(EventFormatError):
    """The text is not one of the events this module decodes."""


_PREFIX = re.compile(r"^(?:<\d+>)?(?:IFNAME=\S+ )?(?:[\w.-]+: )?")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$")
_HEX = re.compile(r"^(?:[0-9a-fA-F]{2})*$")
_KV = re.compile(r"^([a-z_]+)=(\S*)$")


@dataclass(frozen=True)
class HostapdEvent:
    name: str  # BEACON-RESP-RX, BSS-TM-RESP, BSS-TM-QUERY
    sta: str
    value: BeaconReport | BTMResponse | BTMQuery


def _split(line: str, name: str) -> list[str]:
    if not isinstance(line, str):
        raise EventFormatError(f"expected text, got {type(line).__name__}")
    text = _PREFIX.sub("", line.strip(), count=1)
    parts = text.split()
    if not parts or parts[0] != name:
        raise UnknownEvent(f"not a {name} event: {line!r}")
    if len(parts) < 2 or not _MAC.match(parts[1]):
        raise EventFormatError(f"{name}: missing or bad STA address in {line!r}")
    return parts


_DEC = re.compile(r"^[0-9]{1,10}$")
_HEXNUM = re.compile(r"^[0-9a-fA-F]{1,8}$")


def _int(s: str, what: str, line: str, base: int = 10, limit: int = 255) -> int:
    # strict ASCII digits: int() would also take "1_0", "+1" or non-ASCII digits
    if not (_DEC if base == 10 else _HEXNUM).match(s):
        raise EventFormatError(f"{what} {s!r} is not a number in {line!r}")
    v = int(s, base)
    if not 0 <= v <= limit:
        raise EventFormatError(f"{what} {v} out of range 0..{limit} in {line!r}")
    return v


def _hex(s: str, what: str, line: str) -> bytes:
    if not _HEX.match(s):
        raise EventFormatError(f"{what} is not an even-length hex string in {line!r}")
    return bytes.fromhex(s)


def _kv(parts: list[str], line: str) -> dict[str, str]:
    out = {}
    for p in parts:
        m = _KV.match(p)
        if not m:
            raise EventFormatError(f"unexpected token {p!r} in {line!r}")
        out[m.group(1)] = m.group(2)
    return out


def beacon_resp_rx(line: str) -> HostapdEvent:
    parts = _split(line, "BEACON-RESP-RX")
    if len(parts) not in (4, 5):
        raise EventFormatError(f"BEACON-RESP-RX needs sta, token, mode and report: {line!r}")
    token = _int(parts[2], "token", line)
    if len(parts[3]) != 2:
        raise EventFormatError(f"report mode {parts[3]!r} is not two hex digits in {line!r}")
    mode = _int(parts[3], "report mode", line, 16)
    body = _hex(parts[4], "report", line) if len(parts) == 5 else b""
    try:
        report = el.beacon_report(token, mode, body)
    except MalformedFrame as err:
        raise EventFormatError(f"BEACON-RESP-RX report: {err}") from None
    return HostapdEvent("BEACON-RESP-RX", parts[1].lower(), report)


def bss_tm_resp(line: str) -> HostapdEvent:
    parts = _split(line, "BSS-TM-RESP")
    kv = _kv(parts[2:], line)
    if "status_code" not in kv:
        raise EventFormatError(f"BSS-TM-RESP without status_code: {line!r}")
    status = _int(kv["status_code"], "status_code", line)
    delay = _int(kv.get("bss_termination_delay", "0"), "bss_termination_delay", line)
    token = _int(kv["dialog_token"], "dialog_token", line) if "dialog_token" in kv else None
    target = kv.get("target_bssid")
    if target is not None:
        if not _MAC.match(target):
            raise EventFormatError(f"target_bssid {target!r} is not an address in {line!r}")
        target = target.lower()
    return HostapdEvent("BSS-TM-RESP", parts[1].lower(),
                        BTMResponse(token, status, delay, target))  # token None: 2.10 omits it


def bss_tm_query(line: str) -> HostapdEvent:
    parts = _split(line, "BSS-TM-QUERY")
    kv = _kv(parts[2:], line)
    if "reason" not in kv:
        raise EventFormatError(f"BSS-TM-QUERY without reason: {line!r}")
    reason = _int(kv["reason"], "reason", line)
    token = _int(kv["dialog_token"], "dialog_token", line) if "dialog_token" in kv else None
    cands = ()
    if "neighbor" in kv:
        try:
            cands = el.neighbor_entries(_hex(kv["neighbor"], "neighbor", line))
        except MalformedFrame as err:
            raise EventFormatError(f"BSS-TM-QUERY neighbor list: {err}") from None
    return HostapdEvent("BSS-TM-QUERY", parts[1].lower(), BTMQuery(token, reason, cands))


_DECODERS = {"BEACON-RESP-RX": beacon_resp_rx, "BSS-TM-RESP": bss_tm_resp,
             "BSS-TM-QUERY": bss_tm_query}


def decode(line: str) -> HostapdEvent:
    """Decode any of the events above; UnknownEvent for other text."""
    if not isinstance(line, str):
        raise EventFormatError(f"expected text, got {type(line).__name__}")
    text = _PREFIX.sub("", line.strip(), count=1)
    name = text.split(" ", 1)[0]
    if name not in _DECODERS:
        raise UnknownEvent(f"not a decoded hostapd event: {line!r}")
    return _DECODERS[name](line)
