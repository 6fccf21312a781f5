"""Build the VM's initramfs from Debian's packages: busybox-static and the kernel's modules.

The result is cached under .cache/initramfs/<kernel version>-<content hash>.cpio,
so a second boot reuses it. Nothing is downloaded.
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
from pathlib import Path

# The modules the lab needs; their dependencies come from modprobe, in load order.
MODULES = ("virtio_pci", "9p", "9pnet_virtio", "virtio_console", "mac80211_hwsim",
           "bridge", "veth")
# Loaded only when the VM plays a lab host reached over SSH (roamcert.ssh=1, the labgrid
# proof): its network card, and FUSE for the sshfs that carries the run folder.
SSH_MODULES = ("virtio_net", "fuse")

AGENT = Path(__file__).resolve().parent / "agent.py"

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
radios=7
agent=
results=
ssh=
sshkey=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    roamcert.radios=*) radios="${arg#*=}" ;;
    roamcert.ssh=*) ssh="${arg#*=}" ;;
    roamcert.sshkey=*) sshkey="${arg#*=}" ;;
    roamcert.agent=*) agent="${arg#*=}" ;;
    roamcert.results=*) results="${arg#*=}" ;;
  esac
done
while read -r mod; do
  case "$mod" in
    mac80211_hwsim) insmod /lib/modules/$mod.ko radios=$radios || echo "roamcert: insmod $mod failed" ;;
    *) insmod /lib/modules/$mod.ko || echo "roamcert: insmod $mod failed" ;;
  esac
done < /modules.order
if [ -n "$ssh" ]; then
  while read -r mod; do
    insmod /lib/modules/$mod.ko || echo "roamcert: insmod $mod failed"
  done < /ssh-modules.order
fi
mkdir -p /newroot
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /newroot; then
  echo "roamcert: cannot mount the host root"; poweroff -f
fi
for d in tmp run var/lib var/log; do
  mount -t tmpfs -o mode=1777 tmpfs /newroot/$d || echo "roamcert: tmpfs on /$d failed"
done
mkdir -p /newroot/tmp/results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /newroot/tmp/results || echo "roamcert: results share missing"
mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
# The agent travels in the initramfs: the repository may live where the VM mounts
# its own tmpfs (/tmp), so the host's copy is not always visible after switch_root.
if [ -z "$agent" ]; then
  cp /agent.py /newroot/tmp/roamcert-agent.py
  agent=/tmp/roamcert-agent.py
fi
if [ -n "$ssh" ]; then
  # A lab host reached over SSH: qemu's user network (restrict=on: nothing leaves the
  # VM) forwards a loopback port of the host to dropbear here. Host keys are made now;
  # root's home becomes a tmpfs holding only the key the caller passed on the command line.
  ip link set lo up
  ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up || echo "roamcert: no eth0"
  mount -t tmpfs -o mode=0700 tmpfs /newroot/root
  mkdir -m 0700 /newroot/root/.ssh
  echo "$sshkey" | base64 -d > /newroot/root/.ssh/authorized_keys
  chroot /newroot /usr/bin/dropbearkey -t ed25519 -f /tmp/roamcert-hostkey >/dev/null 2>&1
  echo "roamcert: ssh host key $(chroot /newroot /usr/bin/dropbearkey -y -f /tmp/roamcert-hostkey | grep '^ssh-')"
  chroot /newroot /usr/sbin/dropbear -r /tmp/roamcert-hostkey -p 22 -s -P /run/dropbear.pid -E 2>>/newroot/tmp/dropbear.log \
    || echo "roamcert: dropbear did not start"
fi
echo "roamcert: switching root, agent $agent"
exec switch_root /newroot /usr/bin/python3 -u -I -S "$agent" --port-name roamcert.agent
"""


