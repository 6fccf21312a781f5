"""A real FT roam under ping, recorded in the virtual lab by tools/capture_ft_outage.py
(tests/data/lab/ft_outage.*, README there): the link monitor's carrier events against the
air capture and against wpa_supplicant's own copy of the same netlink messages, and the
outage decomposition of both rounds (ARP flush on, then off). The `lab` test records a
fresh roam the same way and checks what does not depend on the machine's speed."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devices.linux_link import to_events
from devices.wpas_log import parse_text, to_indications
from engine import capture
from engine.indications import check
from engine.outage import decompose, dut_packets
from lab.dataplane import parse_ping

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "tests" / "data" / "lab"


def recorded(d: Path, prefix: str = "", dut_cap: str = "dut.pcap") -> dict:
    return {"frames": list(capture.open_capture(str(d / f"{prefix}air.pcap"))),
            "packets": dut_packets((d / f"{prefix}{dut_cap}").read_bytes()),
            "records": json.loads((d / f"{prefix}link.json").read_text()),
            "marks": json.loads((d / f"{prefix}marks.json").read_text()),
            "log": (d / f"{prefix}sta.log").read_text(errors="replace"),
            "pings": [parse_ping((d / f"{prefix}ping-{i}.txt").read_text()) for i in (1, 2)]}


def outages(r: dict):
    evs = to_events(r["records"])
    out = []
    for rnd, ping in zip(r["marks"]["rounds"], r["pings"]):
        out.append(decompose(r["frames"], r["marks"]["sta"], rnd["from"], rnd["to"], evs, r["packets"],
                             answered=ping.seqs, transmitted=ping.transmitted, after=rnd["roam_cmd_t"]))
    return out


def causal_checks(r: dict):
    """What holds however slow the lab runs: the link monitor's times are when it read the
    message, never before the kernel sent it."""
    os_ = outages(r)
    for o in os_:
        off, on, resp = o.at("carrier_off"), o.at("carrier_on"), o.at("reassoc_response")
        assert off and on and resp, [m.name for m in o.milestones]
        assert off.t < on.t
        assert on.t >= resp.t  # mac80211 raises carrier when it has the Reassociation Response
        assert "RTM_NEWLINK" in off.what and "<UP>" in off.what and "LOWER_UP" in on.what
    # the flush is the difference: re-resolution with arp_evict_nocarrier=1, none with 0
    assert [r_["sysctls"]["net.ipv4.conf.wlan2.arp_evict_nocarrier"] for r_ in r["marks"]["rounds"]] == [1, 0] \
        or r["marks"]["iface"] != "wlan2"
    assert os_[0].at("arp_request") is not None
    assert os_[1].at("arp_request") is None
    # IND-6 on the live path's events: the supplicant's log without its kernel copies, plus the monitor
    sup = parse_text(r["log"], "sta.log")
    from devices.wpas_log import WpasLogParser
    p = WpasLogParser("sta.log", kernel=False)
    live = [e for i, line in enumerate(r["log"].splitlines(), 1) for e in p.feed_line(line, source=f"sta.log:{i}")]
    trace = to_indications(sorted(live + to_events(r["records"]), key=lambda e: e.t), ifname=r["marks"]["iface"])
    ind6 = [v for v in check(trace) if v.rule == "IND-6"]
    assert ind6 and all(v.status == "fail" and v.layer == "kernel/driver" for v in ind6)
    assert all(any(e.startswith("kernel/driver: RTM_NEWLINK ifindex=") for e in v.evidence) for v in ind6)
    # the supplicant read the same carrier changes from its own netlink socket: the same sequence
    t0 = r["marks"]["rounds"][0]["roam_cmd_t"]
    mine = [e.kind for e in to_events(r["records"]) if e.kind.startswith("carrier") and e.t >= t0]
    theirs = [e.kind for e in sup if e.kind.startswith("carrier") and e.get("ifname") == r["marks"]["iface"]
              and e.t >= t0]
    assert mine == theirs == ["carrier_off", "carrier_on"] * 2
    return os_


@pytest.mark.skipif(not (LAB / "ft_outage.air.pcap").exists(), reason="lab material not present")
def test_recorded_roams_carrier_against_the_air_and_the_outage():
    r = recorded(LAB, "ft_outage.", "dut.cap")
    one, two = causal_checks(r)
    # this recording: carrier went 62/45 ms before the FT Authentication went on the air (mac80211
    # tears the old association down when it takes the authenticate command), came back 3.4/8.2 ms
    # after the Reassociation Response
    for o, before_auth, after_resp, down in ((one, 62.0, 3.4, 245.0), (two, 44.7, 8.2, 167.8)):
        off, on = o.at("carrier_off").t, o.at("carrier_on").t
        assert (o.at("ft_auth_request").t - off) * 1000 == pytest.approx(before_auth, abs=0.1)
        assert (on - o.at("reassoc_response").t) * 1000 == pytest.approx(after_resp, abs=0.1)
        assert (on - off) * 1000 == pytest.approx(down, abs=0.1)
    # wpa_supplicant's copies of those four messages (RTM_NEWLINK lines in its log) came 1 to 73 ms later
    sup = [e.t for e in parse_text(r["log"]) if e.kind.startswith("carrier") and e.get("ifname") == "wlan2"][-4:]
    mon = [o.at(n).t for o in (one, two) for n in ("carrier_off", "carrier_on")]
    assert [round((a - b) * 1000) for a, b in zip(sup, mon)] == [73, 3, 57, 1]
    assert (one.lost, two.lost) == (79, 43)
    assert round(one.gap_ms) == 1234 and round(two.gap_ms) == 698
    # round 1: the ARP request comes 1033 ms after the carrier drop (one retransmit interval)
    assert round((one.at("arp_request").t - one.at("carrier_off").t) * 1000) == 1033
    # round 2: the wait is the closed port: 404 ms from carrier on to operstate UP
    ph = {(p.start, p.end): p for p in two.phases}
    assert round(ph[("carrier_on", "port_authorized")].ms) == 404
    assert ph[("carrier_on", "port_authorized")].layer == "supplicant"


def test_dut_capture_decoding_matches_tshark():
    tshark = shutil.which("tshark")
    if not tshark or not (LAB / "ft_outage.dut.cap").exists():
        pytest.skip("tshark or the recording is missing")
    out = subprocess.run([tshark, "-r", str(LAB / "ft_outage.dut.cap"), "-T", "fields", "-e", "frame.number",
                          "-e", "arp.opcode", "-e", "icmp.type", "-e", "icmp.seq", "-e", "icmp.ident"],
                         capture_output=True, text=True, check=True).stdout
    theirs = []
    for line in out.splitlines():
        n, op, typ, seq, ident = (line.split("\t") + [""] * 5)[:5]
        kind = {"1": "arp_request", "2": "arp_reply"}.get(op) or {"8": "echo_request", "0": "echo_reply"}.get(typ, "other")
        theirs.append((int(n), kind, int(seq) if seq and kind.startswith("echo") else None,
                       int(ident) if ident and kind.startswith("echo") else None))
    mine = [(p.index, p.kind, p.seq, p.ident) for p in dut_packets((LAB / "ft_outage.dut.cap").read_bytes())]
    assert mine == theirs and len(mine) > 400


@pytest.mark.lab
def test_fresh_lab_roam(tmp_path):
    out = tmp_path / "ft_outage"
    p = subprocess.run([sys.executable, str(ROOT / "tools" / "capture_ft_outage.py"), str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    causal_checks(recorded(out))
