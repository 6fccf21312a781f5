"""esp32-twin: the CI stand-in for an ESP32 board running ESP-IDF's roaming example
(examples/wifi/roaming/roaming_11kvr).

A real wpa_supplicant runs on a hwsim radio in the lab, configured like that
firmware (fixed SSID/passphrase, FT-PSK or WPA2-PSK, PMF capable, BTM and RRM on).
The twin tails its debug log (as devices/linux_wpas.py does) and re-emits what
happened as the board's serial output, on a TCP server on loopback
(`socket://127.0.0.1:<port>`) or a pty, which the esp32 adapter opens exactly as
it opens a board. Every line comes from a supplicant log line or a control
command the "app" sent; the mapping:

| wpa_supplicant debug log | serial line |
| --- | --- |
| `SME: Trying to authenticate with b` (driver idle) | `wifi:state: init -> auth (b0)` |
| same while connected (a roam) | `wifi:state: run -> init (0)`, `wifi:state: init -> auth (b0)`: the one roam a real board log shows (roaming_example_btm_roam.log lines 19 and 24), with no disconnect line between |
| `Trying to associate with b` | `wifi:state: auth -> assoc (0)` |
| `Associated with b` | `wifi:state: assoc -> run (10)` |
| `CTRL-EVENT-CONNECTED - Connection to b` | `wifi:connected with <ssid>, aid = 1, channel N, BW20, bssid = b`, `wifi:security: WPA2-PSK, phy: bgn, rssi: -N` (channel, width and RSSI from STATUS/SIGNAL_POLL), the app's `RRM supported`/`BTM supported` (from the AP's elements), then `esp_netif_handlers: sta ip: ..` |
| `CTRL-EVENT-DISCONNECTED bssid=b reason=N` | `wifi:state: <st> -> init (<code>)` (see `state_code`: N<<8 with 0xc0 after the AP's Deauthentication, 0xa0 after its Disassociation, as board logs print `run -> init (2c0)` before reason 2; `(0)` when the station left `run` itself), app `station got disconnected reason=N` |
| `CTRL-EVENT-ASSOC-REJECT` / `AUTH-REJECT` | `wifi:state: <st> -> init (..)`, app reason 203 ASSOC_FAIL / 202 AUTH_FAIL |
| `WNM: ..`, `RRM: ..`, `FT: ..`, `N: <b> info=..` candidate lines, `Measurement request ..` | `wpa: <same text>` (hexdumps, i.e. key material, left out) |
| `BSS: Add new id N BSSID b SSID 's' freq F`, scan start/results, `nl80211: Send Action frame` while connected | `wpa: BSS: Add new id N BSSID b SSID 's' chan C`, `scan issued at time=..`, `scan done received`, `action frame sent` (ESP-IDF's supplicant port words) |
| `RRM-NEIGHBOR-REP-RECEIVED ..` | app `RMM neighbor report bssid=.. info=0x.. op_class=.. chan=.. phy_type=..`, then the app's BTM query (reason 1, the report's entries as candidates) |

The app behaves like roaming_11kvr (examples/wifi/roaming/roaming_11kvr/main/roaming_example.c):
on every connect it logs `RRM supported`/`BTM supported` and sends a neighbor report request
(NEIGHBOR_REP_REQUEST) when the connection uses RRM; when the report arrives it logs each
entry and sends a BTM query (WNM_BSS_QUERY 1 neighbor=...); an empty report logs `RRM neighbor
report is not valid` and queries with `list`; no report at all (ESP-IDF posts the event with no
data) logs the app's `E ... No event data received for neighbor report`. The IP address is the
one thing not backed by the lab: the twin has no DHCP server, so `sta ip:` is printed once the
link is up, as the board prints it after DHCP (the twin claims no data plane).

The twin prints only lines the firmware prints. Removed, with the reason:
- `roaming_example: station got disconnected reason=12` on a BTM roam. The example prints that
  line for every WIFI_EVENT_STA_DISCONNECTED, and the real BTM roam log has none between
  `run -> init (0)` and the new association: the firmware posted no disconnect, with reason 12
  or any other. (The reason-12 line was invented, and made the twin's IND-6 finding circular.)
- `wifi:state: run -> auth (b0)` for a roam without BTM: no board log shows it; a roam is
  printed in the one shape a real log shows.
- `roaming_example: failed to send neighbor report request` after a connect: roaming_11kvr
  does not check that call on connect (the line belongs to its low-RSSI handler).
- `roaming_example: RRM neighbor report is not valid` when no report came: the app prints it
  for an empty report; for none it logs `No event data received for neighbor report`.

Reset: `hold()` is EN held low (the chip stops: the supplicant is told to
disconnect and forget its networks and BSS table; nothing is printed);
`release()` boots: ROM banner, bootloader, app start, then the firmware connects
by itself. Fault knobs for adapter tests: garbage bytes, a reboot or a panic in
the middle of a case, dropped lines, a silent board.
"""
from __future__ import annotations

