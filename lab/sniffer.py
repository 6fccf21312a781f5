"""The air capture of a lab without hwsim0: monitor-mode radios tuned to the case's channels.

mac80211_hwsim's hwsim0 hears every frame of the simulated medium on every channel. A real
lab host has no such interface: its sniffer is one or more spare radios in monitor mode,
each hearing one channel. A case's capture then runs the same tcpdump (radiotap, the lab
kernel's clock) on each sniffer radio and merges the pcaps by time (Wireshark's mergecap)
into the case's air.pcap, so the oracle reads one capture as it reads hwsim0's.

Which channels: the channels of the APs running when the capture starts (in the order
they started: the serving AP's, then the target's, for the cases that start them first),
then the lab's channel plan for the radios left. With fewer radios than channels the
capture is partial: the case records which radio heard which frequency, and the judge
makes the case inconclusive instead of failing a rule on a frame that went by on a
channel nobody listened to (engine/judges: AIR-COVERAGE).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


class SnifferError(RuntimeError):
    pass


def plan_channels(running: list[int], plan: tuple[int, ...] | list[int], radios: list[str]) -> dict[str, int]:
    """{radio: MHz}: the running APs' frequencies first (in order, each once), then the
    channel plan's, one radio each, as far as the radios go."""
    want: list[int] = []
    for f in list(running) + list(plan):
        if f not in want:
            want.append(int(f))
    return dict(zip(radios, want))


def capture_record(tuning: dict[str, int]) -> dict:
    """What the case's evidence says about its capture (engine.air.capture_channels reads it)."""
    return {"source": "sniffer", "radios": dict(tuning)}


def merge_pcaps(parts: list[Path], out: Path) -> Path:
    """The sniffer radios' pcaps as one, frames in time order (mergecap, from Wireshark's
    packages, which tools/setup.sh installs with tshark). One part is taken as it is."""
    parts = [Path(p) for p in parts]
    missing = [str(p) for p in parts if not p.is_file()]
    if missing:
        raise SnifferError(f"sniffer capture missing: {', '.join(missing)}")
    if len(parts) == 1:
        parts[0].replace(out)
        return out
    tool = shutil.which("mergecap")
    if not tool:
        raise SnifferError("mergecap not found: install Wireshark's tools (Debian: wireshark-common, "
                           "pulled by tshark; tools/setup.sh installs it)")
    r = subprocess.run([tool, "-F", "pcap", "-w", str(out), *map(str, parts)], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        raise SnifferError(f"mergecap could not merge {', '.join(p.name for p in parts)}: "
                           f"{(r.stderr or r.stdout).strip()}")
    for p in parts:
        p.unlink()
    return out
