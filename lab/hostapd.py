"""Reference APs: declarative BSS configs rendered to hostapd.conf, and the running AP."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from engine.channels import channel_freq, op_class_of
from lab.daemon import Daemon, DaemonError, wait_until

OPEN, WPA2_PSK, FT_PSK = "open", "wpa2-psk", "ft-psk"
DEFAULT_PASSPHRASE = "roamcert-passphrase"
FT_KEY = "00112233445566778899aabbccddeeff"  # shared R0KH/R1KH key of the lab's APs


def ssid_bytes(ssid: str | bytes) -> bytes:
    return ssid if isinstance(ssid, bytes) else ssid.encode()


def psk_hex(passphrase: str, ssid: bytes) -> str:
    """The PMK as 64 hex digits, so no passphrase needs quoting in a config file."""
    return hashlib.pbkdf2_hmac("sha1", passphrase.encode(), ssid, 4096, 32).hex()


@dataclass
class BSSConfig:
    ssid: str | bytes = "roamcert"
    channel: int = 1
    security: str = FT_PSK
    passphrase: str = DEFAULT_PASSPHRASE
    also_wpa_psk: bool = False  # FT-PSK networks may also offer plain WPA-PSK
    mdid: str = "a1b2"  # wire order, as hostapd's mobility_domain
    r0kh_id: str | None = None  # nas_identifier; defaults to the BSSID-derived name
    ft_over_ds: bool = True
    ft_psk_generate_local: bool = True
    ft_key: str = FT_KEY
    pmf: int = 0  # ieee80211w; WNM/RM action frames are encrypted when PMF is on
    bss_transition: bool = True
    rrm_neighbor_report: bool = True
    rrm_beacon_report: bool = True
    bridge: str | None = None  # needed for FT over the DS (RRB over an L2)
    beacon_int: int = 100
    extra: dict = field(default_factory=dict)  # any further hostapd.conf keys

    @property
    def ssid_b(self) -> bytes:
        return ssid_bytes(self.ssid)

    def render(self, iface: str, bssid: str, ctrl_dir: str) -> str:
        lines = [
            f"interface={iface}",
            "driver=nl80211",
            f"ctrl_interface={ctrl_dir}",
            f"ssid2={self.ssid_b.hex()}",  # hex: any SSID bytes, no quoting to get wrong
            f"channel={self.channel}",
            f"hw_mode={'g' if self.channel <= 14 else 'a'}",
            f"beacon_int={self.beacon_int}",
            "wmm_enabled=1",
            "ieee80211n=1",
            f"bss_transition={int(self.bss_transition)}",
            f"rrm_neighbor_report={int(self.rrm_neighbor_report)}",
            f"rrm_beacon_report={int(self.rrm_beacon_report)}",
        ]
        if self.channel > 14:
            lines.append("country_code=US")
        if self.bridge:
            lines.append(f"bridge={self.bridge}")
        if self.security in (WPA2_PSK, FT_PSK):
            akms = ["WPA-PSK"] if self.security == WPA2_PSK else \
                ["FT-PSK"] + (["WPA-PSK"] if self.also_wpa_psk else [])
            lines += ["wpa=2", f"wpa_key_mgmt={' '.join(akms)}", "rsn_pairwise=CCMP",
                      f"wpa_psk={psk_hex(self.passphrase, self.ssid_b)}", f"ieee80211w={self.pmf}"]
        elif self.security != OPEN:
            raise ValueError(f"unknown security {self.security!r}")
        if self.security == FT_PSK:
            lines += [
                f"mobility_domain={self.mdid}",
                f"nas_identifier={self.r0kh_id or bssid.replace(':', '') + '.roamcert'}",
                f"r1_key_holder={bssid.replace(':', '')}",
                f"ft_over_ds={int(self.ft_over_ds)}",
                f"ft_psk_generate_local={int(self.ft_psk_generate_local)}",
                f"r0kh=ff:ff:ff:ff:ff:ff * {self.ft_key}",
                f"r1kh=00:00:00:00:00:00 00:00:00:00:00:00 {self.ft_key}",
                "pmk_r1_push=1",
            ]
        for k, v in self.extra.items():
            lines.append(f"{k}={v}")
        return "\n".join(lines) + "\n"


class RefAP(Daemon):
    kind = "hostapd"

    def __init__(self, agent, name, iface, bssid, config: BSSConfig, ctrl_path, log_host, log_vm,
                 conf_text: str):
        super().__init__(agent, name, ctrl_path, log_host, log_vm)
        self.iface = iface
        self.bssid = bssid
        self.config = config
        self.conf_text = conf_text

    log_copy: str | None = None  # where stop() copies the log on the results share

    def log_lines(self) -> list[str]:
        """The AP's debug log, read inside the lab while it runs (it lives on tmpfs)."""
        if self.log_copy is None or self.stream.exit is not None and self.log_host.exists():
            return super().log_lines()
        try:
            return self.agent.call("read_file", path=self.log_vm).splitlines()
        except Exception:
            return super().log_lines()

    @property
    def freq(self) -> int:
        return channel_freq(self.config.channel)

    @property
    def op_class(self) -> int:
        return op_class_of(self.config.channel)

    def wait_enabled(self, timeout: float = 15) -> None:
        def enabled():
            self.check_alive()
            try:
                return "state=ENABLED" in self.ctrl("STATUS", timeout=3)
            except DaemonError:
                return False
        if not wait_until(enabled, timeout, 0.1):
            raise DaemonError(f"hostapd {self.name} on {self.iface} not ENABLED after {timeout:.0f}s; "
                              f"log tail:\n" + "\n".join(self.log_lines()[-25:]))

    def neighbor_entry(self, bssid_info: int = 0x8f, phy_type: int = 7) -> str:
        """This AP as a Neighbor Report element body in hex (9.4.2.36), for SET_NEIGHBOR."""
        b = bytes.fromhex(self.bssid.replace(":", ""))
        body = b + bssid_info.to_bytes(4, "little") + bytes([self.op_class, self.config.channel, phy_type])
        return body.hex()

    def set_neighbors(self, aps: list["RefAP"]) -> None:
        for ap in aps:
            self.ctrl_ok(f"SET_NEIGHBOR {ap.bssid} ssid={ap.config.ssid_b.hex()} nr={ap.neighbor_entry()}")

    def sta_connected(self, sta: str) -> bool:
        r = self.ctrl(f"STA {sta}")
        return r.lower().startswith(sta.lower())
