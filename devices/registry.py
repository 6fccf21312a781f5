"""DUT types by name. Add a new type here (see docs/dut-adapter.md).

Factories take the lab and a DutOptions: plain values, so this layer knows nothing of
pytest (fixtures/ turn command-line options into DutOptions)."""
from __future__ import annotations

import os
from dataclasses import dataclass

from engine.verdict import SUPPLICANT
from lab.network import LAB_FREQS, PROFILE


@dataclass(frozen=True)
class DutOptions:
    """What a DUT factory may need besides the lab."""
    ssid: str = PROFILE.ssid_b.decode()  # the network an ESP32 firmware was built for
    passphrase: str = PROFILE.passphrase
    esp32_baud: int = 115200
    esp32_scan_cache: bool = False  # the firmware keeps a scan cache (table-mode beacon reports)
    esp32_flash: str | None = None  # an ESP-IDF build folder to flash before the run (flasher_args.json)
    esp32_identify: bool = False  # ask the ROM bootloader (esptool) for chip and MAC before the run


def _place_board(lab, ref: str) -> dict:
    """A board of the lab's labgrid place: ref is "lg" or "lg:NAME" (resource group or name)."""
    board = getattr(getattr(lab, "carrier", None), "board", None)
    if board is None:
        raise ValueError(f"{ref}: a serial port of a labgrid place needs --lab labgrid")
    _, _, name = ref.partition(":")
    return board(name or None)


def _linux_wpas(lab, opts: DutOptions, arg):
    from devices.linux_wpas import LinuxWpasDut, variant
    if arg:
        return variant(lab, arg)
    return LinuxWpasDut(lab)


def _esp32(lab, opts: DutOptions, arg):
    from devices.esp32_board import Esp32Board, PlaceResetLine
    from devices.esp32_flash import prepare_board
    if not arg:
        raise ValueError("the esp32 DUT needs its serial port: --dut esp32:/dev/ttyUSB0 "
                         "(or esp32:socket://host:port, esp32:rfc2217://host:port, esp32:lg[:NAME] "
                         "for a board of the labgrid place)")
    port, reset = arg, None
    if arg == "lg" or arg.startswith("lg:"):
        b = _place_board(lab, arg)
        port = b["url"]
        if b["reset"]:
            reset = PlaceResetLine(lab.carrier.place, *b["reset"])
    # esptool first (flash, or only identify chip and MAC); it needs the port to itself
    flashed = prepare_board(port, opts.esp32_flash, opts.esp32_baud, power=reset,
                            identify_chip=opts.esp32_identify)
    board = Esp32Board(port, opts.esp32_baud, name="esp32", ssid=opts.ssid, passphrase=opts.passphrase,
                       scan_cache=opts.esp32_scan_cache, reset_line=reset, mac=flashed.get("mac", ""),
                       extra_identity=flashed)
    return board


def twin_args(arg: str | None) -> dict:
    """esp32-twin's argument: "socket" or "pty" (the endpoint), or key=value pairs joined
    by ",": endpoint=socket|pty, listen=PORT (a fixed loopback port for the socket, so a
    ser2net can be pointed at it ahead of the run), serial=URL|lg[:NAME] (open the twin
    through that port instead of its own endpoint, e.g. a labgrid place's network serial
    port that ser2net serves from the twin)."""
    out = {"endpoint": "socket", "listen": 0, "serial": None}
    if not arg:
        return out
    if "=" not in arg:
        out["endpoint"] = arg
    else:
        for part in arg.split(","):
            key, sep, val = part.partition("=")
            if not sep or key not in out:
                raise ValueError(f"esp32-twin: bad argument {part!r} (endpoint=, listen=, serial=)")
            out[key] = val
    if out["endpoint"] not in ("socket", "pty"):
        raise ValueError(f"esp32-twin: endpoint {out['endpoint']!r} (socket or pty)")
    try:
        out["listen"] = int(out["listen"])
    except ValueError:
        raise ValueError(f"esp32-twin: listen={out['listen']!r} is not a port number") from None
    return out


def _esp32_twin(lab, opts: DutOptions, arg):
    from devices.esp32_board import Esp32Board
    from lab.esp32_twin import Esp32Twin
    ssid, passphrase = opts.ssid, opts.passphrase
    a = twin_args(arg)
    serial = a["serial"]
    if serial and (serial == "lg" or serial.startswith("lg:")):
        serial = _place_board(lab, serial)["url"]
    twin = Esp32Twin(lab, ssid, passphrase, scan_freqs=LAB_FREQS, endpoint=a["endpoint"], listen_port=a["listen"])
    try:
        # The twin is the roaming example built with its sdkconfig.defaults, scan cache on:
        # its supplicant keeps a BSS table and answers table-mode beacon requests.
        board = Esp32Board(serial or twin.url, name="esp32-twin", ssid=ssid, passphrase=passphrase, scan_cache=True,
                           mac=twin.mac, reset_line=twin, owned=[twin],
                           extra_identity=twin_identity(lab, twin))
    except BaseException:
        twin.close()
        raise
    board.twin = twin
    # The twin is a simulation: what it does is its backing wpa_supplicant's, not a firmware's.
    board.layer = SUPPLICANT
    return board


