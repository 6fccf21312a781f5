"""The esp32-twin read by the esp32 adapter, as a board would be: a real
wpa_supplicant in the virtual lab, its doings on a socket:// serial port.
One VM for the module; the fault knobs each get a test."""
from __future__ import annotations

import os
import time

import pytest

from devices.base import DutError, WaitTimeout
from devices.esp32_serial import DutRebooted
from devices.lines import clean
from devices.registry import make_dut
from engine.events import SUCCESS, Ind
from lab.hostapd import BSSConfig
from lab.wpas import Profile
from lab.network import LAB_FREQS, PROFILE

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def vlab(tmp_path_factory):
    from lab.launch import close_lab, open_lab
    lab = open_lab("virtual", tmp_path_factory.mktemp("twinlab"))
    yield lab
    close_lab(lab)


@pytest.fixture(scope="module")
def board(vlab):
    b = make_dut("esp32-twin", vlab)
    yield b
    b.close()


@pytest.fixture(scope="module")
def two_aps(vlab, board):
    a = vlab.start_ap(BSSConfig(channel=1), name="ap-a")
    b = vlab.start_ap(BSSConfig(channel=6), name="ap-b")
    for ap in (a, b):
        ap.set_neighbors([a, b])
    yield a, b
    vlab.stop(a)
    vlab.stop(b)


@pytest.fixture
def fresh(board):
    """Every test starts like a case: board held in reset, knobs off."""
    board.twin.silent, board.twin.drop_every = False, 0
    board.reset()
    return board


def kinds(evs):
    return [e.kind for e in evs]


def test_identity_and_claims(board):
    ident = board.identity()
    assert ident["name"] == "esp32-twin" and ident["port"].startswith("socket://127.0.0.1:")
    assert board.mac == board.twin.mac
    assert {"btm", "rrm_neighbor", "rrm_beacon_passive", "rrm_beacon_active", "rrm_beacon_table", "ft_psk",
            "ft_over_air"} == set(board.capabilities)
    assert "ft_over_ds" not in board.capabilities and "commands" not in board.capabilities
    # reports label it: a simulation, whose supplicant-level findings are wpa_supplicant's
    assert ident["simulation"] == ("esp32-twin: a wpa_supplicant re-emitted as ESP-IDF serial output; "
                                   "proves the adapter, not a device")
    assert ident["backing"].startswith("wpa_supplicant 2.")


def test_connect_gives_the_firmware_events(fresh, two_aps):
    a, b = two_aps
    bssid = fresh.connect(PROFILE)
    assert bssid in (a.bssid, b.bssid)
    cur = a if bssid == a.bssid else b
    assert cur.sta_connected(fresh.mac)  # the AP agrees: this is a real association
    evs = fresh.events()
    ks = kinds(evs)
    assert ks[:6] == ["reboot", "state", "state", "state", "connected", "got_ip"]
    assert evs[0].get("reason") == "POWERON_RESET"
    assert [(e.get("old"), e.get("new")) for e in evs[1:4]] == [("init", "auth"), ("auth", "assoc"), ("assoc", "run")]
    con = evs[4]
    assert (con.get("ssid"), con.get("bssid"), con.get("security")) == ("roamcert", bssid, "WPA2-PSK")
    assert con.get("channel") == cur.config.channel and con.get("rssi") < 0
    # the app's start-up exchange: neighbor report request, the report, a BTM query with its entries
    nr = next(e for e in evs if e.kind == "neighbor_report")
    assert {x["bssid"] for x in nr.get("entries")} == {a.bssid, b.bssid}
    assert ks.index("neighbor_report_request") < ks.index("neighbor_report") < ks.index("btm_query")
    q = next(e for e in evs if e.kind == "btm_query")
    assert (q.get("to"), q.get("reason")) == (bssid, 1)
    # hostapd answered the query on the air; the supplicant's own response came back through the log
    assert any(e.kind == "btm_response" and e.get("to") == bssid for e in evs)
    assert fresh.identity()["firmware"] == "v5.1.2-twin"
    inds = [(i.kind, i.bssid, i.status) for i in fresh.indications()]
    assert inds == [(Ind.CONNECTION_START, None, None), (Ind.ASSOCIATION_START, bssid, None),
                    (Ind.ASSOCIATION_COMPLETION, bssid, SUCCESS), (Ind.CONNECTION_COMPLETION, bssid, SUCCESS),
                    (Ind.MEDIA_CONNECT, bssid, None)]


