"""The virtual lab itself: boot, the agent, daemons, faults and reliable shutdown.
These boot real VMs (qemu TCG with mac80211_hwsim)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lab.daemon import DaemonDied
from lab.hostapd import BSSConfig
from lab.session import LabError
from lab.vm import BootError, VirtualLab
from lab.wpas import Profile

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def vlab(tmp_path_factory):
    from lab.launch import close_lab, open_lab
    lab = open_lab("virtual", tmp_path_factory.mktemp("vlab"))
    yield lab
    close_lab(lab)


def qemu_pids(marker: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", f"qemu-system-x86_64.*{marker}"], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def test_agent_runs_commands_inside_the_vm(vlab):
    r = vlab.agent.run(["uname", "-r"])
    assert r["stdout"].strip() == vlab.agent.info["uname"]
    # hwsim radios and the monitor are there, and the host is not: the VM has its own kernel
    out = vlab.agent.run(["ip", "-o", "link"])["stdout"]
    assert "hwsim0" in out and "wlan0" in out
    assert len(vlab.macs) == 7


def test_refused_ap_config_carries_hostapd_lines(vlab):
    with pytest.raises(LabError) as e:
        vlab.start_ap(BSSConfig(channel=99, security="open"))
    msg = str(e.value)
    assert "hostapd's own lines" in msg
    assert "channel" in msg.lower()
    # the radio went back to the pool
    assert len(vlab.free) == 7


def test_dying_daemon_is_reported_as_death(vlab):
    ap = vlab.start_ap(BSSConfig(security="open"))
    try:
        m = ap.mark()
        vlab.agent.run(["pkill", "-KILL", "-f", f"{ap.name}.conf"])
        with pytest.raises(DaemonDied) as e:
            ap.wait_event("NEVER-HAPPENS", timeout=20, since=m)
        assert "died" in str(e.value) and "exit code -9" in str(e.value)
    finally:
        vlab.stop(ap)


def test_ft_psk_connect_and_capture(vlab, tmp_path):
    ap = vlab.start_ap(BSSConfig(channel=6))
    sta = vlab.start_supplicant()
    cap = vlab.start_capture("t/air.pcap")
    try:
        bssid = sta.connect(Profile())
        assert bssid == ap.bssid
        assert ap.sta_connected(sta.mac)
    finally:
        path = cap.stop()
        vlab.stop(sta)
        vlab.stop(ap)
    data = path.read_bytes()
    assert data[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4")  # a pcap file
    assert int.from_bytes(data[20:24], "little") == 127  # radiotap link type
    assert len(data) > 2000


def test_hostile_ssid_reaches_the_air_intact(vlab):
    ssid = b'<script>x</script>"\'\x00\xff'[:32]
    ap = vlab.start_ap(BSSConfig(ssid=ssid, security="open"))
    try:
        r = ap.ctrl("STATUS")
        assert "ssid[0]=" in r
        sta = vlab.start_supplicant()
        try:
            sta.scan()
            assert ssid.hex() in sta.ctrl(f"BSS {ap.bssid}") or sta.bss_known(ap.bssid)
        finally:
            vlab.stop(sta)
    finally:
        vlab.stop(ap)


def test_boot_failure_carries_console_tail(tmp_path):
    v = VirtualLab(tmp_path, agent=Path("/nonexistent/agent.py"), boot_timeout=40)
    with pytest.raises(BootError) as e:
        v.boot()
    msg = str(e.value)
    assert "console tail" in msg
    assert "can't open file '/nonexistent/agent.py'" in msg  # the kernel console said why
    assert v.proc.poll() is not None


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_no_qemu_outlives_its_parent(tmp_path, how):
    marker = str(tmp_path)
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from lab.vm import VirtualLab
        v = VirtualLab({str(tmp_path)!r})
        try:
            v.boot()
            print("UP", flush=True)
            time.sleep(600)
        finally:
            v.shutdown()
    """)
    # SIGINT as at a terminal: the default, even when this test runner inherited it ignored
    # (started in the background without job control)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = p.stdout.readline()
        assert line.strip() == "UP"
        assert qemu_pids(marker), "qemu should be running"
        p.send_signal(getattr(signal, how))
        p.wait(30)
        deadline = time.monotonic() + 15
        while qemu_pids(marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert qemu_pids(marker) == []
    finally:
        if p.poll() is None:
            p.kill()
        for pid in qemu_pids(marker):
            os.kill(pid, signal.SIGKILL)
