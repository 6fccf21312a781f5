"""The scapy layers of engine.frames.layers, dissecting and building hand-written bytes."""
from scapy.layers.dot11 import Dot11, Dot11Elt, Dot11EltRSN, NeighborReport, RadioTap

import test_frames_vectors as v
from engine.frames import layers as L
from engine.frames import btm_response_from

B = "02:00:00:00:00:0b"


def test_neighbor_report_element_dissect_and_build():
    e = Dot11Elt(bytes.fromhex(v.NR_A))
    assert isinstance(e, L.Dot11EltNeighborReport)
    assert (e.bssid, e.reachability, e.security, e.key_scope, e.radio_measurement,
            e.mobility_domain, e.ht, e.vht, e.ftm, e.qos) == (B, 3, 1, 1, 1, 1, 1, 1, 0, 0)
    assert (e.op_class, e.channel, e.phy_type) == (115, 36, 9)
    assert isinstance(e.subelements[0], L.CandidatePreference)
    assert e.subelements[0].preference == 255
    built = L.Dot11EltNeighborReport(
        bssid=B, reachability=3, security=1, key_scope=1, radio_measurement=1,
        mobility_domain=1, ht=1, vht=1, op_class=115, channel=36, phy_type=9,
        subelements=[L.CandidatePreference(preference=255)])
    assert bytes(built) == bytes.fromhex(v.NR_A)  # length computed
    b = L.Dot11EltNeighborReport(bytes.fromhex(v.NR_B))
    assert (b.reachability, b.spectrum_mgmt, b.qos, b.immediate_ba) == (1, 1, 1, 1)


def test_scapy_own_neighbor_report_reads_bits_reversed():
    # why the layer exists: scapy 2.8.0 takes AP reachability from b31-b30
    bad = NeighborReport(bytes.fromhex(v.NR_A))
    assert bad.AP_reach == 0 and bad.type == 0x34


def test_mde_fte_tie_elements():
    md = Dot11Elt(bytes.fromhex(v.MDE))
    assert isinstance(md, L.Dot11EltMobilityDomain)
    assert (md.mdid, md.ft_over_ds, md.resource_request) == (b"\xa1\xb2", 1, 0)
    assert bytes(L.Dot11EltMobilityDomain(mdid=b"\xa1\xb2", ft_over_ds=1)) == bytes.fromhex(v.MDE)

    f = Dot11Elt(bytes.fromhex(v.FTE))
    assert isinstance(f, L.Dot11EltFTE)
    assert (f.element_count, f.rsnxe_used, f.mic, f.anonce, f.snonce) == (
        3, 0, b"\x11" * 16, b"\x22" * 32, b"\x33" * 32)
    r1, r0 = f.subelements
    assert isinstance(r1, L.FTR1KHID) and r1.r1kh_id == B
    assert isinstance(r0, L.FTR0KHID) and r0.r0kh_id == b"nas1.lab"
    built = L.Dot11EltFTE(element_count=3, mic=b"\x11" * 16, anonce=b"\x22" * 32,
                          snonce=b"\x33" * 32,
                          subelements=[L.FTR1KHID(r1kh_id=B), L.FTR0KHID(r0kh_id=b"nas1.lab")])
    assert bytes(built) == bytes.fromhex(v.FTE)
    g = Dot11Elt(bytes.fromhex(v.FTE_GTK))
    gtk = g.subelements[0]
    assert isinstance(gtk, L.FTGTK) and g.rsnxe_used == 1
    assert (gtk.key_info, gtk.key_length, gtk.rsc, gtk.key) == (
        1, 16, bytes.fromhex("0500000000000000"), b"\x44" * 24)

    t = Dot11Elt(bytes.fromhex(v.TIE))
    assert isinstance(t, L.Dot11EltTimeoutInterval) and (t.type, t.value) == (2, 3600)
    assert bytes(L.Dot11EltTimeoutInterval(type=2, value=3600)) == bytes.fromhex(v.TIE)


def test_element_chain_after_fixed_layers():
    p = Dot11(v.FT_REQ)
    req = p[L.FTRequest]
    assert (req.sta, req.target_ap) == ("02:00:00:00:00:01", B)
    assert p.haslayer(Dot11EltRSN) and p[L.Dot11EltMobilityDomain].ft_over_ds == 1
    assert p[L.Dot11EltFTE].subelements[1].r0kh_id == b"nas1.lab"
    resp = Dot11(v.FT_RESP)
    assert resp[L.FTResponse].status == 0 and resp[L.Dot11EltTimeoutInterval].value == 3600
    assert Dot11(v.FT_ACK)[L.FTAck].status == 53


