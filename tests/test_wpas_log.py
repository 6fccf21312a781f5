"""wpa_supplicant control events and -dd -t debug lines, written by hand from the
hostap 2.10 format strings (wpa_ctrl.h, sme.c, events.c, wnm_sta.c, wpa.c, wpa_ft.c)."""
import pytest

from devices.wpas_log import WpasLogParser, parse_lines, parse_text, to_indications
from engine.events import FAILURE, SUCCESS, Ind

AP1, AP2, STA = "02:00:00:00:01:00", "02:00:00:00:02:00", "02:00:00:00:00:02"

CONNECT_CTRL = f"""\
<3>CTRL-EVENT-SCAN-STARTED 
<3>CTRL-EVENT-BSS-ADDED 0 {AP1}
<3>CTRL-EVENT-SCAN-RESULTS 
<3>SME: Trying to authenticate with {AP1} (SSID='roam' freq=2412 MHz)
<3>Trying to associate with {AP1} (SSID='roam' freq=2412 MHz)
<3>Associated with {AP1}
<3>WPA: Key negotiation completed with {AP1} [PTK=CCMP GTK=CCMP]
<3>CTRL-EVENT-CONNECTED - Connection to {AP1} completed [id=0 id_str=]
"""

BTM_ROAM_DEBUG = f"""\
1700000010.100000: WNM: RX action 7 from {AP1}
1700000010.100100: WNM: BSS Transition Management Request: dialog_token=5 request_mode=0x1 disassoc_timer=0 validity_interval=1
1700000010.100200: WNM: Preferred List Available
1700000010.100250: nl80211: Event message available
1700000010.100300: WNM: BSS Transition Candidate List
1700000010.100400: 0: {AP2} info=0x8f op_class=81 chan=6 phy=7 pref=255 freq=2437
1700000010.100450: 1: {AP1} info=0x8f op_class=81 chan=1 phy=7 pref=-1 freq=2412
1700000010.100500: WNM: Candidate list valid for 102 ms
1700000010.200000: wlan2: WNM: Transition to BSS {AP2} based on BSS Transition Management Request (old BSSID {AP1} after_new_scan=0)
1700000010.200100: WNM: Sending successful BSS Transition Management Response
1700000010.200200: WNM: Send BSS Transition Management Response to {AP1} dialog_token=5 status=0 reason=0 delay=0
1700000010.200300: WNM: Issuing connect
1700000010.210000: wlan2: SME: Trying to authenticate with {AP2} (SSID='roam' freq=2437 MHz)
1700000010.210100: wlan2: State: COMPLETED -> AUTHENTICATING
1700000010.230000: wlan2: Trying to associate with {AP2} (SSID='roam' freq=2437 MHz)
1700000010.240000: wlan2: Associated with {AP2}
1700000010.240100: FT: Completed successfully
1700000010.250000: wlan2: CTRL-EVENT-CONNECTED - Connection to {AP2} completed [id=0 id_str=]
"""


def kinds(evs):
    return [e.kind for e in evs]


# The kernel's messages as wpa_supplicant 2.10 relays them in its -d -t log (driver_nl80211.c
# wpa_driver_nl80211_event_rtm_newlink, driver_nl80211_event.c do_process_drv_event); the
# shapes are those of tests/data/lab/ft_air_ds.sta.log. Carrier is IFF_LOWER_UP (0x10000).
def newlink(t, up, ifname="wlan2"):
    flags, names = (0x11003, "[UP][LOWER_UP]") if up else (0x1003, "[UP]")
    return f"{t}: RTM_NEWLINK: ifi_index=4 ifname={ifname} operstate=5 linkmode=1 ifi_family=0 " \
           f"ifi_flags=0x{flags:x} ({names})"


def drv_event(t, n, name, ifname="wlan2"):
    return f"{t}: nl80211: Drv Event {n} (NL80211_CMD_{name}) received for {ifname}"


def inds(evs):
    return [(i.kind, i.bssid, i.status) for i in to_indications(evs)]


def test_connect_ctrl_events():
    evs = parse_text(CONNECT_CTRL, "ctrl")
    assert kinds(evs) == ["scan_started", "bss_added", "scan_results", "connect_attempt", "associating",
                          "associated", "key_negotiation_completed", "connected"]
    ca = evs[3]
    assert (ca.get("bssid"), ca.get("ssid"), ca.get("freq"), ca.source) == (AP1, "roam", 2412, "ctrl:4")
    assert (evs[7].get("bssid"), evs[7].get("id")) == (AP1, 0)
    # CTRL-EVENT-CONNECTED is the supplicant's event (keys done), not media connect: with no
    # kernel link message in the input there is no MEDIA_CONNECT to report.
    assert inds(evs) == [
        (Ind.CONNECTION_START, None, None),
        (Ind.ASSOCIATION_START, AP1, None),
        (Ind.ASSOCIATION_COMPLETION, AP1, SUCCESS),
        (Ind.CONNECTION_COMPLETION, AP1, SUCCESS),
    ]


