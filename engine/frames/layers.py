"""scapy 2.8.0 layers that scapy lacks or gets wrong (IEEE 802.11-2020 clauses).

Importing this module registers the elements 38, 39, 52, 54, 55 and 56 with
Dot11Elt, and rebinds the WNM, Radio Measurement and FT action bodies to the
layers below (replacing scapy's BTM Request/Response and RM Request/Report).
"""
from __future__ import annotations

from scapy.fields import (BitField, ByteEnumField, ByteField, ConditionalField, FlagsField,
                          LEIntField, LELongField, LEShortField, MACField, PacketField,
                          PacketListField, StrLenField, XStrFixedLenField, XStrLenField)
from scapy.layers.dot11 import (Dot11Action, Dot11Elt, Dot11RadioMeasurement,
                                Dot11RadioMeasurementReport, Dot11RadioMeasurementRequest,
                                Dot11BSSTMRequest, Dot11BSSTMResponse, Dot11WNM)
from scapy.packet import Packet, bind_layers, split_layers


class Subelement(Packet):
    """Generic subelement: ID | Length | data (Length computed when building)."""
    name = "Subelement"
    fields_desc = [ByteField("id", 0),
                   ByteField("len", None),
                   XStrLenField("data", b"", length_from=lambda p: p.len)]
    registry: dict = {}

    def post_build(self, p, pay):
        if self.len is None:
            p = p[:1] + bytes([(len(p) - 2) & 0xFF]) + p[2:]
        return p + pay

    def extract_padding(self, s):
        return b"", s

    @classmethod
    def dispatch_hook(cls, _pkt=None, *args, **kargs):
        if _pkt and len(_pkt) >= 2:
            return cls.registry.get(_pkt[0], Subelement)
        return cls


class CandidatePreference(Subelement):
    """BSS Transition Candidate Preference subelement, id 3 (9.4.2.36)."""
    name = "BSS Transition Candidate Preference"
    fields_desc = [ByteField("id", 3), ByteField("len", None), ByteField("preference", 255)]


class BSSTerminationDurationSub(Subelement):
    """BSS Termination Duration subelement, id 4 (9.4.2.36): TSF (8), Duration in minutes (2)."""
    name = "BSS Termination Duration"
    fields_desc = [ByteField("id", 4), ByteField("len", None),
                   LELongField("tsf", 0), LEShortField("duration", 0)]


Subelement.registry.update({3: CandidatePreference})


class FTSubelement(Subelement):
    name = "FTE subelement"
    registry: dict = {}

    @classmethod
    def dispatch_hook(cls, _pkt=None, *args, **kargs):
        if _pkt and len(_pkt) >= 2:
            return cls.registry.get(_pkt[0], FTSubelement)
        return cls


class FTR1KHID(FTSubelement):
    name = "R1KH-ID"
    fields_desc = [ByteField("id", 1), ByteField("len", None), MACField("r1kh_id", None)]


class FTGTK(FTSubelement):
    """GTK subelement (9.4.2.47, Figure 9-375): Key Info, Key Length, RSC, Wrapped Key."""
    name = "GTK"
    fields_desc = [ByteField("id", 2), ByteField("len", None),
                   LEShortField("key_info", 0), ByteField("key_length", 16),
                   XStrFixedLenField("rsc", b"\x00" * 8, 8),
                   XStrLenField("key", b"", length_from=lambda p: max(p.len - 11, 0))]


class FTR0KHID(FTSubelement):
    name = "R0KH-ID"
    fields_desc = [ByteField("id", 3), ByteField("len", None),
                   StrLenField("r0kh_id", b"", length_from=lambda p: p.len)]


FTSubelement.registry.update({1: FTR1KHID, 2: FTGTK, 3: FTR0KHID})


def _force_register(cls, eid):
    # the first class registered for an ID wins (Dot11Elt.registered_ies); make it ours
    Dot11Elt.registered_ies[eid] = cls


