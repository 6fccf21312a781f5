"""./roamcert bench lab|analyze|mutants|fuzz|stability|soak|parallel: figures (printed, never asserted).

  bench fuzz [--inputs N] [--seed S] [--timeout SEC] [--workers W]
      Mutated captures and logs through `analyze`: inputs, crashes, hangs, inputs/s (cli/fuzz.py).

  bench analyze [--frames N[,N...]] [--replicas R] [--keep]
      Build captures of N frames (default 100000 and 400000) in .cache/bench/ from the
      frames the virtual lab captured (tests/data/lab/*.pcap), then time
      `roamcert analyze` and tshark on each and print frames/s, their ratio and the
      analyzer's peak RSS.
  bench lab [...]
      The lab's own figures (lab/bench.py).
  bench stability [--runs N] [--from RUN RUN ...] [RUN ARGS ...]
      Identical runs compared per (case, DUT): every verdict flip is a FLAKY line with its
      flip count and the finding that explains it (cli/stability.py); exit 1 on any flip.
  bench soak [--roams N] [--dut linux-wpas]
      FT and BTM roams back and forth with a ping through each: roam time and outage
      p50/p95/p99/max per roam kind, and the failed roams (cli/soak.py).
  bench parallel [--workers N] [run options]
      The same selection as `./roamcert run [run options]`, serially and with -n N (default 2):
      both wall times, their ratio, and whether the verdicts per (case, DUT, rule) are
      identical, every difference listed (cli/bench_parallel.py).
  bench mutants [-k ID]
      The fault catalogue (cli/mutants.py): recorded lab evidence broken on purpose,
      judged by the oracle; prints each mutant, the rule that must catch it, and caught/total.
"""
from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

from engine.capture import Reader

ROOT = Path(__file__).resolve().parent.parent
LAB_DATA = ROOT / "tests" / "data" / "lab"
TEMPLATES = ("ft_air_ds.pcap", "btm_rm.pcap")
CACHE = ROOT / ".cache" / "bench"
TSHARK_FILTER = "wlan.fc.type_subtype==0x0d || wlan.fixed.auth.alg==2"
REPLICAS = 60  # copies of the lab captures: 8 exchanges each (3 FT, 2 BTM, 3 beacon requests)
FAKE_APS = 24


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    if argv[0] == "lab":
        from lab.bench import bench_lab  # written with the lab; imported only when asked for
        return bench_lab(argv[1:])
    if argv[0] == "analyze":
        return bench_analyze(argv[1:])
    if argv[0] == "mutants":
        from cli import mutants
        return mutants.main(argv[1:])
    if argv[0] == "fuzz":
        from cli.fuzz import bench_fuzz
        return bench_fuzz(argv[1:])
    if argv[0] == "stability":
        from cli import stability
        return stability.main(argv[1:])
    if argv[0] == "soak":
        from cli import soak
        return soak.main(argv[1:])
    if argv[0] == "parallel":
        from cli import bench_parallel
        return bench_parallel.main(argv[1:])
    print(f"roamcert bench: unknown target {argv[0]!r} (lab, analyze, mutants, fuzz, stability, soak or parallel)", file=sys.stderr)
    return 2


# -- capture synthesis --------------------------------------------------------------------

def _templates():
    """(linktype, [(t, record bytes)] per lab capture) from the checked-in lab captures."""
    out, lt = [], None
    for name in TEMPLATES:
        path = LAB_DATA / name
        r = Reader(path)
        if r.format != "pcap":
            raise SystemExit(f"{path}: expected a pcap capture")
        lt = lt or r.linktype
        if r.linktype != lt:
            raise SystemExit(f"{path}: link type {r.linktype}, others have {lt}")
        r.close()
        out.append(list(_records(path)))
    return lt, out


def _records(path: Path):
    data = path.read_bytes()
    le = data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
    e = "<" if le else ">"
    nano = struct.unpack(e + "I", data[:4])[0] == 0xA1B23C4D
    pos = 24
    while pos + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack_from(e + "IIII", data, pos)
        yield sec + frac / (1e9 if nano else 1e6), data[pos + 16:pos + 16 + caplen]
        pos += 16 + caplen


def _dot11_offset(rec: bytes, linktype: int) -> int:
    return struct.unpack_from("<H", rec, 2)[0] if linktype == 127 else 0


