"""ESP-IDF log parsing and the ESP32 indication mapping.

The expected events for the two real logs in /work/shared/data/esp32 were read
off the log lines by hand (line numbers are the file's own)."""
from pathlib import Path

import pytest

from devices.esp32_log import Esp32LogParser, parse_file, parse_lines, to_indications
from engine.events import FAILURE, SUCCESS, Ind
from shared_data import SHARED

DATA = Path(str(SHARED) + "/data/esp32")
OLD_AP = "50:3e:aa:26:35:42"
NEW_AP = "b4:e6:2d:eb:1d:76"


def brief(evs):
    return [(e.source.rsplit(":", 1)[1], e.kind) for e in evs]


@pytest.fixture(scope="module")
def btm_events():
    return parse_file(DATA / "roaming_example_btm_roam.log")


def test_btm_roam_log_event_sequence(btm_events):
    assert brief(btm_events) == [
        ("2", "btm_request"),
        ("9", "scan_started"),
        ("10", "bss_added"),
        ("11", "scan_results"),
        ("14", "btm_transition"),
        ("16", "btm_response"),
        ("19", "state"),
        ("24", "state"),
        ("25", "state"),
        ("26", "state"),
        ("27", "connected"),
        ("32", "got_ip"),
    ]


def test_btm_roam_log_request_fields(btm_events):
    req = btm_events[0]
    assert req.t == pytest.approx(379.479)
    assert req.source == "roaming_example_btm_roam.log:2"
    assert req.get("dialog_token") == 1
    assert req.get("request_mode") == 0x1
    assert req.get("disassoc_timer") == 0
    assert req.get("validity_interval") == 1
    assert req.get("from") == OLD_AP  # line 1: "WNM: RX action 7 from 50:3e:aa:26:35:42"
    assert req.get("valid_ms") == 102
    assert list(req.get("candidates")) == [
        {"bssid": NEW_AP, "info": 0x0, "op_class": 81, "chan": 1, "phy": 7, "pref": 255}]


def test_btm_roam_log_scan_and_response(btm_events):
    bss = btm_events[2]
    assert (bss.get("id"), bss.get("bssid"), bss.get("ssid"), bss.get("chan")) == (12, NEW_AP, "roaming_test123", 6)
    tr = btm_events[4]
    assert tr.get("bssid") == NEW_AP and tr.get("after_new_scan") == 1
    resp = btm_events[5]
    assert resp.t == pytest.approx(382.009)
    assert resp.get("to") == OLD_AP
    assert resp.get("dialog_token") == 1
    assert resp.get("status") == 0
    assert resp.get("reason") == 0
    assert resp.get("delay") == 0
    assert resp.get("target") == NEW_AP  # from line 14, "Transition to BSS b4:e6:..."


def test_btm_roam_log_states_connection_ip(btm_events):
    states = [(e.get("old"), e.get("new"), e.get("code")) for e in btm_events if e.kind == "state"]
    assert states == [("run", "init", "0"), ("init", "auth", "b0"), ("auth", "assoc", "0"), ("assoc", "run", "10")]
    assert [e.t for e in btm_events if e.kind == "state"] == pytest.approx([382.029, 384.689, 384.699, 384.709])
    conn = btm_events[10]
    assert conn.t == pytest.approx(384.729)
    assert (conn.get("ssid"), conn.get("aid"), conn.get("channel"), conn.get("bandwidth"), conn.get("bssid")) == \
        ("roaming_test123", 1, 6, "40U", NEW_AP)
    assert (conn.get("security"), conn.get("phy"), conn.get("rssi")) == ("WPA2-PSK", "bgn", -7)
    ip = btm_events[11]
    assert (ip.get("ip"), ip.get("mask"), ip.get("gw")) == ("192.168.4.2", "255.255.255.0", "192.168.4.1")
    assert ip.t == pytest.approx(385.609)


