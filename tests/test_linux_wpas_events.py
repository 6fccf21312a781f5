"""LinuxWpasDut's event stream from the supplicant's debug log: an event assembled from
several lines is in events() as soon as its lines are read, so a case's snapshot holds the
DUT's last neighbor report even though no later line ends it."""
from __future__ import annotations

from types import SimpleNamespace

from devices import linux_wpas

AP2, FAKE = "02:00:00:00:02:00", "02:00:00:00:0b:0b"
LINES = [
    "1.000000: wlan0: RRM: Notifying neighbor report (token = 1)",
    f"1.000001: wlan0: RRM-NEIGHBOR-REP-RECEIVED bssid={FAKE} info=0xd op_class=81 chan=11 phy_type=7",
    f"1.000002: wlan0: RRM-NEIGHBOR-REP-RECEIVED bssid={AP2} info=0x8f op_class=81 chan=6 phy_type=7",
]


class FakeAgent:
    """Answers the adapter's sysctl writes and reads the way a 6.1 kernel does."""

    def __init__(self):
        self.sysctl = {}

    def run(self, argv, check=True):
        keys = [a for a in argv[1:] if a.startswith("net.")]
        if "-w" in argv:
            self.sysctl.update(k.split("=") for k in keys)
            return {"stdout": "", "stderr": "", "rc": 0}
        return {"stdout": "".join(f"{k} = {self.sysctl[k]}\n" for k in keys), "stderr": "", "rc": 0}


class FakeLab:
    """The lab as the adapter sees it, without the link monitor (the adapter falls back to
    the kernel messages its supplicant logs)."""

    def __init__(self, log):
        self.log = log
        self.agent = FakeAgent()

    def watch_link(self, iface, netns=None):
        raise RuntimeError("no link monitor in this test")

    def start_supplicant(self, cfg, name, netns=None):
        return SimpleNamespace(mac="02:00:00:00:09:00", iface="wlan0", log_host=str(self.log), name=name)


def test_the_event_being_assembled_is_in_events(tmp_path):
    log = tmp_path / "dut.log"
    log.write_text("\n".join(LINES[:2]) + "\n")
    dut = linux_wpas.LinuxWpasDut(FakeLab(log))
    evs = dut.events()
    assert [e.kind for e in evs] == ["neighbor_report_notified", "neighbor_report"]
    assert [x["bssid"] for x in evs[1].get("entries")] == [FAKE]
    assert dut.mark() == 1  # a mark counts finished events only
    with log.open("a") as f:
        f.write(LINES[2] + "\n")
    evs = dut.events()
    assert [x["bssid"] for x in evs[1].get("entries")] == [FAKE, AP2]  # the same event, grown
    with log.open("a") as f:
        f.write("1.100000: wlan0: CTRL-EVENT-DISCONNECTED bssid=02:00:00:00:01:00 reason=3 locally_generated=1\n")
    evs = dut.events()
    assert [e.kind for e in evs] == ["neighbor_report_notified", "neighbor_report", "disconnected"]
    assert [x["bssid"] for x in evs[1].get("entries")] == [FAKE, AP2]
    assert dut.mark() == 3
