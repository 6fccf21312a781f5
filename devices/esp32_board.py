"""The ESP32 DUT as the suites use it: the esp32 adapter (devices/esp32_serial.py) plus
the case life cycle (reset, connect, mark, evidence).

When the board connects: the roaming example's firmware connects by itself
right after it boots, to the SSID it was built with, and takes no commands.
So `reset()` holds the chip in reset (EN low through RTS, as esptool and
idf.py monitor do): no radio activity between cases. `connect(profile)`
releases it: the board boots, connects, gets its IP and runs the app's
start-up exchange (neighbor report request, BTM query); connect returns once
that has gone quiet. `scan()` is a no-op: the firmware cannot be told to scan;
its view of the lab is its own connect scan.

Each case sees only its own events (from its reset on). A reboot, panic or
brownout the case did not cause fails the case with "DUT rebooted" and the
banner or backtrace lines, whichever call notices it first: wait_for,
mark/events/indications, or attach_evidence at teardown.
"""
from __future__ import annotations

import time
from typing import Callable, Iterable

from devices import esp32_log
from devices.base import DutError
from devices.esp32_serial import FAULT_KINDS, DutRebooted, Esp32Dut, SerialLinkClosed
from engine.events import Event, Indication
from lab.hostapd import OPEN

BOARD_CAPS = frozenset({"btm", "rrm_neighbor", "rrm_beacon_passive", "rrm_beacon_active", "ft_psk",
                        "ft_over_air"})


class SerialResetLine:
    """EN driven through RTS (DTR kept high so IO0 stays high: a normal boot)."""

    def __init__(self, dut: Esp32Dut):
        self.dut = dut

    def hold(self) -> None:
        s = self.dut.serial
        try:
            s.dtr = False
            s.rts = True
        except Exception as exc:
            raise DutError(f"cannot hold the ESP32 on {self.dut.port} in reset through RTS: {exc}") from exc

    def release(self) -> None:
        try:
            self.dut.serial.rts = False
        except Exception as exc:
            raise DutError(f"cannot release the ESP32 on {self.dut.port} from reset: {exc}") from exc


class PlaceResetLine:
    """EN (or the board's supply) switched through the labgrid place: a power port
    (`labgrid-client power off/on`) or a digital output wired to EN (`io low/high`)."""

    def __init__(self, place, kind: str, name: str):
        if kind not in ("power", "io"):
            raise ValueError(f"reset through {kind!r}: power or io")
        self.place = place
        self.kind = kind
        self.name = name

    def hold(self) -> None:
        try:
            if self.kind == "power":
                self.place.power("off", self.name)
            else:
                self.place.io("low", self.name)
        except Exception as exc:
            raise DutError(f"cannot hold the ESP32 in reset through the place's {self.kind} {self.name}: "
                           f"{exc}") from exc

    def release(self) -> None:
        try:
            if self.kind == "power":
                self.place.power("on", self.name)
            else:
                self.place.io("high", self.name)
        except Exception as exc:
            raise DutError(f"cannot release the ESP32 through the place's {self.kind} {self.name}: "
                           f"{exc}") from exc