import os
import random
import re
import socket
import threading
import time
from collections import deque

from lab.hostapd import DEFAULT_PASSPHRASE, FT_PSK
from lab.wpas import Profile, SupplicantConfig

DEFAULT_SSID = "roamcert"
IDF_VERSION = "v5.1.2-twin"
APP_TAG = "roaming_example"
BTM_QUERY_REASON = 1  # REASON_FRAME_LOSS, as the example sends it

_MAC = r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}"
_STAMP = re.compile(r"^(\d+\.\d{6}): (.*)$")
_CTRL_NOISE = ("CTRL-DEBUG", "CTRL_IFACE monitor")
_KEEP = re.compile(r"^(?:WNM: |RRM: |FT: |Measurement request |\d+: " + _MAC + r" info=)")
_COLOUR = {"E": "\x1b[0;31m", "W": "\x1b[0;33m", "I": "\x1b[0;32m"}

ROM_BANNER = [
    "ets Jul 29 2019 12:21:46",
    "",
    "rst:{rst},boot:0x13 (SPI_FAST_FLASH_BOOT)",
    "configsip: 0, SPIWP:0xee",
    "clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00",
    "mode:DIO, clock div:2",
    "load:0x3fff0030,len:7112",
    "load:0x40078000,len:15624",
    "load:0x40080400,len:4",
    "entry 0x4008064c",
]
BOOT_LINES = [  # (ms, tag, message)
    (29, "boot", f"ESP-IDF {IDF_VERSION} 2nd stage bootloader"),
    (29, "boot", "compile time Jan  1 2026 00:00:00"),
    (33, "boot", "chip revision: v3.0"),
    (46, "boot.esp32", "SPI Flash Size : 4MB"),
    (56, "boot", "Partition Table:"),
    (222, "cpu_start", "Pro cpu up."),
    (247, "app_start", "Project name:     roaming_11kvr"),
    (260, "app_start", f"ESP-IDF:          {IDF_VERSION}"),
    (330, "main_task", "Calling app_main()"),
    (412, "wifi", "wifi driver task: 3ffc08b4, prio:23, stack:6656, core=0"),
    (431, "wifi", "wifi firmware version: twin"),
]
PANIC_LINES = [
    "Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.",
    "",
    "Core  0 register dump:",
    "PC      : 0x400d2f3c  PS      : 0x00060a30  A0      : 0x800d3a51  A1      : 0x3ffb5a40",
    "EXCVADDR: 0x00000000  LBEG    : 0x4000c2e0  LEND    : 0x4000c2f6  LCOUNT  : 0xffffffff",
    "",
    "Backtrace: 0x400d2f39:0x3ffb5a40 0x400d3a4e:0x3ffb5a70 0x4008a1e2:0x3ffb5a90",
    "",
    "ELF file SHA256: 0000000000000000",
    "",
    "Rebooting...",
]
RST_REASON = {"power": "0x1 (POWERON_RESET)", "reboot": "0x7 (TG0WDT_SYS_RESET)", "panic": "0xc (SW_CPU_RESET)"}


def chan_of(freq: int) -> int:
    if freq == 2484:
        return 14
    if 2412 <= freq <= 2472:
        return (freq - 2407) // 5
    return (freq - 5000) // 5