def test_btm_roam_log_indications_show_a_new_media_connect(btm_events):
    # Was: MEDIA_DISCONNECT at `run -> init (0)` (line 19) and MEDIA_CONNECT at `sta ip:` (line 32).
    # Media connect on ESP32 is WIFI_EVENT_STA_CONNECTED/DISCONNECTED as the firmware prints them:
    # the driver's `connected with` line, and the app's "station got disconnected" line, which the
    # roaming example prints for every STA_DISCONNECTED. This log has no disconnect line, and
    # `sta ip:` is esp_netif's DHCP, so the trace has one MEDIA_CONNECT: the `connected with` line
    # that ends the roam (line 27). IND-6 fails on it, against the firmware.
    trace = to_indications(btm_events)
    inds = [(i.kind, i.bssid, i.status, i.source.rsplit(":", 1)[1]) for i in trace]
    assert inds == [
        (Ind.ROAMING_START, None, None, "19"),
        (Ind.ASSOCIATION_START, NEW_AP, None, "24"),
        (Ind.ASSOCIATION_COMPLETION, NEW_AP, SUCCESS, "26"),
        (Ind.ROAMING_COMPLETION, NEW_AP, SUCCESS, "27"),
        (Ind.MEDIA_CONNECT, NEW_AP, None, "27"),
    ]
    start = trace[0]
    assert "BTM" in start.reason and NEW_AP in start.reason
    mc = trace[-1]
    assert mc.layer == "firmware" and mc.evidence.startswith("I (384729) wifi:connected with roaming_test123")
    from engine.indications import check
    ind6 = [v for v in check(trace) if v.rule == "IND-6"]
    assert [(v.status, v.layer) for v in ind6] == [("fail", "firmware")]
    assert any("wifi:connected with roaming_test123" in e for e in ind6[0].evidence)


def test_beacon_request_log_events():
    evs = parse_file(DATA / "roaming_example_beacon_request.log")
    assert brief(evs) == [("1", "scan_started")] + [(str(n), "bss_added") for n in range(2, 13)] + \
        [("13", "scan_results")]
    added = [(e.get("id"), e.get("bssid"), e.get("ssid"), e.get("chan")) for e in evs if e.kind == "bss_added"]
    assert added == [
        (1, "b6:fb:e4:4d:6e:22", "ESPTest", 1),
        (2, "d6:fb:e4:4d:6e:22", "ESPDedicated", 1),
        (3, "c6:fb:e4:4d:6e:22", "ESPGuestNetwork", 1),
        (4, "b4:fb:e4:4d:6e:22", "ESPIndia", 1),
        (5, "b8:27:eb:3b:4a:59", "wpa2_enterprise", 6),
        (6, "38:94:ed:34:07:66", "Nighthawk", 6),
        (7, "10:da:43:dc:99:20", "NETGEAR40", 6),
        (8, "c6:fb:e4:4d:7c:89", "ESPGuestNetwork", 11),
        (9, "d6:fb:e4:4d:7c:89", "ESPDedicated", 11),
        (10, "b6:fb:e4:4d:7c:89", "ESPTest", 11),
        (11, "b4:fb:e4:4d:7c:89", "ESPIndia", 11),
    ]
    assert evs[0].t == pytest.approx(11.125) and evs[-1].t == pytest.approx(12.825)
    # no driver state lines, no connection: nothing to indicate
    assert to_indications(evs) == []


# --- hand-written lines in the formats above -----------------------------

