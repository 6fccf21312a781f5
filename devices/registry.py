"""DUT types by name. Add a new type here (see README "Adding a DUT type")."""
from __future__ import annotations


def _linux_wpas(lab, config, arg):
    from devices.linux_wpas import LinuxWpasDut, variant
    if arg:
        return variant(lab, arg)
    return LinuxWpasDut(lab)


def _esp32(lab, config, arg):
    from devices.esp32_board import Esp32Board
    from fixtures.esp32_options import esp32_network
    if not arg:
        raise ValueError("the esp32 DUT needs its serial port: --dut esp32:/dev/ttyUSB0 "
                         "(or esp32:socket://host:port, esp32:rfc2217://host:port)")
    ssid, passphrase = esp32_network(config)
    return Esp32Board(arg, config.getoption("--esp32-baud"), name="esp32", ssid=ssid, passphrase=passphrase,
                      scan_cache=config.getoption("--esp32-scan-cache"))


def _esp32_twin(lab, config, arg):
    from devices.esp32_board import Esp32Board
    from fixtures.esp32_options import esp32_network
    from lab.esp32_twin import Esp32Twin
    from suites.steps import LAB_FREQS
    ssid, passphrase = esp32_network(config)
    twin = Esp32Twin(lab, ssid, passphrase, scan_freqs=LAB_FREQS, endpoint=arg or "socket")
    try:
        # The twin is the roaming example built with its sdkconfig.defaults, scan cache on:
        # its supplicant keeps a BSS table and answers table-mode beacon requests.
        board = Esp32Board(twin.url, name="esp32-twin", ssid=ssid, passphrase=passphrase, scan_cache=True,
                           mac=twin.mac, reset_line=twin, owned=[twin],
                           extra_identity={"twin": f"wpa_supplicant {lab.info().get('wpa_supplicant', '?')} "
                                                   f"on {twin.sup.iface}"})
    except BaseException:
        twin.close()
        raise
    board.twin = twin
    return board


DUT_TYPES = {
    "linux-wpas": _linux_wpas,
    "esp32": _esp32,
    "esp32-twin": _esp32_twin,
}


def make_dut(spec: str, lab, config):
    """spec is NAME or NAME:ARG (e.g. esp32:/dev/ttyUSB0)."""
    name, _, arg = spec.partition(":")
    factory = DUT_TYPES.get(name)
    if not factory:
        raise ValueError(f"unknown DUT {name!r}; known: {', '.join(DUT_TYPES)}")
    return factory(lab, config, arg or None)
