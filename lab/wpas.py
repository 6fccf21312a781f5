"""wpa_supplicant in the lab: declarative profiles rendered to wpa_supplicant.conf,
and the running supplicant."""
from __future__ import annotations

from dataclasses import dataclass, field

from lab.daemon import Daemon, DaemonError
from lab.hostapd import DEFAULT_PASSPHRASE, FT_PSK, OPEN, WPA2_PSK, psk_hex, ssid_bytes


@dataclass
class Profile:
    ssid: str | bytes = "roamcert"
    security: str = FT_PSK
    passphrase: str = DEFAULT_PASSPHRASE
    key_mgmt: str | None = None  # override, e.g. "WPA-PSK" for an FT-less DUT
    bssid: str | None = None  # pin: the DUT may not roam
    pmf: int = 0
    scan_freqs: tuple[int, ...] = ()
    extra: dict = field(default_factory=dict)  # network-block keys

    @property
    def ssid_b(self) -> bytes:
        return ssid_bytes(self.ssid)

    def render_network(self) -> str:
        lines = [f"ssid={self.ssid_b.hex()}", "scan_ssid=1"]
        if self.security == OPEN:
            lines.append("key_mgmt=NONE")
        else:
            km = self.key_mgmt or ("FT-PSK" if self.security == FT_PSK else "WPA-PSK")
            lines += [f"key_mgmt={km}", "proto=RSN", "pairwise=CCMP", "group=CCMP",
                      f"psk={psk_hex(self.passphrase, self.ssid_b)}", f"ieee80211w={self.pmf}"]
        if self.security not in (OPEN, WPA2_PSK, FT_PSK):
            raise ValueError(f"unknown security {self.security!r}")
        if self.bssid:
            lines.append(f"bssid={self.bssid}")
        if self.scan_freqs:
            lines.append("scan_freq=" + " ".join(map(str, self.scan_freqs)))
        for k, v in self.extra.items():
            lines.append(f"{k}={v}")
        return "network={\n" + "".join(f"\t{x}\n" for x in lines) + "}\n"


@dataclass
class SupplicantConfig:
    ctrl_dir: str = "/var/run/wpa_supplicant"
    disable_btm: bool = False
    extra: dict = field(default_factory=dict)  # global keys

    def render(self, profiles: list[Profile] = ()) -> str:
        lines = [f"ctrl_interface={self.ctrl_dir}", "update_config=0", "ap_scan=1"]
        if self.disable_btm:
            lines.append("disable_btm=1")
        for k, v in self.extra.items():
            lines.append(f"{k}={v}")
        return "\n".join(lines) + "\n" + "".join(p.render_network() for p in profiles)


class Supplicant(Daemon):
    kind = "wpa_supplicant"

    def __init__(self, agent, name, iface, mac, ctrl_path, log_host, log_vm, conf_text):
        super().__init__(agent, name, ctrl_path, log_host, log_vm)
        self.iface = iface
        self.mac = mac
        self.conf_text = conf_text
        self.pid: int | None = None  # in the lab's kernel (lab.cpu_limit needs it)

    def status(self) -> dict:
        out = {}
        for line in self.ctrl("STATUS").splitlines():
            k, _, v = line.partition("=")
            out[k] = v
        return out

    def add_network(self, profile: Profile) -> int:
        nid = int(self.ctrl_ok("ADD_NETWORK"))
        for line in profile.render_network().splitlines()[1:-1]:
            k, _, v = line.strip().partition("=")
            self.ctrl_ok(f"SET_NETWORK {nid} {k} {v}")
        return nid

    def connect(self, profile: Profile, timeout: float = 15) -> str:
        """Connect and return the BSSID. Raises with the last events on failure."""
        self.ctrl("REMOVE_NETWORK all")
        nid = self.add_network(profile)
        m = self.mark()
        self.ctrl_ok(f"SELECT_NETWORK {nid}")
        _, _, match = self.wait_event(r"CTRL-EVENT-CONNECTED - Connection to ([0-9a-f:]{17})",
                                      timeout, since=m)
        return match.group(1)

    def scan(self, freqs: tuple[int, ...] = (), timeout: float = 15) -> None:
        m = self.mark()
        cmd = "SCAN" + (" freq=" + ",".join(map(str, freqs)) if freqs else "")
        for _ in range(20):
            r = self.ctrl(cmd)
            if r.startswith("OK"):
                break
            if "FAIL-BUSY" not in r:
                raise DaemonError(f"{self.name}: SCAN answered {r!r}")
            self.wait_event(r"CTRL-EVENT-SCAN-RESULTS", 5, since=m)
            m = self.mark()
        self.wait_event(r"CTRL-EVENT-SCAN-RESULTS", timeout, since=m)

    def bss_known(self, bssid: str) -> bool:
        return self.ctrl(f"BSS {bssid}").strip() != ""