BOOT_AND_CONNECT = """\
ets Jun  8 2016 00:22:57

rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)
I (29) boot: ESP-IDF v5.1.2 2nd stage bootloader
I (620) wifi:mode : sta (30:ae:a4:01:02:03)
I (2100) wifi:state: init -> auth (b0)
I (2110) wifi:state: auth -> assoc (0)
I (2120) wifi:state: assoc -> run (10)
I (2150) wifi:connected with lab, aid = 1, channel 1, BW20, bssid = 02:00:00:00:01:00
I (2150) wifi:security: WPA2-PSK, phy: bgn, rssi: -40
I (2160) roaming_example: RRM supported
I (2170) roaming_example: BTM supported
I (3000) esp_netif_handlers: sta ip: 10.0.0.5, mask: 255.255.255.0, gw: 10.0.0.1
I (4000) wpa: RRM: Neighbor report request (for ), token=1
I (4010) roaming_example: RMM neighbor report bssid=02:00:00:00:01:00 info=0x8f op_class=81 chan=1 phy_type=7
I (4010) roaming_example: RMM neighbor report bssid=02:00:00:00:02:00 info=0x8f op_class=81 chan=6 phy_type=7
I (4020) wpa: WNM: Send BSS Transition Management Query to 02:00:00:00:01:00 query_reason=6
"""


def test_boot_then_first_connection():
    evs = parse_lines(BOOT_AND_CONNECT.splitlines(), "t")
    assert [e.kind for e in evs] == ["reboot", "state", "state", "state", "connected", "got_ip",
                                     "neighbor_report_request", "neighbor_report", "btm_query"]
    assert (evs[0].get("rst"), evs[0].get("reason")) == ("0x1", "POWERON_RESET")
    nr = evs[7]
    assert [x["bssid"] for x in nr.get("entries")] == ["02:00:00:00:01:00", "02:00:00:00:02:00"]
    assert nr.get("entries")[1] == {"bssid": "02:00:00:00:02:00", "info": 0x8f, "op_class": 81, "chan": 6,
                                    "phy_type": 7}
    assert evs[8].get("reason") == 6
    inds = [(i.kind, i.bssid, i.status) for i in to_indications(evs)]
    assert inds == [
        (Ind.CONNECTION_START, None, None),
        (Ind.ASSOCIATION_START, "02:00:00:00:01:00", None),
        (Ind.ASSOCIATION_COMPLETION, "02:00:00:00:01:00", SUCCESS),
        (Ind.CONNECTION_COMPLETION, "02:00:00:00:01:00", SUCCESS),
        (Ind.MEDIA_CONNECT, "02:00:00:00:01:00", None),
    ]


def test_roam_with_app_disconnect_reason_12_then_failed_reconnect():
    # roaming_app's handler (roaming_app/main/roaming_app_example.c) only logs a disconnect and
    # never calls esp_wifi_connect(): the association that follows is the firmware's own.
    lines = BOOT_AND_CONNECT.splitlines() + [
        "I (9000) wifi:state: run -> init (0)",
        "I (9001) wifi roaming app: station disconnected with reason 12",
        "I (9500) wifi:state: init -> auth (b0)",
        "I (9800) wifi:state: auth -> init (200)",
        "I (9801) wifi roaming app: station disconnected with reason 202",
    ]
    inds = to_indications(parse_lines(lines, "t"))[5:]
    assert [(i.kind, i.status, i.reason) for i in inds] == [
        (Ind.ROAMING_START, None, "disconnected reason=12"),
        (Ind.MEDIA_DISCONNECT, None, "reason=12"),
        (Ind.ASSOCIATION_START, None, None),
        (Ind.ASSOCIATION_COMPLETION, FAILURE, "reason=202"),
        (Ind.ROAMING_COMPLETION, FAILURE, "reason=202"),
    ]


def test_disconnect_without_state_lines_is_media_disconnect_only():
    evs = parse_lines(["I (10) esp_netif_handlers: sta ip: 10.0.0.5, mask: 255.0.0.0, gw: 10.0.0.1",
                       "I (20) wifi roaming app: station disconnected with reason 8"], "t")
    assert [(e.kind, e.get("reason")) for e in evs] == [("got_ip", None), ("disconnected", 8)]
    # `sta ip:` is the IP layer, not a media indication; it shows the link was up, so the
    # app's disconnect line (WIFI_EVENT_STA_DISCONNECTED) is a MEDIA_DISCONNECT
    assert [(i.kind, i.reason) for i in to_indications(evs)] == [(Ind.MEDIA_DISCONNECT, "reason=8")]