class Dot11EltNeighborReport(Dot11Elt):
    """Neighbor Report element, id 52 (9.4.2.36). BSSID Information is a
    little-endian 32-bit field, b0 first (Figure 9-338)."""
    name = "802.11 Neighbor Report"
    match_subclass = True
    fields_desc = [
        ByteField("ID", 52), ByteField("len", None),
        MACField("bssid", "00:00:00:00:00:00"),
        # scapy reads a reversed group MSB first: list b31 .. b0
        BitField("info_reserved", 0, 18, tot_size=-4),
        BitField("ftm", 0, 1), BitField("vht", 0, 1), BitField("ht", 0, 1),
        BitField("mobility_domain", 0, 1), BitField("immediate_ba", 0, 1),
        BitField("delayed_ba", 0, 1), BitField("radio_measurement", 0, 1),
        BitField("apsd", 0, 1), BitField("qos", 0, 1), BitField("spectrum_mgmt", 0, 1),
        BitField("key_scope", 0, 1), BitField("security", 0, 1),
        BitField("reachability", 0, 2, end_tot_size=-4),
        ByteField("op_class", 0), ByteField("channel", 0), ByteField("phy_type", 0),
        PacketListField("subelements", [], Subelement,
                        length_from=lambda p: max((p.len or 0) - 13, 0)),
    ]


class Dot11EltMobilityDomain(Dot11Elt):
    """MDE, id 54 (9.4.2.46). MDID in wire order."""
    name = "802.11 Mobility Domain"
    match_subclass = True
    fields_desc = [ByteField("ID", 54), ByteField("len", None),
                   XStrFixedLenField("mdid", b"\x00\x00", 2),
                   BitField("ft_reserved", 0, 6), BitField("resource_request", 0, 1),
                   BitField("ft_over_ds", 0, 1)]


class Dot11EltFTE(Dot11Elt):
    """FTE, id 55 (9.4.2.47) with a 16-octet MIC: MIC Control (2), MIC (16),
    ANonce (32), SNonce (32), then subelements."""
    name = "802.11 Fast BSS Transition"
    match_subclass = True
    fields_desc = [ByteField("ID", 55), ByteField("len", None),
                   BitField("mic_reserved", 0, 7), BitField("rsnxe_used", 0, 1),
                   ByteField("element_count", 0),
                   XStrFixedLenField("mic", b"\x00" * 16, 16),
                   XStrFixedLenField("anonce", b"\x00" * 32, 32),
                   XStrFixedLenField("snonce", b"\x00" * 32, 32),
                   PacketListField("subelements", [], FTSubelement,
                                   length_from=lambda p: max((p.len or 0) - 82, 0))]


class Dot11EltTimeoutInterval(Dot11Elt):
    """TIE, id 56 (IEEE 802.11-2020 9.4.2.48; 9.4.2.49 in 802.11-2016)."""
    name = "802.11 Timeout Interval"
    match_subclass = True
    fields_desc = [ByteField("ID", 56), ByteField("len", None),
                   ByteEnumField("type", 1, {1: "reassociation deadline", 2: "key lifetime",
                                             3: "association comeback time"}),
                   LEIntField("value", 0)]


_MEAS_REQ_MODE = ["parallel", "enable", "request", "report", "duration_mandatory"]
_MEAS_REP_MODE = ["late", "incapable", "refused"]


def _is_beacon(p):
    return p.type == 5 and (p.len is None or p.len >= 16)