def test_media_connect_is_the_kernel_carrier_and_the_port_is_separate():
    lines = [
        f"1.000000: wlan2: SME: Trying to authenticate with {AP1} (SSID='roam' freq=2412 MHz)",
        f"1.100000: wlan2: Trying to associate with {AP1} (SSID='roam' freq=2412 MHz)",
        newlink("1.150000", True),
        newlink("1.150100", True).replace("operstate=5 linkmode=1", "wext"),  # same flags: no change
        newlink("1.150200", True, ifname="wlan0"),  # an AP's interface in the same namespace
        drv_event("1.160000", 46, "CONNECT"),
        f"1.170000: wlan2: Associated with {AP1}",
        f"1.300000: wlan2: CTRL-EVENT-CONNECTED - Connection to {AP1} completed [id=0 id_str=]",
        "1.300500: nl80211: Set wlan2 operstate 0->1 (UP)",
    ]
    evs = parse_lines(lines, "wpas.log")
    assert [(e.kind, e.get("ifname")) for e in evs if e.kind.startswith(("carrier", "nl80211", "port"))] == [
        ("carrier_on", "wlan2"), ("carrier_on", "wlan0"), ("nl80211_connect", "wlan2"),
        ("port_authorized", "wlan2")]
    tr = to_indications(evs)
    assert [(i.kind, i.bssid, i.status) for i in tr] == [
        (Ind.CONNECTION_START, None, None), (Ind.ASSOCIATION_START, AP1, None),
        (Ind.MEDIA_CONNECT, AP1, None),
        (Ind.ASSOCIATION_COMPLETION, AP1, SUCCESS), (Ind.CONNECTION_COMPLETION, AP1, SUCCESS),
        (Ind.PORT_AUTHORIZED, AP1, None)]
    mc = tr[2]
    assert (mc.t, mc.layer, mc.source) == (1.15, "kernel/driver", "wpas.log:3")
    assert mc.evidence.startswith("RTM_NEWLINK: ifi_index=4 ifname=wlan2 ") and "[LOWER_UP]" in mc.evidence
    assert tr[-1].layer == "supplicant" and tr[-1].reason == "operstate UP"
    # the supplicant's own indications name it too, with their log line
    assert tr[0].layer == "supplicant" and "SME: Trying to authenticate with" in tr[0].evidence


def test_btm_roam_debug_log_events():
    evs = parse_text(BTM_ROAM_DEBUG, "wpas.log")
    assert kinds(evs) == ["btm_request", "btm_transition", "btm_response", "connect_attempt", "state",
                          "associating", "associated", "ft_completed", "connected"]
    req = evs[0]
    assert req.t == pytest.approx(1700000010.1001)
    assert (req.get("dialog_token"), req.get("request_mode"), req.get("disassoc_timer"),
            req.get("validity_interval"), req.get("valid_ms"), req.get("from")) == (5, 1, 0, 1, 102, AP1)
    assert list(req.get("candidates")) == [
        {"bssid": AP2, "info": 0x8f, "op_class": 81, "chan": 6, "phy": 7, "pref": 255, "freq": 2437},
        {"bssid": AP1, "info": 0x8f, "op_class": 81, "chan": 1, "phy": 7, "pref": None, "freq": 2412},
    ]
    assert (evs[1].get("bssid"), evs[1].get("old_bssid"), evs[1].get("after_new_scan")) == (AP2, AP1, 0)
    resp = evs[2]
    assert (resp.get("to"), resp.get("dialog_token"), resp.get("status"), resp.get("target")) == (AP1, 5, 0, AP2)
    assert (evs[4].get("old"), evs[4].get("new")) == ("COMPLETED", "AUTHENTICATING")
    assert evs[8].source == "wpas.log:18"


def test_btm_roam_indications_after_connect():
    evs = parse_text(CONNECT_CTRL, "ctrl") + parse_text(BTM_ROAM_DEBUG, "wpas.log")
    got = to_indications(evs)[4:]
    assert [(i.kind, i.bssid, i.status) for i in got] == [
        (Ind.ROAMING_START, None, None),
        (Ind.ASSOCIATION_START, AP2, None),
        (Ind.ASSOCIATION_COMPLETION, AP2, SUCCESS),
        (Ind.ROAMING_COMPLETION, AP2, SUCCESS),
    ]  # and no MEDIA_*: these lines carry no kernel link message
    assert got[0].reason == f"BTM request (transition to {AP2})"
    assert got[0].source == "wpas.log:13"