def test_roaming_app_reason_207_and_idf3_event_line():
    evs = parse_lines([
        "I (1) wifi roaming app: station disconnected during roaming",
        "D (2) event: SYSTEM_EVENT_STA_DISCONNECTED, ssid:lab, ssid_len:3, bssid:02:00:00:00:01:00, reason:201",
    ], "t")
    assert [(e.kind, e.get("reason"), e.get("bssid")) for e in evs] == [
        ("disconnected", 207, None), ("disconnected", 201, "02:00:00:00:01:00")]


def test_ansi_clock_timestamps_old_tag_and_interleaving():
    lines = [
        "\x1b[0;32mI (12:00:01.250) wifi: state: init -> auth (b0)\x1b[0m",
        "garbage from another taskI (5000) wifi:state: auth -> assoc (0)",
        "I (5010) wpa: scan done receivedI (5011) wifi:state: assoc -> run (10)",
        "W (5020) some_task: state: run -> init (0) is not a wifi line",
    ]
    evs = parse_lines(lines, "t")
    assert [(e.kind, e.get("old"), e.get("new")) for e in evs] == [
        ("state", "init", "auth"), ("state", "auth", "assoc"), ("scan_results", None, None),
        ("state", "assoc", "run")]
    assert evs[0].t == pytest.approx(12 * 3600 + 1.25)
    assert evs[3].t == pytest.approx(5.011)
    assert all(e.source.startswith("t:") for e in evs)


def test_panic_block_with_backtrace_then_reboot():
    lines = """\
I (100) wifi:state: assoc -> run (10)
abort() was called at PC 0x400d2c3b on core 0

Backtrace: 0x40081f7e:0x3ffb5a30 0x40086b19:0x3ffb5a50 0x400d2c3b:0x3ffb5a70

ELF file SHA256: 0123456789abcdef

Rebooting...
ets Jul 29 2019 12:21:46

rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)
I (31) boot: ESP-IDF v4.4 2nd stage bootloader
""".splitlines()
    evs = parse_lines(lines, "t")
    assert [e.kind for e in evs] == ["state", "panic", "reboot"]
    p = evs[1]
    assert p.source == "t:2"
    assert p.get("cause") == "abort() at 0x400d2c3b"
    assert p.get("backtrace") == "0x40081f7e:0x3ffb5a30 0x40086b19:0x3ffb5a50 0x400d2c3b:0x3ffb5a70"
    assert p.get("lines")[-1] == "Rebooting..."
    assert (evs[2].get("rst"), evs[2].get("reason"), evs[2].source) == ("0xc", "SW_CPU_RESET", "t:11")


def test_guru_meditation_and_brownout():
    evs = parse_lines([
        "Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.",
        "Core  0 register dump:",
        "PC      : 0x400d1234  PS      : 0x00060630",
        "Backtrace:0x400d1231:0x3ffb1f90 0x400d5678:0x3ffb1fb0",
        "CPU halted.",
        "",
        "Brownout detector was triggered",
    ], "t")
    assert [e.kind for e in evs] == ["panic", "brownout"]
    assert evs[0].get("cause") == "LoadProhibited"
    assert evs[0].get("backtrace") == "0x400d1231:0x3ffb1f90 0x400d5678:0x3ffb1fb0"
    assert len(evs[0].get("lines")) == 5


def test_bootloader_banner_alone_counts_as_reboot():
    evs = parse_lines(["I (29) boot: ESP-IDF v5.1.2 2nd stage bootloader", "I (30) boot: compile time"], "t")
    assert [e.kind for e in evs] == ["reboot"]


