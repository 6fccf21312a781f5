"""Frame converters and classify() against hand-written frames (tests/frame_vectors.py)."""
import pytest

import test_frames_vectors as v
from engine.frames import (MalformedFrame, WrongFrame, beacon_reports_from, beacon_request_from,
                           bssid_info_fields, btm_query_from, btm_request_from, btm_response_from,
                           classify, fast_transition, ft_action_from, mobility_domain,
                           neighbor_entries_from, neighbor_entry, nr_request_from, rsne,
                           timeout_interval)
from engine.models import NeighborEntry

A = "02:00:00:00:00:0a"
B = "02:00:00:00:00:0b"
C = "02:00:00:00:00:0c"
STA = "02:00:00:00:00:01"


def body(hexstr):
    return bytes.fromhex(hexstr)[2:]


def test_neighbor_report_bssid_info_bits():
    e = neighbor_entry(body(v.NR_A))
    assert (e.bssid, e.bssid_info, e.op_class, e.channel, e.phy_type, e.preference) == (
        B, 0x1C8F, 115, 36, 9, 255)
    assert e.subelements == ((3, b"\xff"),)
    f = bssid_info_fields(e.bssid_info)
    assert (f["reachability"], f["security"], f["key_scope"], f["radio_measurement"],
            f["mobility_domain"], f["ht"], f["vht"]) == (3, 1, 1, 1, 1, 1, 1)
    assert (f["spectrum_mgmt"], f["qos"], f["apsd"], f["delayed_ba"], f["immediate_ba"],
            f["ftm"]) == (0, 0, 0, 0, 0, 0)
    f = bssid_info_fields(neighbor_entry(body(v.NR_B)).bssid_info)
    assert (f["reachability"], f["spectrum_mgmt"], f["qos"], f["immediate_ba"], f["security"],
            f["ht"]) == (1, 1, 1, 1, 0, 0)
    c = neighbor_entry(body(v.NR_C))
    assert bssid_info_fields(c.bssid_info)["ftm"] == 1
    assert c.preference == 10 and c.subelements == ((3, b"\x0a"), (221, b"\xaa\xbb"))


def test_neighbor_report_too_short_or_bad_subelement():
    with pytest.raises(MalformedFrame, match="shorter than 13"):
        neighbor_entry(bytes(12))
    with pytest.raises(MalformedFrame, match="exceeds Neighbor Report subelements"):
        neighbor_entry(body(v.NR_B) + b"\x03\x05\x01")


def test_mde_fte_tie():
    md = mobility_domain(body(v.MDE))
    assert (md.mdid, md.ft_over_ds, md.resource_request) == (b"\xa1\xb2", True, False)
    md = mobility_domain(body(v.MDE_NO_DS))
    assert (md.ft_over_ds, md.resource_request) == (False, True)

    f = fast_transition(body(v.FTE))
    assert f.element_count == 3 and not f.rsnxe_used
    assert (f.mic, f.anonce, f.snonce) == (b"\x11" * 16, b"\x22" * 32, b"\x33" * 32)
    assert f.r1kh_id == bytes.fromhex(v.AP2) and f.r0kh_id == b"nas1.lab" and f.gtk is None
    g = fast_transition(body(v.FTE_GTK))
    assert g.rsnxe_used and g.element_count == 0
    assert g.gtk == bytes.fromhex(v.GTK_BODY) and g.r0kh_id == b"r0k"
    assert g.r1kh_id == bytes.fromhex(v.AP1)
    with pytest.raises(MalformedFrame, match="FTE body of 81 octets"):
        fast_transition(body(v.FTE)[:81])

    t = timeout_interval(body(v.TIE))
    assert (t.type, t.value) == (2, 3600)


def test_rsne_akms():
    r = rsne(body(v.RSNE_FT_PSK))
    assert (r.version, r.group_cipher, r.pairwise, r.akms, r.capabilities) == (1, 4, (4,), (4,), 0)
    # AKM count says 2 but only one suite follows
    with pytest.raises(MalformedFrame, match="akms list"):
        rsne(bytes.fromhex("0100000fac040100000fac040200000fac04"))


def test_btm_query():
    q = btm_query_from(v.BTM_QUERY)
    assert (q.dialog_token, q.reason) == (5, 16)
    assert [c.bssid for c in q.candidates] == [B]


