"""./roamcert bench lab: how long the virtual lab takes to boot, bring up APs, connect and roam.

Prints figures; asserts nothing. Each run boots a fresh VM; medians are over the runs.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lab.launch import close_lab, open_lab
from lab.hostapd import BSSConfig
from lab.wpas import Profile

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"boot_s": 10.0, "two_ft_aps_s": 3.0, "connect_s": 5.0}


def one_run(workdir: Path) -> dict:
    t = time.monotonic()
    lab = open_lab("virtual", workdir)
    out = {"boot_s": time.monotonic() - t}
    try:
        t = time.monotonic()
        a = lab.start_ap(BSSConfig(channel=1, bridge="br1"))
        b = lab.start_ap(BSSConfig(channel=6, bridge="br2"))
        out["two_ft_aps_s"] = time.monotonic() - t
        sta = lab.start_supplicant()
        t = time.monotonic()
        first = sta.connect(Profile(scan_freqs=(a.freq, b.freq)))
        out["connect_s"] = time.monotonic() - t
        sta.scan((a.freq, b.freq))
        other = b if first == a.bssid else a
        m = sta.mark()
        t = time.monotonic()
        sta.ctrl_ok(f"ROAM {other.bssid}")
        sta.wait_event(f"CTRL-EVENT-CONNECTED - Connection to {other.bssid}", 15, since=m)
        out["ft_roam_s"] = time.monotonic() - t
    finally:
        t = time.monotonic()
        close_lab(lab)
        out["shutdown_s"] = time.monotonic() - t
    return out


def smoke_run() -> float:
    t = time.monotonic()
    p = subprocess.run([str(ROOT / "roamcert"), "run", "-m", "smoke", "-q", "-p", "no:randomly"],
                       cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    took = time.monotonic() - t
    if p.returncode != 0:
        print(f"  smoke run exited {p.returncode} (see runs/latest)")
    return took


def bench_lab(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="roamcert bench lab")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--smoke", action="store_true", help="also time `./roamcert run -m smoke` (boot included)")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="roamcert-bench-") as d:
        for i in range(args.runs):
            r = one_run(Path(d) / f"run{i}")
            rows.append(r)
            print(f"run {i + 1}: " + "  ".join(f"{k}={v:.2f}" for k, v in r.items()), flush=True)
    print("\nmedian of %d runs (2 cores, qemu TCG):" % len(rows))
    for k in rows[0]:
        med = statistics.median(r[k] for r in rows)
        goal = TARGETS.get(k)
        print(f"  {k:14s} {med:7.2f}" + (f"   goal <= {goal:.0f}  {'ok' if med <= goal else 'OVER'}" if goal else ""))
    if args.smoke:
        took = [smoke_run() for _ in range(args.runs)]
        med = statistics.median(took)
        print(f"  {'smoke_run_s':14s} {med:7.2f}   goal <= 90  {'ok' if med <= 90 else 'OVER'}"
              f"   (runs: {', '.join(f'{x:.1f}' for x in took)})")
    return 0


if __name__ == "__main__":
    sys.exit(bench_lab(sys.argv[1:]))
