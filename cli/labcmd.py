"""./roamcert lab up|down|status: a virtual lab for interactive work.

`lab up` boots the VM, starts two FT-PSK APs and a wpa_supplicant, and reads
commands from the terminal:  `<name> <control command>` (e.g. `sta ROAM 02:00:..`),
`! <command>` (runs inside the VM), `events <name>`, `quit`. `lab status` and
`lab down` work from another terminal through .cache/lab/state.json.
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".cache" / "lab" / "state.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _state() -> dict | None:
    try:
        st = json.loads(STATE.read_text())
    except (OSError, ValueError):
        return None
    return st if _alive(st.get("pid", -1)) else None


def status() -> int:
    st = _state()
    if not st:
        print("no lab is up")
        return 1
    print(f"lab up since {time.ctime(st['since'])}, pid {st['pid']}, results {st['results']}")
    for name, d in st.get("daemons", {}).items():
        print(f"  {name:6s} {d}")
    return 0


def down() -> int:
    st = _state()
    if not st:
        print("no lab is up")
        return 0
    os.kill(st["pid"], signal.SIGTERM)
    for _ in range(100):
        if not _alive(st["pid"]):
            print("lab down")
            return 0
        time.sleep(0.1)
    print(f"lab (pid {st['pid']}) did not stop", file=sys.stderr)
    return 1


def up() -> int:
    if _state():
        print("a lab is already up (./roamcert lab down first)", file=sys.stderr)
        return 1
    from lab.launch import close_lab, open_lab
    from lab.hostapd import BSSConfig
    from lab.wpas import Profile

    results = ROOT / "runs" / "lab"
    print("booting the virtual lab ...", flush=True)
    lab = open_lab("virtual", results)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        daemons = {"ap1": lab.start_ap(BSSConfig(channel=1, bridge="br1"), name="ap1"),
                   "ap2": lab.start_ap(BSSConfig(channel=6, bridge="br2"), name="ap2"),
                   "sta": lab.start_supplicant(name="sta")}
        STATE.parent.mkdir(parents=True, exist_ok=True)
        STATE.write_text(json.dumps({
            "pid": os.getpid(), "since": time.time(), "results": str(results),
            "daemons": {n: f"{getattr(d, 'iface', '')} {getattr(d, 'bssid', getattr(d, 'mac', ''))}"
                        for n, d in daemons.items()}}))
        print(f"lab up: {lab.info()}")
        for n, d in daemons.items():
            print(f"  {n}: {d.iface} {getattr(d, 'bssid', getattr(d, 'mac', ''))}")
        print(f"logs and pcaps: {results}\ntry: sta SELECT_NETWORK ... | sta ROAM <bssid> | "
              f"ap1 BSS_TM_REQ <sta> ... | ! iw dev | events sta | quit")
        sta = daemons["sta"]
        sta.add_network(Profile())
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            if line in ("quit", "exit"):
                break
            try:
                if line.startswith("!"):
                    r = lab.agent.run(shlex.split(line[1:]), check=False)
                    print(r["stdout"] + r["stderr"], end="")
                elif line.startswith("events "):
                    for t, text in daemons[line.split()[1]].events()[-20:]:
                        print(f"{t:.3f} {text}")
                else:
                    name, _, cmd = line.partition(" ")
                    print(daemons[name].ctrl(cmd))
            except KeyError as e:
                print(f"unknown daemon {e}; have {', '.join(daemons)}")
            except Exception as e:
                print(f"error: {e}")
    except KeyboardInterrupt:
        pass
    finally:
        close_lab(lab)
        STATE.unlink(missing_ok=True)
        print("lab down")
    return 0


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else ""
    if cmd == "up":
        return up()
    if cmd == "down":
        return down()
    if cmd == "status":
        return status()
    print("usage: ./roamcert lab up|down|status", file=sys.stderr)
    return 2