# The code in `wifi:state: <old> -> init (<code>)`. Read off public board logs, not from
# source (the driver is closed): `run -> init (2c0)` then STA_DISCONNECTED reason 2,
# `auth -> init (3c0)`, `assoc -> init (6c0)`, `run -> init (fc0)`, `auth -> init (8a0)`,
# `auth -> init (200)`, `run -> init (cc00)`, and `run -> init (0)` for a roam or the app's
# own disconnect. Every one fits: the reason in the bits above the low byte, and in the low
# byte the frame control byte of the frame that caused it (0xc0 Deauthentication, 0xa0
# Disassociation), 0 for the station's own doing. That reading is an inference: no source
# confirms it.
_TEARDOWN_FC = {"DEAUTH": 0xC0, "DISASSOC": 0xA0}
DEAUTH_LEAVING = 3  # IEEE 802.11-2020 Table 9-49; wpa_supplicant's reason when it disconnects on request


def state_code(old: str, reason: int, frame: str | None) -> int:
    if frame in _TEARDOWN_FC:
        return reason << 8 | _TEARDOWN_FC[frame]
    if old == "run" and reason == DEAUTH_LEAVING:
        return 0  # the station left by itself (the app's esp_wifi_disconnect): `run -> init (0)`
    return reason << 8  # a failure of its own, as `auth -> init (200)`, `run -> init (cc00)`


class SerialEndpoint:
    """The board's UART as the host sees it: a one-client TCP server on loopback
    (a new client replaces the old one) or a pty. Output written while nobody
    listens is kept (bounded) and sent when a reader arrives."""

    def __init__(self, kind: str = "socket", port: int = 0):
        self.kind = kind
        self.lock = threading.Lock()
        self.backlog: deque[bytes] = deque(maxlen=4000)
        self.conn = None
        self.closed = False
        if kind == "pty":
            import tty
            self.master, slave = os.openpty()
            tty.setraw(slave)
            self.url = os.ttyname(slave)
            self._slave = slave
        else:
            self.sock = socket.socket()
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("127.0.0.1", port))  # port 0: any free one
            self.sock.listen(2)
            self.url = f"socket://127.0.0.1:{self.sock.getsockname()[1]}"
            threading.Thread(target=self._accept, daemon=True, name="esp32-twin-accept").start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                if self.conn:
                    try:
                        self.conn.close()
                    except OSError:
                        pass
                self.conn = conn
                while self.backlog:
                    try:
                        conn.sendall(self.backlog.popleft())
                    except OSError:
                        break

    def write(self, data: bytes) -> None:
        with self.lock:
            if self.kind == "pty":
                try:
                    os.write(self.master, data)
                except OSError:
                    pass
                return
            if self.conn is None:
                self.backlog.append(data)
                return
            try:
                self.conn.sendall(data)
            except OSError:
                self.conn = None  # the reader went away; keep what follows for the next one
                self.backlog.append(data)

    def close(self) -> None:
        self.closed = True
        with self.lock:
            if self.kind == "pty":
                for fd in (self.master, self._slave):
                    try:
                        os.close(fd)
                    except OSError:
                        pass
                return
            for s in (self.conn, self.sock):
                if s:
                    try:
                        s.close()
                    except OSError:
                        pass
            self.conn = None