def test_btm_roam_looks_like_the_board_log(fresh, two_aps):
    a, b = two_aps
    first = fresh.connect(PROFILE)
    cur, other = (a, b) if first == a.bssid else (b, a)
    m = fresh.mark()
    cur.ctrl_ok(f"BSS_TM_REQ {fresh.mac} dialog_token=9 pref=1 "
                f"neighbor={other.bssid},0x0000,{other.op_class},{other.config.channel},7,0301ff")
    fresh.wait_for(lambda e: e.kind == "connected" and e.get("bssid") == other.bssid, 25, m)
    fresh.wait_for(lambda e: e.kind == "got_ip", 10, m + 1)
    evs = fresh.events()[m:]
    rq = next(e for e in evs if e.kind == "btm_request" and e.get("dialog_token") == 9)
    assert [c["bssid"] for c in rq.get("candidates")] == [other.bssid] and rq.get("from") == cur.bssid
    rs = next(e for e in evs if e.kind == "btm_response" and e.get("dialog_token") == 9)
    assert (rs.get("status"), rs.get("target")) == (0, other.bssid)
    # as roaming_example_btm_roam.log: run -> init (0), then straight to init -> auth with no
    # disconnect line between (the twin used to print an invented "station got disconnected
    # reason=12" here; the example prints that line for every STA_DISCONNECTED and the board did not)
    i = next(k for k, e in enumerate(evs) if e.kind == "state" and (e.get("old"), e.get("new")) == ("run", "init"))
    assert (evs[i + 1].kind, evs[i + 1].get("old"), evs[i + 1].get("new")) == ("state", "init", "auth")
    assert not any(e.kind == "disconnected" for e in evs)
    assert any(e.kind == "ft_completed" for e in evs)  # the supplicant did FT over the air
    roam = [(x.kind, x.bssid, x.status) for x in fresh.indications() if x.t >= evs[i].t]
    assert roam[:2] == [(Ind.ROAMING_START, None, None), (Ind.ASSOCIATION_START, other.bssid, None)]
    assert Ind.MEDIA_DISCONNECT not in [k for k, _, _ in roam]
    # the `connected with` line that ends the roam is the firmware's WIFI_EVENT_STA_CONNECTED
    assert roam[-2:] == [(Ind.ROAMING_COMPLETION, other.bssid, SUCCESS), (Ind.MEDIA_CONNECT, other.bssid, None)]
    start = next(x for x in fresh.indications() if x.kind == Ind.ROAMING_START)
    assert start.reason == f"BTM request: transition to {other.bssid}"


def test_garbage_never_crashes_the_reader(fresh, two_aps):
    for seed in range(20):
        fresh.twin.garbage(512, seed=seed)
    assert fresh._thread.is_alive()
    bssid = fresh.connect(PROFILE)  # and the lines after the noise still parse
    assert bssid in (two_aps[0].bssid, two_aps[1].bssid)
    assert fresh._thread.is_alive() and fresh._read_error is None


def test_reboot_mid_case_fails_with_the_banner(fresh, two_aps):
    fresh.connect(PROFILE)
    m = fresh.mark()
    fresh.twin.reboot()
    with pytest.raises(DutRebooted) as exc:
        fresh.wait_for(lambda e: e.kind == "never", 15, m)
    msg = str(exc.value)
    assert "DUT rebooted" in msg and "rst:0x7 (TG0WDT_SYS_RESET)" in msg
    assert any("rst:0x7" in x for x in exc.value.lines)
    # the evidence carries the banner; the next case starts from a fresh connection
    rec = FakeRecord()
    fresh.attach_evidence(rec)  # already reported: no second failure
    banner = next(v for k, v in rec.texts.items() if "reboot" in k)
    assert "rst:0x7 (TG0WDT_SYS_RESET)" in banner
    fresh.reset()
    assert fresh.connect(PROFILE) in (two_aps[0].bssid, two_aps[1].bssid)
    assert fresh.faults() == []


