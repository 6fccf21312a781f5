"""Esp32Dut over pyserial's loop:// and over socket:// to a local TCP server
(the same path the esp32-twin uses)."""
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from devices.base import DutError, WaitTimeout
from devices.esp32_serial import DutRebooted, Esp32Dut
from engine.events import Ind
from shared_data import SHARED

LOG = Path(str(SHARED) + "/data/esp32/roaming_example_btm_roam.log")


@pytest.fixture
def loop_dut():
    d = Esp32Dut("loop://", idle_flush=0.1)
    yield d
    d.close()


class LineServer:
    """A one-client TCP server on 127.0.0.1 standing in for a board."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.conn = None
        self._ready = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        self.conn, _ = self.sock.accept()
        self._ready.set()

    def send(self, data: bytes):
        assert self._ready.wait(5), "the adapter never connected"
        self.conn.sendall(data)

    def close(self):
        if self.conn:
            self.conn.close()
        self.sock.close()


def test_loop_lines_in_events_out(loop_dut):
    loop_dut.serial.write(LOG.read_bytes().replace(b"\n", b"\r\n"))
    ip = loop_dut.wait_for(lambda e: e.kind == "got_ip", 3)
    assert ip.get("ip") == "192.168.4.2"
    assert ip.source == "serial:30"  # 32 file lines, the two blank ones are not counted
    evs = loop_dut.events()
    assert [e.kind for e in evs] == ["btm_request", "scan_started", "bss_added", "scan_results", "btm_transition",
                                     "btm_response", "state", "state", "state", "state", "connected", "got_ip"]
    assert evs[10].get("security") == "WPA2-PSK"
    # the same trace as the file gives (tests/test_esp32_log.py): no disconnect line, so the roam's
    # only media indication is the MEDIA_CONNECT of the `connected with` line that ends it
    assert [i.kind for i in loop_dut.indications()] == [
        Ind.ROAMING_START, Ind.ASSOCIATION_START, Ind.ASSOCIATION_COMPLETION, Ind.ROAMING_COMPLETION,
        Ind.MEDIA_CONNECT]


def test_wait_for_since_skips_older_events(loop_dut):
    loop_dut.serial.write(b"I (1) wpa: scan done received\n")
    first = loop_dut.wait_for(lambda e: e.kind == "scan_results", 2)
    loop_dut.serial.write(b"I (2) wpa: scan done received\n")
    second = loop_dut.wait_for(lambda e: e.kind == "scan_results", 2, since=1)
    assert (first.t, second.t) == (0.001, 0.002)


def test_event_held_for_next_line_is_released_when_the_port_goes_quiet(loop_dut):
    loop_dut.serial.write(b"I (7) wifi:connected with lab, aid = 1, channel 1, BW20, bssid = 02:00:00:00:01:00\n")
    e = loop_dut.wait_for(lambda e: e.kind == "connected", 2)
    assert e.get("bssid") == "02:00:00:00:01:00" and e.get("security") is None


def test_silent_port_times_out_with_the_last_lines(loop_dut):
    loop_dut.serial.write(b"I (1) wifi:pm start, type: 1\nI (2) app: still alive\n")
    t0 = time.monotonic()
    with pytest.raises(WaitTimeout) as exc:
        loop_dut.wait_for(lambda e: e.kind == "connected", 0.5)
    assert 0.4 < time.monotonic() - t0 < 3
    msg = str(exc.value)
    assert "loop://" in msg and "I (2) app: still alive" in msg and "I (1) wifi:pm start" in msg


def test_reboot_banner_mid_stream_raises_dut_rebooted(loop_dut):
    loop_dut.serial.write(b"I (5000) wifi:state: assoc -> run (10)\n"
                          b"ets Jun  8 2016 00:22:57\n\n"
                          b"rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\n"
                          b"I (29) boot: ESP-IDF v5.1.2 2nd stage bootloader\n")
    with pytest.raises(DutRebooted) as exc:
        loop_dut.wait_for(lambda e: e.kind == "connected", 3)
    msg = str(exc.value)
    assert msg.startswith("DUT rebooted (rst:0xc SW_CPU_RESET) on loop://")
    assert "rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)" in exc.value.lines
    assert "ets Jun  8 2016 00:22:57" in exc.value.lines
    assert exc.value.event.kind == "reboot"
    assert isinstance(exc.value, DutError)


def test_panic_raises_with_backtrace_in_lines(loop_dut):
    loop_dut.serial.write(b"Guru Meditation Error: Core  1 panic'ed (StoreProhibited). Exception was unhandled.\n"
                          b"Backtrace: 0x400d1231:0x3ffb1f90\nRebooting...\n")
    with pytest.raises(DutRebooted) as exc:
        loop_dut.wait_for(lambda e: e.kind == "got_ip", 3)
    assert "panic (StoreProhibited)" in str(exc.value)
    assert "Backtrace: 0x400d1231:0x3ffb1f90" in exc.value.lines


def test_deliberate_reset_reboot_is_not_an_error(loop_dut):
    loop_dut.reset()
    loop_dut.serial.write(b"rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\n"
                          b"I (900) wifi:state: init -> auth (b0)\n")
    e = loop_dut.wait_for(lambda e: e.kind == "state", 3)
    assert e.get("new") == "auth"
    assert loop_dut.serial.rts is False and loop_dut.serial.dtr is False


def test_identity_and_capabilities():
    d = Esp32Dut("loop://", scan_cache=True)
    try:
        d.serial.write(b"I (20) cpu_start: ESP-IDF:          v5.1.2\nI (600) wifi:mode : sta (30:AE:A4:01:02:03)\n")
        deadline = time.monotonic() + 3
        while not (d.identity()["mac"] and d.identity()["firmware"]) and time.monotonic() < deadline:
            time.sleep(0.02)
        ident = d.identity()
    finally:
        d.close()
    assert ident["mac"] == "30:ae:a4:01:02:03"
    assert ident["firmware"] == "v5.1.2"
    assert ident["capabilities"] == ["btm", "ft_over_air", "ft_psk", "rrm_beacon_active", "rrm_beacon_passive",
                                     "rrm_beacon_table", "rrm_neighbor"]
    plain = Esp32Dut("loop://")
    plain.close()
    assert "rrm_beacon_table" not in plain.capabilities
    assert "ft_over_ds" not in plain.capabilities and "commands" not in plain.capabilities


def test_socket_url_with_split_writes_and_ansi():
    srv = LineServer()
    d = Esp32Dut(f"socket://127.0.0.1:{srv.port}", idle_flush=0.1)
    try:
        srv.send(b"\x1b[0;32mI (384689) wifi:state: init -> au")
        time.sleep(0.05)
        srv.send(b"th (b0)\x1b[0m\r\n\x1b[0;32mI (384709) wifi:state: assoc -> run (10)\x1b[0m\r\n")
        e = d.wait_for(lambda e: e.kind == "state" and e.get("new") == "run", 3)
        assert e.source == "serial:2" and e.t == 384.709
        assert [x.get("new") for x in d.events()] == ["auth", "run"]
    finally:
        d.close()
        srv.close()


def test_socket_closed_by_the_far_end_is_a_dut_error():
    srv = LineServer()
    d = Esp32Dut(f"socket://127.0.0.1:{srv.port}")
    try:
        srv.send(b"I (1) app: bye\n")
        srv.close()
        with pytest.raises(DutError) as exc:
            d.wait_for(lambda e: e.kind == "connected", 3)
        assert "127.0.0.1" in str(exc.value)
    finally:
        d.close()


def test_missing_port_error_names_it():
    with pytest.raises(DutError) as exc:
        Esp32Dut("/dev/ttyUSB-roamcert-missing")
    assert "/dev/ttyUSB-roamcert-missing" in str(exc.value)


def test_refused_socket_error_names_it():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(DutError) as exc:
        Esp32Dut(f"socket://127.0.0.1:{port}")
    assert f"socket://127.0.0.1:{port}" in str(exc.value)


def test_device_path_busy_error_names_it():
    master, slave = os.openpty()
    path = os.ttyname(slave)
    first = Esp32Dut(path)
    try:
        os.write(master, b"I (3) wpa: scan done received\r\n")
        assert first.wait_for(lambda e: e.kind == "scan_results", 3).source == "serial:1"
        with pytest.raises(DutError) as exc:
            Esp32Dut(path)
        assert path in str(exc.value) and "busy" in str(exc.value)
    finally:
        first.close()
        os.close(master)
        os.close(slave)


def test_reboot_banner_stays_in_the_lines_however_much_follows(loop_dut):
    # a board prints on after its reset; the fault's lines are anchored on the banner's own
    # line, so 60 lines arriving before the adapter looks cannot push the banner out
    after = b"".join(b"I (%d) app: line %d after the banner\n" % (40 + i, i) for i in range(60))
    loop_dut.serial.write(b"I (5000) wifi:state: assoc -> run (10)\n"
                          b"ets Jul 29 2019 12:21:46\n"
                          b"rst:0x7 (TG0WDT_SYS_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\n" + after)
    with pytest.raises(DutRebooted) as exc:
        loop_dut.wait_for(lambda e: e.kind == "never", 3)
    lines = exc.value.lines
    assert lines[:3] == ["I (5000) wifi:state: assoc -> run (10)", "ets Jul 29 2019 12:21:46",
                         "rst:0x7 (TG0WDT_SYS_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"]
    assert len(lines) == 30 and lines[-1] == "I (66) app: line 26 after the banner"
    assert "rst:0x7 (TG0WDT_SYS_RESET)" in str(exc.value)