def test_reboot_mid_connection_closes_everything():
    evs = parse_lines(BOOT_AND_CONNECT.splitlines()[4:] + ["I (5000) wifi:state: run -> init (0)",
                                                          "rst:0x3 (SW_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"], "t")
    inds = to_indications(evs)[5:]
    # leaving `run` is no media indication by itself (no disconnect line); the reboot ends the link
    assert [(i.kind, i.status, i.reason) for i in inds] == [
        (Ind.ROAMING_START, None, None),
        (Ind.ROAMING_COMPLETION, FAILURE, "DUT rebooted"),
        (Ind.MEDIA_DISCONNECT, None, "DUT rebooted"),
    ]


def test_connected_waits_for_security_but_flush_releases_it():
    p = Esp32LogParser()
    assert p.feed_line("I (1) wifi:connected with lab, aid = 2, channel 11, BW20, bssid = 02:00:00:00:02:00") == []
    evs = p.flush()
    assert [(e.kind, e.get("bssid"), e.get("security")) for e in evs] == [("connected", "02:00:00:00:02:00", None)]


def test_measurement_request_and_neighbor_report_failure():
    evs = parse_lines(["I (1) wpa: Measurement request type 5 token 3",
                       "I (2) wpa: RRM: Notifying neighbor report - NONE"], "t")
    assert [(e.kind, e.get("token"), e.get("type")) for e in evs] == [
        ("measurement_request", 3, 5), ("neighbor_report_failed", None, None)]


def test_same_address_after_a_reboot_is_a_new_got_ip():
    # ms-since-boot restarts at every boot, so the second boot's `sta ip:` can carry the same
    # stamp as the first one's; it is a new DHCP result, not the app repeating esp_netif's line.
    once = ["I (1313) esp_netif_handlers: sta ip: 192.168.4.2, mask: 255.255.255.0, gw: 192.168.4.1"]
    lines = ["rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"] + once + \
            ["rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"] + once
    assert [e.kind for e in parse_lines(lines, "t")] == ["reboot", "got_ip", "reboot", "got_ip"]


def test_ap_disassociation_without_btm_is_a_lost_link_and_a_new_connection():
    """BTM-08/BTM-17: the AP disassociates at the BTM disassociation timer (the test's
    stimulus). No transition is pending: BTM-08's request was rejected (status 1), BTM-17's
    accepted with status 0 and no target (the station stays). roaming_11kvr's STA_DISCONNECTED
    handler (roaming_11kvr/main/roaming_example.c) prints the reason and calls
    esp_wifi_connect() for every reason but WIFI_REASON_ROAMING: the app starts a new
    connection; the driver did not roam."""
    lines = BOOT_AND_CONNECT.splitlines() + [
        "I (9000) wifi:state: run -> init (2c0)",  # as a real board prints it before reason 2
        "I (9001) roaming_example: station got disconnected reason=2",
        "I (9500) wifi:state: init -> auth (b0)",
        "I (9510) wifi:state: auth -> assoc (0)",
        "I (9520) wifi:state: assoc -> run (10)",
        "I (9600) wifi:connected with roamcert, aid = 1, channel 6, BW20, bssid = 02:00:00:00:02:00",
    ]
    inds = to_indications(parse_lines(lines, "t"))[5:]
    assert [(i.kind, i.bssid, i.status, i.reason) for i in inds] == [
        (Ind.MEDIA_DISCONNECT, "02:00:00:00:01:00", None, "reason=2"),
        (Ind.CONNECTION_START, None, None, None),
        (Ind.ASSOCIATION_START, "02:00:00:00:02:00", None, None),
        (Ind.ASSOCIATION_COMPLETION, "02:00:00:00:02:00", SUCCESS, None),
        (Ind.CONNECTION_COMPLETION, "02:00:00:00:02:00", SUCCESS, None),
        (Ind.MEDIA_CONNECT, "02:00:00:00:02:00", None, None),
    ]
    assert not any(i.kind in (Ind.ROAMING_START, Ind.ROAMING_COMPLETION) for i in inds)


