"""The labgrid lab: a lab host in a labgrid place, reached over SSH.

The carrier acquires the place (lab/labgrid_place.py), takes its lab host from the
place's NetworkService resource (address, port, username: labgrid's own description of
an SSH-reachable host), copies lab/agent.py there and starts it over ssh. The agent
protocol is unchanged: the same JSON lines travel over the ssh channel's stdin/stdout.

The run folder reaches the lab host the way no reverse connection is needed: sshfs runs
on the lab host in passive mode, its SFTP stream carried by a second ssh channel to an
sftp-server on this machine serving the run folder. hostapd, wpa_supplicant and tcpdump
on the lab host write their logs and pcaps straight into this machine's run folder, as
they do through the virtual lab's 9p share.

Needs on this machine: ssh (openssh-client) and /usr/lib/openssh/sftp-server
(openssh-sftp-server); on the lab host: python3, sshfs, hostapd, wpa_supplicant, iw,
tcpdump, iproute2 (docs/labs.md).
"""
from __future__ import annotations

import os
import secrets
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from lab.client import AgentClient
from lab.labgrid_place import LabgridError, Place, Resource, acquire_first
from lab.vm import AGENT

SFTP_SERVER = Path("/usr/lib/openssh/sftp-server")
# labgrid resources `labgrid-client io` drives; one in a board's group is taken to drive EN
DIGITAL_OUTPUTS = frozenset({"ModbusTCPCoil", "OneWirePIO", "HttpDigitalOutput", "SysfsGPIO", "NetworkSysfsGPIO",
                             "MatchedSysfsGPIO", "DeditecRelais8", "NetworkDeditecRelais8", "HIDRelay",
                             "NetworkHIDRelay", "LXAIOBusPIO", "NetworkLXAIOBusPIO", "WaveshareModbusTCPCoil"})


