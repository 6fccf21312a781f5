"""linux-wpas: a Linux client running wpa_supplicant, driven through its control interface.

Events come from wpa_supplicant's own debug log (`-dd -t`), which carries every
control-interface event too, stamped by the same kernel clock as the capture. The link's
state comes from the kernel itself: the lab agent's link monitor on the DUT's interface
(carrier, operstate, nl80211 CONNECT/ROAM/DISCONNECT; lab/linkwatch.py, devices/linux_link.py),
on the same clock. The mapping onto Native 802.11 indications is in devices/INDICATIONS.md.
"""
from __future__ import annotations

import dataclasses
import json
import time
from typing import Callable, Iterable

from devices import linux_link, wpas_log
from devices.base import DutError, WaitTimeout
from engine.events import Event, Indication
from engine.verdict import SUPPLICANT
from lab import cpu_limit
from lab.wpas import Profile, SupplicantConfig


class LinuxWpasDut:
    name = "linux-wpas"
    # wpa_supplicant's SME decides and builds what the DUT sends (mac80211 carries it out);
    # what the kernel does on its own (carrier) is attributed to the kernel by its events.
    layer = SUPPLICANT
    capabilities = frozenset({
        "btm", "btm_query", "rrm_neighbor", "rrm_beacon_passive", "rrm_beacon_active",
        "rrm_beacon_table", "band_5ghz", "ft_psk", "ft_over_air", "ft_over_ds", "commands", "radio_control",
        "data_plane",  # through a twin in its own netns: data_plane_twin(), lab/dataplane.py
    })

    def __init__(self, lab, sup_cfg: SupplicantConfig | None = None, name: str | None = None,
                 capabilities: Iterable[str] | None = None, netns: str | None = None,
                 profile_overrides: dict | None = None, pin_bssid: bool = False,
                 after_connect: tuple[str, ...] = (), keep_neigh: bool = False,
                 cpu: cpu_limit.CpuLimit | None = None, test_mutant: str = ""):
        """keep_neigh: set the interface's arp_evict_nocarrier and ndisc_evict_nocarrier to 0,
        so the kernel keeps its ARP/ND entries when carrier drops (both default to 1: a
        carrier drop flushes them, and the first packets after a roam wait for resolution).
        cpu: hold the supplicant to this CPU quota (lab/cpu_limit.py), a deliberately slow DUT.
        test_mutant: why this DUT is broken or slowed on purpose; reports show it so no one
        certifies it."""
        self.lab = lab
        self.cpu = cpu
        self.test_mutant = test_mutant
        self.keep_neigh = keep_neigh
        self.disable_btm = bool(sup_cfg and sup_cfg.disable_btm)
        self.profile_overrides = profile_overrides or {}
        self.pin_bssid = pin_bssid
        self.after_connect = after_connect
        if name:
            self.name = name
        if capabilities is not None:
            self.capabilities = frozenset(capabilities)
        self.netns = netns  # its radio lives there (lab/dataplane.py)
        self.sup = lab.start_supplicant(sup_cfg, name=f"dut-{self.name}", netns=netns)
        self.cpu_group: dict = {}
        self._cpu_mark: dict = {}
        if cpu is not None:
            try:
                if self.sup.pid is None:
                    raise DutError(f"{self.name}: the lab did not report the supplicant's pid")
                self.cpu_group = cpu_limit.apply(lab.agent, self.sup.name, self.sup.pid, cpu)
            except BaseException:
                lab.stop(self.sup)
                raise
        self.mac = self.sup.mac
        self.iface = self.sup.iface
        self.link = None
        self.link_error = ""
        try:
            self.link = lab.watch_link(self.iface, netns)
        except Exception as e:  # no monitor: fall back to the kernel messages the supplicant logs
            self.link_error = str(e)
        self._link_mark = 0
        self.neigh_sysctls = self.set_neigh_evict(not keep_neigh)
        self._log_start = 0  # byte offset of this case's part of the debug log
        self._pos = 0
        self._buf = b""
        self._events: list[Event] = []
        self._lines: list[str] = []
        self._parser = self._new_parser()
        self._lineno = 0

    def _new_parser(self):
        # with the monitor, the kernel's link events are its (first hand); without it, the
        # copies the supplicant logs
        return wpas_log.WpasLogParser(self.name, kernel=self.link is None)

    def set_neigh_evict(self, evict: bool) -> dict:
        """Set net.ipv4.conf.<if>.arp_evict_nocarrier and net.ipv6.conf.<if>.ndisc_evict_nocarrier
        (Linux >= 5.16) in the DUT's namespace, always (a radio keeps them after a DUT that
        changed them); returns what the kernel then reports. A kernel without them has no
        flush to turn off: fine for the default, an error for keep_neigh."""
        keys = (f"net.ipv4.conf.{self.iface}.arp_evict_nocarrier",
                f"net.ipv6.conf.{self.iface}.ndisc_evict_nocarrier")
        pre = ["ip", "netns", "exec", self.netns] if self.netns else []
        r = self.lab.agent.run([*pre, "sysctl", "-w", *(f"{k}={int(evict)}" for k in keys)], check=False)
        out = self.lab.agent.run([*pre, "sysctl", *keys], check=False)["stdout"]
        got = {k.strip(): int(v) for k, _, v in (x.partition("=") for x in out.splitlines()) if v.strip()}
        if any(got.get(k) != int(evict) for k in keys):
            if not evict:
                raise DutError(f"{self.name}: the kernel did not take {' and '.join(keys)} = 0: "
                               f"{(r['stderr'] or out).strip()}")
            got["unsupported"] = (r["stderr"] or out).strip()
        return got

    # -- identity --------------------------------------------------------------------
    def identity(self) -> dict:
        return {"name": self.name, "mac": self.mac, "iface": self.iface,
                "version": "wpa_supplicant " + self.lab.info().get("wpa_supplicant", "?"),
                "capabilities": sorted(self.capabilities),
                "link_events": "lab agent netlink monitor" if self.link else
                               f"wpa_supplicant debug log (no monitor: {self.link_error})",
                "neigh_evict_nocarrier": dict(self.neigh_sysctls),
                **({"cpu_limit": self.cpu.describe()} if self.cpu else {}),
                **({"test_mutant": self.test_mutant} if self.test_mutant else {})}

    # -- life cycle ------------------------------------------------------------------
    def reset(self) -> None:
        """A clean slate for the next case: no network, empty BSS table, default settings."""
        self.sup.check_alive()
        self.sup.ctrl("DISCONNECT")
        self.sup.ctrl("REMOVE_NETWORK all")
        self.sup.ctrl(f"SET disable_btm {int(self.disable_btm)}")  # a case may have changed it
        self.sup.ctrl("SET bssid_filter ")
        self.sup.ctrl("BSS_FLUSH 0")
        if self._radio_was_off():
            self.lab.radio(self.iface, True)
        self._drain()
        self._log_start = self._pos
        self._events = []
        self._lines = []
        self._parser = self._new_parser()
        if self.link:
            self._link_mark = self.link.mark()
        if self.cpu_group:
            self._cpu_mark = cpu_limit.stat(self.lab.agent, self.cpu_group["cgroup"])

    def cpu_throttling(self) -> dict:
        """What the CPU quota did since reset(): cpu.stat's counters, as differences
        (throttled_usec: time the supplicant was ready to run and held by the quota)."""
        if not self.cpu_group:
            return {}
        now = cpu_limit.stat(self.lab.agent, self.cpu_group["cgroup"])
        return {"cpu.max": self.cpu_group["cpu.max"], "cgroup": self.cpu_group["cgroup"],
                **{k: v - self._cpu_mark.get(k, 0) for k, v in now.items()}}

    def _radio_was_off(self) -> bool:
        r = self.lab.agent.run(["ip", "link", "show", self.iface], check=False)
        return "state DOWN" in r["stdout"] and ",UP" not in r["stdout"]

    def close(self) -> None:
        if self.link:
            self.link.stop()
        self.lab.stop(self.sup)
        if self.cpu_group:
            cpu_limit.remove(self.lab.agent, self.cpu_group["cgroup"])

    # -- control -----------------------------------------------------------------------
    def ctrl(self, cmd: str, timeout: float = 10) -> str:
        return self.sup.ctrl(cmd, timeout)

    def status(self) -> dict:
        return self.sup.status()

    def connect(self, profile: Profile, timeout: float = 20) -> str:
        if self.profile_overrides:
            profile = dataclasses.replace(profile, **self.profile_overrides)
        bssid = self.sup.connect(profile, timeout)
        if self.pin_bssid:
            self.sup.ctrl_ok(f"SET_NETWORK 0 bssid {bssid}")
        for cmd in self.after_connect:
            self.sup.ctrl_ok(cmd.format(bssid=bssid))
        return bssid

    def scan(self, freqs=()) -> None:
        self.sup.scan(freqs)

    def bss_known(self, bssid: str) -> bool:
        """The BSS is in the DUT's BSS table (what a candidate lookup would find)."""
        return self.sup.bss_known(bssid)

    # -- events --------------------------------------------------------------------------
    def _drain(self) -> None:
        try:
            with open(self.sup.log_host, "rb") as f:
                f.seek(self._pos)
                data = f.read()
        except OSError:
            return
        if not data:
            return
        self._pos += len(data)
        self._buf += data
        *complete, self._buf = self._buf.split(b"\n")
        for raw in complete:
            line = raw.decode("utf-8", "replace")
            self._lineno += 1
            self._lines.append(line)
            self._events.extend(self._parser.feed_line(line, source=f"{self.sup.name}.log:{self._lineno}"))

    def events(self) -> list[Event]:
        """Every event of the case so far, the one still being assembled included: an event
        made of several lines (a neighbor report's entries, a BTM request's candidates) ends
        only at the next event, and the last one of a case has no next one."""
        self._drain()
        return list(self._events) + self._assembling()

    def _assembling(self) -> list[Event]:
        p = self._parser.sup.pending
        if p is None:
            return []
        fields = {k: tuple(v) if k in ("entries", "candidates") else v for k, v in p.ev["fields"].items()}
        return [Event(p.ev["t"], p.ev["kind"], fields, p.ev["source"], p.ev["raw"])]

    def log_lines(self) -> list[str]:
        self._drain()
        return list(self._lines)

    def wait_for(self, pred: Callable[[Event], bool], timeout: float, since: int = 0) -> Event:
        deadline = time.monotonic() + timeout
        while True:
            self._drain()
            for e in self._events[since:]:
                if pred(e):
                    return e
            if self.sup.stream.exit is not None:
                raise DutError(self.sup.death_text())
            if time.monotonic() > deadline:
                tail = "\n".join(f"  {e.t:.3f} {e.kind} {dict(e.fields)}" for e in self._events[-10:])
                raise WaitTimeout(f"{self.name}: no matching event within {timeout:.0f}s; "
                                  f"last events:\n{tail or '  (none)'}")
            time.sleep(0.05)

    def mark(self) -> int:
        self._drain()
        return len(self._events)

    def link_events(self) -> list[Event]:
        """The kernel's link events on the DUT's interface since reset(), from the lab agent's
        monitor (carrier_*, port_*, nl80211_*); empty without a monitor (then events() has the
        supplicant's copies)."""
        if not self.link:
            return []
        return linux_link.to_events(self.link.records(), since=self._link_mark, name=f"{self.name}-link")

    def all_events(self) -> list[Event]:
        """events() and link_events() in time order (one kernel clock stamps both)."""
        return sorted(self.events() + self.link_events(), key=lambda e: e.t)

    def indications(self, events: Iterable[Event] | None = None) -> list[Indication]:
        return wpas_log.to_indications(self.all_events() if events is None else events, ifname=self.iface)

    def data_plane_twin(self, netns: str, keep_neigh: bool | None = None) -> "LinuxWpasDut":
        """A second supplicant like this one (same variant settings) whose radio lives in its
        own network namespace, so its IP traffic crosses the air (lab/dataplane.py); the
        caller owns it and closes it. This is how linux-wpas offers "data_plane". keep_neigh
        overrides this DUT's arp/ndisc_evict_nocarrier choice for the twin."""
        return LinuxWpasDut(self.lab, SupplicantConfig(disable_btm=True) if self.disable_btm else None,
                            name=f"{self.name}-netns", capabilities=self.capabilities, netns=netns,
                            profile_overrides=self.profile_overrides, pin_bssid=self.pin_bssid,
                            after_connect=self.after_connect,
                            keep_neigh=self.keep_neigh if keep_neigh is None else keep_neigh,
                            cpu=self.cpu, test_mutant=self.test_mutant)

    def attach_evidence(self, record) -> None:
        evs = self.all_events()
        record.attach_text(f"{self.name}-debug.log", "\n".join(self._lines), suffix=".log")
        if self.link:
            # all records: event sources ("<name>-link:N") count from the first
            record.attach_json(f"{self.name}-link-monitor", self.link.records())
        record.attach_json(f"{self.name}-events", [e.to_dict() for e in evs])
        if self.cpu_group:
            try:
                record.attach_json(f"{self.name}-cpu-throttling", self.cpu_throttling())
            except Exception as e:  # evidence must not hide the case's own outcome
                record.attach_text(f"{self.name}-cpu-throttling-error", str(e))
        try:
            record.attach_json(f"{self.name}-indications", [i.to_dict() for i in self.indications(evs)])
        except Exception as e:  # evidence must not hide the case's own outcome
            record.attach_text(f"{self.name}-indications-error", str(e))