def test_btm_roam_log_alone_starts_in_op_from_the_request():
    assert inds(parse_text(BTM_ROAM_DEBUG)) == [
        (Ind.ROAMING_START, None, None), (Ind.ASSOCIATION_START, AP2, None),
        (Ind.ASSOCIATION_COMPLETION, AP2, SUCCESS), (Ind.ROAMING_COMPLETION, AP2, SUCCESS)]


FT_DS = f"""\
1700000020.000000: FT: Request over-the-DS with {AP2}
1700000020.010000: wlan2: FT: Received FT Action Response: STA {STA} TargetAP {AP2} status 0
1700000020.010100: wlan2: Trying to associate with {AP2} (SSID='roam' freq=2437 MHz)
1700000020.020000: wlan2: Associated with {AP2}
1700000020.020100: FT: Completed successfully
1700000020.030000: wlan2: CTRL-EVENT-CONNECTED - Connection to {AP2} completed [id=0 id_str=]
"""


def test_ft_over_ds_roam_starts_at_the_ft_request():
    evs = parse_text(CONNECT_CTRL, "ctrl") + parse_text(FT_DS, "wpas.log")
    assert kinds(evs)[8:] == ["connect_attempt", "associating", "associated", "ft_completed", "connected"]
    assert evs[8].get("ft_over_ds") is True
    got = to_indications(evs)[4:]
    assert [(i.kind, i.bssid, i.status) for i in got] == [
        (Ind.ROAMING_START, None, None), (Ind.ASSOCIATION_START, AP2, None),
        (Ind.ASSOCIATION_COMPLETION, AP2, SUCCESS), (Ind.ROAMING_COMPLETION, AP2, SUCCESS)]
    assert got[0].reason == "requested FT over the DS"
    assert got[0].t == pytest.approx(1700000020.0)


def test_ft_over_ds_refused_keeps_the_old_link():
    lines = CONNECT_CTRL.splitlines() + [
        f"1700000020.000000: FT: Request over-the-DS with {AP2}",
        f"1700000020.010000: wlan2: FT: Received FT Action Response: STA {STA} TargetAP {AP2} status 53",
    ]
    evs = parse_lines(lines)
    assert (evs[-1].kind, evs[-1].get("status"), evs[-1].get("bssid")) == ("auth_reject", 53, AP2)
    got = inds(evs)[4:]
    assert got == [(Ind.ROAMING_START, None, None), (Ind.ASSOCIATION_START, AP2, None),
                   (Ind.ASSOCIATION_COMPLETION, AP2, FAILURE), (Ind.ROAMING_COMPLETION, AP2, FAILURE)]


def test_roam_auth_reject_over_the_air_loses_the_link():
    lines = CONNECT_CTRL.splitlines() + [
        f"<3>SME: Trying to authenticate with {AP2} (SSID='roam' freq=2437 MHz)",
        newlink("2.000000", False),  # mac80211 left the old AP to authenticate with the new one
        f"<3>CTRL-EVENT-AUTH-REJECT {AP2} auth_type=0 auth_transaction=2 status_code=1",
        f"<3>CTRL-EVENT-DISCONNECTED bssid={AP2} reason=3 locally_generated=1",
    ]
    evs = parse_lines([newlink("0.500000", True)] + lines)
    assert (evs[-2].kind, evs[-2].get("status"), evs[-2].get("auth_type")) == ("auth_reject", 1, 0)
    assert (evs[-1].get("reason"), evs[-1].get("locally_generated")) == (3, True)
    got = to_indications(evs)[5:]
    # The link loss is the kernel's carrier, not the reject line (which was the MEDIA_DISCONNECT
    # of the old mapping): it comes where carrier went, inside the roam.
    assert [(i.kind, i.bssid, i.status) for i in got] == [
        (Ind.ROAMING_START, None, None), (Ind.ASSOCIATION_START, AP2, None),
        (Ind.MEDIA_DISCONNECT, AP1, None),
        (Ind.ASSOCIATION_COMPLETION, AP2, FAILURE), (Ind.ROAMING_COMPLETION, AP2, FAILURE)]
    assert got[0].reason.startswith("supplicant-initiated")
    assert (got[2].reason, got[2].layer) == ("carrier off", "kernel/driver")
    assert got[4].reason == "auth_reject status=1"


