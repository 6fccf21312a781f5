"""DUT types by name. Add a new type here (see README "Adding a DUT type")."""
from __future__ import annotations


def _linux_wpas(lab, config, arg):
    from devices.linux_wpas import LinuxWpasDut
    return LinuxWpasDut(lab)


DUT_TYPES = {
    "linux-wpas": _linux_wpas,
}


def make_dut(spec: str, lab, config):
    """spec is NAME or NAME:ARG (e.g. esp32:/dev/ttyUSB0)."""
    name, _, arg = spec.partition(":")
    factory = DUT_TYPES.get(name)
    if not factory:
        raise ValueError(f"unknown DUT {name!r}; known: {', '.join(DUT_TYPES)}")
    return factory(lab, config, arg or None)