# Deliberately non-conformant configurations of the reference DUT. They declare the
# same capabilities as linux-wpas, so the suites must catch them (tests/test_teeth.py).
VARIANTS = {
    "no-btm": dict(sup_cfg=SupplicantConfig(disable_btm=True)),
    "no-ft": dict(profile_overrides={"key_mgmt": "WPA-PSK"}),
    "pinned": dict(pin_bssid=True),
    "wrong-psk": dict(profile_overrides={"passphrase": "not-the-lab-passphrase"}),
    "filtered": dict(after_connect=("SET bssid_filter {bssid}",)),  # sees only its first AP
}


# Settings of the reference DUT that are not faults: the same DUT, differently configured.
OPTIONS = {
    # keep ARP/ND entries across a carrier drop (FT-08 both ways: the data-plane outage with
    # and without the neighbour flush; engine/outage.py shows where the time goes)
    "keep-neigh": dict(keep_neigh=True),
}


# A deliberately slowed reference DUT: conformant, only slow. Its wpa_supplicant is held to a
# CPU quota (lab/cpu_limit.py), so its roams take longer on the air while its verdicts stay
# the same; it exists to show the release gate failing on roam time (docs/ci.md).
# "slow" takes SLOW_DEFAULT; "slow=QUOTA/PERIOD" (µs) or "slow=N%" another quota.
SLOW = "slow"
SLOW_DEFAULT = "20000/100000"


