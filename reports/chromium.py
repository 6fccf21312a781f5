"""Headless Chromium (/usr/bin/chromium, installed by tools/setup.sh): certificates to PDF
and screenshots. A fresh profile folder each time, no network services, no sandbox (the
lab runs as root). Page numbers, profile and manifest hash come from the page's own CSS
@page margin boxes, so Chromium's header/footer is switched off.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions", "--mute-audio",
         "--no-default-browser-check")


class ChromiumError(RuntimeError):
    """Chromium is missing or did not produce its output."""


def executable() -> str:
    for name in (os.environ.get("ROAMCERT_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"):
        if name and (shutil.which(name) or Path(name).is_file()):
            return shutil.which(name) or name
    raise ChromiumError("chromium is not installed (tools/setup.sh installs it)")


def _run(args: list[str], out: Path, timeout: float) -> Path:
    out = Path(out)
    tmp_out = out.with_name(f".{out.name}.tmp{out.suffix}")
    tmp_out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="roamcert-chromium-") as profile:
        cmd = [executable(), *FLAGS, f"--user-data-dir={profile}", *[a.replace("{out}", str(tmp_out)) for a in args]]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                               env={**os.environ, "HOME": profile})
        except subprocess.TimeoutExpired:
            raise ChromiumError(f"chromium took more than {timeout:.0f} s") from None
        except OSError as e:
            raise ChromiumError(f"cannot run chromium: {e}") from None
    if not tmp_out.is_file() or tmp_out.stat().st_size == 0:
        tail = " | ".join((p.stderr or p.stdout).strip().splitlines()[-4:])
        raise ChromiumError(f"chromium wrote no {out.suffix} (exit {p.returncode}): {tail}")
    tmp_out.replace(out)
    return out


def print_pdf(html: Path, pdf: Path, timeout: float = 180) -> Path:
    """Print a local HTML file to PDF (A4, backgrounds, the page's own @page footer)."""
    return _run(["--no-pdf-header-footer", "--print-to-pdf-no-header", "--print-to-pdf={out}",
                 Path(html).resolve().as_uri()], pdf, timeout)


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 2400, timeout: float = 120) -> Path:
    return _run([f"--window-size={width},{height}", "--hide-scrollbars", "--screenshot={out}",
                 Path(html).resolve().as_uri()], png, timeout)