def test_old_ap_disconnect_during_roam_is_not_media_but_carrier_is():
    roam = [
        f"<3>SME: Trying to authenticate with {AP2} (SSID='roam' freq=2437 MHz)",
        f"<3>CTRL-EVENT-DISCONNECTED bssid={AP1} reason=3 locally_generated=1",
        f"<3>Associated with {AP2}",
        f"<3>CTRL-EVENT-CONNECTED - Connection to {AP2} completed [id=0 id_str=]",
    ]
    # the supplicant's DISCONNECTED for the old AP alone is not the kernel's link state
    assert inds(parse_lines(CONNECT_CTRL.splitlines() + roam))[4:] == [
        (Ind.ROAMING_START, None, None), (Ind.ASSOCIATION_START, AP2, None),
        (Ind.ASSOCIATION_COMPLETION, AP2, SUCCESS), (Ind.ROAMING_COMPLETION, AP2, SUCCESS)]
    with_kernel = ([newlink("0.5", True)] + CONNECT_CTRL.splitlines() + roam[:1] + [newlink("2.0", False)]
                   + roam[1:3] + [newlink("2.1", True)] + roam[3:])
    assert inds(parse_lines(with_kernel))[5:] == [
        (Ind.ROAMING_START, None, None), (Ind.ASSOCIATION_START, AP2, None),
        (Ind.MEDIA_DISCONNECT, AP1, None),
        (Ind.MEDIA_CONNECT, AP2, None),
        (Ind.ASSOCIATION_COMPLETION, AP2, SUCCESS), (Ind.ROAMING_COMPLETION, AP2, SUCCESS)]


def test_assoc_reject_then_second_candidate_within_one_connection():
    lines = [
        f"<3>SME: Trying to authenticate with {AP1} (SSID='roam' freq=2412 MHz)",
        f"<3>Trying to associate with {AP1} (SSID='roam' freq=2412 MHz)",
        f"<3>CTRL-EVENT-ASSOC-REJECT bssid={AP1} status_code=17",
        f"<3>SME: Trying to authenticate with {AP2} (SSID='roam' freq=2437 MHz)",
        f"<3>CTRL-EVENT-CONNECTED - Connection to {AP2} completed [id=1 id_str=lab]",
    ]
    evs = parse_lines(lines)
    assert (evs[2].kind, evs[2].get("bssid"), evs[2].get("status")) == ("assoc_reject", AP1, 17)
    assert inds(evs) == [
        (Ind.CONNECTION_START, None, None), (Ind.ASSOCIATION_START, AP1, None),
        (Ind.ASSOCIATION_COMPLETION, AP1, FAILURE), (Ind.ASSOCIATION_START, AP2, None),
        (Ind.ASSOCIATION_COMPLETION, AP2, SUCCESS), (Ind.CONNECTION_COMPLETION, AP2, SUCCESS)]


def test_disconnect_in_op_then_rekey_connected_is_quiet():
    lines = [newlink("0.5", True)] + CONNECT_CTRL.splitlines() + [
        f"<3>CTRL-EVENT-CONNECTED - Connection to {AP1} completed [id=0 id_str=]",  # PTK rekey
        drv_event("3.0", 48, "DISCONNECT"),
        f"<3>CTRL-EVENT-DISCONNECTED bssid={AP1} reason=4",
    ]
    got = to_indications(parse_lines(lines))[5:]
    assert [(i.kind, i.bssid, i.status) for i in got] == [(Ind.MEDIA_DISCONNECT, AP1, None)]
    assert (got[0].reason, got[0].layer) == ("nl80211 DISCONNECT", "kernel/driver")
    assert "NL80211_CMD_DISCONNECT" in got[0].evidence


def test_radio_off_during_roam_fails_it():
    lines = CONNECT_CTRL.splitlines() + [
        f"1.000000: wlan2: SME: Trying to authenticate with {AP2} (SSID='roam' freq=2437 MHz)",
        "1.100001: nl80211: RFKILL blocked",
        f"1.200002: wlan2: CTRL-EVENT-DISCONNECTED bssid={AP1} reason=3 locally_generated=1",
        newlink("1.200100", False),
        "1.300003: nl80211: RFKILL unblocked",
    ]
    evs = parse_lines([newlink("0.5", True)] + lines)
    assert kinds(evs)[-4:] == ["radio_off", "disconnected", "carrier_off", "radio_on"]
    got = to_indications(evs)[5:]
    assert [(i.kind, i.status, i.reason) for i in got] == [
        (Ind.ROAMING_START, None, "supplicant-initiated (authentication to another BSS while connected)"),
        (Ind.ASSOCIATION_START, None, None),
        (Ind.ASSOCIATION_COMPLETION, FAILURE, "radio off"),
        (Ind.ROAMING_COMPLETION, FAILURE, "radio off"),
        (Ind.MEDIA_DISCONNECT, None, "carrier off")]


