"""A CPU quota for one lab process: cgroup v2 cpu.max in the lab's kernel.

This is how roamcert makes a deliberately slow DUT (linux-wpas:slow, devices/linux_wpas.py):
the DUT's wpa_supplicant gets at most `quota_us` of CPU time in every `period_us`, as on a
slow CPU. It is held only while it has work to do (an idle supplicant is not slowed), so what
stretches is the DUT's own processing, e.g. between the FT Authentication Response it receives
and the Reassociation Request it builds. Management frames never pass through a qdisc, so
netem cannot delay them; the quota slows the DUT itself, and its effect is measured: the
kernel's cpu.stat counts the periods in which the process was throttled and for how long.

The lab's kernel is the VM's (lab/initramfs.py mounts proc, sys and dev only): cgroup2 is
mounted on /sys/fs/cgroup here the first time it is needed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

CGROUP_ROOT = "/sys/fs/cgroup"
MIN_QUOTA_US = 1000  # the kernel refuses a smaller cpu.max quota
MAX_PERIOD_US = 1_000_000


class CpuLimitError(ValueError):
    """A quota the kernel would refuse, or a lab that cannot apply one."""


@dataclass(frozen=True)
class CpuLimit:
    quota_us: int
    period_us: int

    def __post_init__(self):
        if not (MIN_QUOTA_US <= self.quota_us <= self.period_us):
            raise CpuLimitError(f"cpu quota {self.quota_us} µs: it must be between {MIN_QUOTA_US} µs "
                                f"and the period ({self.period_us} µs)")
        if not (MIN_QUOTA_US <= self.period_us <= MAX_PERIOD_US):
            raise CpuLimitError(f"cpu period {self.period_us} µs: it must be between {MIN_QUOTA_US} "
                                f"and {MAX_PERIOD_US} µs")

    @classmethod
    def parse(cls, text: str) -> "CpuLimit":
        """"QUOTA/PERIOD" in µs (e.g. "2000/100000"), or "N%" of one CPU in 100 ms periods."""
        t = text.strip()
        m = re.fullmatch(r"(\d+)/(\d+)", t)
        if m:
            return cls(int(m.group(1)), int(m.group(2)))
        m = re.fullmatch(r"(\d+(?:\.\d+)?)%", t)
        if m:
            return cls(round(float(m.group(1)) * 1000), 100_000)
        raise CpuLimitError(f"cpu limit {text!r}: write QUOTA/PERIOD in µs (e.g. 2000/100000) or N% of a CPU")

    @property
    def cpu_max(self) -> str:
        """The line cpu.max takes."""
        return f"{self.quota_us} {self.period_us}"

    def describe(self) -> str:
        return (f"{100 * self.quota_us / self.period_us:.3g} % of one CPU "
                f"(cgroup v2 cpu.max {self.cpu_max}: {self.quota_us} µs per {self.period_us} µs)")


def group_path(name: str, root: str = CGROUP_ROOT) -> str:
    return f"{root}/roamcert-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}"


def setup_script(group: str, limit: CpuLimit, pid: int, root: str = CGROUP_ROOT) -> str:
    """The shell the lab runs: cgroup2 mounted (once), the cpu controller on for the root's
    children, the group made with its quota, the process moved in, the result read back."""
    return "\n".join([
        "set -e",
        f"[ -e {root}/cgroup.controllers ] || mount -t cgroup2 cgroup2 {root}",
        f"grep -qw cpu {root}/cgroup.subtree_control || echo +cpu > {root}/cgroup.subtree_control",
        f"mkdir -p {group}",
        f"echo '{limit.cpu_max}' > {group}/cpu.max",
        f"echo {int(pid)} > {group}/cgroup.procs",
        f"echo cpu.max=$(cat {group}/cpu.max)",
        f"echo procs=$(cat {group}/cgroup.procs | tr '\\n' ' ')",
    ])


def apply(agent, name: str, pid: int, limit: CpuLimit, root: str = CGROUP_ROOT) -> dict:
    """Put process `pid` of the lab under `limit`; returns the group and what the kernel
    reports back. Raises CpuLimitError when the kernel did not take it."""
    group = group_path(name, root)
    r = agent.run(["sh", "-c", setup_script(group, limit, pid, root)], check=False)
    got = dict(x.partition("=")[::2] for x in r["stdout"].splitlines() if "=" in x)
    if r["rc"] != 0 or got.get("cpu.max", "").strip() != limit.cpu_max or str(pid) not in got.get("procs", "").split():
        raise CpuLimitError(f"the lab did not take cpu.max {limit.cpu_max} for pid {pid} in {group}: "
                            f"{(r['stderr'] or r['stdout']).strip()}")
    return {"cgroup": group, "cpu.max": got["cpu.max"].strip(), "pid": pid}


def parse_stat(text: str) -> dict:
    """cpu.stat ("key value" lines) as integers."""
    out = {}
    for line in text.splitlines():
        k, _, v = line.strip().partition(" ")
        if v.strip().isdigit():
            out[k] = int(v)
    return out


def stat(agent, group: str) -> dict:
    """The group's cpu.stat: usage_usec, nr_periods, nr_throttled, throttled_usec..."""
    r = agent.run(["cat", f"{group}/cpu.stat"], check=False)
    return parse_stat(r["stdout"]) if r["rc"] == 0 else {}


def remove(agent, group: str) -> None:
    """Remove the (then empty) group; a group still holding a process stays."""
    agent.run(["rmdir", group], check=False)
