"""LinuxWpasDut's event stream from the supplicant's debug log: an event assembled from
several lines is released once the log goes quiet, so a case's snapshot holds it."""
from __future__ import annotations

import time
from types import SimpleNamespace

from devices import linux_wpas

AP2, FAKE = "02:00:00:00:02:00", "02:00:00:00:0b:0b"


class FakeLab:
    def __init__(self, log):
        self.log = log

    def start_supplicant(self, cfg, name, netns=None):
        return SimpleNamespace(mac="02:00:00:00:09:00", iface="wlan0", log_host=str(self.log), name=name)


def test_neighbor_report_released_when_the_log_goes_quiet(tmp_path, monkeypatch):
    log = tmp_path / "dut.log"
    log.write_text(
        "1.000000: wlan0: RRM: Notifying neighbor report (token = 1)\n"
        f"1.000001: wlan0: RRM-NEIGHBOR-REP-RECEIVED bssid={FAKE} info=0xd op_class=81 chan=11 phy_type=7\n"
        f"1.000002: wlan0: RRM-NEIGHBOR-REP-RECEIVED bssid={AP2} info=0x8f op_class=81 chan=6 phy_type=7\n")
    dut = linux_wpas.LinuxWpasDut(FakeLab(log))
    monkeypatch.setattr(linux_wpas, "QUIET_FLUSH_S", 3600)
    assert [e.kind for e in dut.events()] == ["neighbor_report_notified"]  # more entries may follow
    monkeypatch.setattr(linux_wpas, "QUIET_FLUSH_S", 0)
    time.sleep(0.01)
    evs = dut.events()
    assert [e.kind for e in evs] == ["neighbor_report_notified", "neighbor_report"]
    assert [x["bssid"] for x in evs[1].get("entries")] == [FAKE, AP2]
    assert dut.mark() == 2