def test_reboot_nobody_waited_for_fails_at_teardown(fresh, two_aps):
    fresh.connect(PROFILE)
    fresh.twin.reboot()
    time.sleep(1.5)
    rec = FakeRecord()
    with pytest.raises(DutRebooted, match="DUT rebooted"):
        fresh.attach_evidence(rec)
    assert "esp32-twin-serial.log" in rec.texts and any("reboot" in k for k in rec.texts)


def test_panic_fails_with_the_backtrace(fresh, two_aps):
    fresh.connect(PROFILE)
    m = fresh.mark()
    fresh.twin.panic()
    with pytest.raises(DutRebooted) as exc:
        fresh.wait_for(lambda e: e.kind == "never", 15, m)
    assert "panic (LoadProhibited)" in str(exc.value)
    assert any(x.startswith("Backtrace: 0x400d2f39") for x in exc.value.event.get("lines"))
    rec = FakeRecord()
    fresh.attach_evidence(rec)
    assert "Backtrace: 0x400d2f39" in next(v for k, v in rec.texts.items() if "panic" in k)


def test_dropped_lines_are_missing_not_made_up(fresh, two_aps):
    fresh.twin.sent.clear()
    dropped0 = fresh.twin.dropped
    fresh.twin.drop_every = 3
    try:
        fresh.connect(PROFILE, timeout=8)  # one line in three is lost, maybe the one that matters
    except DutError:
        pass
    time.sleep(0.5)
    fresh.twin.drop_every = 0
    assert fresh.twin.dropped > dropped0
    got = fresh.case_lines()
    sent = [clean(x.encode()) for x in fresh.twin.sent]
    sent = [x for x in sent if x.strip()]
    assert got == sent[:len(got)]  # exactly the lines that went out, none invented
    # every event the adapter made comes from a line that was really sent
    assert all(e.raw in "\n".join(sent) for e in fresh.events() if e.raw)


def test_silent_board_times_out_with_the_last_lines(fresh, two_aps):
    bssid = fresh.connect(PROFILE)
    last = fresh.case_lines()[-1]
    fresh.twin.silent = True
    m = fresh.mark()
    ap = next(ap for ap in two_aps if ap.bssid == bssid)
    ap.ctrl_ok(f"DEAUTHENTICATE {fresh.mac}")  # the link drops, but the board says nothing
    with pytest.raises(WaitTimeout) as exc:
        fresh.wait_for(lambda e: e.kind == "disconnected", 3, m)
    assert "within 3 s" in str(exc.value) and last in str(exc.value)
    fresh.twin.silent = False


def test_profile_for_another_network_is_refused(fresh):
    with pytest.raises(DutError, match="SSID 'roamcert'.*'other-net'"):
        fresh.connect(Profile(ssid="other-net", scan_freqs=LAB_FREQS))
    with pytest.raises(DutError, match="passphrase differs"):
        fresh.connect(Profile(passphrase="not-the-firmware-one"))


def test_missing_port_is_named(vlab):
    with pytest.raises(DutError, match="/dev/ttyUSB97"):
        make_dut("esp32:/dev/ttyUSB97", vlab)
    with pytest.raises(ValueError, match="serial port"):
        make_dut("esp32", vlab)


def test_busy_port_is_named(vlab):
    master, slave = os.openpty()
    path = os.ttyname(slave)
    first = make_dut(f"esp32:{path}", vlab)
    try:
        with pytest.raises(DutError, match=f"{path}.*busy|busy.*{path}"):
            make_dut(f"esp32:{path}", vlab)
    finally:
        first.close()
        os.close(master)
        os.close(slave)


def test_refused_socket_is_named(vlab):
    with pytest.raises(DutError, match="socket://127.0.0.1:9"):
        make_dut("esp32:socket://127.0.0.1:9", vlab)


class FakeRecord:
    def __init__(self):
        self.texts, self.jsons = {}, {}

    def attach_text(self, name, text, suffix=".txt"):
        self.texts[name] = text

    def attach_json(self, name, obj):
        self.jsons[name] = obj

