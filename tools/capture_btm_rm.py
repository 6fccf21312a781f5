"""Record tests/data/lab/btm_rm.pcap on the virtual lab (see tests/data/lab/README.md).

    .venv/bin/python tools/capture_btm_rm.py [OUT_DIR]

Two FT-PSK APs (ap1 channel 1, ap2 channel 6, PMF off so WNM/RM action frames are in
the clear) and one wpa_supplicant STA. The STA connects to ap1 and scans; then:
neighbor report request; a BTM request naming ap2 (accepted, FT roam); on ap2 beacon
requests in table, passive (detail 1, requested IDs, last indication) and active
(SSID filter) mode; a BTM request naming only an absent BSS (rejected).
"""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lab.launch import close_lab, open_lab  # noqa: E402
from lab.hostapd import BSSConfig  # noqa: E402
from lab.wpas import Profile, SupplicantConfig  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ABSENT = "02:00:00:00:99:00"


def beacon_req(ap, sta, hexbody, log):
    m = ap.mark()
    r = ap.ctrl(f"REQ_BEACON {sta} {hexbody}")
    log.append(f"REQ_BEACON {hexbody} -> {r}")
    if not r.startswith("FAIL"):
        try:
            ap.wait_event("BEACON-RESP-RX", 20, since=m)
        except Exception as e:
            log.append(f"  no BEACON-RESP-RX: {e}")
        time.sleep(2)
    log += [f"  {t:.6f} {x}" for t, x in ap.events()[m:]]


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / ".cache" / "btm_rm_lab")
    if out.exists():
        shutil.rmtree(out)
    lab = open_lab("virtual", out)
    log: list[str] = []
    try:
        cap = lab.start_capture("btm_rm.pcap")
        ap1 = lab.start_ap(BSSConfig(channel=1), "ap1")
        ap2 = lab.start_ap(BSSConfig(channel=6), "ap2")
        for ap in (ap1, ap2):
            ap.set_neighbors([ap1, ap2])
        sta = lab.start_supplicant(SupplicantConfig(), "sta")
        prof = Profile(scan_freqs=(2412, 2437), bssid=None)
        first = sta.connect(prof)
        log.append(f"connected to {first}")
        cur, other = (ap1, ap2) if first == ap1.bssid else (ap2, ap1)
        sta.scan((2412, 2437))
        m = sta.mark()
        log.append("NEIGHBOR_REP_REQUEST -> " + sta.ctrl("NEIGHBOR_REP_REQUEST"))
        try:
            sta.wait_event("RRM-NEIGHBOR-REP-RECEIVED", 10, since=m)
        except Exception as e:
            log.append(f"  no neighbor report: {e}")
        time.sleep(0.5)
        # accepted: ap2 preferred, the current AP listed with a lower preference
        m, mm = sta.mark(), cur.mark()
        cmd = (f"BSS_TM_REQ {sta.mac} dialog_token=5 pref=1 valid_int=200 "
               f"neighbor={other.bssid},0x0000,{other.op_class},{other.config.channel},7,0301ff "
               f"neighbor={cur.bssid},0x0000,{cur.op_class},{cur.config.channel},7,030132")
        log.append(cmd + " -> " + cur.ctrl_ok(cmd))
        _, text, _ = cur.wait_event("BSS-TM-RESP", 20, since=mm)
        log.append(text)
        sta.wait_event(f"CTRL-EVENT-CONNECTED - Connection to {other.bssid}", 20, since=m)
        time.sleep(1)
        cur, other = other, cur
        # beacon requests from the new AP
        beacon_req(cur, sta.mac, "5100" + "0000" + "0000" + "02" + "ff" * 6, log)
        beacon_req(cur, sta.mac, "5101" + "0000" + "6400" + "00" + "ff" * 6
                   + "020101" + "0a03003036" + "a40101", log)
        beacon_req(cur, sta.mac, "5106" + "0000" + "3200" + "01" + "ff" * 6
                   + "0008" + b"roamcert".hex() + "020102", log)
        # rejected: the only candidate is not on the air
        mm = cur.mark()
        cmd = f"BSS_TM_REQ {sta.mac} dialog_token=9 pref=1 abridged=1 neighbor={ABSENT},0x0000,81,11,7,0301ff"
        log.append(cmd + " -> " + cur.ctrl_ok(cmd))
        try:
            _, text, _ = cur.wait_event("BSS-TM-RESP", 30, since=mm)
            log.append(text)
        except Exception as e:
            log.append(f"  no BSS-TM-RESP: {e}")
        time.sleep(1)
        path = cap.stop()
        log.append(f"capture {path}")
    finally:
        close_lab(lab)
        (out / "capture.txt").write_text("\n".join(log) + "\n")
    print("\n".join(log))
    return 0


if __name__ == "__main__":
    sys.exit(main())
