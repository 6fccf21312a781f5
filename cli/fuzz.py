"""./roamcert bench fuzz: mutated captures and logs through `analyze`, counting crashes and hangs.

  bench fuzz [--inputs N] [--seed S] [--workers W] [--timeout SEC] [--keep-crashes DIR]

Seeds are the project's own inputs: the lab captures and supplicant logs in tests/data/lab
and the real device data in shared/data (pcaps, ESP32 logs). Each input is one seed (or
two spliced together) mutated: bytes flipped or set, truncated, a block repeated or
dropped, capture record lengths and radiotap headers damaged, or a giant line added to a
log. Inputs go through cli.analyze.analyze_args, the very function `analyze` runs, in a
worker process: a crash is exit 3 or a dead worker, a hang is an input that runs past the
timeout (the worker is then killed and replaced). Figures are printed, never asserted;
tests/test_analyze_fuzz.py drives the same path with a small hypothesis budget.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAB_DATA = ROOT / "tests" / "data" / "lab"
SEED_CAP = 256 * 1024  # larger seeds (the 1.4 MB aircrack-ng capture) are cut to their head
HANG_S = 10.0
SSID_ARGS = ["--ssid", "roamcert", "--passphrase", "roamcert-passphrase"]
# lead-ins of messages the log parsers search for: a giant line repeats one of them
LEAD_INS = ["I (1234) wifi:state: run -> init (0) ", "WIFI_EVENT_STA_DISCONNECTED ",
            "RRM: Neighbor report request (for ", "I (1) wpa: 0: 02:00:00:00:01:00 info=0x",
            "rst:0x1 (", "Guru Meditation Error: Core ", "wlan0: ", "<3>", "1.000000: ",
            "Dec 07 03:54:43 host wpa_supplicant[1]: ", "\\x", "SSID '", "E (", "\x1b[1;", ":"]


def _shared() -> Path:
    for p in (ROOT.parent / "shared", Path("/work/shared")):
        if (p / "data").is_dir():
            return p / "data"
    return ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class Seed:
    name: str
    kind: str  # "pcap", "wpas" or "esp32"
    data: bytes


def load_seeds() -> list[Seed]:
    out = []
    shared = _shared()
    pcaps = sorted(LAB_DATA.glob("*.pcap")) + sorted((shared / "pcap").glob("*.pcap*")) \
        + sorted((shared / "pcap").glob("*.cap"))
    for p in pcaps:
        if p.suffix == ".txt":
            continue
        out.append(Seed(p.name, "pcap", p.read_bytes()[:SEED_CAP]))
    for p in sorted(LAB_DATA.glob("*.sta.log")):
        out.append(Seed(p.name, "wpas", p.read_bytes()[:SEED_CAP]))
    for p in sorted((shared / "esp32").glob("*.log")):
        out.append(Seed(p.name, "esp32", p.read_bytes()[:SEED_CAP]))
    if not out:
        raise SystemExit("roamcert bench fuzz: no seed inputs (tests/data/lab, shared/data)")
    return out


# -- mutations ----------------------------------------------------------------------------------

def _flip(rng, b: bytearray) -> None:
    for _ in range(rng.randint(1, 16)):
        if b:
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)


def _set(rng, b: bytearray) -> None:
    for _ in range(rng.randint(1, 8)):
        if b:
            b[rng.randrange(len(b))] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))


def _truncate(rng, b: bytearray) -> None:
    if b:
        del b[rng.randrange(len(b)):]


def _repeat(rng, b: bytearray) -> None:
    if len(b) > 2:
        i = rng.randrange(len(b) - 1)
        j = min(len(b), i + rng.randint(1, 2048))
        b[j:j] = b[i:j] * rng.randint(1, 8)


def _drop(rng, b: bytearray) -> None:
    if len(b) > 2:
        i = rng.randrange(len(b) - 1)
        del b[i:i + rng.randint(1, 512)]


def _pcap_records(b: bytes) -> list[int]:
    """Offsets of the record headers of a little- or big-endian pcap (none for pcapng)."""
    if len(b) < 24 or b[:4] not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1",
                                    b"\xa1\xb2\x3c\x4d"):
        return []
    e = "<" if b[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    out, pos = [], 24
    while pos + 16 <= len(b) and len(out) < 100000:
        out.append(pos)
        caplen = struct.unpack_from(e + "I", b, pos + 8)[0]
        pos += 16 + caplen
    return out


def _record_field(rng, b: bytearray) -> None:
    """Damage a record's captured length, a radiotap length or present word, or the frame's
    first octets (frame control, lengths of the first elements)."""
    recs = _pcap_records(bytes(b))
    if not recs:
        return _set(rng, b)
    pos = rng.choice(recs)
    e = "<" if b[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    what = rng.randrange(4)
    if what == 0:  # captured length
        caplen = struct.unpack_from(e + "I", b, pos + 8)[0]
        new = rng.choice((0, 1, 7, 8, caplen - 1, caplen + 1, caplen // 2, 0xFFFFFFFF, 1 << 18))
        struct.pack_into(e + "I", b, pos + 8, max(0, min(new, 0xFFFFFFFF)))
    elif what == 1 and pos + 24 <= len(b):  # radiotap length (link type 127)
        struct.pack_into("<H", b, pos + 18, rng.choice((0, 7, 8, 9, 0xFFFF, rng.randrange(64))))
    elif what == 2 and pos + 24 <= len(b):  # radiotap present word
        struct.pack_into("<I", b, pos + 20, rng.getrandbits(32))
    else:
        for _ in range(rng.randint(1, 6)):
            i = pos + 16 + rng.randrange(64)
            if i < len(b):
                b[i] = rng.randrange(256)


def _giant_line(rng, b: bytearray, size: int) -> None:
    lead = rng.choice(LEAD_INS).encode()
    line = (lead * (size // len(lead) + 1))[:size]
    i = b.find(b"\n", rng.randrange(len(b))) if b else -1
    i = len(b) if i < 0 else i + 1
    b[i:i] = line + b"\n"


def _bad_text(rng, b: bytearray) -> None:
    for _ in range(rng.randint(1, 6)):
        i = rng.randrange(len(b) + 1)
        b[i:i] = rng.choice((b"\xff\xfe", b"\x00", b"\r", b"\x1b[31m", b"\xe2\x9c", b"\\x", b"'",
                             b"\n" * 3, b"\t"))


def mutate(rng: random.Random, seeds: list[Seed], giant_every: int = 200) -> tuple[str, bytes, str]:
    """(kind, bytes, how) of one mutated input."""
    s = rng.choice(seeds)
    b = bytearray(s.data)
    how = [s.name]
    if rng.random() < 0.15:  # splice: the head of one seed, the tail of another of its kind
        o = rng.choice([x for x in seeds if x.kind == s.kind])
        cut_a = rng.randrange(len(b) + 1)
        cut_b = rng.randrange(len(o.data) + 1)
        b = b[:cut_a] + bytearray(o.data[cut_b:])
        how.append(f"splice {o.name}")
    ops = [_flip, _set, _truncate, _repeat, _drop]
    ops += [_record_field] * 3 if s.kind == "pcap" else [_bad_text] * 2
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(ops)
        op(rng, b)
        how.append(op.__name__.strip("_"))
    if s.kind != "pcap" and rng.randrange(giant_every) == 0:
        size = rng.choice((1 << 20, 1 << 20, 4 << 20, 11 << 20))
        _giant_line(rng, b, size)
        how.append(f"giant line {size >> 20} MB")
    return s.kind, bytes(b), ", ".join(how)


def argv_for(kind: str, path: str, rng: random.Random) -> list[str]:
    if kind == "pcap":
        return ["--pcap", path, *(SSID_ARGS if rng.random() < 0.7 else []), "--json"]
    opt = "--wpas-log" if kind == "wpas" else "--esp32-log"
    return [opt, path, *(SSID_ARGS[:2] if rng.random() < 0.5 else []), *(["--json"] if rng.random() < 0.5 else [])]


# -- worker -------------------------------------------------------------------------------------

class _Alarm(BaseException):
    """The per-input timeout: a BaseException, so analyze's own catch-all for bugs (exit 3)
    does not take a hang for a crash."""


def worker(timeout: float) -> int:
    """Read argv lists (JSON lines) on stdin, run analyze on each, answer one JSON line each."""
    from cli.analyze import analyze_args

    def on_alarm(signum, frame):
        raise _Alarm()
    signal.signal(signal.SIGALRM, on_alarm)
    out = sys.stdout
    sys.stdout = open(os.devnull, "w")  # nothing the analyzer prints may reach the pipe
    for line in sys.stdin:
        argv = json.loads(line)
        t = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            code, _text, err = analyze_args(argv)
        except _Alarm:
            code, err = -1, "timeout"
        except BaseException as e:  # analyze_args must not raise: anything here is a crash
            code, err = 3, f"raised {type(e).__name__}: {e}"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        out.write(json.dumps({"code": code, "err": (err or "")[:500], "s": time.perf_counter() - t}) + "\n")
        out.flush()
    return 0


class Worker:
    """One worker process with at most one input in flight."""

    def __init__(self, timeout: float, slot: int, tmp: Path):
        self.timeout = timeout
        self.slot = slot
        self.tmp = tmp
        self.job = None  # (n, kind, data, how, started)
        self.p = subprocess.Popen([sys.executable, "-m", "cli.fuzz", "--worker", str(timeout)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, text=True,
                                  bufsize=1)

    def send(self, n: int, kind: str, data: bytes, how: str, rng: random.Random) -> None:
        path = self.tmp / f"in{self.slot}.{'pcap' if kind == 'pcap' else 'log'}"
        path.write_bytes(data)
        self.job = (n, kind, data, how, time.monotonic())
        self.p.stdin.write(json.dumps(argv_for(kind, str(path), rng)) + "\n")
        self.p.stdin.flush()

    def answer(self) -> dict:
        line = self.p.stdout.readline()
        if not line:
            return {"code": 3, "err": f"worker died (exit {self.p.wait()})", "s": 0.0}
        return json.loads(line)

    def overdue(self) -> bool:
        # the worker's own alarm answers at `timeout`; the margin covers a hang it cannot
        # interrupt (a long call in C): then the worker is killed and replaced
        return self.job is not None and time.monotonic() - self.job[4] > self.timeout + 5

    def close(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def bench_fuzz(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="roamcert bench fuzz")
    ap.add_argument("--inputs", type=int, default=2000, help="number of mutated inputs")
    ap.add_argument("--seed", type=int, default=12, help="random seed (the same seed, the same inputs)")
    ap.add_argument("--timeout", type=float, default=HANG_S, help="seconds before an input counts as a hang")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    ap.add_argument("--giant-every", type=int, default=200,
                    help="one log input in this many gets a giant (1-11 MB) line")
    ap.add_argument("--keep-crashes", default=str(ROOT / ".cache" / "fuzz"),
                    help="folder for the inputs that crashed or hung")
    a = ap.parse_args(argv)
    seeds = load_seeds()
    rng = random.Random(a.seed)
    keep = Path(a.keep_crashes)
    counts = {"ok": 0, "violations": 0, "input error": 0, "crash": 0, "hang": 0}
    slowest = (0.0, "")
    done = 0
    t0 = time.perf_counter()
    print(f"roamcert bench fuzz: {a.inputs} inputs from {len(seeds)} seeds, seed {a.seed}, "
          f"timeout {a.timeout:g} s, {max(1, a.workers)} worker(s)", flush=True)

    def record(w: Worker, r: dict) -> None:
        nonlocal slowest, done
        n, kind, data, how, _t = w.job
        w.job = None
        done += 1
        code = r["code"]
        if r["s"] > slowest[0]:
            slowest = (r["s"], how)
        if code in (0, 1, 2):
            counts[("ok", "violations", "input error")[code]] += 1
        else:
            what = "hang" if code == -1 else "crash"
            counts[what] += 1
            keep.mkdir(parents=True, exist_ok=True)
            saved = keep / f"{what}-{a.seed}-{n}.{'pcap' if kind == 'pcap' else 'log'}"
            saved.write_bytes(data)
            print(f"  {what}: input {n} ({how}) -> {saved}: {r['err']}", flush=True)
        if done % 10000 == 0:
            el = time.perf_counter() - t0
            print(f"  {done} inputs, {counts['crash']} crashes, {counts['hang']} hangs, "
                  f"{done / el:.0f} inputs/s", flush=True)

    with tempfile.TemporaryDirectory(prefix="roamcert-fuzz-") as tmp:
        workers = [Worker(a.timeout, i, Path(tmp)) for i in range(max(1, a.workers))]
        sent = 0
        while done < a.inputs:
            for w in workers:
                if w.job is None and sent < a.inputs:
                    kind, data, how = mutate(rng, seeds, a.giant_every)
                    w.send(sent, kind, data, how, rng)
                    sent += 1
            busy = {w.p.stdout: w for w in workers if w.job is not None}
            ready, _, _ = select.select(list(busy), [], [], 1.0)
            for f in ready:
                w = busy[f]
                r = w.answer()
                record(w, r)
                if r["err"].startswith("worker died"):
                    i = workers.index(w)
                    workers[i] = Worker(a.timeout, w.slot, Path(tmp))
            for i, w in enumerate(workers):
                if w.overdue():
                    w.close()
                    record(w, {"code": -1, "err": "timeout (worker killed)", "s": a.timeout + 5})
                    workers[i] = Worker(a.timeout, w.slot, Path(tmp))
        for w in workers:
            w.close()
    el = time.perf_counter() - t0
    print(f"inputs {a.inputs}  crashes {counts['crash']}  hangs {counts['hang']} (> {a.timeout:g} s)  "
          f"{a.inputs / el:.1f} inputs/s  ({el:.0f} s)")
    print(f"outcomes: exit 0 {counts['ok']}, exit 1 {counts['violations']}, exit 2 {counts['input error']}; "
          f"slowest input {slowest[0]:.2f} s ({slowest[1]})")
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--worker":
        sys.exit(worker(float(sys.argv[2])))
    sys.exit(bench_fuzz(sys.argv[1:]))
