"""One lab, whatever carries it: radios, reference APs, supplicants, bridges, capture.

Fixtures talk only to this class; it talks only to the agent. The virtual lab
and a real Linux lab host differ in how the agent is reached, nothing else.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

from lab.client import AgentClient
from lab.daemon import DaemonError, wait_until
from lab.hostapd import BSSConfig, RefAP, bss_iface, radio_bssids, render_radio
from lab.sniffer import SnifferError, capture_record, merge_pcaps, plan_channels
from lab.wpas import SupplicantConfig, Supplicant


# Daemons write their debug log to a file through stdio, which would hold the last few KB
# back; adapters tail those logs live, so they must be line buffered.
LINEBUF = ("stdbuf", "-oL", "-eL")
LOCAL_LOGS = "/tmp/roamcert-logs"  # on the lab's own tmpfs


class LabError(RuntimeError):
    pass


class Lab:
    def __init__(self, agent: AgentClient, results_host: Path, results_vm: str, carrier=None,
                 lab_dir: str = "lab"):
        self.agent = agent
        # The lab's own files (daemon configs and logs) go under results_host/lab_dir: "lab",
        # or "lab/gwN" for pytest-xdist worker gwN, whose lab shares the run folder with others.
        self.lab_dir = lab_dir
        self.results_host = Path(results_host)
        self.results_vm = results_vm
        self.carrier = carrier  # VirtualLab, LocalLab or LabgridLab, for shutdown and info
        self.generation = 0  # how often the lab was restarted after a fault (lab.launch.reopen_lab)
        self.opened_with: tuple | None = None  # (kind, radios, labgrid, lab_dir): how to boot it again
        # A results share that costs a round trip per write (sshfs to a remote lab host):
        # the supplicants' debug logs are written on the lab's own tmpfs and mirrored here
        # line by line through the agent, and captures are copied over when they stop, so
        # no daemon waits on the share while it is handling frames.
        self.remote_share = bool(getattr(carrier, "remote_share", False))
        # A lab host that outlives the run (not a VM booted for it): links the run makes
        # are removed at the end, and leftovers of a run that died before are removed first.
        self.persistent = bool(getattr(carrier, "persistent_host", False))
        self.free: list[str] = []
        self.macs: dict[str, str] = {}
        self.daemons: dict[str, object] = {}
        self.bridges: set[str] = set()
        self.mirrors: dict[str, tuple[str, Path]] = {}
        self.country: str | None = None  # the regulatory domain ensure_country set
        # Monitor-mode radios that capture the air where there is no hwsim0 (lab/sniffer.py):
        # the carrier names them (a labgrid place's sniffer group); they carry no AP or DUT.
        self.sniffer: list[str] = list(getattr(carrier, "sniffer", None) or ())
        self.hwsim0 = False  # the lab has mac80211_hwsim's every-channel monitor interface
        self.n = 0
        # -d keeps every event the adapters parse and the FT key dumps (-K); -dd adds
        # message hexdumps that slow the daemons enough under TCG to cause retransmissions.
        self.debug = os.environ.get("ROAMCERT_DAEMON_DEBUG", "-d").split()
        self._discover()

    # -- radios ------------------------------------------------------------------------
    def _discover(self) -> None:
        out = self.agent.run(["iw", "dev"])["stdout"]
        for m in re.finditer(r"Interface (wlan\d+)\s+ifindex \d+\s+wdev \S+\s+addr ([0-9a-f:]{17})", out):
            self.macs[m.group(1)] = m.group(2)
        self.free = sorted((r for r in self.macs if r not in self.sniffer), key=lambda x: int(x[4:]))
        if not self.free:
            raise LabError("the lab has no wlan radios (is mac80211_hwsim loaded?)\n" + out)
        self.hwsim0 = self.agent.run(["ip", "link", "show", "hwsim0"], check=False)["rc"] == 0
        if self.sniffer:
            self._monitor_mode()
        elif self.hwsim0:
            self.agent.run(["ip", "link", "set", "hwsim0", "up"], check=False)

    def _monitor_mode(self) -> None:
        """Put the sniffer radios in monitor mode (tuned per case by start_air)."""
        for radio in self.sniffer:
            cmds = [["ip", "link", "set", radio, "down"], ["iw", "dev", radio, "set", "type", "monitor"],
                    ["ip", "link", "set", radio, "up"]]
            for argv in cmds:
                r = self.agent.run(argv, check=False)
                if r["rc"] != 0:
                    raise LabError(f"sniffer radio {radio}: `{' '.join(argv)}` failed: "
                                   f"{(r['stderr'] or r['stdout']).strip()} (does the lab host have {radio}, "
                                   f"and does its driver support monitor mode? `iw list` shows it)")

    def _managed_mode(self) -> None:
        """Leave a shared lab host's sniffer radios as the run found them."""
        for radio in self.sniffer:
            self.agent.run(["ip", "link", "set", radio, "down"], check=False)
            self.agent.run(["iw", "dev", radio, "set", "type", "managed"], check=False)

    def take_radio(self) -> str:
        if not self.free:
            raise LabError("no free radio left in the lab")
        iface = self.free.pop(0)
        self.agent.run(["ip", "link", "set", iface, "down"], check=False)
        return iface

    def give_back(self, iface: str) -> None:
        if iface not in self.free:
            self.free.append(iface)
            self.free.sort(key=lambda x: int(x[4:]))

    def info(self) -> dict:
        d = dict(self.carrier.info()) if self.carrier else {}
        d["radios"] = len(self.macs)
        d["air"] = self.air_source()  # what captures the air: hwsim0 or the sniffer radios
        if self.sniffer:
            d["sniffer"] = list(self.sniffer)
        for tool, argv in (("hostapd", ["hostapd", "-v"]), ("wpa_supplicant", ["wpa_supplicant", "-v"])):
            try:
                r = self.agent.run(argv, check=False)
                m = re.search(r"v(\d[\w.\-]*)", r["stdout"] + r["stderr"])
                d[tool] = m.group(1) if m else "unknown"
            except Exception:
                d[tool] = "unknown"
        return d

    # -- paths ---------------------------------------------------------------------------
    def out_path(self, rel: str) -> tuple[Path, str]:
        """A file on the results share: (host path, lab path)."""
        host = self.results_host / rel
        host.parent.mkdir(parents=True, exist_ok=True)
        return host, f"{self.results_vm}/{rel}"

    def _name(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    # -- L2 for FT over the DS --------------------------------------------------------------
    def ensure_ds(self, ap_bridge: str) -> None:
        """Give an AP bridge a veth into the shared br-ds, so APs' RRB frames meet."""
        cmds = []
        if "br-ds" not in self.bridges:
            cmds += ["link add br-ds type bridge", "link set br-ds up"]
        if ap_bridge not in self.bridges:
            a, b = f"v{ap_bridge}", f"v{ap_bridge}d"
            cmds += [f"link add {ap_bridge} type bridge", f"link set {ap_bridge} up",
                     f"link add {a} type veth peer name {b}", f"link set {a} master {ap_bridge}",
                     f"link set {b} master br-ds", f"link set {a} up", f"link set {b} up"]
        if cmds:
            if self.persistent:
                # a lab host outlives runs: a run that died may have left these behind
                self._del_links({x.split()[2] for x in cmds if x.startswith("link add ")})
            # one process for all of it: each command started in the VM costs ~0.1 s under TCG
            self.agent.run(["ip", "-batch", "-"], input="\n".join(cmds) + "\n")
            self.bridges |= {"br-ds", ap_bridge}

    def _del_links(self, names) -> None:
        dels = "".join(f"link del {n}\n" for n in sorted(names))
        if dels:
            self.agent.run(["ip", "-force", "-batch", "-"], input=dels, check=False)

    # -- daemons -----------------------------------------------------------------------------
    def start_ap(self, cfg: BSSConfig, name: str | None = None, logdir: str | None = None) -> RefAP:
        return self.start_radio([cfg], name, logdir)[0]

    def start_radio(self, cfgs: list[BSSConfig], name: str | None = None,
                    logdir: str | None = None) -> list[RefAP]:
        """One radio, one hostapd, one BSS per config (hostapd's multi-BSS `bss=` sections).
        The first BSS has the radio's address; the others count up in the last octet.
        BSS i > 0 is named <name>.<i>; stopping any BSS of the radio stops them all."""
        cfgs = list(cfgs)
        if not cfgs:
            raise ValueError("start_radio needs at least one BSS config")
        logdir = logdir or f"{self.lab_dir}/daemons"
        iface = self.take_radio()
        name = name or self._name("ap")
        try:
            bssids = radio_bssids(self.macs[iface], len(cfgs))
            if cfgs[0].channel > 14:
                self.ensure_country(cfgs[0].country)
            ctrl_dir = "/var/run/hostapd"
            conf = render_radio(cfgs, iface, bssids, ctrl_dir)
        except BaseException:
            self.give_back(iface)
            raise
        for cfg in cfgs:
            if cfg.bridge:
                self.ensure_ds(cfg.bridge)
        conf_host, conf_vm = self.out_path(f"{logdir}/{name}.conf")
        log_host, _ = self.out_path(f"{logdir}/{name}.log")
        # The AP's debug log goes to the lab's tmpfs and is copied out when the AP stops:
        # writing it through the share costs hostapd enough time, under TCG, to miss the
        # STA's 200 ms authentication timeout during FT (retransmission, new ANonce, status 55).
        log_vm = f"{LOCAL_LOGS}/{name}.log"
        self.agent.call("write_file", path=conf_vm, text=conf)
        self.agent.reset_stream(name)
        self.agent.call("spawn", name=name, argv=[*LINEBUF, "hostapd", *self.debug, "-t", "-K", conf_vm], log=log_vm)
        aps = []
        for i, (cfg, bssid) in enumerate(zip(cfgs, bssids)):
            bss_if = iface if i == 0 else bss_iface(iface, i)
            ap = RefAP(self.agent, name if i == 0 else f"{name}.{i}", bss_if, bssid, cfg,
                       f"{ctrl_dir}/{bss_if}", log_host, log_vm, conf)
            ap.log_copy = self.out_path(f"{logdir}/{name}.log")[1]
            if i:
                ap.radio = aps[0]
                aps[0].bsses.append(ap)
                self.agent.reset_stream(ap.name)
            aps.append(ap)
        self.daemons[name] = aps[0]
        try:
            for ap in aps:
                self.agent.call("attach", timeout=20, name=ap.name, path=ap.ctrl_path, limit=15)
            for ap in aps:
                ap.wait_enabled()
        except Exception as e:
            lines = aps[0].log_lines()
            self.stop(aps[0])
            raise LabError(f"hostapd refused or failed to start {name} on {iface} "
                           f"(SSID {cfgs[0].ssid_b!r}, channel {cfgs[0].channel}, {len(cfgs)} BSS): {e}\n"
                           f"hostapd's own lines:\n" + "\n".join("  " + x for x in lines[-30:])) from None
        return aps

    def ensure_country(self, alpha2: str) -> None:
        """Set the lab's regulatory domain (needed for 5 GHz: the world domain lets no AP
        beacon there). cfg80211 reads Debian's wireless-regdb regulatory.db; in the VM the
        first attempt, made from the initramfs, finds none, so the database is reloaded
        from the host root first."""
        if self.country == alpha2:
            return
        r = self.agent.run(["iw", "reg", "reload"], check=False)
        if r["rc"] != 0:
            raise LabError(f"cfg80211 could not load regulatory.db ({(r['stderr'] or r['stdout']).strip()}): "
                           f"install Debian's wireless-regdb on the lab host (tools/setup.sh)")
        self.agent.run(["iw", "reg", "set", alpha2])

        def applied():
            out = self.agent.run(["iw", "reg", "get"])["stdout"]
            return f"country {alpha2}:" in out.split("phy#")[0]
        if not wait_until(applied, 10, 0.2):
            raise LabError(f"regulatory domain {alpha2} not applied: `iw reg get` says\n" +
                           self.agent.run(["iw", "reg", "get"])["stdout"])
        self.country = alpha2

    def start_supplicant(self, cfg: SupplicantConfig | None = None, name: str | None = None,
                         logdir: str | None = None, netns: str | None = None) -> Supplicant:
        """netns: move the radio's phy into that network namespace and run the supplicant
        there (see lab/dataplane.py); the caller moves it back after stop()."""
        cfg = cfg or SupplicantConfig()
        logdir = logdir or f"{self.lab_dir}/daemons"
        iface = self.take_radio()
        name = name or self._name("sta")
        prefix: list[str] = []
        if netns:
            from lab.dataplane import move_to_netns
            move_to_netns(self.agent, iface, netns)
            prefix = ["ip", "netns", "exec", netns]
        conf = cfg.render()
        conf_host, conf_vm = self.out_path(f"{logdir}/{name}.conf")
        log_host, log_vm = self.out_path(f"{logdir}/{name}.log")
        self.agent.call("write_file", path=conf_vm, text=conf)
        self.agent.reset_stream(name)
        if self.remote_share:
            log_vm = f"{LOCAL_LOGS}/{name}.log"
            self._mirror(log_vm, log_host, f"{name}.log")
        # ip netns exec and stdbuf exec what they run: the pid is the supplicant's own
        spawned = self.agent.call("spawn", name=name, log=log_vm,
                                  argv=[*prefix, *LINEBUF, "wpa_supplicant", "-D", "nl80211", "-i", iface,
                                        "-c", conf_vm, *self.debug, "-t", "-K"])
        sta = Supplicant(self.agent, name, iface, self.macs[iface], f"{cfg.ctrl_dir}/{iface}",
                         log_host, log_vm, conf)
        sta.pid = (spawned or {}).get("pid") if isinstance(spawned, dict) else None
        self.daemons[name] = sta
        try:
            self.agent.call("attach", timeout=20, name=name, path=sta.ctrl_path, limit=15)
        except Exception as e:
            self.stop(sta)
            raise LabError(f"wpa_supplicant {name} on {iface} did not start: {e}\n" +
                           "\n".join("  " + x for x in sta.log_lines()[-30:])) from None
        return sta

    def _mirror(self, lab_path: str, host_path: Path, name: str) -> None:
        """Follow a file on the lab's tmpfs into host_path (see remote_share)."""
        self.carrier.follow(lab_path, host_path)
        self.mirrors[name] = (lab_path, host_path)

    def _unmirror(self, name: str) -> None:
        """Let the copy catch up with the file, then stop following it."""
        lab_path, host_path = self.mirrors.pop(name)
        size = int(self.agent.run(["stat", "-c", "%s", lab_path], check=False)["stdout"].strip() or 0)
        self.carrier.unfollow(lab_path, host_path, size)

    def stop(self, daemon) -> None:
        radio = getattr(daemon, "radio", None)
        if radio is not None:  # a further BSS of a radio: the radio's hostapd goes
            daemon = radio
        for bss in getattr(daemon, "bsses", ()):
            bss.stop()  # detaches its control interface; the process is the first BSS's
        daemon.stop()
        if f"{daemon.name}.log" in self.mirrors:
            try:
                self._unmirror(f"{daemon.name}.log")
            except Exception:
                pass  # the lab is going down: the log is lost with it, the case's verdict is not
        copy = getattr(daemon, "log_copy", None)
        if copy:
            try:
                self.agent.run(["cp", daemon.log_vm, copy], check=False)
            except Exception:
                pass  # the lab is going down: the log is lost with it, the case's verdict is not
        self.daemons.pop(daemon.name, None)
        self.give_back(daemon.iface)

    def stop_all(self) -> None:
        for d in list(self.daemons.values()):
            self.stop(d)
        if self.persistent and self.sniffer:
            self._managed_mode()
        if self.persistent and self.bridges:
            # leave a shared lab host as the run found it (a veth goes with either end)
            self._del_links(self.bridges | {f"v{b}" for b in self.bridges if b != "br-ds"})
            self.bridges.clear()

    def now(self) -> float:
        """The lab kernel's clock, which stamps the capture and the daemons' logs."""
        return self.agent.call("ping")["t"]

    # -- radio conditions -------------------------------------------------------------------
    def set_txpower(self, iface: str, dbm: int) -> None:
        # hwsim RSSI is roughly tx power minus 50 dB
        self.agent.run(["iw", "dev", iface, "set", "txpower", "fixed", str(dbm * 100)])

    def radio(self, iface: str, up: bool) -> None:
        self.agent.run(["ip", "link", "set", iface, "up" if up else "down"])

    # -- capture ----------------------------------------------------------------------------
    def watch_link(self, iface: str, netns: str | None = None):
        """The kernel's link events for iface (lab/linkwatch.py)."""
        from lab.linkwatch import LinkWatch
        return LinkWatch(self, iface, netns)

    def air_source(self) -> str | None:
        """What captures the air: "sniffer", "hwsim0", or None (the lab cannot capture it)."""
        return "sniffer" if self.sniffer else "hwsim0" if self.hwsim0 else None

    def start_air(self, rel: str, plan: tuple[int, ...] = ()) -> "Capture | SnifferCapture":
        """The case's air capture into rel: hwsim0's, or the sniffer radios' tuned to the
        running APs' channels, then the plan's (lab/sniffer.py). Its .record says which."""
        if self.sniffer:
            running = [d.freq for d in self.daemons.values() if isinstance(d, RefAP)]
            tuning = plan_channels(running, plan, self.sniffer)
            return SnifferCapture(self, rel, tuning)
        if not self.hwsim0:
            raise NoAirCapture("the lab has no air capture: no hwsim0 (mac80211_hwsim) on the lab host and no "
                               "sniffer radio named (a labgrid place's `sniffer` group, docs/labs.md)")
        cap = self.start_capture(rel)
        cap.record = {"source": "hwsim0"}
        return cap

    def start_capture(self, rel: str, iface: str = "hwsim0", netns: str | None = None) -> "Capture":
        """tcpdump to the results share. The default is the air (hwsim0, radiotap); a DUT's own
        interface (in its netns) gives its packets as its kernel sends and receives them,
        decrypted, as Ethernet frames."""
        host, vm = self.out_path(rel)
        name = self._name("cap")
        share_copy = None
        if self.remote_share:
            share_copy, vm = vm, f"{LOCAL_LOGS}/{name}.pcap"
            self.agent.run(["mkdir", "-p", LOCAL_LOGS])
        self.agent.reset_stream(name)
        prefix = ["ip", "netns", "exec", netns] if netns else []
        # Bursts: a DUT's queued packets leave at once when its neighbour resolves, and on the
        # air every radio's Beacons fall due at the same TBTT. libpcap's ring has one slot per
        # frame of the snapshot length (256 KiB with -s 0), so the default 2 MiB buffer holds
        # 8 frames: a ninth at the same instant was lost (an 8-BSS radio beside three APs
        # left no Beacon of the three in the capture). 16 MiB holds 64. A sniffer radio
        # hears the same bursts on its channel.
        buf = ["-B", "16384"] if iface == "hwsim0" or iface in self.sniffer else ["-B", "4096"]
        self.agent.call("spawn", name=name, stream=True,
                        argv=[*prefix, "tcpdump", "-i", iface, *buf, "--immediate-mode", "-U", "-s", "0", "-n",
                              "-w", vm])
        cap = Capture(self, name, host)
        if share_copy:
            cap.copy = (vm, share_copy)
        s = self.agent.stream(name)
        ok = self.agent.wait(lambda: any("listening on" in x for _, x in s.items) or s.exit, 15)
        if not ok or s.exit:
            raise LabError(f"capture did not start: {[x for _, x in s.items]} {s.exit}")
        return cap


class NoAirCapture(LabError):
    """Neither hwsim0 nor a sniffer radio: cases that judge the air cannot run."""


class Capture:
    def __init__(self, lab: Lab, name: str, path: Path):
        self.lab = lab
        self.name = name
        self.path = path
        self.record: dict | None = None  # for the air: how it was captured (evidence "capture")

    stopped = False
    copy: tuple[str, str] | None = None  # (lab tmpfs path, share path) with a remote share

    def stop(self) -> Path:
        if self.stopped:
            return self.path
        self.stopped = True
        # Let frames in flight reach the pcap before tcpdump goes.
        time.sleep(0.2)
        try:
            self.lab.agent.call("stop", name=self.name)
            if self.copy:
                # one bulk copy onto the share, then the lab's own copy goes
                self.lab.agent.run(["sh", "-c", 'cp "$1" "$2" && rm -f "$1"', "sh", *self.copy], timeout=60)
        except Exception as e:
            raise DaemonError(f"capture stop failed: {e}") from e
        return self.path


class SnifferCapture:
    """One tcpdump per sniffer radio, each tuned to its channel; stop() merges their pcaps
    into the case's air.pcap (lab/sniffer.py)."""

    def __init__(self, lab: Lab, rel: str, tuning: dict[str, int]):
        self.lab = lab
        self.tuning = tuning
        self.record = capture_record(tuning)
        self.path = lab.results_host / rel
        self.parts: list[Capture] = []
        stem = rel[:-5] if rel.endswith(".pcap") else rel
        try:
            for radio, freq in tuning.items():
                if freq > 3000:
                    lab.ensure_country(lab.country or BSSConfig.country)  # 5 GHz needs a regulatory domain
                # Tuned while up, then down and up again: mac80211_hwsim went on delivering the
                # previous channel's frames to a monitor radio retuned while up (its pcap had
                # both channels' beacons, so the merged capture had every frame twice); after
                # down and up it hears the new channel only. A real radio keeps its monitor
                # channel over down and up too (mac80211's monitor_chandef).
                for argv in (["iw", "dev", radio, "set", "freq", str(freq)], ["ip", "link", "set", radio, "down"],
                             ["ip", "link", "set", radio, "up"], ["iw", "dev", radio, "info"]):
                    r = lab.agent.run(argv, check=False)
                    if r["rc"] != 0:
                        raise LabError(f"sniffer radio {radio} cannot listen on {freq} MHz: `{' '.join(argv)}`: "
                                       f"{(r['stderr'] or r['stdout']).strip()}")
                if f"({freq} MHz)" not in r["stdout"]:
                    raise LabError(f"sniffer radio {radio} was tuned to {freq} MHz but `iw dev {radio} info` "
                                   f"says:\n{r['stdout']}")
                self.parts.append(lab.start_capture(f"{stem}-{radio}.pcap", iface=radio))
        except BaseException:
            for cap in self.parts:
                try:
                    cap.stop()
                except Exception:
                    pass
            raise

    stopped = False

    def stop(self) -> Path:
        if self.stopped:
            return self.path
        self.stopped = True
        paths = [cap.stop() for cap in self.parts]
        try:
            return merge_pcaps(paths, self.path)
        except SnifferError as e:
            raise DaemonError(f"sniffer capture: {e}") from e
