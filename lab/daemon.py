"""A daemon running in the lab (hostapd or wpa_supplicant): its control interface,
its event stream, and its debug log."""
from __future__ import annotations

import re
import time
from pathlib import Path

from lab.client import AgentClient


class DaemonError(RuntimeError):
    pass


class DaemonDied(DaemonError):
    """The daemon's process exited; kind, name and code say which and how (fault reports)."""

    def __init__(self, message: str, kind: str = "", name: str = "", code=None):
        super().__init__(message)
        self.kind = kind
        self.name = name
        self.code = code


class EventTimeout(DaemonError):
    pass


class Daemon:
    kind = "daemon"

    def __init__(self, agent: AgentClient, name: str, ctrl_path: str, log_host: Path, log_vm: str):
        self.agent = agent
        self.name = name
        self.ctrl_path = ctrl_path
        self.log_host = log_host  # the debug log as the host sees it
        self.log_vm = log_vm

    # -- control interface ---------------------------------------------------------
    def ctrl(self, cmd: str, timeout: float = 10) -> str:
        self.check_alive()
        try:
            return self.agent.call("ctrl", timeout=timeout + 5, path=self.ctrl_path, cmd=cmd,
                                   limit=timeout).rstrip("\n")
        except Exception as e:
            self.check_alive()
            raise DaemonError(f"{self.name}: {cmd!r} failed: {e}") from e

    def ctrl_ok(self, cmd: str, timeout: float = 10) -> str:
        r = self.ctrl(cmd, timeout)
        if r.startswith("FAIL") or r.startswith("UNKNOWN COMMAND"):
            raise DaemonError(f"{self.name}: {cmd!r} answered {r!r}")
        return r

    # -- events --------------------------------------------------------------------
    @property
    def stream(self):
        return self.agent.stream(self.name)

    def events(self) -> list[tuple[float, str]]:
        with self.agent.cond:
            return list(self.stream.items)

    def mark(self) -> int:
        """An index into the event list: wait for events after this point."""
        with self.agent.cond:
            return len(self.stream.items)

    def wait_event(self, pattern: str, timeout: float = 10, since: int = 0) -> tuple[float, str, re.Match]:
        rx = re.compile(pattern)
        s = self.stream

        def find():
            for t, text in s.items[since:]:
                m = rx.search(text)
                if m:
                    return (t, text, m)
            if s.exit is not None:
                return ("died",)
            return None

        got = self.agent.wait(find, timeout)
        if got and got[0] == "died":
            raise self.died()
        if not got:
            if self.agent.closed:
                raise DaemonError(f"{self.name}: lab agent gone ({self.agent.close_reason})")
            last = "\n".join(f"  {t:.3f} {x}" for t, x in s.items[-12:]) or "  (none)"
            raise EventTimeout(f"{self.name}: no event matching {pattern!r} within {timeout:.0f}s; "
                               f"last events:\n{last}")
        return got

    def check_alive(self) -> None:
        if self.stream.exit is not None:
            raise self.died()

    def died(self) -> DaemonDied:
        return DaemonDied(self.death_text(), self.kind, self.name, (self.stream.exit or {}).get("code"))

    def death_text(self) -> str:
        ex = self.stream.exit or {}
        tail = "\n".join("  " + x for x in ex.get("tail", [])[-25:])
        return f"{self.kind} {self.name} died (exit code {ex.get('code')}); its last lines:\n{tail}"

    def log_lines(self) -> list[str]:
        try:
            return self.log_host.read_bytes().decode("utf-8", "replace").splitlines()
        except OSError:
            return []

    def stop(self) -> None:
        try:
            self.agent.call("detach", name=self.name)
            self.agent.call("stop", name=self.name)
        except Exception:
            pass


def wait_until(fn, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)
