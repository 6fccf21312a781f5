"""The wpa_supplicant indication mapping on real lab lines: copied by hand from the
linux-wpas debug logs of run 20261122T023723Z (cases FT-02 and FT-07), wpa_supplicant 2.10
at -d -t on mac80211_hwsim."""
from pathlib import Path

from devices.wpas_log import parse_text, to_indications
from engine.events import FAILURE, SUCCESS, Ind
from engine.indications import check
from engine.verdict import KERNEL

LAB_DATA = Path(__file__).parent / "data" / "lab"

AP1, AP2 = "02:00:00:00:01:00", "02:00:00:00:02:00"

# FT-02: connect to AP1, then `ROAM AP2` (FT over the air). The supplicant takes the
# interface's operstate from UP to DORMANT in the middle of the roam and back to UP after it:
# the 802.1X port, not the link (these hand-copied lines hold none of the kernel's messages).
FT_AIR_ROAM = """\
1795315068.046029: wlan0: SME: Trying to authenticate with 02:00:00:00:01:00 (SSID='roamcert' freq=2412 MHz)
1795315068.093218: wlan0: Trying to associate with 02:00:00:00:01:00 (SSID='roamcert' freq=2412 MHz)
1795315068.101905: nl80211: Set wlan0 operstate 0->0 (DORMANT)
1795315068.137808: nl80211: Set wlan0 operstate 0->0 (DORMANT)
1795315068.141272: wlan0: Associated with 02:00:00:00:01:00
1795315068.235385: wlan0: CTRL-EVENT-CONNECTED - Connection to 02:00:00:00:01:00 completed [id=0 id_str=]
1795315068.237005: nl80211: Set wlan0 operstate 0->1 (UP)
1795315068.710024: wlan0: SME: Trying to authenticate with 02:00:00:00:02:00 (SSID='roamcert' freq=2437 MHz)
1795315068.731409: wlan0: State: COMPLETED -> AUTHENTICATING
1795315068.888652: wlan0: Trying to associate with 02:00:00:00:02:00 (SSID='roamcert' freq=2437 MHz)
1795315068.891545: nl80211: Set wlan0 operstate 1->0 (DORMANT)
1795315069.039243: nl80211: Set wlan0 operstate 0->0 (DORMANT)
1795315069.042850: wlan0: Associated with 02:00:00:00:02:00
1795315069.052882: wlan0: CTRL-EVENT-CONNECTED - Connection to 02:00:00:00:02:00 completed [id=0 id_str=]
1795315069.054579: nl80211: Set wlan0 operstate 0->1 (UP)
1795315069.070721: wlan0: State: COMPLETED -> COMPLETED
"""

# FT-07: connected to AP1, `FT_DS AP2`; AP1 relays an FT Response with status 0 whose MDE
# the supplicant rejects. Nothing else is logged: the supplicant stays with AP1.
FT_DS_REJECTED = """\
1795315119.485914: wlan0: SME: Trying to authenticate with 02:00:00:00:01:00 (SSID='roamcert' freq=2412 MHz)
1795315119.558336: wlan0: Trying to associate with 02:00:00:00:01:00 (SSID='roamcert' freq=2412 MHz)
1795315119.560917: nl80211: Set wlan0 operstate 0->0 (DORMANT)
1795315119.605254: nl80211: Set wlan0 operstate 0->0 (DORMANT)
1795315119.608824: wlan0: Associated with 02:00:00:00:01:00
1795315119.776909: wlan0: CTRL-EVENT-CONNECTED - Connection to 02:00:00:00:01:00 completed [id=0 id_str=]
1795315119.780458: nl80211: Set wlan0 operstate 0->1 (UP)
1795315120.004581: FT: Request over-the-DS with 02:00:00:00:02:00
1795315124.261551: wlan0: FT: Received FT Action Response: STA 02:00:00:00:00:00 TargetAP 02:00:00:00:02:00 status 0
1795315124.263085: FT: Invalid MDIE
"""


def kinds(trace):
    return [(i.kind, i.bssid, i.status) for i in trace]


def test_operstate_changes_are_port_events_and_no_change_is_not():
    evs = [e for e in parse_text(FT_AIR_ROAM) if e.kind.startswith("port_")]
    assert [(e.kind, e.get("ifname"), e.get("operstate")) for e in evs] == [
        ("port_authorized", "wlan0", "UP"), ("port_unauthorized", "wlan0", "DORMANT"),
        ("port_authorized", "wlan0", "UP")]


