"""./roamcert bench soak: many roams back and forth between two FT APs, with a ping through each.

  bench soak [--roams N] [--dut linux-wpas] [--block B] [--out DIR]
  bench soak --from DIR
      Measures a finished soak again from its soak.json records and captures (no lab).

On the virtual lab: two FT APs (channels 1 and 6, one mobility domain), the DUT's data-plane
twin in its own network namespace (lab/dataplane.py, as FT-08), connected; then N roams, each
to the AP it is not on, cycling through FT over the air (ROAM), FT over the DS (FT_DS, only
if the DUT claims ft_over_ds) and a BSS Transition Management Request from the serving AP
naming the other (only if it claims btm). A 10 ms ping to the distribution system runs
through every roam. The air is captured in blocks of B roams.

Measured by the engine (engine/soak.py): roam time on the air (the FT judge's
FTExchange.latency_us) and the ping outage (pings lost; longest unanswered run x 10 ms).
Printed: p50/p95/p99/max per roam kind, and every failed roam with its reason. Written:
<out>/soak.json (every roam's record and measurement), the captures and the DUT's log, in
runs/soak-<UTC timestamp>/ unless --out. Figures only: exit 0 when the soak ran (failed roams
included), 2 on bad arguments or when the lab could not be set up.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PING_INTERVAL = 0.01
PING_COUNT = 400          # 4 s of pings at 10 ms: the roam is commanded LEAD_S into it
LEAD_S = 0.5
ROAM_TIMEOUT_S = 10.0


class SoakSetupError(Exception):
    """The soak cannot run with this DUT (a capability it needs is not claimed)."""


def _stats(xs: list[float]) -> str:
    from reports.metrics import fmt, percentile
    if not xs:
        return "n=0"
    return (f"n={len(xs)} p50={fmt(percentile(xs, 50))} p95={fmt(percentile(xs, 95))} "
            f"p99={fmt(percentile(xs, 99))} max={fmt(max(xs))}")


def summarize(measurements: list[dict], kinds: list[str]) -> list[str]:
    """The printed table: per kind (and all together) roam time, outage and pings lost; then
    the failed roams with their reasons."""
    lines = []
    for kind in [*kinds, "all"]:
        ms = [m for m in measurements if kind == "all" or m["kind"] == kind]
        ok = [m for m in ms if m["ok"]]
        lines.append(f"{kind}: {len(ms)} roams, {len(ok)} ok, {len(ms) - len(ok)} failed")
        lines.append("  roam time on the air (ms):  " +
                     _stats([m["roam_time_us"] / 1000 for m in ms if m["roam_time_us"] is not None]))
        lines.append("  ping outage (ms, longest unanswered run x 10 ms):  " +
                     _stats([m["outage_ms"] for m in ms if m["outage_ms"] is not None]))
        lines.append("  pings lost per roam:  " + _stats([m["pings_lost"] for m in ms if m["pings_lost"] is not None]))
    failed = [m for m in measurements if not m["ok"]]
    lines.append(f"failures: {len(failed)}")
    for m in failed:
        lines.append(f"  roam {m['index']} {m['kind']} {m['source']} -> {m['target']}: {m['failure']}")
    return lines


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="roamcert bench soak")
    ap.add_argument("--roams", type=int, default=200)
    ap.add_argument("--dut", default="linux-wpas")
    ap.add_argument("--block", type=int, default=25, help="roams per air capture")
    ap.add_argument("--out", help="folder for soak.json and the captures (default runs/soak-<UTC>)")
    ap.add_argument("--from", dest="from_", metavar="DIR", help="measure a finished soak's folder again")
    try:
        a = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    if a.from_:
        return remeasure(Path(a.from_))
    if a.roams < 1 or a.block < 1:
        print("roamcert bench soak: --roams and --block must be at least 1", file=sys.stderr)
        return 2
    out = Path(a.out) if a.out else ROOT / "runs" / ("soak-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    (out / "ping").mkdir(parents=True, exist_ok=True)
    from devices.registry import DutSpecError, check_spec
    try:
        check_spec(a.dut)
    except DutSpecError as e:
        print(f"roamcert bench soak: {e}", file=sys.stderr)
        return 2
    t_start = time.monotonic()
    print(f"soak: {a.roams} roams on {a.dut}; folder {out}", flush=True)
    from lab.launch import close_lab, open_lab
    lab = open_lab("virtual", out)
    try:
        doc = soak(lab, a.dut, a.roams, a.block, out)
    except SoakSetupError as e:
        print(f"roamcert bench soak: {e}", file=sys.stderr)
        return 2
    finally:
        close_lab(lab)
    doc["wall_s"] = round(time.monotonic() - t_start, 1)
    (out / "soak.json").write_text(json.dumps(doc, indent=1))
    print("\n".join(summarize(doc["measurements"], doc["kinds"])))
    print(f"soak: {doc['wall_s']} s wall; raw figures {out / 'soak.json'}")
    return 0


def remeasure(folder: Path) -> int:
    """Measure a soak folder's roams again from its records and captures; rewrites soak.json's
    measurements and prints the table."""
    from engine import soak as sk
    from engine.air import Air
    from engine.ft.keys import Secrets
    from lab.network import PROFILE
    path = folder / "soak.json"
    try:
        doc = json.loads(path.read_text())
        records = [sk.RoamRecord(**r) for r in doc["records"]]
        captures, block = doc["captures"], int(doc.get("block", 25))
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"roamcert bench soak: {path}: not a soak document: {e}", file=sys.stderr)
        return 2
    secrets = Secrets.from_passphrase(PROFILE.passphrase, PROFILE.ssid_b)
    ms = []
    for i, name in enumerate(captures):
        blk = records[i * block:(i + 1) * block]
        try:
            frames = Air(folder / name).frames
        except Exception as e:  # a capture that cannot be read: its roams are not measured
            print(f"roamcert bench soak: {folder / name}: {e}", file=sys.stderr)
            return 2
        ms += [m.to_dict() for m in sk.measure(frames, doc["twin_mac"], blk, secrets)]
    doc["measurements"] = ms
    path.write_text(json.dumps(doc, indent=1))
    print("\n".join(summarize(ms, doc["kinds"])))
    return 0


def soak(lab, dut_name: str, n: int, block: int, out: Path) -> dict:
    """Drive the roams; returns the soak's document (records, measurements, kinds)."""
    from dataclasses import asdict

    from devices.base import WaitTimeout
    from devices.registry import make_dut
    from engine import soak as sk
    from engine.air import Air
    from engine.ft.keys import Secrets
    from lab import dataplane
    from lab.network import FT_AP1, FT_AP2, PROFILE
    from suites.btm_steps import bss_tm_req, candidate

    ap_a = lab.start_ap(FT_AP1, name="ap-a")
    ap_b = lab.start_ap(FT_AP2, name="ap-b")
    by_bssid = {ap_a.bssid: ap_a, ap_b.bssid: ap_b}
    dut = make_dut(dut_name, lab)
    missing = [c for c in ("ft_psk", "ft_over_air", "commands", "data_plane") if c not in dut.capabilities]
    if missing:
        dut.close()
        raise SoakSetupError(f"{dut_name} does not claim {', '.join(missing)} (the soak roams FT through "
                             "the DUT's data-plane twin)")
    kinds = [sk.FT_AIR] + ([sk.FT_DS] if "ft_over_ds" in dut.capabilities else []) + \
            ([sk.BTM] if "btm" in dut.capabilities else [])
    ns = dataplane.DUT_NS
    twin = dut.data_plane_twin(ns)
    records: list[sk.RoamRecord] = []
    measurements: list[dict] = []
    captures = []
    secrets = Secrets.from_passphrase(PROFILE.passphrase, PROFILE.ssid_b)
    try:
        dataplane.address_ds(lab.agent)
        dataplane.address(lab.agent, twin.iface, netns=ns)
        twin.reset()
        first = twin.connect(PROFILE)
        twin.scan(tuple(sorted({ap_a.freq, ap_b.freq})))
        cur = by_bssid[first]
        warm = dataplane.Ping(lab, "soak-warm", "ping-warm.txt", 20, PING_INTERVAL).wait()
        print(f"soak: connected to {first}; warm-up ping {warm.received}/{warm.transmitted}", flush=True)
        token = 0
        for b0 in range(0, n, block):
            name = f"air-{b0 // block + 1:03d}.pcap"
            cap = lab.start_capture(name)
            blk = []
            try:
                for i in range(b0, min(n, b0 + block)):
                    other = ap_b if cur is ap_a else ap_a
                    kind = kinds[i % len(kinds)]
                    ping = dataplane.Ping(lab, f"soak-ping-{i}", f"ping/{i + 1:04d}.txt", PING_COUNT, PING_INTERVAL)
                    time.sleep(LEAD_S)
                    m = twin.mark()
                    t_cmd = lab.now()
                    problem = ""
                    if kind == sk.BTM:
                        token = token % 255 + 1
                        cur.ctrl_ok(bss_tm_req(twin.mac, [candidate(other.bssid, other.op_class, other.config.channel,
                                                                    255)], token, "pref=1 abridged=1 valid_int=255"))
                    else:
                        reply = twin.ctrl(("FT_DS " if kind == sk.FT_DS else "ROAM ") + other.bssid)
                        if not reply.startswith("OK"):
                            problem = f"command answered {reply.strip()!r}"
                    connected = None
                    if not problem:
                        try:
                            e = twin.wait_for(lambda e: e.kind == "connected", ROAM_TIMEOUT_S, since=m)
                            connected = e.get("bssid")
                        except WaitTimeout:
                            problem = f"no CTRL-EVENT-CONNECTED within {ROAM_TIMEOUT_S:.0f} s"
                    res = ping.wait()
                    t_end = lab.now()
                    r = sk.RoamRecord(i + 1, kind, cur.bssid, other.bssid, t_cmd, t_end, connected, problem,
                                      res.transmitted, list(res.seqs), PING_INTERVAL)
                    blk.append(r)
                    # where the DUT is now decides the next target; not connected: connect again
                    st = twin.status()
                    if st.get("wpa_state") == "COMPLETED" and st.get("bssid") in by_bssid:
                        cur = by_bssid[st["bssid"]]
                    else:
                        print(f"soak: roam {i + 1}: DUT {st.get('wpa_state')}; connecting again", flush=True)
                        cur = by_bssid[twin.connect(PROFILE)]
                    if (i + 1) % 10 == 0:
                        print(f"soak: {i + 1}/{n} roams", flush=True)
            finally:
                path = cap.stop()
                captures.append(name)
            got = sk.measure(Air(path).frames, twin.mac, blk, secrets)
            records += blk
            measurements += [x.to_dict() for x in got]
            bad = [x for x in got if not x.ok]
            print(f"soak: block {name}: {len(got)} roams measured, {len(bad)} failed", flush=True)
    finally:
        # the DUT's own log, for reading a failed roam's reason beyond the figures
        (out / f"{twin.name}-debug.log").write_text("\n".join(twin.log_lines()) + "\n")
        twin.close()
        dataplane.move_back(lab.agent, twin.iface, ns)
        dut.close()
    return {"dut": dut_name, "twin_mac": twin.mac, "roams_requested": n, "kinds": kinds, "block": block,
            "ping_interval_s": PING_INTERVAL, "ping_count": PING_COUNT, "lead_s": LEAD_S,
            "aps": {"a": ap_a.bssid, "b": ap_b.bssid}, "captures": captures,
            "records": [asdict(r) for r in records], "measurements": measurements}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
