"""The ESP32 serial reader: an ESP-IDF board's log from its serial port, as events.
(devices/esp32_board.py builds the "esp32" DUT on it.)

Reads the board's ESP-IDF log through the same path for a real board
(/dev/ttyUSB0, rfc2217://host:port) and for the esp32-twin (socket://host:port):
pyserial -> LineFramer -> Esp32LogParser -> Events. The board takes no commands;
cases drive the APs and watch what the board does.
"""
from __future__ import annotations

import re
import threading
import time
from typing import Callable, Iterable

import serial

from devices import esp32_log
from devices.base import DutError, WaitTimeout
from devices.lines import LineFramer
from engine.events import Event, Indication
from engine.verdict import FIRMWARE

FAULT_KINDS = ("reboot", "panic", "brownout")
_FW = re.compile(r"ESP-IDF:?\s+(v\d[\w.\-]*)")
_STA_MAC = re.compile(r"wifi:mode\s*:\s*sta \(([0-9a-fA-F:]{17})\)")


class DutRebooted(DutError):
    """The board rebooted, panicked or browned out when nobody asked it to."""

    def __init__(self, message: str, event: Event, lines: list[str]):
        super().__init__(message)
        self.event = event
        self.lines = lines


class SerialLinkClosed(DutError):
    """The serial port went away under the reader: the socket closed, the USB device vanished."""

    def __init__(self, message: str, port: str):
        super().__init__(message)
        self.port = port