class Esp32Board(Esp32Dut):
    def __init__(self, port: str, baudrate: int = 115200, *, name: str = "esp32", ssid: str = "roamcert",
                 passphrase: str = "", scan_cache: bool = False, mac: str = "", reset_line=None,
                 extra_identity: dict | None = None, connect_timeout: float = 30, owned=(), **kw):
        super().__init__(port, baudrate, mac=mac, scan_cache=scan_cache, **kw)
        self.name = name
        self.ssid = ssid
        self.passphrase = passphrase
        self.connect_timeout = connect_timeout
        self.reset_line = reset_line or SerialResetLine(self)
        self.extra_identity = extra_identity or {}
        self._base = 0  # index of this case's first event
        self._all_lines: list[str] = []
        self._line_base = 0
        self._reported: set[int] = set()  # fault events already raised
        self._owned = list(owned)  # closed with the board (the twin behind a twin's port)

    # every serial line, for the case's log attachment (the framer keeps only a ring)
    def _note(self, line: str) -> None:
        with self._lines_lock:
            self._all_lines.append(line)
        super()._note(line)

    # -- case life cycle ---------------------------------------------------------------
    def reset(self) -> None:
        """Hold the chip in reset and start a fresh case log."""
        with self._cond:
            self._expect_reboot = 0
        self.reset_line.hold()
        time.sleep(0.2)  # lines already on their way belong to the previous case
        with self._cond:
            self._base = len(self._events)
        with self._lines_lock:
            self._line_base = len(self._all_lines)

    def connect(self, profile, timeout: float | None = None) -> str:
        """Boot the board and wait for the firmware's own connection. Returns the BSSID."""
        self._check_profile(profile)
        timeout = timeout or self.connect_timeout
        self.reset_line.hold()
        since = self.mark()
        with self._cond:
            self._expect_reboot += 1
        self.reset_line.release()
        try:
            self.wait_for(lambda e: e.kind == "reboot", 10, since)
        except DutError as e:
            raise DutError(f"{self.name}: no boot banner after releasing reset: {e}") from None
        ev = self.wait_for(lambda e: e.kind == "connected", timeout, since)
        i = next(k for k, x in enumerate(self.events()) if x is ev)
        try:
            self.wait_for(lambda e: e.kind == "got_ip", 10, i)
        except DutRebooted:
            raise
        except DutError:
            pass  # no IP is the data plane's business; the Wi-Fi connection stands
        self._quiet(0.5, 10)
        return ev.get("bssid")

    def _check_profile(self, profile) -> None:
        want = profile.ssid_b.decode("utf-8", "replace")
        problems = []
        if want != self.ssid:
            problems.append(f"the case's SSID is {want!r}")
        if profile.security == OPEN:
            problems.append("the case wants an open network")
        elif self.passphrase and profile.passphrase != self.passphrase:
            problems.append("the case's passphrase differs")
        if profile.bssid:
            problems.append(f"the case pins BSSID {profile.bssid}")
        if profile.key_mgmt:
            problems.append(f"the case forces key_mgmt {profile.key_mgmt}")
        if problems:
            raise DutError(f"{self.name}: the firmware connects only to the network it was built with "
                           f"(SSID {self.ssid!r}, WPA2-PSK/FT-PSK), but " + "; ".join(problems) +
                           ". Build the firmware with the case's network or pass --esp32-ssid/--esp32-passphrase.")

    def _quiet(self, quiet: float, limit: float) -> None:
        """Wait until no event came for `quiet` seconds (the app's start-up exchange is over)."""
        end = time.monotonic() + limit
        n, since = len(self.events()), time.monotonic()
        while time.monotonic() < end:
            time.sleep(0.1)
            self.check_faults()
            m = len(self.events())
            if m != n:
                n, since = m, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return

    def scan(self, freqs=()) -> None:
        """The firmware takes no scan command; its BSS view is its own connect scan."""
        return None

    # -- events of this case -------------------------------------------------------------
    def events(self) -> list[Event]:
        with self._cond:
            return list(self._events[self._base:])

    def mark(self) -> int:
        self.check_faults()
        return len(self.events())

    def wait_for(self, pred: Callable[[Event], bool], timeout: float, since: int = 0) -> Event:
        try:
            return super().wait_for(pred, timeout, since + self._base)
        except DutRebooted as e:
            with self._cond:
                self._reported.update(k for k, x in enumerate(self._events) if x is e.event)
            raise

    def indications(self, events: Iterable[Event] | None = None) -> list[Indication]:
        if events is None:
            self.check_faults()
            events = self.events()
        return esp32_log.to_indications(events)

    def faults(self) -> list[tuple[int, Event]]:
        """Reboots, panics and brownouts of this case that nobody asked for."""
        out = []
        with self._cond:
            for i in range(self._base, len(self._events)):
                e = self._events[i]
                if e.kind not in FAULT_KINDS or i in self._expected:
                    continue
                if e.kind == "reboot" and i > 0 and self._events[i - 1].kind in ("panic", "brownout"):
                    continue  # the restart that ends a panic or brownout is part of it
                out.append((i, e))
        return out

    def check_faults(self) -> None:
        with self._cond:
            gone = self._read_error
        if gone:  # the port is gone: nothing the board says can reach us any more
            raise SerialLinkClosed(f"{gone}; last lines:\n{self._tail()}", self.port)
        for i, e in self.faults():
            if i not in self._reported:
                self._reported.add(i)
                raise self._fault(e)

    def case_lines(self) -> list[str]:
        with self._lines_lock:
            return list(self._all_lines[self._line_base:])

    def identity(self) -> dict:
        d = super().identity()
        d.update({"name": self.name, "ssid": self.ssid}, **self.extra_identity)
        return d

    def attach_evidence(self, record) -> None:
        evs = self.events()
        record.attach_text(f"{self.name}-serial.log", "\n".join(self.case_lines()), suffix=".log")
        record.attach_json(f"{self.name}-events", [e.to_dict() for e in evs])
        try:
            record.attach_json(f"{self.name}-indications", [i.to_dict() for i in esp32_log.to_indications(evs)])
        except Exception as e:  # evidence must not hide the case's own outcome
            record.attach_text(f"{self.name}-indications-error", str(e))
        faults = self.faults()
        for i, e in faults:
            what = "panic" if e.kind == "panic" else "reboot"
            lines = list(e.get("lines") or ()) if e.kind == "panic" else self._banner_after(e)
            record.attach_text(f"{self.name}-{what}-{i - self._base}", "\n".join(lines))
        self.check_faults()  # a fault nobody noticed during the case fails it here

    def close(self) -> None:
        super().close()
        for o in self._owned:
            o.close()

    def _banner_after(self, e: Event) -> list[str]:
        lines = self.case_lines()
        raw = e.raw or e.get("banner") or ""
        for k, line in enumerate(lines):
            if raw and raw in line:
                return lines[max(0, k - 2):k + 20]
        return lines[-30:]