def test_operstate_dormant_is_port_authorization_not_media():
    # Was: MEDIA_DISCONNECT at operstate DORMANT and IND-6 failed. DORMANT is wpa_supplicant
    # leaving COMPLETED (the 802.1X port), so it is PORT_UNAUTHORIZED; with no kernel link
    # message in these lines, IND-6 has nothing to judge.
    tr = to_indications(parse_text(FT_AIR_ROAM))
    assert kinds(tr) == [
        (Ind.CONNECTION_START, None, None), (Ind.ASSOCIATION_START, AP1, None),
        (Ind.ASSOCIATION_COMPLETION, AP1, SUCCESS), (Ind.CONNECTION_COMPLETION, AP1, SUCCESS),
        (Ind.PORT_AUTHORIZED, AP1, None),
        (Ind.ROAMING_START, None, None), (Ind.ASSOCIATION_START, AP2, None),
        (Ind.PORT_UNAUTHORIZED, AP1, None),
        (Ind.ASSOCIATION_COMPLETION, AP2, SUCCESS), (Ind.ROAMING_COMPLETION, AP2, SUCCESS),
        (Ind.PORT_AUTHORIZED, AP2, None)]
    assert tr[7].reason == "operstate DORMANT" and tr[7].t == 1795315068.891545
    assert tr[7].layer == "supplicant"
    ind6 = [v for v in check(tr) if v.rule == "IND-6"]
    assert [v.status for v in ind6] == ["info"]
    assert "no MEDIA_* indication" in ind6[0].observed


def test_whole_lab_log_media_is_the_kernel_carrier():
    """tests/data/lab/ft_air_ds.sta.log (README there): connect to ap1, FT over the air to ap2,
    FT over the DS back to ap1. The RTM_NEWLINK lines wpa_supplicant logged show carrier
    (IFF_LOWER_UP) going off and on inside both roams: mac80211 dropped the old association
    locally. IND-6 fails, against the kernel/driver layer, citing the netlink message."""
    AP_1, AP_2 = "02:00:00:00:00:00", "02:00:00:00:01:00"
    tr = to_indications(parse_text((LAB_DATA / "ft_air_ds.sta.log").read_text(), "sta.log"))
    media = [(i.kind, i.bssid, i.source) for i in tr if i.kind.name.startswith("MEDIA_")]
    assert media[:5] == [
        (Ind.MEDIA_CONNECT, AP_1, "sta.log:625"),  # carrier on at the first association
        (Ind.MEDIA_DISCONNECT, AP_1, "sta.log:1061"), (Ind.MEDIA_CONNECT, AP_2, "sta.log:1188"),  # air
        (Ind.MEDIA_DISCONNECT, AP_2, "sta.log:1462"), (Ind.MEDIA_CONNECT, AP_1, "sta.log:1489")]  # DS
    assert all(i.layer == KERNEL and i.evidence.startswith("RTM_NEWLINK: ifi_index=4 ifname=wlan2 ")
               for i in tr if i.kind.name.startswith("MEDIA_"))
    ind6 = [v for v in check(tr) if v.rule == "IND-6"]
    assert len(ind6) == 4 and all(v.status == "fail" and v.layer == KERNEL for v in ind6)
    assert all(any(e.startswith("kernel/driver: RTM_NEWLINK:") for e in v.evidence) for v in ind6)
    # the port is shown apart: DORMANT inside each roam, UP after it
    port = [(i.kind, i.source) for i in tr if i.kind.name.startswith("PORT_")]
    assert port[:5] == [(Ind.PORT_AUTHORIZED, "sta.log:853"), (Ind.PORT_UNAUTHORIZED, "sta.log:1162"),
                        (Ind.PORT_AUTHORIZED, "sta.log:1293"), (Ind.PORT_UNAUTHORIZED, "sta.log:1434"),
                        (Ind.PORT_AUTHORIZED, "sta.log:1598")]


def test_initial_connection_has_one_port_authorization():
    tr = to_indications(parse_text("".join(FT_AIR_ROAM.splitlines(True)[:7])))
    assert [i.kind for i in tr].count(Ind.PORT_AUTHORIZED) == 1


