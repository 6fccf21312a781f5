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
    "band_5ghz": "operates on 5 GHz channels (an ESP32 radio is 2.4 GHz only)",
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
    """Everything the fixtures and suites may use of a DUT. A new DUT type is written
    against this alone (docs/dut-adapter.md); tests/test_dut_contract.py checks that the
    adapters offer it and that the suites use nothing else.

    Members under "capability ..." are needed only by a DUT that declares that capability;
    cases that use them list the capability in their row, so a DUT without it is skipped
    with the reason before the member is ever called."""
    name: str  # "linux-wpas", "esp32", "esp32-twin"
    mac: str  # lowercase aa:bb:cc:dd:ee:ff, as frames on the air carry it
    capabilities: frozenset[str]  # names from CAPABILITIES
    # Which layer makes this DUT's frames and events, for the verdicts' attribution
    # (engine.verdict.LAYERS): "supplicant" for wpa_supplicant's SME, "firmware" for an ESP32.
    layer: str

    def identity(self) -> dict: ...  # name, mac, version/firmware, capabilities (for the certificate)

    def reset(self) -> None: ...  # a clean slate before each case: not connected, empty BSS table

    def connect(self, profile, timeout: float = 20) -> str: ...  # joins profile's ESS; the BSSID

    def scan(self, freqs=()) -> None: ...  # a scan on these frequencies (MHz), done when it returns

    def events(self) -> list[Event]: ...  # this case's normalized events so far (engine/events.py)

    def mark(self) -> int: ...  # len(events()) now: a cursor for wait_for(since=) and the judges

    def wait_for(self, pred: Callable[[Event], bool], timeout: float, since: int = 0) -> Event: ...

    def indications(self, events: Iterable[Event] | None = None) -> list[Indication]: ...  # Native 802.11

    def attach_evidence(self, record) -> None: ...  # raw logs into the case record

    def close(self) -> None: ...

    # capability "commands": DUT-side commands (wpa_supplicant control interface syntax)
    def ctrl(self, cmd: str, timeout: float = 10) -> str: ...

    def status(self) -> dict: ...  # STATUS as key=value pairs: wpa_state, bssid, ...

    def bss_known(self, bssid: str) -> bool: ...  # the BSS is in the DUT's BSS table

    def log_lines(self) -> list[str]: ...  # this case's raw debug log lines

    # capability "radio_control": the lab's name for the DUT's radio interface
    iface: str

    # capability "data_plane": a twin of this DUT whose radio sits in its own network
    # namespace, so the lab can ping across the air (lab/dataplane.py); the caller closes it.
    # keep_neigh: the twin keeps its neighbour (ARP/ND) entries across a carrier drop
    # (arp_evict_nocarrier=0); None: as the DUT is configured.
    def data_plane_twin(self, netns: str, keep_neigh: bool | None = None) -> "DUT": ...


# What every adapter must offer, and what only a capability needs.
REQUIRED = ("name", "mac", "capabilities", "layer", "identity", "reset", "connect", "scan", "events", "mark",
            "wait_for", "indications", "attach_evidence", "close")
BY_CAPABILITY = {"commands": ("ctrl", "status", "bss_known", "log_lines"), "radio_control": ("iface",),
                 "data_plane": ("data_plane_twin",)}


def lacks(dut: DUT, needs: Iterable[str]) -> list[str]:
    return [n for n in needs if n not in dut.capabilities]
