"""Reference APs: declarative BSS configs rendered to hostapd.conf, and the running AP."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from engine.channels import channel_freq, ht40_secondary_above, op_class_of, vht80_center
from engine.frames.build import action_frame
from lab.daemon import Daemon, DaemonDied, DaemonError, wait_until

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
    # Explicit R0KH/R1KH lists ("<mac> <id> <hex key>" each) instead of the wildcard pair: a BSS
    # whose lists name no key holder of the lab cannot pull or accept PMK-R1 for any other AP.
    r0kh: tuple[str, ...] | None = None
    r1kh: tuple[str, ...] | None = None
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

    vht80: bool = False  # 5 GHz only: VHT with an 80 MHz channel around `channel`
    country: str = "US"  # country_code on 5 GHz, where the world domain forbids beaconing

    # The keys hostapd keeps per radio: every BSS of one radio must agree on them.
    RADIO_FIELDS = ("channel", "beacon_int", "vht80", "country")

    def radio_lines(self, iface: str) -> list[str]:
        """hostapd.conf keys of the radio: channel, band, HT/VHT."""
        lines = [
            f"interface={iface}",
            "driver=nl80211",
            f"channel={self.channel}",
            f"hw_mode={'g' if self.channel <= 14 else 'a'}",
            f"beacon_int={self.beacon_int}",
            "ieee80211n=1",
        ]
        if self.channel > 14:
            lines.append(f"country_code={self.country}")
        if self.vht80:
            if self.channel <= 14:
                raise ValueError(f"VHT80 needs a 5 GHz channel, not channel {self.channel}")
            seg0 = vht80_center(self.channel)
            lines += [f"ht_capab=[HT40{'+' if ht40_secondary_above(self.channel) else '-'}]",
                      "ieee80211ac=1", "vht_oper_chwidth=1",
                      f"vht_oper_centr_freq_seg0_idx={seg0}"]
        return lines

    def bss_lines(self, bssid: str, ctrl_dir: str) -> list[str]:
        """hostapd.conf keys of one BSS: SSID, security, 802.11k/v/r."""
        lines = [
            f"ctrl_interface={ctrl_dir}",
            f"ssid2={self.ssid_b.hex()}",  # hex: any SSID bytes, no quoting to get wrong
            "wmm_enabled=1",
            f"bss_transition={int(self.bss_transition)}",
            f"rrm_neighbor_report={int(self.rrm_neighbor_report)}",
            f"rrm_beacon_report={int(self.rrm_beacon_report)}",
        ]
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
                *(f"r0kh={x}" for x in (self.r0kh if self.r0kh is not None
                                        else (f"ff:ff:ff:ff:ff:ff * {self.ft_key}",))),
                *(f"r1kh={x}" for x in (self.r1kh if self.r1kh is not None
                                        else (f"00:00:00:00:00:00 00:00:00:00:00:00 {self.ft_key}",))),
                "pmk_r1_push=1",
            ]
        for k, v in self.extra.items():
            lines.append(f"{k}={v}")
        return lines

    def render(self, iface: str, bssid: str, ctrl_dir: str) -> str:
        return "\n".join(self.radio_lines(iface) + self.bss_lines(bssid, ctrl_dir)) + "\n"


MAX_BSS_PER_RADIO = 16  # the lab's own limit: BSSIDs differ in the low 4 bits of the last octet


def bss_iface(iface: str, index: int) -> str:
    """Interface name hostapd creates for BSS `index` (> 0) of a radio."""
    return f"{iface}_{index}"


def radio_bssids(radio_mac: str, n: int) -> list[str]:
    """BSSIDs of n BSSs on one radio: the radio's own address, then the same address with
    the last octet's low bits counting up. hwsim radios' addresses end in 00."""
    base = bytes.fromhex(radio_mac.replace(":", ""))
    if not 1 <= n <= MAX_BSS_PER_RADIO:
        raise ValueError(f"{n} BSSs on one radio: the lab gives 1 to {MAX_BSS_PER_RADIO}")
    if base[5] & (MAX_BSS_PER_RADIO - 1):
        raise ValueError(f"radio address {radio_mac} has low bits set in its last octet: "
                         f"no room for {n} BSSIDs beside it")
    return [":".join(f"{x:02x}" for x in base[:5] + bytes([base[5] | i])) for i in range(n)]


def render_radio(bsses: list[BSSConfig], iface: str, bssids: list[str], ctrl_dir: str) -> str:
    """One hostapd.conf for several BSSs on one radio: the first BSS's section, then a
    `bss=` section per further BSS. The radio keys come from the first BSS; the others
    must agree with it."""
    if not bsses or len(bsses) != len(bssids):
        raise ValueError(f"{len(bsses)} BSS configs for {len(bssids)} BSSIDs")
    first = bsses[0]
    for i, cfg in enumerate(bsses[1:], 1):
        differ = [f for f in BSSConfig.RADIO_FIELDS if getattr(cfg, f) != getattr(first, f)]
        if differ:
            raise ValueError(f"BSS {i} differs from BSS 0 in radio setting(s) {differ}: "
                             f"BSSs of one radio share them")
    lines = first.radio_lines(iface) + first.bss_lines(bssids[0], ctrl_dir)
    for i, (cfg, bssid) in enumerate(zip(bsses[1:], bssids[1:]), 1):
        lines += ["", f"bss={bss_iface(iface, i)}", f"bssid={bssid}"] + cfg.bss_lines(bssid, ctrl_dir)
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
        # A further BSS of a multi-BSS radio: `radio` is the RefAP of the radio's first BSS,
        # whose hostapd process carries this BSS too. `bsses` lists, on the first BSS, the
        # further ones.
        self.radio: RefAP | None = None
        self.bsses: list[RefAP] = []

    def check_alive(self) -> None:
        if self.radio is not None and self.radio.stream.exit is not None:
            raise DaemonDied(f"the hostapd of {self.radio.name}, which carries BSS {self.bssid} "
                             f"({self.name}), died:\n" + self.radio.death_text(), self.kind, self.radio.name,
                             (self.radio.stream.exit or {}).get("code"))
        super().check_alive()

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

    def send_action(self, dst: str, body: bytes) -> bytes:
        """Send an Action frame from this BSS to dst, as built (engine.frames.build), and
        return the whole frame sent. body starts at the Category octet.

        hostapd's MGMT_TX (a CONFIG_TESTING_OPTIONS command, present in Debian's build)
        hands the frame to the driver unchanged apart from the sequence number: no
        element is checked, so a deliberately malformed body goes out as it is. With PMF
        on, the kernel protects a robust Action frame to an associated STA."""
        frame = action_frame(dst, self.bssid, self.bssid, body)
        reply = self.ctrl(f"MGMT_TX {frame.hex()}")
        if reply.startswith("UNKNOWN COMMAND"):
            raise DaemonError(f"{self.name}: this hostapd has no MGMT_TX (it is built without "
                              f"CONFIG_TESTING_OPTIONS), so it cannot inject frames")
        if not reply.startswith("OK"):
            tail = [x for x in self.log_lines()[-40:] if "nl80211" in x or "MGMT" in x]
            raise DaemonError(f"{self.name}: hostapd refused MGMT_TX of a {len(frame)}-octet "
                              f"Action frame to {dst} (answer {reply!r}); the driver (nl80211) "
                              f"rejected it or the hex was odd. hostapd's lines:\n" +
                              "\n".join("  " + x for x in tail[-10:]))
        return frame

    def sta_connected(self, sta: str) -> bool:
        r = self.ctrl(f"STA {sta}")
        return r.lower().startswith(sta.lower())