def test_btm_layers():
    q = Dot11(v.BTM_QUERY)
    assert (q[L.BTMQuery].dialog_token, q[L.BTMQuery].reason) == (5, 16)
    assert q[L.Dot11EltNeighborReport].bssid == B
    r = Dot11(v.BTM_REQ)[L.BTMRequest]
    assert (r.dialog_token, int(r.mode), r.disassoc_timer, r.validity_interval) == (1, 5, 10, 100)
    nrs = [e for e in r.iterpayloads() if isinstance(e, L.Dot11EltNeighborReport)]
    assert [n.channel for n in nrs] == [36, 6]
    t = Dot11(v.BTM_REQ_TERM)[L.BTMRequest]
    assert (t.bss_termination.tsf, t.bss_termination.duration) == (0x1122334455667788, 30)
    assert (t.url_len, t.url) == (11, b"http://x.io")
    built = L.BTMRequest(dialog_token=2, mode=0x19, disassoc_timer=0, validity_interval=1,
                         bss_termination=L.BSSTerminationDurationSub(tsf=0x1122334455667788,
                                                                     duration=30),
                         url=b"http://x.io")
    assert bytes(built) == bytes.fromhex("02" "19" "0000" "01" "040a" "8877665544332211" "1e00"
                                         "0b" + b"http://x.io".hex())
    # response with a non-6 status still carries its candidate list
    rr = Dot11(v.BTM_RESP_REJECT_LIST)
    assert rr[L.BTMResponse].status == 1
    assert rr[L.Dot11EltNeighborReport].bssid == "02:00:00:00:00:0a"
    acc = Dot11(v.BTM_RESP_ACCEPT)[L.BTMResponse]
    assert (acc.status, acc.target) == (0, B)


def test_rm_layers_and_computed_lengths():
    nq = Dot11(v.NR_REQUEST)
    assert nq[L.NRRequest].dialog_token == 45 and nq[Dot11Elt].info == b"WML"
    ns = Dot11(v.NR_RESPONSE)
    assert ns[L.NRResponse].dialog_token == 7
    req = Dot11(v.BEACON_REQ)
    assert req[L.RMRequest].dialog_token == 3
    m = req[L.Dot11EltMeasurementRequest]
    assert (m.len, m.token, m.type, m.op_class, m.channel, m.duration, m.measurement_mode) == (
        38, 1, 5, 115, 36, 100, 1)
    assert [s.id for s in m.subelements] == [0, 2, 10, 51, 164]
    built = L.Dot11EltMeasurementRequest(
        token=1, type=5, op_class=115, channel=36, duration=100, measurement_mode=1,
        subelements=[L.Subelement(id=0, data=b"test"), L.Subelement(id=2, data=b"\x01"),
                     L.Subelement(id=10, data=bytes([0, 48, 54])),
                     L.Subelement(id=51, data=bytes([115, 36, 40])),
                     L.Subelement(id=164, data=b"\x01")])
    assert bytes(built) == bytes.fromhex(v.BEACON_REQ_ELT)

    rep = Dot11(v.BEACON_REP)
    assert rep[L.RMReport].dialog_token == 3
    r = rep[L.Dot11EltMeasurementReport]
    assert (r.len, r.op_class, r.channel, r.start_time, r.duration, r.condensed_phy,
            r.reported_frame_type, r.rcpi, r.rsni, r.bssid, r.antenna_id, r.parent_tsf) == (
        52, 115, 36, 0x1122334455667788, 100, 7, 0, 0x9C, 0xFF, B, 1, 0x12345678)
    assert [s.id for s in r.subelements] == [1, 164]
    refused = r.payload
    assert isinstance(refused, L.Dot11EltMeasurementReport)
    assert (refused.token, int(refused.mode), refused.data) == (2, 4, b"")
    built = L.Dot11EltMeasurementReport(
        token=1, type=5, op_class=115, channel=36, start_time=0x1122334455667788, duration=100,
        condensed_phy=7, rcpi=0x9C, rsni=0xFF, bssid=B, antenna_id=1, parent_tsf=0x12345678,
        subelements=[L.Subelement(id=1, data=bytes.fromhex(v.FRAME_BODY)),
                     L.Subelement(id=164, data=b"\x01")])
    assert bytes(built) == bytes.fromhex(v.BEACON_REP_ELT)


def test_converters_take_scapy_packets_with_radiotap_and_fcs():
    pkt = RadioTap() / Dot11(v.BTM_RESP_ACCEPT)
    assert btm_response_from(pkt).target == B
    from scapy.layers.dot11 import Dot11FCS
    with_fcs = Dot11FCS(v.BTM_RESP_ACCEPT + b"\x00\x00\x00\x00")
    assert btm_response_from(with_fcs).target == B