class Dot11EltMeasurementRequest(Dot11Elt):
    """Measurement Request element, id 38 (9.4.2.20), beacon request body when
    type is 5 (9.4.2.20.7). Length is computed when building."""
    name = "802.11 Measurement Request"
    match_subclass = True
    fields_desc = [
        ByteField("ID", 38), ByteField("len", None),
        ByteField("token", 1), FlagsField("mode", 0, 8, _MEAS_REQ_MODE),
        ByteField("type", 5),
        ConditionalField(ByteField("op_class", 0), _is_beacon),
        ConditionalField(ByteField("channel", 0), _is_beacon),
        ConditionalField(LEShortField("randomization_interval", 0), _is_beacon),
        ConditionalField(LEShortField("duration", 0), _is_beacon),
        ConditionalField(ByteEnumField("measurement_mode", 0,
                                       {0: "passive", 1: "active", 2: "table"}), _is_beacon),
        ConditionalField(MACField("bssid", "ff:ff:ff:ff:ff:ff"), _is_beacon),
        ConditionalField(PacketListField("subelements", [], Subelement,
                                         length_from=lambda p: max((p.len or 0) - 16, 0)),
                         _is_beacon),
        ConditionalField(XStrLenField("data", b"", length_from=lambda p: max((p.len or 0) - 3, 0)),
                         lambda p: not _is_beacon(p)),
    ]


def _is_beacon_report(p):
    return p.type == 5 and (p.len is None or p.len >= 29)


class Dot11EltMeasurementReport(Dot11Elt):
    """Measurement Report element, id 39 (9.4.2.21), beacon report body when
    type is 5 and the body is present (9.4.2.21.7)."""
    name = "802.11 Measurement Report"
    match_subclass = True
    fields_desc = [
        ByteField("ID", 39), ByteField("len", None),
        ByteField("token", 1), FlagsField("mode", 0, 8, _MEAS_REP_MODE),
        ByteField("type", 5),
        ConditionalField(ByteField("op_class", 0), _is_beacon_report),
        ConditionalField(ByteField("channel", 0), _is_beacon_report),
        ConditionalField(LELongField("start_time", 0), _is_beacon_report),
        ConditionalField(LEShortField("duration", 0), _is_beacon_report),
        # Reported Frame Information: Condensed PHY Type b0-b6, Reported Frame Type b7
        ConditionalField(BitField("reported_frame_type", 0, 1), _is_beacon_report),
        ConditionalField(BitField("condensed_phy", 0, 7), _is_beacon_report),
        ConditionalField(ByteField("rcpi", 0), _is_beacon_report),
        ConditionalField(ByteField("rsni", 0), _is_beacon_report),
        ConditionalField(MACField("bssid", "00:00:00:00:00:00"), _is_beacon_report),
        ConditionalField(ByteField("antenna_id", 0), _is_beacon_report),
        ConditionalField(LEIntField("parent_tsf", 0), _is_beacon_report),
        ConditionalField(PacketListField("subelements", [], Subelement,
                                         length_from=lambda p: max((p.len or 0) - 29, 0)),
                         _is_beacon_report),
        ConditionalField(XStrLenField("data", b"", length_from=lambda p: max((p.len or 0) - 3, 0)),
                         lambda p: not _is_beacon_report(p)),
    ]


for _cls, _eid in ((Dot11EltMeasurementRequest, 38), (Dot11EltMeasurementReport, 39),
                   (Dot11EltNeighborReport, 52), (Dot11EltMobilityDomain, 54),
                   (Dot11EltFTE, 55), (Dot11EltTimeoutInterval, 56)):
    _force_register(_cls, _eid)


# --- Action frame bodies (after Category and Action) ---

class RMRequest(Packet):
    """Radio Measurement Request frame body (9.6.6.2); elements follow."""
    name = "Radio Measurement Request"
    fields_desc = [ByteField("dialog_token", 0), LEShortField("repetitions", 0)]


class RMReport(Packet):
    """Radio Measurement Report frame body (9.6.6.3); elements follow."""
    name = "Radio Measurement Report"
    fields_desc = [ByteField("dialog_token", 0)]


class NRRequest(Packet):
    """Neighbor Report Request frame body (9.6.6.6); optional elements follow."""
    name = "Neighbor Report Request"
    fields_desc = [ByteField("dialog_token", 0)]


class NRResponse(Packet):
    """Neighbor Report Response frame body (9.6.6.7); Neighbor Report elements follow."""
    name = "Neighbor Report Response"
    fields_desc = [ByteField("dialog_token", 0)]