def test_roaming_reason_207_still_opens_a_roam():
    """WIFI_REASON_ROAMING: the firmware left its AP to roam, and the app does nothing
    ("station roaming, do nothing"), so the association that follows belongs to a roam."""
    lines = BOOT_AND_CONNECT.splitlines() + [
        "I (9000) wifi:state: run -> init (0)",
        "I (9001) roaming_example: station got disconnected reason=207",
        "I (9500) wifi:state: init -> auth (b0)",
        "I (9520) wifi:state: assoc -> run (10)",
        "I (9600) wifi:connected with roamcert, aid = 1, channel 6, BW20, bssid = 02:00:00:00:02:00",
    ]
    kinds = [i.kind for i in to_indications(parse_lines(lines, "t"))[5:]]
    assert kinds[0] == Ind.ROAMING_START and Ind.ROAMING_COMPLETION in kinds
    assert Ind.CONNECTION_START not in kinds


def test_roaming_example_reconnects_after_reason_12_too():
    """roaming_11kvr calls esp_wifi_connect() for reason 12 as for any reason but 207, so a
    failed attempt after it fails that connection, not a roam."""
    lines = BOOT_AND_CONNECT.splitlines() + [
        "I (9000) wifi:state: run -> init (0)",
        "I (9001) roaming_example: station got disconnected reason=12",
        "I (9500) wifi:state: init -> auth (b0)",
        "I (9800) wifi:state: auth -> init (200)",
        "I (9801) roaming_example: station got disconnected reason=202",
    ]
    inds = to_indications(parse_lines(lines, "t"))[5:]
    assert [(i.kind, i.status, i.reason) for i in inds] == [
        (Ind.MEDIA_DISCONNECT, None, "reason=12"),
        (Ind.CONNECTION_START, None, None),
        (Ind.ASSOCIATION_START, None, None),
        (Ind.ASSOCIATION_COMPLETION, FAILURE, "reason=202"),
        (Ind.CONNECTION_COMPLETION, FAILURE, "reason=202"),
    ]


def test_ap_disassociation_during_an_accepted_btm_transition_stays_a_roam():
    """A BTM transition is pending (`WNM: Transition to BSS`): the station chose to leave, so
    the disconnect line, whatever its reason, belongs to the roam and IND-6 still judges it."""
    lines = BOOT_AND_CONNECT.splitlines() + [
        "I (8000) wpa: WNM: Transition to BSS 02:00:00:00:02:00 based on BSS Transition Management Request after_new_scan=1)",
        "I (9000) wifi:state: run -> init (0)",
        "I (9001) roaming_example: station got disconnected reason=2",
        "I (9500) wifi:state: init -> auth (b0)",
        "I (9520) wifi:state: assoc -> run (10)",
        "I (9600) wifi:connected with roamcert, aid = 1, channel 6, BW20, bssid = 02:00:00:00:02:00",
    ]
    inds = to_indications(parse_lines(lines, "t"))[5:]
    assert inds[0].kind == Ind.ROAMING_START and inds[0].reason.startswith("BTM request")
    assert Ind.CONNECTION_START not in [i.kind for i in inds]


def test_disconnect_line_before_the_state_line_is_not_read_twice():
    """A disconnect line printed before the driver's state line ends the connection on its own;
    the state line after it must not bring the link back up (one MEDIA_DISCONNECT, then a new
    connection)."""
    lines = BOOT_AND_CONNECT.splitlines() + [
        "I (9001) roaming_example: station got disconnected reason=2",
        "I (9002) wifi:state: run -> init (0)",
        "I (9500) wifi:state: init -> auth (b0)",
        "I (9520) wifi:state: assoc -> run (10)",
        "I (9600) wifi:connected with roamcert, aid = 1, channel 6, BW20, bssid = 02:00:00:00:02:00",
    ]
    kinds = [i.kind for i in to_indications(parse_lines(lines, "t"))[5:]]
    assert kinds.count(Ind.MEDIA_DISCONNECT) == 1 and kinds[0] == Ind.MEDIA_DISCONNECT
    assert Ind.ROAMING_START not in kinds and Ind.CONNECTION_START in kinds