TWIN_SIMULATION = ("esp32-twin: a wpa_supplicant re-emitted as ESP-IDF serial output; "
                   "proves the adapter, not a device")


def twin_identity(lab, twin) -> dict:
    """What reports show for the twin: that it is a simulation, and what backs it. Its
    supplicant-level findings are that wpa_supplicant's, not an ESP32's."""
    return {"simulation": TWIN_SIMULATION,
            "backing": f"wpa_supplicant {lab.info().get('wpa_supplicant', '?')}",
            "twin": f"wpa_supplicant on {twin.sup.iface}"}


DUT_TYPES = {
    "linux-wpas": _linux_wpas,
    "esp32": _esp32,
    "esp32-twin": _esp32_twin,
}


def make_dut(spec: str, lab, opts: DutOptions | None = None):
    """spec is NAME or NAME:ARG (e.g. esp32:/dev/ttyUSB0)."""
    name, _, arg = spec.partition(":")
    factory = DUT_TYPES.get(name)
    if not factory:
        raise ValueError(f"unknown DUT {name!r}; known: {', '.join(DUT_TYPES)}")
    return factory(lab, opts or DutOptions(), arg or None)


class DutSpecError(ValueError):
    """A --dut value that cannot work, found before the lab boots."""


def _choices() -> str:
    from devices.linux_wpas import OPTIONS, SLOW, SLOW_DEFAULT, VARIANTS
    return ", ".join(["linux-wpas"] + [f"linux-wpas:{v}" for v in [*VARIANTS, *OPTIONS]]
                     + [f"linux-wpas:{SLOW}[=QUOTA/PERIOD µs, default {SLOW_DEFAULT}]"]
                     + ["esp32:PORT (a serial device or socket:// / rfc2217:// URL)", "esp32-twin"])


def _serial_ports() -> str:
    try:
        from serial.tools import list_ports
        ports = sorted(p.device for p in list_ports.comports())
    except Exception:  # listing is a courtesy; the check itself stands without it
        return "unknown"
    return ", ".join(ports) or "none"


def check_port(port: str, baud: int = 115200) -> None:
    """Open and close a serial device, with DTR and RTS left low so an ESP32 board is not
    reset. URLs (socket://, rfc2217://) are left to the run: they name another host."""
    if "://" in port:
        return
    if not os.path.exists(port):
        raise DutSpecError(f"ESP32 serial port {port} does not exist; serial ports on this host: {_serial_ports()}")
    import serial
    s = serial.serial_for_url(port, do_not_open=True, baudrate=baud, timeout=0.05)
    s.exclusive = True
    s.dtr = False
    s.rts = False
    try:
        s.open()
    except (serial.SerialException, OSError, ValueError) as exc:
        text = str(exc)
        if "lock" in text.lower() or "busy" in text.lower() or "resource temporarily unavailable" in text.lower():
            raise DutSpecError(f"ESP32 serial port {port} is busy (another program has it open)") from None
        raise DutSpecError(f"ESP32 serial port {port} cannot be opened: {text}") from None
    finally:
        s.close()


def check_spec(spec: str, opts: DutOptions | None = None) -> None:
    """What make_dut would reject, found without a lab: raises DutSpecError naming the
    problem and the choices."""
    name, _, arg = spec.partition(":")
    if name not in DUT_TYPES:
        raise DutSpecError(f"unknown DUT {name!r}; choices: {_choices()}")
    if name == "linux-wpas" and arg:
        from devices.linux_wpas import known_variant, slow_limit
        from lab.cpu_limit import CpuLimitError
        try:
            slow_limit(arg)
        except CpuLimitError as e:
            raise DutSpecError(f"linux-wpas:{arg}: {e}") from None
        if not known_variant(arg):
            raise DutSpecError(f"unknown linux-wpas variant {arg!r}; choices: {_choices()}")
    if name == "esp32":
        if not arg:
            raise DutSpecError("the esp32 DUT needs its serial port, e.g. esp32:/dev/ttyUSB0; "
                               f"serial ports on this host: {_serial_ports()}")
        check_port(arg, (opts or DutOptions()).esp32_baud)
