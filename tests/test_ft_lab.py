"""The FT engine against real lab material: tests/data/lab/ft_air_ds.* (hostapd and
wpa_supplicant 2.10 on mac80211_hwsim, see its README). Expected keys are copied from
the wpa_supplicant `-dd -K` log (line numbers given); MIC inputs are the log's
`FT: MIC data` hexdumps. The frames come from the capture, read by a few lines here so
the test does not lean on engine code for them.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.ft import Secrets, find_exchanges, pmk_from_passphrase
from engine.ft.mic import mic_parts, verify_mic
from engine.verdict import FAIL, INFO
from test_ft_wire import F

LAB = Path(__file__).parent / "data" / "lab"
PCAP, STA_LOG = LAB / "ft_air_ds.pcap", LAB / "ft_air_ds.sta.log"
pytestmark = pytest.mark.skipif(not PCAP.exists(), reason="lab material not present")

STA, AP1, AP2 = "02:00:00:00:02:00", "02:00:00:00:00:00", "02:00:00:00:01:00"
SECRETS = Secrets.from_passphrase("roamcert-passphrase", b"roamcert")
MDID, R0KH = bytes.fromhex("a1b2"), b"020000000000.roamcert"


def h(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", ""))


# ft_air_ds.sta.log 737-745 (initial association with ap1) and 1114-1115 (ap2)
PMK_R0 = h("65 ea e3 6e 21 85 c5 cc 1a 96 b5 1e 04 c4 93 16 6c f7 3f 5a e5 43 01 7d bc be 9e a8 fe 05 92 df")
SALT = h("53 5e 24 5c ad 03 9b 0a a7 52 64 b9 99 2a 72 46")
PMKR0NAME = h("8b 6e 1e 85 bb 83 36 bd 23 07 16 30 c0 cd a0 e1")
PMK_R1_AP1 = h("25 fa 83 9c 2b 28 43 76 30 97 21 b0 27 fa cb ec f7 71 83 64 cd fc 59 7d 10 6a b0 10 62 cd 90 a5")
PMKR1NAME_AP1 = h("77 83 c7 62 3d 4e f9 29 c1 12 36 4e 77 28 af 77")
PMK_R1_AP2 = h("40 9e 91 13 e3 5d 34 55 54 cd 4d 7b 9c 87 28 3d 95 96 43 d3 96 de 44 03 ef ed a1 62 67 25 78 f9")
PMKR1NAME_AP2 = h("d6 a8 07 fe 1a 33 d4 20 cd 21 40 00 fe 52 ed 05")
# (bssid, SNonce, ANonce, PTK, PTKName): log 748-756, 1118-1126, 1390-1398
PTKS = [
    (AP1, h("ea 33 ae 10 d8 d3 9a f4 6c 17 c2 65 71 b7 e1 de ad 5d 45 2c 50 5b 90 0a 77 c8 92 39 ca f8 84 04"),
     h("95 b7 61 ea 67 52 6e 39 f0 bd ad 1a bb 46 74 1d a1 82 53 e2 ec 93 4b d3 9f 51 da 0c b3 8e 83 a7"),
     h("d1f2ab917b625bb58a3915790ad15ff0 99336d0e2d5cd00a13504a865b6ba3c2 a3042c4765b6976c47e04dfd33226bdf"),
     h("db 07 0d fc 7d c1 e5 52 93 23 07 19 63 de 94 88")),
    (AP2, h("d1 73 34 1f 10 20 59 fd de 6c 51 c3 d0 9f 8e f5 9d b8 cb 05 74 e8 b2 64 25 90 d9 80 1b 0e 30 06"),
     h("bc 56 0a a2 03 98 0c 96 b6 e1 20 83 ae 40 aa 62 f2 00 c3 d4 a3 31 54 bb 5d 37 f2 25 88 ac da fb"),
     h("010154ab0f3b70cec87fa9c2da3837e9 dbeff375cee0b8ccf5df0e87628c0f01 f67a9555aef1cd45e893eb379bf491a3"),
     h("ba 15 45 52 3c 06 1d 15 79 0b 72 4c 05 5f 04 c3")),
    (AP1, h("a3 03 bc 8c b7 c4 43 b1 e0 97 4a 73 28 26 d0 7b ae 4e 1f ae 50 4e e5 e9 24 0c 0f b0 bf 5c ad 0d"),
     h("f6 f6 08 40 8d e5 c1 6a e1 18 e4 58 21 45 0d 28 75 de 11 bd a6 48 0a 4e 94 51 8a 5e b1 a1 a2 b3"),
     h("ac4379917f1c2242adcbf6b08879fbec 2d12a8dd5e5ca88bc4a8b4db0d6e86a6 6c3f45df0f108e45574a6ebcba66748f"),
     h("4b 88 a7 d0 3c 0f 11 f3 9d db 57 1c 21 2b d9 c9")),
]
KCK_ROAM_AIR, KCK_ROAM_DS = PTKS[1][3][:16], PTKS[2][3][:16]


def _pcap():
    """(t, raw 802.11) of each record; pcap linktype 127, radiotap stripped."""
    data = PCAP.read_bytes()
    assert data[:4] == h("d4c3b2a1") and data[20:24] == (127).to_bytes(4, "little")
    out, pos = [], 24
    while pos + 16 <= len(data):
        sec, usec, incl = (int.from_bytes(data[pos + o:pos + o + 4], "little") for o in (0, 4, 8))
        rec = data[pos + 16:pos + 16 + incl]
        out.append((sec * 1_000_000 + usec, rec[int.from_bytes(rec[2:4], "little"):]))
        pos += 16 + incl
    return out


def _frames(recs):
    return [F(i, us / 1e6, raw) for i, (us, raw) in enumerate(recs)]


def _reassoc(recs, subtype):
    """Indexes of Reassociation Requests (2) / Responses (3), by Frame Control alone."""
    return [i for i, (_, raw) in enumerate(recs) if raw[0] == subtype << 4]


def _log_mic_inputs():
    """Each run of 8 `FT: MIC data` hexdumps in the STA log is one MIC input."""
    pieces = re.findall(r"FT: MIC data - hexdump\(len=\d+\):((?: [0-9a-f]{2})*)",
                        STA_LOG.read_text())
    assert len(pieces) % 8 == 0
    return [b"".join(h(p) for p in pieces[i:i + 8]) for i in range(0, len(pieces), 8)]


def test_pmk_matches_the_ap_config():
    # ft_air_ds.ap1.conf wpa_psk, rendered by the lab from the passphrase
    assert pmk_from_passphrase("roamcert-passphrase", b"roamcert") == \
        h("664517576eb12fc65ddda45b535185f0eb5806096b1a62ae591285d77062ce43")


def test_key_hierarchy_matches_the_supplicant_log():
    k1 = SECRETS.keys(MDID, R0KH, AP1, STA)
    assert (k1.pmk_r0, k1.pmk_r0_salt, k1.pmkr0name) == (PMK_R0, SALT, PMKR0NAME)
    assert (k1.pmk_r1, k1.pmkr1name) == (PMK_R1_AP1, PMKR1NAME_AP1)
    k2 = SECRETS.keys(MDID, R0KH, AP2, STA)
    assert (k2.pmk_r1, k2.pmkr1name) == (PMK_R1_AP2, PMKR1NAME_AP2)


@pytest.mark.parametrize("bssid,snonce,anonce,ptk,name", PTKS)
def test_ptks_match_the_supplicant_log(bssid, snonce, anonce, ptk, name):
    p = SECRETS.keys(MDID, R0KH, bssid, STA).ptk(snonce, anonce, bssid)
    assert (p.kck + p.kek + p.tk, p.name) == (ptk, name)


def test_mic_input_slices_equal_the_logged_ft_mic_data():
    recs = _pcap()
    frames = [recs[i][1] for i in sorted(_reassoc(recs, 2) + _reassoc(recs, 3))]
    logged = _log_mic_inputs()
    assert len(logged) == 4 and len(frames) == 4  # seq 5 and 6 of both roams
    assert [mic_parts(raw).data() for raw in frames] == logged


def test_real_reassoc_mics_verify_with_the_logged_kck_and_fail_after_a_flip():
    recs = _pcap()
    req, resp = _reassoc(recs, 2), _reassoc(recs, 3)
    for i, kck in ((req[0], KCK_ROAM_AIR), (resp[0], KCK_ROAM_AIR), (req[1], KCK_ROAM_DS),
                   (resp[1], KCK_ROAM_DS)):
        raw = recs[i][1]
        assert verify_mic(kck, raw).ok, i
        at = raw.index(mic_parts(raw).fte) + 4  # first MIC octet of the FTE
        for k in (0, 15):
            bad = bytearray(raw)
            bad[at + k] ^= 0x01
            assert not verify_mic(kck, bytes(bad)).ok, (i, k)


def test_capture_judged_end_to_end():
    recs = _pcap()
    a = find_exchanges(_frames(recs), SECRETS)
    assert [v for v in a.verdicts() if v.status == FAIL] == []
    (init,) = a.initial
    assert (init.sta, init.ap, init.pmkr1name_ok, init.m2_mic_ok) == (STA, AP1, True, True)
    assert a.fourway_count == 1 and init.handshake.complete
    air, ds = a.exchanges
    assert (air.sta, air.target, air.current, air.over_ds) == (STA, AP2, AP1, False)
    assert (ds.sta, ds.target, ds.current, ds.over_ds) == (STA, AP1, AP2, True)
    for x in (air, ds):
        assert x.mic_ok and x.pmkr1name_ok and x.eapol_after == [] and x.reassoc_status == 0
    # latency: first FT frame to the Reassociation Response, from the record timestamps
    for x, resp_i in ((air, _reassoc(recs, 3)[0]), (ds, _reassoc(recs, 3)[1])):
        first = x.request.index
        assert recs[first][1][0] in (0xb0, 0xd0)  # Authentication or Action
        assert x.reassoc_resp.index == resp_i
        assert x.latency_us == recs[resp_i][0] - recs[first][0]
    assert not [v for v in a.findings if v.status != INFO]


def test_flipped_mic_byte_in_the_capture_fails_ft_mic_5():
    recs = _pcap()
    i = _reassoc(recs, 2)[0]
    raw = bytearray(recs[i][1])
    raw[raw.index(mic_parts(bytes(raw)).fte) + 10] ^= 0x40
    recs[i] = (recs[i][0], bytes(raw))
    a = find_exchanges(_frames(recs), SECRETS)
    bad = [v for v in a.verdicts() if v.status == FAIL]
    assert [(v.rule, v.evidence) for v in bad] == [("FT-MIC-5", (f"frame {i}",))]
    assert a.exchanges[0].mic_ok is False and a.exchanges[1].mic_ok is True
