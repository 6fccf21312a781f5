"""Record an FT roam under ping on the virtual lab, with the kernel's link events and a
capture of the DUT's own interface: the material of tests/data/lab/ft_outage.* (README there).

    .venv/bin/python tools/capture_ft_outage.py [OUT_DIR]

Two FT-PSK APs (ap1 channel 1 on br1, ap2 channel 6 on br2, both bridged into br-ds,
which has 10.77.0.1) and a linux-wpas DUT in its own network namespace (10.77.0.2),
as suites/test_11r.py FT-08 builds them. The DUT connects and is pinged warm; then, twice,
`ping -i 0.01 -c 300` to 10.77.0.1 with an FT over-the-air `ROAM` 1 s into it: round 1 with
the kernel defaults (arp_evict_nocarrier=1: a carrier drop flushes the DUT's ARP cache),
round 2 with arp_evict_nocarrier=0 and ndisc_evict_nocarrier=0.
Writes: air.pcap (hwsim0), dut.pcap (the DUT's interface in its namespace), link.json (the
agent's link-monitor records), sta.log (wpa_supplicant -d -t), ping-N.txt, marks.json.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devices.linux_wpas import LinuxWpasDut  # noqa: E402
from lab import dataplane  # noqa: E402
from lab.launch import close_lab, open_lab  # noqa: E402
from lab.network import FT_AP1, FT_AP2, PROFILE  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / ".cache" / "ft_outage_lab")
    if out.exists():
        shutil.rmtree(out)
    lab = open_lab("virtual", out)
    marks: dict = {"rounds": []}
    dut = None
    try:
        air = lab.start_capture("air.pcap")
        ap1 = lab.start_ap(FT_AP1, "ap1")
        ap2 = lab.start_ap(FT_AP2, "ap2")
        dut = LinuxWpasDut(lab, name="linux-wpas-netns", netns=dataplane.DUT_NS)
        dataplane.address_ds(lab.agent)
        dataplane.address(lab.agent, dut.iface, netns=dataplane.DUT_NS)
        dutcap = lab.start_capture("dut.pcap", iface=dut.iface, netns=dataplane.DUT_NS)
        dut.reset()
        first = dut.connect(PROFILE)
        cur, other = (ap1, ap2) if first == ap1.bssid else (ap2, ap1)
        dut.scan((ap1.freq, ap2.freq))
        marks.update(sta=dut.mac, first=first, iface=dut.iface, identity=dut.identity())
        dataplane.Ping(lab, "ping-warm", "ping-warm.txt", 20).wait()
        for i, evict in enumerate((True, False), 1):
            got = dut.set_neigh_evict(evict)
            p = dataplane.Ping(lab, f"ping-{i}", f"ping-{i}.txt", 300)
            time.sleep(1)
            m = dut.mark()
            t_cmd = lab.now()
            dut.ctrl(f"ROAM {other.bssid}")
            dut.wait_for(lambda e: e.kind == "connected" and e.get("bssid") == other.bssid, 20, since=m)
            res = p.wait()
            marks["rounds"].append({"round": i, "sysctls": got, "roam_cmd_t": t_cmd, "from": cur.bssid,
                                    "to": other.bssid, "lost": res.lost, "gaps": res.gaps()})
            print(f"round {i} evict={int(evict)}: {res.lost}/{res.transmitted} lost, gaps {res.gaps()}")
            cur, other = other, cur
            time.sleep(1)
        time.sleep(0.5)
        dutcap.stop()
        air.stop()
        (out / "link.json").write_text(json.dumps(dut.link.records(), indent=1))
        (out / "events.json").write_text(json.dumps([e.to_dict() for e in dut.all_events()], indent=1))
        (out / "marks.json").write_text(json.dumps(marks, indent=1))
        shutil.copy(dut.sup.log_host, out / "sta.log")
    finally:
        if dut is not None:
            dut.close()
            dataplane.move_back(lab.agent, dut.iface, dataplane.DUT_NS)
        close_lab(lab)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