class BTMQuery(Packet):
    """BSS Transition Management Query body (9.6.13.8); candidate list follows."""
    name = "BSS Transition Management Query"
    fields_desc = [ByteField("dialog_token", 0), ByteField("reason", 0)]


class BTMRequest(Packet):
    """BSS Transition Management Request body (9.6.13.9); candidate list follows."""
    name = "BSS Transition Management Request"
    fields_desc = [
        ByteField("dialog_token", 0),
        FlagsField("mode", 0, 8, ["pref_list", "abridged", "disassoc_imminent",
                                  "bss_term_included", "ess_disassoc_imminent"]),
        LEShortField("disassoc_timer", 0), ByteField("validity_interval", 1),
        ConditionalField(PacketField("bss_termination", BSSTerminationDurationSub(),
                                     BSSTerminationDurationSub),
                         lambda p: p.mode & 0x08),
        ConditionalField(ByteField("url_len", None), lambda p: p.mode & 0x10),
        ConditionalField(StrLenField("url", b"", length_from=lambda p: p.url_len or 0),
                         lambda p: p.mode & 0x10),
    ]

    def post_build(self, p, pay):
        if self.mode & 0x10 and self.url_len is None:
            off = 5 + (12 if self.mode & 0x08 else 0)
            p = p[:off] + bytes([len(self.url or b"") & 0xFF]) + p[off + 1:]
        return p + pay


class BTMResponse(Packet):
    """BSS Transition Management Response body (9.6.13.10); the candidate list
    that follows is dissected whatever the status."""
    name = "BSS Transition Management Response"
    fields_desc = [ByteField("dialog_token", 0), ByteField("status", 0),
                   ByteField("termination_delay", 0),
                   ConditionalField(MACField("target", "00:00:00:00:00:00"),
                                    lambda p: p.status == 0)]


class Dot11FT(Packet):
    """Fast BSS Transition action header (9.6.8)."""
    name = "802.11 FT Action"
    fields_desc = [ByteEnumField("action", 1, {1: "request", 2: "response",
                                               3: "confirm", 4: "ack"})]


class FTRequest(Packet):
    """FT Request body (9.6.8.2); RSNE, MDE, FTE follow."""
    name = "FT Request"
    fields_desc = [MACField("sta", None), MACField("target_ap", None)]


class FTResponse(Packet):
    """FT Response body (9.6.8.3); status then elements."""
    name = "FT Response"
    fields_desc = [MACField("sta", None), MACField("target_ap", None), LEShortField("status", 0)]


class FTConfirm(FTRequest):
    name = "FT Confirm"


class FTAck(FTResponse):
    name = "FT Ack"


split_layers(Dot11WNM, Dot11BSSTMRequest, action=7)
split_layers(Dot11WNM, Dot11BSSTMResponse, action=8)
split_layers(Dot11RadioMeasurement, Dot11RadioMeasurementRequest, action=0)
split_layers(Dot11RadioMeasurement, Dot11RadioMeasurementReport, action=1)
for _upper, _act in ((BTMQuery, 6), (BTMRequest, 7), (BTMResponse, 8)):
    bind_layers(Dot11WNM, _upper, action=_act)
for _upper, _act in ((RMRequest, 0), (RMReport, 1), (NRRequest, 4), (NRResponse, 5)):
    bind_layers(Dot11RadioMeasurement, _upper, action=_act)
bind_layers(Dot11Action, Dot11FT, category=6)
for _upper, _act in ((FTRequest, 1), (FTResponse, 2), (FTConfirm, 3), (FTAck, 4)):
    bind_layers(Dot11FT, _upper, action=_act)
for _lower in (RMRequest, RMReport, NRRequest, NRResponse, BTMQuery, BTMRequest, BTMResponse,
               FTRequest, FTResponse, FTConfirm, FTAck):
    bind_layers(_lower, Dot11Elt)