def test_neighbor_reports_query_ess_imminent_and_global_ifname():
    lines = [
        "IFNAME=wlan2 <3>RRM-NEIGHBOR-REP-RECEIVED bssid=02:00:00:00:01:00 info=0x8f op_class=81 chan=1 phy_type=7",
        "<3>RRM-NEIGHBOR-REP-RECEIVED bssid=02:00:00:00:02:00 info=0x18f op_class=115 chan=36 phy_type=9 "
        "lci=0100 civic=0200",
        "<3>RRM-NEIGHBOR-REP-REQUEST-FAILED",
        "<3>ESS-DISASSOC-IMMINENT 1 3200 http://example.com/session",
        f"5.500000: WNM: Send BSS Transition Management Query to {AP1} query_reason=16",
        "5.600000: wlan2: RRM: Neighbor report request (for roam), token=2",
    ]
    evs = parse_lines(lines)
    assert kinds(evs) == ["neighbor_report", "neighbor_report_failed", "ess_disassoc_imminent", "btm_query",
                          "neighbor_report_request"]
    assert list(evs[0].get("entries")) == [
        {"bssid": AP1, "info": 0x8f, "op_class": 81, "chan": 1, "phy_type": 7, "lci": None, "civic": None},
        {"bssid": AP2, "info": 0x18f, "op_class": 115, "chan": 36, "phy_type": 9, "lci": "0100", "civic": "0200"}]
    assert (evs[2].get("pmf"), evs[2].get("timeout_ms"), evs[2].get("url")) == (1, 3200, "http://example.com/session")
    assert (evs[3].get("to"), evs[3].get("reason"), evs[3].t) == (AP1, 16, 5.5)
    assert (evs[4].get("ssid"), evs[4].get("token")) == ("roam", 2)


def test_receive_time_used_when_no_stamp_and_garbage_ignored():
    p = WpasLogParser("ctrl")
    assert p.feed_line("\x00\xff garbage <3>CTRL-EVENT-", t=3.0) == []
    assert p.feed_line("<3>CTRL-EVENT-SIGNAL-CHANGE above=1 signal=-30", t=3.1) == []
    evs = p.feed_line(f"<3>CTRL-EVENT-DISCONNECTED bssid={AP1} reason=15", t=4.25)
    assert [(e.kind, e.t, e.source) for e in evs] == [("disconnected", 4.25, "ctrl:3")]
    assert p.feed_line(f"<3>CTRL-EVENT-DISCONNECTED bssid=zz:00 reason=x", t=5) == []


def test_neighbor_report_taken_and_refused():
    lines = [
        "1796616540.051034: wlan0: RRM: No network support for Neighbor Report.",
        "12.000000: wlan2: RRM: Notifying neighbor report (token = 3)",
        "12.100000: wlan2: RRM: Notifying neighbor report - NONE",
    ]
    evs = parse_lines(lines)
    assert kinds(evs) == ["neighbor_report_refused", "neighbor_report_notified", "neighbor_report_failed"]
    assert evs[0].get("reason") == "No network support for Neighbor Report"
    assert evs[0].raw == lines[0]
    assert (evs[1].get("token"), evs[1].t) == (3, 12.0)

def test_live_parser_leaves_the_link_to_the_monitor():
    # kernel=False (the live adapter, whose link monitor reads netlink itself): no carrier,
    # nl80211 or operstate events from the log, so nothing is counted twice
    lines = [newlink("1.000000", True), drv_event("1.100000", 46, "CONNECT"),
             "1.200000: nl80211: Set wlan2 operstate 0->1 (UP)",
             f"1.300000: wlan2: CTRL-EVENT-CONNECTED - Connection to {AP1} completed [id=0 id_str=]"]
    p = WpasLogParser("live", kernel=False)
    assert [e.kind for line in lines for e in p.feed_line(line)] == ["connected"]
    assert [e.kind for e in parse_lines(lines)] == ["carrier_on", "nl80211_connect", "port_authorized", "connected"]


def test_every_event_of_the_lab_logs_is_json():
    """Events go into evidence.json as they are: no field may need a custom encoder."""
    import json
    from pathlib import Path
    logs = sorted((Path(__file__).parent / "data" / "lab").glob("*.sta.log"))
    assert logs
    n = 0
    for p in logs:
        for e in parse_lines(p.read_text(errors="replace").splitlines(), p.name):
            json.dumps(e.to_dict())
            n += 1
    assert n > 100
