"""bench soak's measurements (engine/soak.py) on a real lab capture, against tshark's reading
of the same frames, and the printed table (cli/soak.py)."""
from __future__ import annotations

from pathlib import Path

from cli import soak as cli_soak
from engine import soak as sk
from engine.air import Air

LAB = Path(__file__).parent / "data" / "lab"
STA, AP0, AP1 = "02:00:00:00:02:00", "02:00:00:00:00:00", "02:00:00:00:01:00"
# tshark -r tests/data/lab/ft_air_ds.pcap: frame 272 (FT Authentication, STA -> AP1) at
# 1795313825.243047, frame 278 (Reassociation Response AP1 -> STA, status 0) at .456097;
# frame 291 (FT Request action over the DS via AP1, target AP0) at 1795313826.152707,
# frame 298 (Reassociation Response AP0 -> STA) at .465984.
AIR_T0, AIR_T1 = 1795313825.243047, 1795313825.456097
DS_T0, DS_T1 = 1795313826.152707, 1795313826.465984


def _frames():
    return Air(LAB / "ft_air_ds.pcap").frames


def _rec(i, kind, src, dst, t0, t1, connected, answered=range(100), transmitted=100, problem=""):
    return sk.RoamRecord(i, kind, src, dst, t0, t1, connected, problem, transmitted, list(answered), 0.01)


def test_roam_time_is_the_ft_exchange_on_the_air():
    air = _rec(1, sk.FT_AIR, AP0, AP1, AIR_T0 - 0.5, AIR_T1 + 0.3, AP1)
    ds = _rec(2, sk.FT_DS, AP1, AP0, DS_T0 - 0.5, DS_T1 + 0.3, AP0)
    a, d = sk.measure(_frames(), STA, [air, ds])
    assert a.ok and a.failure == "" and a.roam_time_us == round((AIR_T1 - AIR_T0) * 1e6)
    assert d.ok and d.roam_time_us == round((DS_T1 - DS_T0) * 1e6)


def test_ping_outage_is_the_longest_unanswered_run():
    answered = [s for s in range(100) if not 40 <= s <= 57 and s != 80]  # 18 in a row, then 1
    (m,) = sk.measure(_frames(), STA, [_rec(1, sk.FT_AIR, AP0, AP1, AIR_T0 - 0.5, AIR_T1 + 0.3, AP1, answered)])
    assert m.pings_lost == 19 and m.outage_ms == 180.0


def test_failures_name_their_reason():
    # the DUT says it stayed, and the window holds no exchange at all
    stayed = _rec(1, sk.FT_AIR, AP0, AP1, AIR_T1 + 0.01, DS_T0 - 0.01, AP0)
    # the exchange of the window went over the DS where over the air was commanded
    wrong_method = _rec(2, sk.FT_AIR, AP1, AP0, DS_T0 - 0.5, DS_T1 + 0.3, AP0)
    no_ping = _rec(3, sk.BTM, AP0, AP1, AIR_T0 - 0.5, AIR_T1 + 0.3, AP1, answered=(), transmitted=0)
    refused = _rec(4, sk.FT_DS, AP1, AP0, DS_T0 - 0.5, DS_T1 + 0.3, None, problem="command answered 'FAIL'")
    m1, m2, m3, m4 = sk.measure(_frames(), STA, [stayed, wrong_method, no_ping, refused])
    assert not m1.ok and "no connection to 02:00:00:00:01:00 (connected to 02:00:00:00:00:00)" in m1.failure
    assert "no completed FT exchange to 02:00:00:00:01:00 on the air (exchanges seen: none)" in m1.failure
    assert m1.roam_time_us is None
    assert not m2.ok and m2.failure == "FT over the DS where ft-air was commanded"
    assert not m3.ok and m3.failure == "no ping ran through the roam" and m3.roam_time_us is not None
    assert not m4.ok and m4.failure.startswith("command answered 'FAIL'; no connection to")


def test_summary_lines():
    ms = [sk.RoamMeasurement(i, sk.FT_AIR if i % 2 else sk.BTM, AP0, AP1, i != 3, 1000 * i, i, 10.0 * i,
                             "" if i != 3 else "why") for i in range(1, 11)]
    text = "\n".join(cli_soak.summarize([m.to_dict() for m in ms], [sk.FT_AIR, sk.BTM]))
    assert "ft-air: 5 roams, 4 ok, 1 failed" in text
    # all ten: roam times 1..10 ms, nearest-rank p50 = 5, p95 = p99 = max = 10
    assert "all: 10 roams, 9 ok, 1 failed\n  roam time on the air (ms):  n=10 p50=5 p95=10 p99=10 max=10" in text
    assert "failures: 1\n  roam 3 ft-air 02:00:00:00:00:00 -> 02:00:00:00:01:00: why" in text


def test_a_full_connection_instead_of_ft_is_named():
    # tshark: frames 48..54 are the 4-way handshake of the initial association with AP0
    # (EAPOL-Key message 1 at 1795313814.620895, message 4 at .741010); a "roam" window around
    # it that ended on AP0
    r = _rec(1, sk.FT_AIR, AP1, AP1, 1795313814.5, 1795313814.8, AP0)
    (m,) = sk.measure(_frames(), STA, [r])
    assert not m.ok
    assert "a 4-way handshake with 02:00:00:00:00:00 followed (a full connection, not FT)" in m.failure


def test_a_refused_ft_roam_of_a_slow_reference_ap_is_not_a_roam_time():
    """tests/data/rejudge/FT-02-slow-ap: a recorded FT roam the reference AP refused with status
    55 after answering a repeated FT Authentication with a second ANonce (the FT judge puts
    those FAILs on the reference AP)."""
    from engine.ft.keys import Secrets
    frames = Air(Path(__file__).parent / "data" / "rejudge" / "FT-02-slow-ap" / "air.pcap").frames
    t0 = 1796616892.003902  # the exchange's first FT Authentication
    r = _rec(1, sk.FT_AIR, "02:00:00:00:01:00", "02:00:00:00:02:00", t0 - 0.5, t0 + 3, "02:00:00:00:01:00")
    (m,) = sk.measure(frames, "02:00:00:00:00:00", [r], Secrets.from_passphrase("roamcert-passphrase", b"roamcert"))
    assert not m.ok and m.roam_time_us is None
    assert "refused (Reassociation Response status 55)" in m.failure
    assert "FT-REASSOC-STATUS (reference AP)" in m.failure and "LAB-FT-AUTH-TIMEOUT" in m.failure
    assert m.layers == ["reference AP"]
