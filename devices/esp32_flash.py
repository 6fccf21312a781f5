"""esptool for ESP32 boards: which chip and MAC is on the port, and flashing an ESP-IDF build.

Everything goes through esptool's Python API (esptool.cmds), over the same URL pyserial
opens (a device path, rfc2217:// from a labgrid exporter's ser2net, socket://): esptool
resets the chip into its ROM bootloader with the DTR/RTS sequence (or, when the board's
supply is switched by the lab, with the supply off and on), reads what the ROM says,
and resets it back into the application.

An ESP-IDF build folder describes its own flashing in flasher_args.json (written by
`idf.py build`): the chip, the flash settings and which binary goes at which offset.
The certificate records the SHA-256 of every image written, the chip and the MAC.
"""
from __future__ import annotations

import hashlib
import io
import json
import time
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from devices.base import DutError


@dataclass
class FlashImage:
    offset: int
    path: Path
    sha256: str


@dataclass
class Build:
    """What flasher_args.json says to write."""
    folder: Path
    chip: str
    images: list[FlashImage]
    flash_mode: str = "keep"
    flash_freq: str = "keep"
    flash_size: str = "keep"
    stub: bool = True
    app: FlashImage | None = None
    extra: dict = field(default_factory=dict)


def _offset(text, where: str) -> int:
    try:
        return int(str(text), 0)
    except ValueError:
        raise DutError(f"{where}: offset {text!r} is not a number") from None


def read_build(folder) -> Build:
    """Read an ESP-IDF build folder's flasher_args.json; every image must be there."""
    folder = Path(folder)
    args_file = folder / "flasher_args.json"
    if not args_file.is_file():
        raise DutError(f"{folder} is not an ESP-IDF build folder: no flasher_args.json (run `idf.py build`)")
    try:
        data = json.loads(args_file.read_text())
    except ValueError as e:
        raise DutError(f"{args_file} is not valid JSON: {e}") from None
    files = data.get("flash_files")
    if not isinstance(files, dict) or not files:
        raise DutError(f"{args_file} lists no flash_files")
    images = []
    for off, rel in sorted(files.items(), key=lambda kv: _offset(kv[0], str(args_file))):
        path = folder / rel
        if not path.is_file():
            raise DutError(f"{args_file}: {rel} (for offset {off}) is missing in {folder}")
        images.append(FlashImage(_offset(off, str(args_file)), path, hashlib.sha256(path.read_bytes()).hexdigest()))
    extra = data.get("extra_esptool_args") or {}
    chip = str(extra.get("chip") or "").lower()
    if not chip:
        raise DutError(f"{args_file} names no chip (extra_esptool_args.chip)")
    settings = data.get("flash_settings") or {}
    app = None
    if isinstance(data.get("app"), dict) and data["app"].get("file"):
        off = _offset(data["app"].get("offset", "0"), str(args_file))
        app = next((i for i in images if i.offset == off), None)
    return Build(folder, chip, images, settings.get("flash_mode", "keep"), settings.get("flash_freq", "keep"),
                 settings.get("flash_size", "keep"), bool(extra.get("stub", True)), app, extra)


def _chip_key(name: str) -> str:
    """esptool's chip name ("ESP32-S3") as ESP-IDF's build names it ("esp32s3")."""
    return name.lower().replace("-", "")


def _connect(port: str, baud: int, attempts: int):
    import esptool.cmds
    log = io.StringIO()
    try:
        with redirect_stdout(log):
            return esptool.cmds.detect_chip(port, baud, "default-reset", False, attempts), log.getvalue()
    except Exception as e:  # FatalError, SerialException, OSError: all mean the same here
        said = " ".join(x.strip() for x in log.getvalue().splitlines() if x.strip())[-400:]
        raise DutError(f"esptool could not reach an Espressif ROM bootloader on {port}: {e}. "
                       f"Is an ESP32 there, with EN and IO0 wired to RTS and DTR (USB-UART bridge "
                       f"auto-reset), or held in download mode? esptool said: {said or '(nothing)'}") from e


def identify(port: str, baud: int = 115200, attempts: int = 3) -> dict:
    """Chip, its description and MAC as the ROM bootloader tells esptool; the chip is then
    reset back into its application."""
    import esptool.cmds
    esp, _ = _connect(port, baud, attempts)
    try:
        return _describe(esp)
    finally:
        _leave(esp, esptool.cmds)


def _describe(esp) -> dict:
    mac = esp.read_mac()
    return {"chip": esp.CHIP_NAME, "chip_description": esp.get_chip_description(),
            "mac": ":".join(f"{b:02x}" for b in mac) if mac else ""}


def _leave(esp, cmds) -> None:
    try:
        with redirect_stdout(io.StringIO()):
            cmds.reset_chip(esp, "hard-reset")
    finally:
        esp._port.close()


def flash(port: str, build: Build, baud: int = 115200, attempts: int = 3) -> dict:
    """Write the build's images (esptool verifies each) and boot it. Returns what the
    certificate records: chip, MAC, and the SHA-256 of the app and of every image."""
    import esptool.cmds
    esp, _ = _connect(port, baud, attempts)
    try:
        ident = _describe(esp)
        if _chip_key(esp.CHIP_NAME) != _chip_key(build.chip):
            raise DutError(f"{build.folder} is built for {build.chip} but the board on {port} is "
                           f"{esp.CHIP_NAME}: not flashed")
        log = io.StringIO()
        try:
            with redirect_stdout(log):
                if build.stub:
                    esp = esptool.cmds.run_stub(esp)
                esptool.cmds.attach_flash(esp)
                esptool.cmds.write_flash(esp, [(i.offset, str(i.path)) for i in build.images],
                                         flash_freq=build.flash_freq, flash_mode=build.flash_mode,
                                         flash_size=build.flash_size)
        except DutError:
            raise
        except Exception as e:
            said = " ".join(x.strip() for x in log.getvalue().splitlines() if x.strip())[-400:]
            raise DutError(f"flashing {build.folder} onto the {esp.CHIP_NAME} on {port} failed: {e}; "
                           f"esptool said: {said}") from e
    finally:
        _leave(esp, esptool.cmds)
    ident.update(firmware_build=str(build.folder),
                 firmware_sha256=(build.app or build.images[-1]).sha256,
                 flash_images={f"0x{i.offset:x}": {"file": str(i.path.relative_to(build.folder)), "sha256": i.sha256}
                               for i in build.images})
    return ident


def prepare_board(port: str, build_dir: str | None, baud: int = 115200, power=None, identify_chip: bool = True,
                  attempts: int = 3) -> dict:
    """Before a real board's run: flash build_dir if given, else identify the chip; the
    returned dict goes into the DUT's identity(). power: the place's reset line, switched
    on first so the ROM can answer."""
    if not build_dir and not identify_chip:
        return {}
    if power is not None:
        power.release()
        time.sleep(0.5)  # the supply settles and the chip boots before esptool resets it
    if build_dir:
        return flash(port, read_build(build_dir), baud, attempts)
    return identify(port, baud, attempts)
