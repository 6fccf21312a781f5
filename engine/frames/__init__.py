"""The 802.11 frame layer of the oracle.

- header: MAC header offsets and classify(raw) -> kind (no scapy).
- elements: element body parsers (Neighbor Report, MDE, FTE, TIE, RSNE, beacon request/report).
- convert: whole frames (bytes or scapy packets) -> engine.models.
- layers: scapy 2.8.0 layers that scapy lacks or gets wrong (import it to use them).
- build: frames built from declarative field layouts (BTM Request, RM Beacon request),
  with deliberate malformations, for injection (import it to use it).
"""
from engine.ies import MalformedFrame
from engine.frames.header import Header, classify, header_len, mac
from engine.frames.elements import (FastTransition, MobilityDomain, Rsne, TimeoutInterval,
                                    bssid_info_fields, fast_transition, mobility_domain,
                                    neighbor_entries, neighbor_entry, rsne, timeout_interval)
from engine.frames.convert import (FTAction, NeighborRequest, NeighborResponse, WrongFrame,
                                   beacon_reports_from, beacon_request_from, beacon_requests_from,
                                   btm_query_from, btm_request_from, btm_response_from,
                                   ft_action_from, neighbor_entries_from, nr_request_from,
                                   nr_response_from, raw_bytes)

__all__ = [
    "MalformedFrame", "WrongFrame", "Header", "classify", "header_len", "mac",
    "FastTransition", "MobilityDomain", "Rsne", "TimeoutInterval", "bssid_info_fields",
    "fast_transition", "mobility_domain", "neighbor_entries", "neighbor_entry", "rsne",
    "timeout_interval", "FTAction", "NeighborRequest", "NeighborResponse",
    "beacon_reports_from", "beacon_request_from", "beacon_requests_from", "btm_query_from",
    "btm_request_from", "btm_response_from", "ft_action_from", "neighbor_entries_from",
    "nr_request_from", "nr_response_from", "raw_bytes",
]