class Esp32Dut:
    name = "esp32"
    layer = FIRMWARE  # ESP-IDF's Wi-Fi driver and supplicant port: one binary, one layer to a reviewer

    def __init__(self, port: str, baudrate: int = 115200, *, mac: str = "", scan_cache: bool = False,
                 read_timeout: float = 0.05, idle_flush: float = 0.2, keep_lines: int = 200):
        self.port = port
        self.baudrate = baudrate
        self.mac = mac.lower()
        self.capabilities = frozenset(
            {"btm", "rrm_neighbor", "rrm_beacon_passive", "rrm_beacon_active", "ft_psk", "ft_over_air"}
            | ({"rrm_beacon_table"} if scan_cache else set()))
        self.firmware: str | None = None
        self._framer = LineFramer(keep=keep_lines)
        self._lines_lock = threading.Lock()  # the framer's ring is read from other threads
        self._parser = esp32_log.Esp32LogParser("serial")
        self._events: list[Event] = []
        self._expected: set[int] = set()  # indices of reboots we caused
        self._expect_reboot = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._idle_flush = idle_flush
        self._read_error: str | None = None
        self.serial = open_port(port, baudrate, read_timeout)
        self._thread = threading.Thread(target=self._reader, name=f"esp32-reader {port}", daemon=True)
        self._thread.start()

    # -- reading ---------------------------------------------------------
    def _reader(self) -> None:
        quiet_since = time.monotonic()
        flushed = True
        while not self._stop.is_set():
            try:
                data = self.serial.read(max(1, self.serial.in_waiting or 0))
            except Exception as exc:  # port vanished (board unplugged), socket closed
                if not self._stop.is_set():
                    with self._cond:
                        self._read_error = f"reading {self.port} failed: {exc}"
                        self._cond.notify_all()
                return
            now = time.monotonic()
            if data:
                quiet_since, flushed = now, False
                with self._lines_lock:
                    lines = self._framer.feed(data)
                    first = self._framer.count - len(lines) + 1
                evs: list[Event] = []
                for n, line in enumerate(lines, first):
                    self._note(line)
                    evs += self._parser.feed_line(line, f"serial:{n}")
                self._add(evs)
            elif not flushed and now - quiet_since >= self._idle_flush:
                flushed = True  # the stream went quiet: release events waiting for a next line
                self._add(self._parser.flush())

    def _note(self, line: str) -> None:
        m = _FW.search(line)
        if m and not self.firmware:
            self.firmware = m[1]
        m = _STA_MAC.search(line)
        if m and not self.mac:
            self.mac = m[1].lower()

    def _add(self, evs: list[Event]) -> None:
        if not evs:
            return
        with self._cond:
            for e in evs:
                if e.kind == "reboot" and self._expect_reboot > 0:
                    self._expect_reboot -= 1
                    self._expected.add(len(self._events))
                self._events.append(e)
            self._cond.notify_all()

    # -- the DUT protocol --------------------------------------------------
    def events(self) -> list[Event]:
        with self._cond:
            return list(self._events)

    def last_lines(self, n: int = 20) -> list[str]:
        with self._lines_lock:
            return self._framer.last_lines(n)

    def wait_for(self, pred: Callable[[Event], bool], timeout: float, since: int = 0) -> Event:
        """First event at index >= since that satisfies pred. An unexpected reboot,
        panic or brownout before it raises DutRebooted; silence raises WaitTimeout."""
        deadline = time.monotonic() + timeout
        i = since
        with self._cond:
            while True:
                while i < len(self._events):
                    e = self._events[i]
                    if pred(e):
                        return e
                    if e.kind in FAULT_KINDS and i not in self._expected:
                        fault = e
                        break
                    i += 1
                else:
                    if self._read_error:
                        raise SerialLinkClosed(f"{self._read_error}; last lines:\n{self._tail()}", self.port)
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise WaitTimeout(f"no matching event from the ESP32 on {self.port} within "
                                          f"{timeout:g} s; last lines:\n{self._tail()}")
                    self._cond.wait(min(left, 0.1))
                    continue
                break
        raise self._fault(fault)

    def lines_around(self, source: str, before: int = 2, count: int = 30) -> list[str]:
        """The serial lines from `before` lines ahead of the line an event came from
        ("serial:N"), `count` at most. Anchored on the event's line, not on the end of the
        stream: a board keeps printing after a reset, and the newest lines would push the
        banner out whenever more of them had arrived."""
        try:
            n = int(source.rsplit(":", 1)[1])
        except (IndexError, ValueError):
            return self.last_lines(count)
        with self._lines_lock:
            recent = list(self._framer.recent)
            first = self._framer.count - len(recent) + 1  # line number of recent[0]
        start = max(first, n - before)
        return recent[start - first:start - first + count]

    def _fault(self, e: Event) -> DutRebooted:
        time.sleep(min(0.3, self._idle_flush + 0.1))  # let the rest of the banner arrive
        lines = self.lines_around(e.source)
        if e.raw and not any(e.raw in x for x in lines):
            lines = [e.raw] + lines  # the ring had already dropped it: the event keeps its text
        if e.kind == "panic":
            what = f"DUT rebooted after a panic ({e.get('cause')})"
        elif e.kind == "brownout":
            what = "DUT rebooted after a brownout"
        else:
            why = f"rst:{e.get('rst')} {e.get('reason')}" if e.get("rst") else "bootloader banner"
            what = f"DUT rebooted ({why})"
        msg = f"{what} on {self.port} at {e.source}; banner and last lines:\n" + "\n".join(lines)
        return DutRebooted(msg, e, lines)

    def _tail(self) -> str:
        lines = self.last_lines(20)
        return "\n".join(lines) if lines else "(no output at all)"

    def indications(self, events: Iterable[Event] | None = None) -> list[Indication]:
        return esp32_log.to_indications(self.events() if events is None else events)

    def identity(self) -> dict:
        return {"name": self.name, "mac": self.mac, "port": self.port, "baudrate": self.baudrate,
                "firmware": self.firmware, "capabilities": sorted(self.capabilities)}

    # -- control -----------------------------------------------------------
    def reset(self, bootloader: bool = False) -> None:
        """Pulse EN through RTS (DTR/RTS wired as on DevKit boards). With
        bootloader=True, hold IO0 low through DTR across the reset: esptool's
        classic sequence (0.1 s in reset, then 0.05 s with IO0 low)."""
        s = self.serial
        with self._cond:
            self._expect_reboot += 1
        try:
            s.dtr = False
            s.rts = True  # EN low: chip held in reset
            time.sleep(0.1)
            if bootloader:
                s.dtr = True  # IO0 low
                s.rts = False  # EN high: chip starts and samples IO0
                time.sleep(0.05)
                s.dtr = False
            else:
                s.rts = False
        except (serial.SerialException, OSError, ValueError) as exc:
            with self._cond:
                self._expect_reboot -= 1
            raise DutError(f"cannot reset the ESP32 on {self.port} through DTR/RTS: {exc}") from exc

    def close(self) -> None:
        self._stop.set()
        try:
            self.serial.cancel_read()
        except Exception:
            pass
        self._thread.join(timeout=2)
        try:
            self.serial.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_port(port: str, baudrate: int = 115200, timeout: float = 0.05):
    """A device path or a pyserial URL (socket://, rfc2217://, loop://)."""
    if not port:
        raise DutError("no serial port given for the ESP32 (use esp32:/dev/ttyUSB0 or a socket:// URL)")
    kw = {"baudrate": baudrate, "timeout": timeout}
    if "://" not in port:
        kw["exclusive"] = True  # a second reader on a tty would steal half the lines
    try:
        return serial.serial_for_url(port, **kw)
    except (serial.SerialException, OSError, ValueError) as exc:
        text = str(exc)
        if "lock" in text.lower() or "busy" in text.lower():
            raise DutError(f"ESP32 serial port {port} is busy (another program has it open): {text}") from exc
        raise DutError(f"cannot open ESP32 serial port {port}: {text}") from exc