def build_capture(path: Path, n_frames: int, replicas: int = REPLICAS) -> dict:
    """Replicas of the lab captures with shifted timestamps, interleaved with beacons and data
    frames replicated from them under rewritten transmitter addresses and sequence numbers.
    The exchanges keep their lab addresses, so their FT MICs still verify. The number of
    exchanges is fixed by `replicas`; the size of the file by the filler."""
    lt, caps = _templates()
    base = [rec for recs in caps for rec in recs]
    filler = []
    for t, rec in base:
        o = _dot11_offset(rec, lt)
        fc0 = rec[o] if len(rec) > o else 0
        if len(rec) >= o + 24 and (fc0 == 0x80 or (fc0 >> 2) & 3 == 2):  # beacon or data
            filler.append(rec)
    span = max(t for t, _ in base) - min(t for t, _ in base)
    t0 = min(t for t, _ in base)
    written = exchanges = 0
    seq = [0] * FAKE_APS
    fi = 0
    cycle = 0
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, lt))
        per_cycle = max(0, n_frames - replicas * len(base)) / replicas
        while written < n_frames:
            off = cycle * (span + 1.0) + 1e9 - t0
            per = per_cycle / max(1, len(base))
            acc = 0.0
            for t, rec in base:
                if written >= n_frames:
                    break
                _write(out, t + off, rec)
                written += 1
                acc += per
                while acc >= 1 and written < n_frames:
                    acc -= 1
                    src = bytearray(filler[fi % len(filler)])
                    fi += 1
                    o = _dot11_offset(src, lt)
                    ap = fi % FAKE_APS
                    addr = bytes([0x02, 0xAA, 0, 0, ap, 0])
                    src[o + 10:o + 16] = addr
                    if src[o] == 0x80:
                        src[o + 16:o + 22] = addr
                    seq[ap] = (seq[ap] + 1) & 0xFFF
                    src[o + 22:o + 24] = struct.pack("<H", seq[ap] << 4)
                    _write(out, t + off + 1e-6, bytes(src))
                    written += 1
            cycle += 1
        exchanges = cycle
    return {"frames": written, "replicas": exchanges, "bytes": path.stat().st_size}


def _write(out, t: float, rec: bytes) -> None:
    sec = int(t)
    out.write(struct.pack("<IIII", sec, int(round((t - sec) * 1e6)) % 1000000, len(rec), len(rec)))
    out.write(rec)


# -- timing ---------------------------------------------------------------------------------

def _timed(argv: list[str]) -> tuple[float, int, int, bytes]:
    """(wall seconds, peak RSS in kB, exit code, stdout) of one child process."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t, ru.ru_maxrss, p.returncode, out


def bench_analyze(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="roamcert bench analyze")
    ap.add_argument("--frames", default="100000,400000", help="capture sizes, comma-separated")
    ap.add_argument("--replicas", type=int, default=REPLICAS,
                    help="copies of the lab captures (fixes the number of exchanges)")
    ap.add_argument("--keep", action="store_true", help="keep the generated captures")
    a = ap.parse_args(argv)
    sizes = [int(x) for x in a.frames.split(",") if x.strip()]
    CACHE.mkdir(parents=True, exist_ok=True)
    have_tshark = subprocess.run(["sh", "-c", "command -v tshark"], capture_output=True).returncode == 0
    print(f"{'frames':>8} {'MB':>7} {'analyze s':>9} {'fr/s':>9} {'peak RSS MB':>11} "
          f"{'tshark s':>8} {'fr/s':>9} {'ratio':>6}  exchanges (FT/BTM/beacon)")
    rows = []
    for n in sizes:
        path = CACHE / f"analyze-{n}.pcap"
        info = build_capture(path, n, a.replicas)
        secret = ["--ssid", "roamcert", "--passphrase", "roamcert-passphrase"]
        dt, rss, rc, out = _timed([sys.executable, "-m", "cli", "analyze", "--pcap", str(path), *secret,
                                   "--json"])
        try:
            d = json.loads(out)
            ex = f"{len(d['ft'])}/{len(d['btm'])}/{len(d['beacon_reports'])}"
        except ValueError:
            ex = f"analyze exit {rc}, no JSON"
        if have_tshark:
            tt, _, trc, _ = _timed(["tshark", "-r", str(path), "-Y", TSHARK_FILTER])
        else:
            tt = None
        fa = info["frames"] / dt
        ft = info["frames"] / tt if tt else None
        ratio = f"{fa / ft:6.2f}" if ft else "   n/a"
        print(f"{info['frames']:>8} {info['bytes'] / 1e6:>7.1f} {dt:>9.2f} {fa:>9.0f} {rss / 1024:>11.1f} "
              f"{(tt or 0):>8.2f} {(ft or 0):>9.0f} {ratio}  {ex}")
        rows.append((info, dt, rss, tt))
        if not a.keep:
            path.unlink()
    if not have_tshark:
        print("tshark not installed: no comparison (Debian package tshark)")
    print(f"analyzer: {sys.executable} -m cli analyze --pcap FILE --ssid roamcert --passphrase ... --json; "
          f"tshark: tshark -r FILE -Y \"{TSHARK_FILTER}\"")
    return 0


if __name__ == "__main__":
    sys.exit(main())
