"""A whole labgrid lab on this machine, with no hardware, everything on 127.0.0.1:

- a labgrid coordinator;
- a lab host: the virtual lab's VM, booted with dropbear and qemu user networking
  (restrict=on, only 127.0.0.1:<port> forwarded to its port 22); host keys made at
  boot (read back from its console for a strict known_hosts), key-only login with a key
  made here;
- the esp32-twin's serial as a network serial port: the twin (started later, by the
  run, on a fixed loopback port) <- a pty that lives as long as the rig and reconnects to
  the twin's port whenever a run starts one (the stand-in for a USB UART) <-
  Debian's ser2net serving that pty over RFC 2217 with the same connector settings
  labgrid's exporter gives it, but bound to 127.0.0.1 (labgrid's exporter binds ser2net
  to every address, so the proof exports the port as a NetworkSerialPort instead);
- a labgrid exporter exporting the lab host (NetworkService), the serial port, and two
  of the VM's hwsim radios (wlan5, wlan6) as the `sniffer` group's NetworkInterfaces;
- a place matching the lab host and the serial port (PLACE), and a place matching the lab
  host and the sniffer radios (SNIFFER_PLACE: its air is captured by those radios in
  monitor mode, lab/sniffer.py).

`./roamcert run --lab labgrid` then reaches the lab only through the coordinator.
"""
from __future__ import annotations

import os
import select
import socket
import subprocess
import threading
import time
import tty
from pathlib import Path

from lab.vm import VirtualLab

ROOT = Path(__file__).resolve().parent.parent
LGVENV = Path(os.environ.get("ROAMCERT_LABGRID_VENV") or ROOT / ".venv-labgrid")
PLACE = "roamcert-proof"
SNIFFER_PLACE = "roamcert-proof-sniffer"
SNIFFER_RADIOS = ("wlan5", "wlan6")  # the VM boots 7 hwsim radios; a smoke run uses 3 or 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(fn, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise RuntimeError(f"labgrid rig: {what} not within {timeout:.0f}s")
        time.sleep(interval)