class Esp32Twin:
    """One twin board. `url` is what the esp32 adapter opens; `mac` is its station MAC."""

    def __init__(self, lab, ssid: str = DEFAULT_SSID, passphrase: str = DEFAULT_PASSPHRASE,
                 scan_freqs: tuple[int, ...] = (), endpoint: str = "socket", name: str = "esp32-twin",
                 ip: str = "192.168.4.2", listen_port: int = 0):
        self.lab = lab
        self.ssid = ssid
        self.passphrase = passphrase
        self.ip = ip
        # The example sets ft_enabled and pmf capable; it takes FT-PSK when the AP offers it.
        # scan_freqs only shortens the connect scan in the lab (the board sweeps every channel).
        self.profile = Profile(ssid=ssid, security=FT_PSK, passphrase=passphrase, key_mgmt="FT-PSK WPA-PSK",
                               pmf=1, scan_freqs=tuple(scan_freqs))
        self.sup = lab.start_supplicant(SupplicantConfig(), name=f"dut-{name}")
        self.mac = self.sup.mac
        self.endpoint = SerialEndpoint(endpoint, listen_port)
        self.url = self.endpoint.url
        self.lock = threading.RLock()
        self.powered = False
        self.fence = float("inf")  # supplicant lines stamped before this are not the firmware's
        self.boot_t = time.monotonic()
        self._pos = 0
        self._buf = b""
        self._stop = threading.Event()
        self._reset_state()
        # fault knobs
        self.silent = False
        self.drop_every = 0  # drop every Nth line (0: none)
        self.dropped = 0
        self._line_no = 0
        self.sent: deque[str] = deque(maxlen=5000)  # lines that went out, for tests
        self._skip_to_end()
        self._thread = threading.Thread(target=self._tail, daemon=True, name="esp32-twin-tail")
        self._thread.start()

    # -- output ------------------------------------------------------------------------
    def ms(self) -> int:
        return int((time.monotonic() - self.boot_t) * 1000)

    def _raw(self, text: str) -> None:
        if self.silent:
            return
        self._line_no += 1
        if self.drop_every and self._line_no % self.drop_every == 0:
            self.dropped += 1
            return
        self.sent.append(text)
        self.endpoint.write(text.encode() + b"\r\n")

    def log(self, tag: str, msg: str, level: str = "I") -> None:
        sep = "" if tag == "wifi" else " "  # driver lines read `wifi:state: ...`
        line = f"{level} ({self.ms()}) {tag}:{sep}{msg}"
        c = _COLOUR.get(level)
        self._raw(f"{c}{line}\x1b[0m" if c else line)

    def garbage(self, n: int = 64, seed: int | None = None) -> bytes:
        """Fault: line noise on the UART (as a reset or a baud mismatch leaves)."""
        rnd = random.Random(seed)
        data = bytes(rnd.randrange(256) for _ in range(n)) + b"\x00\xff\x1b[0;3" + bytes([0xc3, 0x28])
        if not self.silent:
            self.endpoint.write(data)
        return data

    # -- the chip's EN line ------------------------------------------------------------
    def hold(self) -> None:
        """EN low: the chip stops; its supplicant forgets everything."""
        with self.lock:
            self.powered = False
        for cmd in ("DISCONNECT", "REMOVE_NETWORK all", "BSS_FLUSH 0"):
            self.sup.ctrl(cmd)

    def release(self, rst: str = "power") -> None:
        """EN high: boot and let the firmware connect by itself."""
        self._boot(RST_REASON[rst])

    def _boot(self, rst_text: str) -> None:
        with self.lock:
            self.powered = False
        for cmd in ("DISCONNECT", "REMOVE_NETWORK all", "BSS_FLUSH 0"):
            self.sup.ctrl(cmd)
        with self.lock:
            self._skip_to_end()
            self.fence = self.lab.now()
            self._reset_state()
            self.boot_t = time.monotonic()
            for line in ROM_BANNER:
                self._raw(line.format(rst=rst_text))
            for ms, tag, msg in BOOT_LINES:
                self.boot_t = time.monotonic() - ms / 1000
                self.log(tag, msg)
            self.log(APP_TAG, f"Setting WiFi configuration SSID {self.ssid}...")
            self.log("wifi", f"mode : sta ({self.mac})")
            self.log("wifi", "enable tsf")
            self.powered = True
        nid = self.sup.add_network(self.profile)  # esp_wifi_start + esp_wifi_connect
        self.sup.ctrl_ok(f"SELECT_NETWORK {nid}")

    # -- faults ------------------------------------------------------------------------
    def reboot(self) -> None:
        """Fault: the board resets by itself (a watchdog) and starts over."""
        self._boot(RST_REASON["reboot"])

    def panic(self) -> None:
        """Fault: a crash; the panic handler prints its dump, then the board reboots."""
        with self.lock:
            for line in PANIC_LINES:
                self._raw(line)
        self._boot(RST_REASON["panic"])

    # -- the firmware, driven by the supplicant's log --------------------------------
    def _reset_state(self) -> None:
        self.drv = "init"
        self.teardown: str | None = None  # the last DEAUTH/DISASSOC event the supplicant logged
        self.bssid = None
        self.nr_entries: list[dict] | None = None
        self.nr_wanted = False

    def _skip_to_end(self) -> None:
        try:
            self._pos = os.path.getsize(self.sup.log_host)
        except OSError:
            self._pos = 0
        self._buf = b""

    def _tail(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll()
            except Exception as e:  # the twin must not die silently: say so on its UART
                try:
                    self.log("twin", f"internal error: {e!r}", "E")
                except Exception:
                    pass
            self._stop.wait(0.05)

    def _poll(self) -> None:
        with self.lock:
            try:
                with open(self.sup.log_host, "rb") as f:
                    f.seek(self._pos)
                    data = f.read()
            except OSError:
                data = b""
            if data:
                self._pos += len(data)
                self._buf += data
                *complete, self._buf = self._buf.split(b"\n")
                for raw in complete:
                    self._line(raw.decode("utf-8", "replace"))
            if self.nr_entries is not None and not data:
                self._neighbor_report_done()  # the report's lines all came in one burst

    def _line(self, line: str) -> None:
        m = _STAMP.match(line.strip())
        if not m:
            return
        if float(m[1]) < self.fence or not self.powered:
            return
        msg = m[2]
        if msg.startswith("p2p-dev-"):
            return
        if msg.startswith(self.sup.iface + ": "):
            msg = msg[len(self.sup.iface) + 2:]
        if msg.startswith(_CTRL_NOISE):
            return
        if self.nr_entries is not None and not msg.startswith("RRM-NEIGHBOR-REP-RECEIVED"):
            self._neighbor_report_done()
        self._map(msg)

    def _map(self, msg: str) -> None:
        if _KEEP.match(msg) and "hexdump" not in msg:
            self.log("wpa", msg)
        m = re.match(r"SME: Trying to authenticate with (" + _MAC + ")", msg)
        if m:
            if self.drv == "run":  # a roam: as roaming_example_btm_roam.log, no disconnect line
                self.log("wifi", "state: run -> init (0)")
                self.drv = "init"
            self.log("wifi", f"state: {self.drv} -> auth (b0)")
            self.drv = "auth"
            return
        if re.match(r"Trying to associate with " + _MAC, msg):
            self.log("wifi", f"state: {self.drv} -> assoc (0)")
            self.drv = "assoc"
            return
        if re.match(r"Associated with " + _MAC, msg) and self.drv in ("auth", "assoc"):
            self.log("wifi", f"state: {self.drv} -> run (10)")
            self.drv = "run"
            return
        m = re.match(r"CTRL-EVENT-CONNECTED - Connection to (" + _MAC + ")", msg)
        if m:
            self._connected(m[1])
            return
        m = re.match(r"Event (DEAUTH|DISASSOC) \(\d+\) received", msg)
        if m:
            self.teardown = m[1]
            return
        m = re.match(r"CTRL-EVENT-DISCONNECTED bssid=(" + _MAC + r") reason=(\d+)( locally_generated=1)?", msg)
        if m:
            frame, self.teardown = (None if m[3] else self.teardown), None
            self._down(int(m[2]), frame)
            return
        if msg.startswith("CTRL-EVENT-ASSOC-REJECT"):
            self._down(203)
            return
        if msg.startswith("CTRL-EVENT-AUTH-REJECT"):
            self._down(202)
            return
        m = re.match(r"RRM-NEIGHBOR-REP-RECEIVED bssid=(" + _MAC + r") info=0x([0-9a-f]+) op_class=(\d+) "
                     r"chan=(\d+) phy_type=(\d+)", msg)
        if m:
            if self.nr_entries is None:
                self.nr_entries = []
            self.nr_entries.append({"bssid": m[1], "info": int(m[2], 16), "op_class": int(m[3]),
                                    "chan": int(m[4]), "phy": int(m[5])})
            return
        if msg.startswith("RRM-NEIGHBOR-REP-REQUEST-FAILED") and self.nr_wanted:
            # ESP-IDF posts WIFI_EVENT_STA_NEIGHBOR_REP without data; the app logs it and stays
            # waiting (g_neighbor_report_active is left set)
            self.log(APP_TAG, "No event data received for neighbor report", "E")
            return
        if self.drv != "run":
            return
        # supplicant-side scans and frames while connected (BTM, beacon reports)
        m = re.match(r"BSS: Add new id (\d+) BSSID (" + _MAC + r") SSID '(.*)' freq (\d+)", msg)
        if m:
            self.log("wpa", f"BSS: Add new id {m[1]} BSSID {m[2]} SSID '{m[3]}' chan {chan_of(int(m[4]))}")
        elif msg.startswith("CTRL-EVENT-SCAN-STARTED"):
            self.log("wpa", f"scan issued at time={self.ms() * 1000}")
        elif msg.startswith("CTRL-EVENT-SCAN-RESULTS"):
            self.log("wpa", "scan done received")
        elif msg.startswith("nl80211: Send Action frame"):
            self.log("wpa", "action frame sent")

    def _connected(self, bssid: str) -> None:
        if self.drv != "run":  # a PTK rekey prints CONNECTED again; only real (re)connections count
            if self.drv in ("auth", "assoc"):
                self.log("wifi", f"state: {self.drv} -> run (10)")
            self.drv = "run"
        elif self.bssid == bssid:
            return
        self.bssid = bssid
        st = self.sup.status()
        sig = dict(x.split("=", 1) for x in self.sup.ctrl("SIGNAL_POLL").splitlines() if "=" in x)
        freq = int(st.get("freq", "0") or 0)
        width = sig.get("WIDTH", "20 MHz")
        bw = "BW20" if width.startswith("20") or "no HT" in width else (
            "40U" if int(sig.get("CENTER_FRQ1", freq) or freq) > freq else "40D")
        ssid = st.get("ssid", self.ssid)
        self.log("wifi", f"connected with {ssid}, aid = 1, channel {chan_of(freq)}, {bw}, bssid = {bssid}")
        self.log("wifi", f"security: WPA2-PSK, phy: bgn, rssi: {sig.get('RSSI', '-50')}")
        rrm, btm = self._ap_features(bssid)
        self.log(APP_TAG, "RRM supported" if rrm else "RRM not supported")
        if rrm:  # the app does not check this call's result, and prints nothing for it
            r = self.sup.ctrl("NEIGHBOR_REP_REQUEST ssid=" + self.ssid.encode().hex())
            self.nr_wanted = r.startswith("OK")
        self.log(APP_TAG, "BTM supported" if btm else "BTM not supported")
        self.log("esp_netif_handlers", f"sta ip: {self.ip}, mask: 255.255.255.0, gw: 192.168.4.1")

    def _ap_features(self, bssid: str) -> tuple[bool, bool]:
        """RRM used on this connection and BSS Transition offered, from the AP's elements
        (what esp_rrm_is_rrm_supported_connection / esp_wnm_is_btm_supported_connection read)."""
        ies = ""
        for line in self.sup.ctrl(f"BSS {bssid}").splitlines():
            if line.startswith("ie="):
                ies = line[3:]
        body = bytes.fromhex(ies) if ies else b""
        rrm = btm = False
        i = 0
        while i + 2 <= len(body):
            eid, ln = body[i], body[i + 1]
            val = body[i + 2:i + 2 + ln]
            if eid == 70 and val and val[0] & 0x02:  # RM Enabled Capabilities: neighbor report
                rrm = True
            if eid == 127 and len(val) > 2 and val[2] & 0x08:  # Extended Capabilities bit 19
                btm = True
            i += 2 + ln
        return rrm, btm

    def _neighbor_report_done(self) -> None:
        entries, self.nr_entries = self.nr_entries or [], None
        if not self.nr_wanted:
            return  # "Neighbor report received but not triggered by us"
        self.nr_wanted = False
        for e in entries:
            self.log(APP_TAG, f"RMM neighbor report bssid={e['bssid']} info=0x{e['info']:x} "
                              f"op_class={e['op_class']} chan={e['chan']} phy_type={e['phy']}")
        if not entries:
            self.log(APP_TAG, "RRM neighbor report is not valid")
        if entries:
            cands = " ".join(f"neighbor={e['bssid']},0x{e['info']:04x},{e['op_class']},{e['chan']},{e['phy']}"
                             for e in entries)
            self.sup.ctrl(f"WNM_BSS_QUERY {BTM_QUERY_REASON} {cands}")
        else:
            self.sup.ctrl(f"WNM_BSS_QUERY {BTM_QUERY_REASON} list")

    def _down(self, reason: int, frame: str | None = None) -> None:
        """The driver leaves its state for init, and the app logs STA_DISCONNECTED. `frame` is
        the AP's DEAUTH or DISASSOC behind it; None: the station's own doing."""
        if self.drv == "init":
            return
        self.log("wifi", f"state: {self.drv} -> init ({state_code(self.drv, reason, frame):x})")
        self.log(APP_TAG, f"station got disconnected reason={reason}")
        self.drv, self.bssid, self.nr_wanted = "init", None, False

    # -- life cycle ----------------------------------------------------------------------
    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.endpoint.close()
        try:
            self.lab.stop(self.sup)
        except Exception:
            pass