def test_btm_request():
    r = btm_request_from(v.BTM_REQ)
    assert (r.dialog_token, r.request_mode, r.disassoc_timer, r.validity_interval) == (1, 5, 10, 100)
    assert r.pref_list and r.disassoc_imminent and not r.abridged and not r.bss_term_included
    assert r.candidates == (
        NeighborEntry(B, 0x1C8F, 115, 36, 9, 255, ((3, b"\xff"),)),
        NeighborEntry(A, 0x0231, 81, 6, 7, None, ()))
    t = btm_request_from(v.BTM_REQ_TERM)
    assert (t.dialog_token, t.request_mode, t.bss_term_included) == (2, 0x19, True)
    assert t.bss_termination == bytes.fromhex("8877665544332211" "1e00")
    assert t.url == "http://x.io"
    assert [c.bssid for c in t.candidates] == [C]  # the MBO vendor element is not a candidate


def test_btm_response_accept_and_lists_whatever_status():
    a = btm_response_from(v.BTM_RESP_ACCEPT)
    assert (a.dialog_token, a.status, a.bss_termination_delay, a.target, a.candidates) == (
        1, 0, 0, B, ())
    r = btm_response_from(v.BTM_RESP_REJECT_LIST)
    assert (r.dialog_token, r.status, r.bss_termination_delay, r.target) == (2, 1, 5, None)
    assert [c.bssid for c in r.candidates] == [A]
    s = btm_response_from(v.BTM_RESP_LIST)
    assert s.status == 6 and [c.bssid for c in s.candidates] == [B, C]


def test_btm_response_accept_without_target_is_malformed():
    with pytest.raises(MalformedFrame, match="Target BSSID"):
        btm_response_from(v.BTM_RESP_ACCEPT[:-6])


def test_nr_request_and_response():
    q = nr_request_from(v.NR_REQUEST)
    assert (q.dialog_token, q.ssid) == (45, b"WML")
    entries = neighbor_entries_from(v.NR_RESPONSE)
    assert [(e.bssid, e.channel, e.preference) for e in entries] == [(B, 36, 255), (A, 6, None)]


def test_beacon_request():
    r = beacon_request_from(v.BEACON_REQ)
    assert (r.dialog_token, r.token, r.request_mode) == (3, 1, 0)
    assert (r.op_class, r.channel, r.randomization_interval, r.duration, r.mode, r.bssid) == (
        115, 36, 0, 100, 1, "ff:ff:ff:ff:ff:ff")
    assert (r.ssid, r.reporting_detail, r.request_ids) == (b"test", 1, (0, 48, 54))
    assert r.ap_channel_reports == ((115, (36, 40)),)
    assert r.last_indication is True


def test_beacon_reports():
    ok, refused = beacon_reports_from(v.BEACON_REP)
    assert (ok.token, ok.measurement_token, ok.mode) == (3, 1, 0)
    assert (ok.op_class, ok.channel, ok.start_tsf, ok.duration, ok.frame_info, ok.rcpi, ok.rsni) == (
        115, 36, 0x1122334455667788, 100, 7, 0x9C, 0xFF)
    assert (ok.bssid, ok.antenna_id, ok.parent_tsf) == (B, 1, 0x12345678)
    assert ok.frame_body == bytes.fromhex(v.FRAME_BODY)
    assert ok.last_indication is True and ok.frame_body_fragment is None
    assert (refused.token, refused.measurement_token, refused.mode, refused.bssid) == (3, 2, 4, "")


def test_ft_actions():
    req = ft_action_from(v.FT_REQ)
    assert (req.kind, req.sta, req.target_ap, req.status) == ("request", STA, B, None)
    assert [e.id for e in req.elements] == [48, 54, 55]
    assert req.mde.mdid == b"\xa1\xb2" and req.fte().r0kh_id == b"nas1.lab"
    fte = req.element(55)
    assert req.raw[fte.offset:fte.end] == bytes.fromhex(v.FTE)  # exact span for the MIC
    resp = ft_action_from(v.FT_RESP)
    assert (resp.kind, resp.status) == ("response", 0)
    assert [e.id for e in resp.elements] == [48, 54, 55, 56]
    assert ft_action_from(v.FT_CONFIRM).kind == "confirm"
    ack = ft_action_from(v.FT_ACK)
    assert (ack.kind, ack.status) == ("ack", 53)


