"""What every DUT adapter offers. See README "Adding a DUT type"."""
from __future__ import annotations

from typing import Callable, Iterable, Protocol

from engine.events import Event, Indication

# Capability names a DUT may declare. Cases list the ones they need.
CAPABILITIES = {
    "btm": "answers BSS Transition Management requests (802.11v)",
    "btm_query": "can be told to send a BTM query",
    "rrm_neighbor": "requests and uses neighbor reports (802.11k)",
    "rrm_beacon_passive": "beacon request, passive mode",
    "rrm_beacon_active": "beacon request, active mode",
    "rrm_beacon_table": "beacon request, table mode",
    "ft_psk": "FT-PSK association (802.11r)",
    "ft_over_air": "FT roam over the air",
    "ft_over_ds": "FT roam over the DS",
    "commands": "accepts DUT-side commands (roam, scan, query, disconnect)",
    "radio_control": "its radio can be switched off and on by the lab",
    "data_plane": "carries IP traffic the lab can ping",
}


class DutError(RuntimeError):
    """A DUT misbehaved in a way that is not a protocol verdict: died, rebooted, went silent."""


class WaitTimeout(DutError):
    pass


class DUT(Protocol):
    name: str  # "linux-wpas", "esp32", "esp32-twin"
    mac: str
    capabilities: frozenset[str]

    def identity(self) -> dict: ...  # name, mac, version/firmware, capabilities

    def events(self) -> list[Event]: ...

    def wait_for(self, pred: Callable[[Event], bool], timeout: float, since: int = 0) -> Event: ...

    def indications(self, events: Iterable[Event] | None = None) -> list[Indication]: ...


class CommandsDUT(DUT, Protocol):
    """What a DUT claiming "commands" offers besides DUT: wpa_supplicant control-interface
    commands (ROAM, FT_DS, DISCONNECT, RECONNECT, ...) and its STATUS."""
    iface: str  # its radio's interface in the lab ("radio_control" switches it)

    def ctrl(self, cmd: str, timeout: float = 10) -> str: ...  # the reply text

    def status(self) -> dict: ...  # STATUS as key -> value (wpa_state, bssid, ...)


class DataPlaneDUT(DUT, Protocol):
    """What a DUT claiming "data_plane" offers: a twin of itself whose radio is in its own
    network namespace, so the lab can ping across the air (lab/dataplane.py)."""

    def data_plane_twin(self, netns: str) -> "CommandsDUT": ...  # the caller closes it


def lacks(dut: DUT, needs: Iterable[str]) -> list[str]:
    return [n for n in needs if n not in dut.capabilities]