def slow_limit(which: str) -> cpu_limit.CpuLimit | None:
    """The CPU quota a "slow" or "slow=..." variant asks for; None for any other variant.
    Raises cpu_limit.CpuLimitError on a bad quota."""
    name, sep, spec = which.partition("=")
    if name != SLOW:
        return None
    if sep and not spec:
        raise cpu_limit.CpuLimitError(f"linux-wpas:{which}: give a quota after '=', e.g. slow={SLOW_DEFAULT}")
    return cpu_limit.CpuLimit.parse(spec or SLOW_DEFAULT)


def known_variant(which: str) -> bool:
    try:
        return which in VARIANTS or which in OPTIONS or slow_limit(which) is not None
    except cpu_limit.CpuLimitError:
        return False


def mutant_note(which: str) -> str:
    """What reports say about a variant that is broken or slowed on purpose ("" for an option);
    the identity's "test_mutant" key (reports label it TEST MUTANT, never CONFORMANT)."""
    cpu = slow_limit(which)
    if cpu is not None:
        return (f"linux-wpas:{which}: wpa_supplicant deliberately slowed to {cpu.describe()}, "
                "to test the release gate's metric limits; not a device, never to be certified")
    if which in VARIANTS:
        return (f"linux-wpas:{which}: the reference DUT deliberately misconfigured, to test "
                "that the suites catch it; not a device, never to be certified")
    return ""


def variant(lab, which: str) -> LinuxWpasDut:
    cpu = slow_limit(which)
    if cpu is not None:
        return LinuxWpasDut(lab, name=f"linux-wpas-{SLOW}", cpu=cpu, test_mutant=mutant_note(which))
    kw = VARIANTS.get(which) or OPTIONS.get(which)
    if kw is None:
        raise ValueError(f"unknown linux-wpas variant {which!r}; known: "
                         f"{', '.join([*VARIANTS, *OPTIONS, SLOW, SLOW + '=QUOTA/PERIOD'])}")
    return LinuxWpasDut(lab, name=f"linux-wpas-{which}", test_mutant=mutant_note(which), **kw)


def dump_events(events: list[Event]) -> str:
    return json.dumps([e.to_dict() for e in events], indent=1)