def test_wrong_kind_and_protected():
    with pytest.raises(WrongFrame):
        btm_request_from(v.BTM_QUERY)
    with pytest.raises(WrongFrame):
        beacon_request_from(v.NR_REQUEST)
    protected = bytearray(v.BTM_REQ)
    protected[1] |= 0x40
    with pytest.raises(WrongFrame, match="protected"):
        btm_request_from(bytes(protected))
    with pytest.raises(WrongFrame):
        btm_request_from("not a frame")


@pytest.mark.parametrize("frame,kind", [
    (v.BTM_QUERY, "btm_query"), (v.BTM_REQ, "btm_request"), (v.BTM_RESP_ACCEPT, "btm_response"),
    (v.NR_REQUEST, "nr_request"), (v.NR_RESPONSE, "nr_response"),
    (v.BEACON_REQ, "rm_beacon_request"), (v.BEACON_REP, "rm_beacon_report"),
    (v.FT_REQ, "ft_action_req"), (v.FT_RESP, "ft_action_resp"),
    (v.FT_CONFIRM, "ft_action_confirm"), (v.FT_ACK, "ft_action_ack"),
    (v.mgmt("8000", "00" * 12), "beacon"), (v.mgmt("5000", "00" * 12), "probe_resp"),
    (v.mgmt("b000", "000001000000"), "auth"), (v.mgmt("0000", "11040a00"), "assoc_req"),
    (v.mgmt("2000", "11040a00" + v.AP1), "reassoc_req"), (v.mgmt("3000", "110400000100"), "reassoc_resp"),
    (v.mgmt("c000", "0700"), "deauth"), (v.mgmt("a000", "0800"), "disassoc"),
    # protected WNM action: body is ciphertext (CCMP header then data)
    (v.mgmt("d040", "0100002000000000" + "aa" * 20), "protected_action"),
    # RM request carrying a non-beacon (LCI, type 8) measurement
    (v.action("0500" + "01" + "0000" + "2606" + "010008" + "010000"), "rm_request"),
    (v.action("0501" + "01" + "2703" + "010008"), "rm_report"),
    # data frame, ToDS, LLC/SNAP EtherType 888e
    (bytes.fromhex("0801" + "0000" + "02000000000a" "020000000001" "02000000000a" "0000"
                   "aaaa03000000888e" "0203005f"), "eapol"),
    # QoS data (subtype 8): 2 more header octets before the LLC
    (bytes.fromhex("8801" + "0000" + "02000000000a" "020000000001" "02000000000a" "0000" "0000"
                   "aaaa03000000888e" "0203005f"), "eapol"),
    (bytes.fromhex("4801" + "0000" + "02000000000a" "020000000001" "02000000000a" "0000"), "data"),
    (bytes.fromhex("d4000000020000000001"), "control"),  # ACK
    (b"\xd0\x00\x00", "malformed"), (b"", "malformed"),
])
def test_classify(frame, kind):
    assert classify(frame) == kind


def test_truncated_frames_raise_malformed():
    for frame, conv in [(v.BTM_QUERY, btm_query_from),
                        (v.BEACON_REQ, beacon_request_from), (v.BEACON_REP, beacon_reports_from),
                        (v.NR_RESPONSE, neighbor_entries_from), (v.FT_REQ, ft_action_from)]:
        with pytest.raises(MalformedFrame):
            conv(frame[:-1])


def test_truncated_btm_request_candidate_list_is_read_as_far_as_it_goes():
    # BTM_REQ lists NR_A then NR_B; cutting the last octet tears NR_B. The fixed fields
    # and NR_A still decode; the request is marked malformed instead of being lost.
    r = btm_request_from(v.BTM_REQ[:-1])
    assert r.dialog_token == 1 and [c.bssid for c in r.candidates] == ["02:00:00:00:00:0b"]
    assert r.malformed and "exceeds" in " ".join(r.problems)
    with pytest.raises(MalformedFrame):  # the fixed fields themselves torn: nothing to judge
        btm_request_from(v.BTM_REQ[:24 + 2 + 4])