class LabgridRig:
    def __init__(self, workdir: Path):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ssh_port = free_port()
        self.coord_port = free_port()
        self.ser2net_port = free_port()
        self.twin_port = free_port()
        self.coordinator = f"127.0.0.1:{self.coord_port}"
        self.key = self.dir / "id_ed25519"
        self.known_hosts = self.dir / "known_hosts"
        self.vm: VirtualLab | None = None
        self.uart: PtyUart | None = None
        self.procs: dict[str, subprocess.Popen] = {}

    # -- pieces -------------------------------------------------------------------------------
    def client(self, *args: str, check: bool = True, user: str | None = None) -> subprocess.CompletedProcess:
        env = dict(os.environ)
        if user:
            env["USER"] = user
        r = subprocess.run([str(LGVENV / "bin" / "labgrid-client"), "-x", self.coordinator, *args],
                           capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise RuntimeError(f"labgrid-client {' '.join(args)}: {r.stderr.strip() or r.stdout.strip()}")
        return r

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.dir / f"{name}.log", "wb")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.dir,
                             preexec_fn=_die_with_parent)
        log.close()
        self.procs[name] = p
        return p

    def _alive(self, name: str) -> None:
        p = self.procs[name]
        if p.poll() is not None:
            raise RuntimeError(f"labgrid rig: {name} exited {p.returncode}: "
                               + (self.dir / f"{name}.log").read_text(errors="replace")[-1500:])

    def start(self) -> "LabgridRig":
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "roamcert-proof",
                        "-f", str(self.key)], check=True)
        # the lab host
        self.vm = VirtualLab(self.dir / "labhost", ssh_port=self.ssh_port,
                             ssh_pubkey=(self.dir / "id_ed25519.pub").read_text())
        # A lab host also runs ssh, sshfs and the log followers beside the daemons; under
        # TCG one vCPU leaves hostapd too little of it to answer an FT authentication
        # before the STA retransmits. Two vCPUs (ROAMCERT_RIG_CPUS) keep it close to a real host.
        self.vm.cpus = int(os.environ.get("ROAMCERT_RIG_CPUS", "2"))
        self.vm.boot()
        hostkey = self.vm.ssh_host_key()
        if not hostkey:
            raise RuntimeError("labgrid rig: the VM printed no SSH host key\n" + self.vm.console_tail())
        self.known_hosts.write_text(f"[127.0.0.1]:{self.ssh_port} {hostkey}\n")
        # the coordinator (it keeps places.yaml/resources.yaml in its working directory)
        self._spawn("coordinator", [str(LGVENV / "bin" / "labgrid-coordinator"), "-l", self.coordinator])
        wait_until(lambda: self._alive("coordinator") or self.client("places", check=False).returncode == 0,
                   30, "the coordinator answering")
        # the twin's UART: a pty bridged to the twin's loopback port whenever the run starts it
        self.uart = PtyUart(self.twin_port)
        pty = self.uart.tty
        (self.dir / "ser2net.yaml").write_text(
            "connection: &esp32twin\n"
            f"  accepter: telnet(rfc2217,mode=server),tcp,127.0.0.1,{self.ser2net_port}\n"
            f"  connector: serialdev(nouucplock=true),{pty},115200n81,local\n"
            "  options:\n"
            "    max-connections: 10\n")
        self._spawn("ser2net", ["ser2net", "-n", "-d", "-c", str(self.dir / "ser2net.yaml"),
                                "-P", str(self.dir / "ser2net.pid")])
        wait_until(lambda: self._alive("ser2net") or _listening(self.ser2net_port), 10, "ser2net listening")
        # the exporter
        (self.dir / "exporter.yaml").write_text(
            "labhost:\n"
            "  NetworkService:\n"
            "    address: 127.0.0.1\n"
            f"    port: {self.ssh_port}\n"
            "    username: root\n"
            "esp32-twin:\n"
            "  NetworkSerialPort:\n"
            "    host: 127.0.0.1\n"
            f"    port: {self.ser2net_port}\n"
            "    speed: 115200\n"
            "sniffer:\n" + "".join(
                f"  sniffer-{i + 1}:\n    cls: NetworkInterface\n    ifname: {radio}\n"
                for i, radio in enumerate(SNIFFER_RADIOS)))
        self._spawn("exporter", [str(LGVENV / "bin" / "labgrid-exporter"), "-c", self.coordinator,
                                 "-n", "roamcert-proof", "--hostname", "127.0.0.1",
                                 str(self.dir / "exporter.yaml")])
        wait_until(lambda: self._alive("exporter") or
                   self.client("resources", check=False).stdout.count("roamcert-proof/") >= 2 + len(SNIFFER_RADIOS),
                   30, "the exporter's resources")
        self.client("-p", PLACE, "create")
        self.client("-p", PLACE, "add-match", "roamcert-proof/labhost/*", "roamcert-proof/esp32-twin/*")
        self.client("-p", SNIFFER_PLACE, "create")
        self.client("-p", SNIFFER_PLACE, "add-match", "roamcert-proof/labhost/*", "roamcert-proof/sniffer/*")

    def holder(self, place: str = PLACE) -> str | None:
        """Who holds the place, as the coordinator says, or None."""
        for line in self.client("-p", place, "show").stdout.splitlines():
            if line.strip().startswith("acquired:"):
                v = line.split(":", 1)[1].strip()
                return None if v == "None" else v
        return None

    def run_args(self, place: str = PLACE) -> list[str]:
        return ["--lab", "labgrid", "--lg-coordinator", self.coordinator, "--lg-place", place,
                "--lg-ssh-key", str(self.key), "--lg-known-hosts", str(self.known_hosts)]

    def twin_dut(self) -> str:
        return f"esp32-twin:listen={self.twin_port},serial=lg:esp32-twin"

    def stop(self) -> None:
        for name in ("exporter", "ser2net", "coordinator"):
            p = self.procs.pop(name, None)
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.uart:
            self.uart.close()
            self.uart = None
        if self.vm:
            self.vm.shutdown()
            self.vm = None


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class PtyUart:
    """A pty standing in for a board's USB UART: what the twin sends on its loopback port
    comes out of the pty and the other way round. The pty stays while the twin comes and
    goes (one twin per run): the bridge reconnects to the port whenever it is listening."""

    def __init__(self, port: int):
        self.port = port
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        self.tty = os.ttyname(self._slave)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="pty-uart")
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=0.5)
            except OSError:
                self.stop.wait(0.2)
                continue
            with sock:
                self._pump(sock)

    def _pump(self, sock: socket.socket) -> None:
        while not self.stop.is_set():
            r, _, _ = select.select([sock, self.master], [], [], 0.2)
            if sock in r:
                data = sock.recv(65536)
                if not data:
                    return  # the twin went away; wait for the next one
                try:
                    os.write(self.master, data)
                except BlockingIOError:
                    pass  # nobody reads the UART: its bytes are lost, as on a wire
            if self.master in r:
                try:
                    data = os.read(self.master, 65536)
                except (BlockingIOError, OSError):
                    continue
                sock.sendall(data)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass


def _die_with_parent() -> None:
    # the rig's daemons end with the test process, even when it is killed outright
    import ctypes
    import signal
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