def test_rejected_ft_ds_response_fails_the_roam_and_keeps_op():
    tr = to_indications(parse_text(FT_DS_REJECTED))
    assert kinds(tr)[5:] == [
        (Ind.ROAMING_START, None, None), (Ind.ASSOCIATION_START, AP2, None),
        (Ind.ASSOCIATION_COMPLETION, AP2, FAILURE), (Ind.ROAMING_COMPLETION, AP2, FAILURE)]
    assert tr[-1].reason == "FT response rejected: Invalid MDIE"
    assert Ind.MEDIA_DISCONNECT not in [i.kind for i in tr] and Ind.PORT_UNAUTHORIZED not in [i.kind for i in tr]
    vs = {v.rule: v.status for v in check(tr)}
    assert vs["IND-2"] == "pass" and vs["IND-3"] == "pass" and vs["IND-7"] == "pass"


def test_ft_error_outside_an_over_ds_roam_changes_nothing():
    lines = FT_DS_REJECTED.splitlines(True)
    text = "".join(lines[:7]) + lines[-1]  # "FT: Invalid MDIE" while simply connected
    assert Ind.ROAMING_COMPLETION not in [i.kind for i in to_indications(parse_text(text))]


# IND-07 (run 20261122T024256Z): connected, `DISCONNECT`, `ROAM` refused (FAIL), `RECONNECT`.
# The `State: COMPLETED -> DISCONNECTED` after the disconnect must not be read as a log
# that began mid-connection: the reconnection is a connection, not a roam.
DISCONNECT_RECONNECT = """\
1795315623.742899: wlan0: SME: Trying to authenticate with 02:00:00:00:01:00 (SSID='roamcert' freq=2412 MHz)
1795315623.856419: wlan0: Trying to associate with 02:00:00:00:01:00 (SSID='roamcert' freq=2412 MHz)
1795315624.074706: wlan0: Associated with 02:00:00:00:01:00
1795315624.394735: wlan0: State: GROUP_HANDSHAKE -> COMPLETED
1795315624.395218: wlan0: CTRL-EVENT-CONNECTED - Connection to 02:00:00:00:01:00 completed [id=0 id_str=]
1795315624.395583: nl80211: Set wlan0 operstate 0->1 (UP)
1795315624.804176: wlan0: Control interface command 'DISCONNECT'
1795315624.880492: wlan0: CTRL-EVENT-DISCONNECTED bssid=02:00:00:00:01:00 reason=3 locally_generated=1
1795315624.980842: wlan0: State: COMPLETED -> DISCONNECTED
1795315624.994370: nl80211: Set wlan0 operstate 1->0 (DORMANT)
1795315625.019833: wlan0: State: DISCONNECTED -> DISCONNECTED
1795315625.033144: nl80211: Set wlan0 operstate 0->0 (DORMANT)
1795315626.163761: wlan0: Control interface command 'ROAM 02:00:00:00:02:00'
1795315629.206810: wlan0: Control interface command 'RECONNECT'
1795315629.227336: wlan0: SME: Trying to authenticate with 02:00:00:00:01:00 (SSID='roamcert' freq=2412 MHz)
1795315629.234683: wlan0: State: DISCONNECTED -> AUTHENTICATING
1795315629.398478: wlan0: Trying to associate with 02:00:00:00:01:00 (SSID='roamcert' freq=2412 MHz)
1795315629.835193: wlan0: Associated with 02:00:00:00:01:00
1795315630.007219: wlan0: State: GROUP_HANDSHAKE -> COMPLETED
1795315630.010527: wlan0: CTRL-EVENT-CONNECTED - Connection to 02:00:00:00:01:00 completed [id=0 id_str=]
1795315630.012641: nl80211: Set wlan0 operstate 0->1 (UP)
"""


def test_disconnect_then_reconnect_is_a_connection_not_a_roam():
    tr = to_indications(parse_text(DISCONNECT_RECONNECT))
    k = [i.kind for i in tr]
    assert Ind.ROAMING_START not in k
    # the port goes unauthorized once; these lines show no kernel link state, so no MEDIA_*
    assert k.count(Ind.PORT_UNAUTHORIZED) == 1 and k.count(Ind.CONNECTION_START) == 2
    assert k[5:] == [Ind.PORT_UNAUTHORIZED, Ind.CONNECTION_START, Ind.ASSOCIATION_START,
                     Ind.ASSOCIATION_COMPLETION, Ind.CONNECTION_COMPLETION, Ind.PORT_AUTHORIZED]


def test_a_log_that_begins_mid_connection_still_starts_in_op():
    tail = "".join(DISCONNECT_RECONNECT.splitlines(True)[8:10])  # COMPLETED -> DISCONNECTED, operstate 1->0
    tr = to_indications(parse_text(tail))
    assert [i.kind for i in tr] == [Ind.PORT_UNAUTHORIZED]