class SshHost:
    """ssh to one host, without a terminal, never asking for a password."""

    def __init__(self, address: str, port: int = 22, user: str = "root", key: str | None = None,
                 known_hosts: str | None = None):
        self.address = address
        self.port = int(port or 22)
        self.user = user or "root"
        self.key = key
        self.known_hosts = known_hosts
        self.control_dir: str | None = None

    @classmethod
    def from_resource(cls, res: Resource, key=None, known_hosts=None) -> "SshHost":
        p = res.params
        return cls(p["address"], p.get("port", 22), p.get("username", "root"), key, known_hosts)

    @property
    def label(self) -> str:
        return f"{self.user}@{self.address}:{self.port}"

    def argv(self, command: str | None, *extra: str) -> list[str]:
        a = ["ssh", "-T", "-p", str(self.port), "-o", "BatchMode=yes", "-o", "ConnectTimeout=20",
             "-o", "ServerAliveInterval=10", "-o", "ServerAliveCountMax=3", "-o", "LogLevel=ERROR", *extra]
        if self.control_dir:
            # every session rides the master connection: one key exchange for all of them
            a += ["-o", f"ControlPath={self.control_dir}/master", "-o", "ControlMaster=no"]
        if self.key:
            a += ["-i", self.key, "-o", "IdentitiesOnly=yes"]
        if self.known_hosts:
            a += ["-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes"]
        return a + [f"{self.user}@{self.address}"] + ([command] if command is not None else [])

    def start_master(self) -> None:
        """One ssh connection that every later session of this host shares."""
        import tempfile
        d = tempfile.mkdtemp(prefix="roamcert-ssh-")
        r = subprocess.run(self.argv(None, "-M", "-N", "-f", "-o", f"ControlPath={d}/master",
                                     "-o", "ControlPersist=yes"), capture_output=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            shutil.rmtree(d, ignore_errors=True)
            raise LabgridError(f"ssh {self.label}: {r.stderr.decode(errors='replace').strip()}")
        self.control_dir = d

    def stop_master(self) -> None:
        if self.control_dir:
            subprocess.run(self.argv(None, "-O", "exit"), capture_output=True, timeout=20)
            shutil.rmtree(self.control_dir, ignore_errors=True)
            self.control_dir = None

    def run(self, command: str, input: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        try:
            r = subprocess.run(self.argv(command), input=input, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise LabgridError(f"ssh {self.label} {command!r} did not finish within {timeout:.0f}s") from None
        if r.returncode != 0:
            err = r.stderr.decode(errors="replace").strip() or r.stdout.decode(errors="replace").strip()
            raise LabgridError(f"ssh {self.label} {command!r} exited {r.returncode}: {err}")
        return r


class LabgridLab:
    kind = "labgrid"
    remote_share = True  # the run folder is an sshfs mount on the lab host (lab/session.py)
    persistent_host = True  # the lab host outlives the run: leave it as found

    def __init__(self, results_dir: Path, places: list[Place], ssh_key: str | None = None,
                 known_hosts: str | None = None, host_name: str | None = None, start: int = 0,
                 lab_dir: str = "lab"):
        self.results_dir = Path(results_dir).resolve()
        self.lab_dir = lab_dir  # the lab's own files (ssh and sshfs logs) under the results dir
        self.places = places  # candidates; self.place is the one acquired
        self.place: Place | None = None
        self.start = start
        self.ssh_key = ssh_key
        self.known_hosts = known_hosts
        self.host_name = host_name  # which NetworkService, when the place has several
        self.host: SshHost | None = None
        self.remote_dir = f"/tmp/roamcert-{os.getpid()}-{secrets.token_hex(4)}"
        self.results_remote = f"{self.remote_dir}/results"
        self.agent: AgentClient | None = None
        self.agent_proc: subprocess.Popen | None = None
        self.sftp: subprocess.Popen | None = None
        self.mount_proc: subprocess.Popen | None = None
        self.boot_seconds: float | None = None
        self.follows: dict[str, subprocess.Popen] = {}
        self.sniffer: list[str] = []  # the lab host's monitor radios, from the place (sniffer_radios)

    def boot(self) -> AgentClient:
        t0 = time.monotonic()
        self.results_dir.mkdir(parents=True, exist_ok=True)
        (self.results_dir / self.lab_dir).mkdir(parents=True, exist_ok=True)
        self.place = acquire_first(self.places, self.start)  # PlaceBusy when other jobs hold them
        try:
            self.host = SshHost.from_resource(self.place.find("NetworkService", self.host_name),
                                              self.ssh_key, self.known_hosts)
            self.sniffer = sniffer_radios(self.place.resources)
            self.host.start_master()
            self.host.run(f"mkdir -p {self.results_remote} && cat > {self.remote_dir}/agent.py",
                          input=AGENT.read_bytes())
            self._mount_results()
            self._start_agent()
        except BaseException:
            self.shutdown()
            raise
        self.boot_seconds = time.monotonic() - t0
        return self.agent

    # -- the run folder on the lab host ----------------------------------------------------
    def _mount_results(self) -> None:
        if not SFTP_SERVER.exists():
            raise LabgridError(f"{SFTP_SERVER} not found (Debian package openssh-sftp-server)")
        # sftp-server's stdout feeds sshfs's stdin over ssh and back: two pipes.
        to_remote_r, to_remote_w = os.pipe()
        from_remote_r, from_remote_w = os.pipe()
        log = open(self.results_dir / self.lab_dir / "sshfs.log", "ab")
        try:
            self.sftp = subprocess.Popen([str(SFTP_SERVER), "-e", "-d", str(self.results_dir)],
                                         stdin=from_remote_r, stdout=to_remote_w, stderr=log)
            cmd = (f"exec sshfs -f -o passive,cache=no,attr_timeout=0,entry_timeout=0 "
                   f"{shlex.quote(':' + str(self.results_dir))} {self.results_remote}")
            self.mount_proc = subprocess.Popen(self.host.argv(cmd), stdin=to_remote_r, stdout=from_remote_w,
                                               stderr=log)
        finally:
            for fd in (to_remote_r, to_remote_w, from_remote_r, from_remote_w):
                os.close(fd)
            log.close()
        deadline = time.monotonic() + 30
        while True:
            r = subprocess.run(self.host.argv(f"grep -q ' {self.results_remote} fuse' /proc/mounts"),
                               capture_output=True)
            if r.returncode == 0:
                return
            if self.mount_proc.poll() is not None or time.monotonic() > deadline:
                tail = (self.results_dir / self.lab_dir / "sshfs.log").read_text(errors="replace")[-2000:]
                raise LabgridError(f"the run folder did not mount on the lab host {self.host.label} "
                                   f"(sshfs in passive mode; is sshfs installed there?): {tail.strip()}")
            time.sleep(0.2)

    def _start_agent(self) -> None:
        err = open(self.results_dir / self.lab_dir / "agent-ssh.log", "ab")
        self.agent_proc = subprocess.Popen(
            self.host.argv(f"exec python3 -u -I -S {self.remote_dir}/agent.py"),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        err.close()
        self.agent = AgentClient(self.agent_proc.stdout, self.agent_proc.stdin)
        if not self.agent.ready.wait(30):
            tail = (self.results_dir / self.lab_dir / "agent-ssh.log").read_text(errors="replace")[-2000:]
            raise LabgridError(f"the agent did not start on the lab host {self.host.label}: "
                               f"{self.agent.close_reason or 'no ready line in 30 s'}; ssh said: {tail.strip()}")

    # -- files followed live (lab/session.py's remote_share) ------------------------------------
    def follow(self, lab_path: str, host_path: Path) -> None:
        """Copy a file of the lab host's tmpfs into host_path as it grows: tail on the lab
        host, its output written straight into the file here by ssh (no Python between).
        tail polls every 0.2 s instead of waking on every line the daemon writes (GNU
        tail's ---disable-inotify): a batch of lines per read and per ssh packet leaves the
        lab host's CPU to the daemons, which must answer frames within 100 ms."""
        host_path.parent.mkdir(parents=True, exist_ok=True)
        with open(host_path, "wb") as out:
            self.follows[lab_path] = subprocess.Popen(
                self.host.argv(f"mkdir -p $(dirname {lab_path}) && : > {lab_path} && exec tail -n +1 -F ---disable-inotify -s 0.2 {lab_path}"),
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.DEVNULL)
        # the file exists on the lab host once the follower created it
        deadline = time.monotonic() + 15
        while subprocess.run(self.host.argv(f"test -e {lab_path}"), capture_output=True).returncode != 0:
            if self.follows[lab_path].poll() is not None or time.monotonic() > deadline:
                raise LabgridError(f"cannot follow {lab_path} on the lab host {self.host.label}")
            time.sleep(0.1)

    def unfollow(self, lab_path: str, host_path: Path, size: int, timeout: float = 10) -> None:
        """Stop following once host_path holds size bytes (or after timeout)."""
        proc = self.follows.pop(lab_path, None)
        if not proc:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if host_path.stat().st_size >= size:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        proc.terminate()
        _wait_or_kill(proc, 5)

    # -- what devices ask of the place ----------------------------------------------------------
    def serial_url(self, name: str | None = None) -> tuple[str, int | None]:
        """(URL, speed) of one of the place's serial ports, as pyserial and esptool open it."""
        res = self.place.find("NetworkSerialPort", name)
        p = res.params
        proto = p.get("protocol", "rfc2217")
        scheme = {"rfc2217": "rfc2217", "raw": "socket"}.get(proto)
        if not scheme:
            raise LabgridError(f"{res.path}: serial protocol {proto!r} is not supported (rfc2217 or raw)")
        # ign_set_control: pyserial waits for the server to acknowledge every DTR/RTS change,
        # which ser2net does not do for every port (a pty, some USB bridges); the change is
        # still sent, only the wait for an answer is skipped.
        query = "?ign_set_control" if scheme == "rfc2217" else ""
        return f"{scheme}://{p['host']}:{p['port']}{query}", p.get("speed")

    def board(self, name: str | None = None) -> dict:
        """A board's serial port and, from the same resource group, how to reset it:
        {"url", "speed", "group", "reset": ("power"|"io", resource name) or None}."""
        url, speed = self.serial_url(name)
        group = self.place.find("NetworkSerialPort", name).group
        reset = None
        for r in self.place.resources:
            if r.group != group:
                continue
            if "Power" in r.cls:
                reset = ("power", r.name)
                break
            if r.cls in DIGITAL_OUTPUTS:
                reset = ("io", r.name)
        return {"url": url, "speed": speed, "group": group, "reset": reset}

    def info(self) -> dict:
        return {"kind": self.kind, "place": self.place.label if self.place else None,
                "lab_host": self.host.label if self.host else None,
                "sniffer": list(self.sniffer) or None,
                "kernel": (self.agent.info.get("uname") if self.agent else None),
                "boot_s": round(self.boot_seconds, 2) if self.boot_seconds else None}

    def shutdown(self) -> None:
        try:
            if self.agent and not self.agent.closed:
                try:
                    self.agent.call("shutdown", timeout=10)
                except Exception:
                    pass
            if self.agent_proc:
                try:
                    self.agent_proc.stdin.close()
                except OSError:
                    pass
                _wait_or_kill(self.agent_proc, 5)
            if self.mount_proc and self.host:
                try:
                    # rmdir, never rm -r: should the unmount fail, nothing of the run folder goes
                    self.host.run(f"fusermount3 -u {self.results_remote} || umount -l {self.results_remote}; "
                                  f"rm -f {self.remote_dir}/agent.py; rmdir {self.results_remote} {self.remote_dir}",
                                  timeout=20)
                except LabgridError:
                    pass  # the host is gone or the mount with it: nothing left to clean
                _wait_or_kill(self.mount_proc, 5)
            if self.sftp:
                _wait_or_kill(self.sftp, 5)
            for proc in self.follows.values():
                _wait_or_kill(proc, 0)
            if self.host:
                self.host.stop_master()
        finally:
            if self.place:
                self.place.release()


SNIFFER_GROUP = "sniffer"


def sniffer_radios(resources: list[Resource]) -> list[str]:
    """The lab host's sniffer radios: the interface names of the NetworkInterface resources
    (RemoteNetworkInterface once exported) in the place's `sniffer` group, in name order.
    They must be radios of the lab host the place's NetworkService names: the agent there
    puts them in monitor mode (lab/sniffer.py)."""
    out = []
    for r in sorted(resources, key=lambda r: r.name):
        if r.group != SNIFFER_GROUP:
            continue
        if r.cls not in ("RemoteNetworkInterface", "NetworkInterface"):
            raise LabgridError(f"{r.path}: the sniffer group holds NetworkInterface resources "
                               f"(ifname: a monitor-capable radio of the lab host), not {r.cls}")
        ifname = r.params.get("ifname")
        if not ifname:
            raise LabgridError(f"{r.path}: a sniffer NetworkInterface needs ifname (the radio's name)")
        if ifname not in out:
            out.append(ifname)
    return out


def _wait_or_kill(proc: subprocess.Popen, timeout: float) -> None:
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