def kernel_version() -> str:
    mods = Path("/lib/modules")
    vers = sorted(p.name for p in mods.iterdir() if (Path("/boot") / f"vmlinuz-{p.name}").exists()) \
        if mods.is_dir() else []
    if not vers:
        raise RuntimeError("no kernel found: /boot/vmlinuz-<ver> with /lib/modules/<ver> "
                           "(Debian package linux-image-amd64)")
    return vers[-1]


def module_order(kver: str, modules=MODULES, skip=()) -> list[Path]:
    """Every .ko needed for modules, dependencies first, each once (none of skip)."""
    order: list[Path] = []
    for mod in modules:
        out = subprocess.run(["modprobe", "-S", kver, "--show-depends", mod],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"modprobe cannot resolve {mod} for {kver}: {out.stderr.strip()}")
        for line in out.stdout.splitlines():
            parts = line.split()
            if parts[:1] == ["insmod"]:
                p = Path(parts[1])
                if p not in order and p not in skip:
                    order.append(p)
    return order


class _Cpio:
    """Minimal newc archive writer (the format the kernel unpacks)."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1

    def _hdr(self, name: str, mode: int, size: int, nlink: int = 1):
        fields = [self.ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, len(name) + 1, 0]
        self.ino += 1
        h = b"070701" + b"".join(b"%08X" % f for f in fields)
        self.buf.write(h + name.encode() + b"\0")
        self._pad()

    def _pad(self):
        self.buf.write(b"\0" * (-self.buf.tell() % 4))

    def dir(self, name: str):
        self._hdr(name, 0o040755, 0, 2)

    def file(self, name: str, data: bytes, mode: int = 0o644):
        self._hdr(name, 0o100000 | mode, len(data))
        self.buf.write(data)
        self._pad()

    def close(self) -> bytes:
        self._hdr("TRAILER!!!", 0, 0)
        return self.buf.getvalue()


def build(cache_dir: Path, kver: str | None = None, ssh: bool = False) -> tuple[Path, Path]:
    """Return (kernel, initramfs) paths, building the initramfs if needed. ssh: the variant
    with the SSH lab host's modules (SSH_MODULES); the plain one stays as small as before."""
    kver = kver or kernel_version()
    kernel = Path("/boot") / f"vmlinuz-{kver}"
    busybox = shutil.which("busybox")
    if not busybox:
        raise RuntimeError("busybox not found (Debian package busybox-static)")
    mods = module_order(kver)
    ssh_mods = module_order(kver, SSH_MODULES, skip=mods) if ssh else []
    agent = AGENT.read_bytes()
    h = hashlib.sha256(INIT.encode() + agent + (b"ssh" if ssh else b""))
    for p in [Path(busybox), *mods, *ssh_mods]:
        st = p.stat()
        h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}".encode())
    out = cache_dir / f"{kver}-{h.hexdigest()[:12]}.cpio"
    if out.exists():
        return kernel, out
    cache_dir.mkdir(parents=True, exist_ok=True)
    c = _Cpio()
    for d in ("bin", "dev", "proc", "sys", "lib", "lib/modules", "newroot"):
        c.dir(d)
    c.file("bin/busybox", Path(busybox).read_bytes(), 0o755)
    c.file("init", INIT.encode(), 0o755)
    c.file("agent.py", agent, 0o644)
    for order_file, group in (("modules.order", mods), ("ssh-modules.order", ssh_mods)):
        names = []
        for p in group:
            name = p.name.removesuffix(".ko")
            if p.suffix != ".ko":
                raise RuntimeError(f"compressed module {p} is not supported by busybox insmod")
            c.file(f"lib/modules/{name}.ko", p.read_bytes())
            names.append(name)
        c.file(order_file, ("\n".join(names) + "\n").encode())
    # a name of this process's own: parallel labs (pytest-xdist workers) may build at once
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    # Uncompressed: under TCG the kernel's gunzip costs more than reading the bigger file.
    tmp.write_bytes(c.close())
    os.replace(tmp, out)
    return kernel, out
