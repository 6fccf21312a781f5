"""A data plane for roam cases: the DUT's radio in its own network namespace, the APs'
distribution system (br-ds) with an address, and ping between them.

The DUT's interface and the AP bridges live in one kernel; without a separate
namespace the kernel would route the DUT's traffic locally and it would never cross
the air. mac80211_hwsim keeps a radio on the same medium when its phy changes
namespace, so frames still go through the APs and the capture still sees them.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from engine.outage import unanswered_runs

DUT_NS = "dutns"
DS_ADDR = "10.77.0.1"
DUT_ADDR = "10.77.0.2"
PREFIX = 24


class DataPlaneError(RuntimeError):
    pass


def phy_of(agent, iface: str, netns: str | None = None) -> str:
    argv = ["iw", "dev", iface, "info"]
    r = agent.run(_in(netns, argv), check=False)
    m = re.search(r"wiphy (\d+)", r["stdout"])
    if not m:
        raise DataPlaneError(f"no wiphy for {iface}: {r['stdout']} {r['stderr']}")
    return f"phy{m.group(1)}"


def _in(netns: str | None, argv: list[str]) -> list[str]:
    return ["ip", "netns", "exec", netns, *argv] if netns else list(argv)


def ensure_netns(agent, netns: str) -> None:
    names = agent.run(["ip", "netns", "list"], check=False)["stdout"]
    if not re.search(rf"^{re.escape(netns)}\b", names, re.M):
        agent.run(["ip", "netns", "add", netns])
        agent.run(["ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up"])


def move_to_netns(agent, iface: str, netns: str) -> str:
    """Move iface's phy into netns (created if needed); returns the phy name."""
    ensure_netns(agent, netns)
    phy = phy_of(agent, iface)
    agent.run(["iw", "phy", phy, "set", "netns", "name", netns])
    r = agent.run(_in(netns, ["ip", "link", "show", iface]), check=False)
    if r["rc"] != 0:
        raise DataPlaneError(f"{iface} ({phy}) did not appear in netns {netns}: {r['stderr']}")
    return phy


def move_back(agent, iface: str, netns: str) -> None:
    """Return iface's phy to the lab's own namespace (pid 1's)."""
    phy = phy_of(agent, iface, netns)
    agent.run(_in(netns, ["iw", "phy", phy, "set", "netns", "1"]))


def address(agent, iface: str, addr: str = DUT_ADDR, netns: str | None = DUT_NS) -> None:
    agent.run(_in(netns, ["ip", "addr", "flush", "dev", iface]), check=False)
    agent.run(_in(netns, ["ip", "addr", "add", f"{addr}/{PREFIX}", "dev", iface]))


def address_ds(agent, addr: str = DS_ADDR) -> None:
    """Give the shared DS bridge (see Lab.ensure_ds) an address: the ping target."""
    r = agent.run(["ip", "-o", "addr", "show", "dev", "br-ds"], check=False)
    if f"{addr}/" not in r["stdout"]:
        agent.run(["ip", "addr", "add", f"{addr}/{PREFIX}", "dev", "br-ds"])


# -- ping --------------------------------------------------------------------------------
@dataclass
class PingResult:
    transmitted: int
    received: int
    seqs: list[int] = field(default_factory=list)  # sequence numbers answered, in order
    text: str = ""

    @property
    def lost(self) -> int:
        return self.transmitted - self.received

    def gaps(self) -> list[tuple[int, int]]:
        """Runs of unanswered sequence numbers (first, last), within the transmitted range."""
        return unanswered_runs(self.transmitted, self.seqs)


_STATS = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
_SEQ = re.compile(r"bytes from \S+ (?:icmp_)?seq=(\d+)")


def parse_ping(text: str) -> PingResult:
    """busybox or iputils ping output -> counts; the statistics line is required."""
    m = _STATS.search(text)
    if not m:
        raise DataPlaneError("ping printed no statistics line:\n" + text[-500:])
    seqs = [int(x) for x in _SEQ.findall(text)]
    return PingResult(int(m.group(1)), int(m.group(2)), seqs, text)


class Ping:
    """ping from the DUT's namespace to the DS, running in the background."""

    def __init__(self, lab, name: str, log_rel: str, count: int, interval: float = 0.01,
                 target: str = DS_ADDR, netns: str = DUT_NS):
        self.lab = lab
        self.name = name
        self.log_host, log_vm = lab.out_path(log_rel)
        lab.agent.reset_stream(name)
        lab.agent.call("spawn", name=name, log=log_vm,
                       argv=_in(netns, ["busybox", "ping", "-c", str(count), "-i", str(interval),
                                        "-W", "2", target]))
        self.deadline = time.monotonic() + count * interval * 3 + 15

    def wait(self) -> PingResult:
        s = self.lab.agent.stream(self.name)
        self.lab.agent.wait(lambda: s.exit is not None, max(1.0, self.deadline - time.monotonic()))
        if s.exit is None:
            self.lab.agent.call("stop", name=self.name)
        return parse_ping(self.log_host.read_text(errors="replace"))
