"""The virtual lab: a qemu VM running Debian's kernel with mac80211_hwsim.

The host root is shared read-only over 9p and becomes the VM's root, so the VM
runs this machine's own hostapd, wpa_supplicant and python3. A second, writable
9p share (the results dir) carries logs and pcaps out. The agent talks over a
virtio-serial port bound to a unix socket on the host.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from lab import initramfs
from lab.client import AgentClient

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
AGENT = ROOT / "lab" / "agent.py"
RESULTS_IN_VM = "/tmp/results"
QBOOT = Path("/usr/share/qemu/qboot.rom")

_PR_SET_PDEATHSIG = 1


class BootError(RuntimeError):
    pass


def _die_with_parent():
    # qemu must not outlive the python process that started it, even on SIGKILL.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setsid()  # Ctrl-C in the terminal goes to pytest, which then shuts the VM down


class VirtualLab:
    kind = "virtual"

    def __init__(self, results_dir: Path, radios: int = 7, memory_mb: int = 768,
                 boot_timeout: float = 60.0, agent: Path | None = None,
                 ssh_port: int | None = None, ssh_pubkey: str | None = None, lab_dir: str = "lab"):
        self.agent_path = agent  # None: the copy inside the initramfs
        # ssh_port: the VM also plays a lab host reached over SSH (the labgrid proof):
        # dropbear in the VM, reached at 127.0.0.1:ssh_port, accepts ssh_pubkey only.
        if (ssh_port is None) != (ssh_pubkey is None):
            raise ValueError("an SSH lab host needs both ssh_port and ssh_pubkey")
        self.ssh_port = ssh_port
        self.ssh_pubkey = ssh_pubkey
        self.cpus = int(os.environ.get("ROAMCERT_VM_CPUS", "1"))
        self.results_dir = Path(results_dir).resolve()
        self.lab_dir = lab_dir  # the lab's own files (console log) under the results dir
        self.radios = radios
        self.memory_mb = memory_mb
        self.boot_timeout = boot_timeout
        self.proc: subprocess.Popen | None = None
        self.agent: AgentClient | None = None
        self.sock: socket.socket | None = None
        self.workdir: Path | None = None
        self.console_log: Path | None = None
        self.boot_seconds: float | None = None

    # -- paths as the VM sees them -------------------------------------------------
    def vm_path(self, host_path: Path) -> str:
        """Where a file under the results dir appears inside the VM."""
        rel = Path(host_path).resolve().relative_to(self.results_dir)
        return f"{RESULTS_IN_VM}/{rel}" if str(rel) != "." else RESULTS_IN_VM

    def host_path(self, vm_path: str) -> Path:
        if not vm_path.startswith(RESULTS_IN_VM):
            raise ValueError(f"{vm_path} is not on the results share")
        return self.results_dir / vm_path[len(RESULTS_IN_VM):].lstrip("/")

    def console_tail(self, n: int = 40) -> str:
        if not self.console_log or not self.console_log.exists():
            return "(no console log)"
        lines = self.console_log.read_bytes().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])

    def qemu_argv(self, kernel: Path, initrd: Path, sock_path: Path) -> list[str]:
        qemu = shutil.which("qemu-system-x86_64")
        if not qemu:
            raise BootError("qemu-system-x86_64 not found (Debian package qemu-system-x86)")
        append = f"console=ttyS0 panic=-1 quiet printk.time=1 roamcert.radios={self.radios}"
        if self.agent_path:
            append += f" roamcert.agent={self.agent_path}"
        nic = ["-nic", "none"]
        if self.ssh_port is not None:
            import base64
            key = base64.b64encode(self.ssh_pubkey.strip().encode()).decode()
            append += f" roamcert.ssh=1 roamcert.sshkey={key}"
            # restrict=on: the VM reaches nothing; only the forwarded loopback port reaches it.
            nic = ["-netdev", f"user,id=n,restrict=on,hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22",
                   "-device", "virtio-net-pci,netdev=n"]
        # qboot (Debian's qemu-system-data) starts a -kernel boot about a second sooner
        # than SeaBIOS under TCG.
        bios = ["-bios", str(QBOOT)] if QBOOT.exists() else []
        return [
            qemu, *bios, "-accel", "tcg,thread=multi", "-cpu", "max", "-m", str(self.memory_mb), "-smp", str(self.cpus),
            "-nodefaults", "-no-reboot", "-display", "none", "-monitor", "none",
            "-kernel", str(kernel), "-initrd", str(initrd), "-append", append,
            "-serial", f"file:{self.console_log}",
            "-rtc", "base=utc,clock=host",
            "-fsdev", "local,security_model=none,id=r,path=/,readonly=on,multidevs=remap",
            "-device", "virtio-9p-pci,fsdev=r,mount_tag=hostroot",
            "-fsdev", f"local,security_model=none,id=w,path={self.results_dir},multidevs=remap",
            "-device", "virtio-9p-pci,fsdev=w,mount_tag=results",
            "-device", "virtio-serial-pci",
            "-chardev", f"socket,id=ag,path={sock_path},server=on,wait=off",
            "-device", "virtserialport,chardev=ag,name=roamcert.agent",
            *nic,
        ]

    def boot(self) -> AgentClient:
        t0 = time.monotonic()
        self.results_dir.mkdir(parents=True, exist_ok=True)
        kernel, initrd = initramfs.build(CACHE / "initramfs", ssh=self.ssh_port is not None)
        self.workdir = Path(tempfile_dir())
        self.console_log = self.results_dir / self.lab_dir / "vm-console.log"
        self.console_log.parent.mkdir(parents=True, exist_ok=True)
        sock_path = self.workdir / "agent.sock"
        argv = self.qemu_argv(kernel, initrd, sock_path)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.workdir / "qemu.stderr", "wb"),
                                     preexec_fn=_die_with_parent)
        try:
            self.sock = self._connect(sock_path)
            rf = self.sock.makefile("rb")
            wf = self.sock.makefile("wb")
            self.agent = AgentClient(rf, wf)
            deadline = time.monotonic() + self.boot_timeout
            while not self.agent.ready.wait(0.2):
                if self.proc.poll() is not None:
                    raise BootError(self._boot_failure("qemu exited"))
                if time.monotonic() > deadline:
                    raise BootError(self._boot_failure(f"no agent after {self.boot_timeout:.0f}s"))
        except BaseException:
            self.shutdown()
            raise
        self.boot_seconds = time.monotonic() - t0
        return self.agent

    def _connect(self, path: Path) -> socket.socket:
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise BootError(self._boot_failure("qemu exited before opening the agent socket"))
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(str(path))
                return s
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise BootError(self._boot_failure("agent socket never appeared"))
                time.sleep(0.05)

    def _boot_failure(self, what: str) -> str:
        err = ""
        if self.workdir and (self.workdir / "qemu.stderr").exists():
            err = (self.workdir / "qemu.stderr").read_text(errors="replace").strip()
        return (f"virtual lab failed to boot: {what}\n"
                f"qemu stderr: {err or '(empty)'}\n--- console tail ---\n{self.console_tail()}")

    def ssh_host_key(self) -> str | None:
        """The host key dropbear made at boot, as the console printed it ("ssh-ed25519 AAAA...")."""
        if not self.console_log or not self.console_log.exists():
            return None
        for line in self.console_log.read_text(errors="replace").splitlines():
            if "roamcert: ssh host key " in line:
                return line.split("roamcert: ssh host key ", 1)[1].strip() or None
        return None

    def info(self) -> dict:
        return {"kind": self.kind, "radios": self.radios,
                "kernel": (self.agent.info.get("uname") if self.agent else None),
                "boot_s": round(self.boot_seconds, 2) if self.boot_seconds else None}

    def kill(self) -> None:
        """qemu goes at once (SIGKILL): for a VM that stopped answering."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        self.shutdown(timeout=5.0)

    def shutdown(self, timeout: float = 5.0) -> None:
        if self.agent and not self.agent.closed and self.proc and self.proc.poll() is None:
            try:
                self.agent.call("shutdown", timeout=3)
            except Exception:
                pass
        if self.proc:
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


def tempfile_dir() -> str:
    import tempfile
    return tempfile.mkdtemp(prefix="roamcert-vm-")
