"""./roamcert ftkeys against the real FT-PSK handshake values (test_ft_wire)."""
from __future__ import annotations

import json

import pytest

from cli.ftkeys import main
from test_ft_wire import REAL_ANONCE, REAL_KCK, REAL_PMKR0NAME, REAL_PMKR1NAME, REAL_SNONCE

BASE = ["--ssid", "test-ft-psk", "--mdid", "0102", "--r0kh-id", "wireshark-ft-psk",
        "--r1kh-id", "02:00:00:00:00:00", "--sta", "02:00:00:00:01:00"]


def test_json_from_passphrase_with_ptk(capsys):
    rc = main(["--passphrase", "12345678", *BASE, "--bssid", "02:00:00:00:00:00",
               "--anonce", REAL_ANONCE.hex(), "--snonce", REAL_SNONCE.hex(), "--json"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["pmkr1name"] == REAL_PMKR1NAME.hex() and d["pmkr0name"] == REAL_PMKR0NAME.hex()
    assert d["kck"] == REAL_KCK.hex()
    for k in ("pmk_r0", "pmk_r1", "kek", "tk"):
        assert d[k] == d[k].lower() and len(bytes.fromhex(d[k])) in (16, 32)


def test_pmk_and_ssid_hex_give_the_same_names(capsys):
    # Annex J.4-style PMK of "12345678"/"test-ft-psk" given directly, SSID as hex
    main(["--passphrase", "12345678", *BASE, "--json"])
    pmk = json.loads(capsys.readouterr().out)["pmk"]
    args = ["--pmk", pmk, "--ssid-hex", b"test-ft-psk".hex(), *BASE[2:], "--json"]
    assert main(args) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["pmkr1name"] == REAL_PMKR1NAME.hex() and "kck" not in d


def test_text_output_names_each_key(capsys):
    assert main(["--passphrase", "12345678", *BASE]) == 0
    out = capsys.readouterr().out
    assert f"PMKR1Name         {REAL_PMKR1NAME.hex()}" in out and "PMK-R0 " in out


@pytest.mark.parametrize("args,msg", [
    (["--pmk", "00" * 31, *BASE], "--pmk is 32 octets"),
    (["--pmk", "zz", *BASE], "not hex"),
    (["--passphrase", "short", *BASE], "passphrase"),
    (["--passphrase", "12345678", *BASE[:3], "01", *BASE[4:]], "--mdid is 2 octets"),
    (["--passphrase", "12345678", *BASE[:-1], "02:00:00:00:01"], "MAC"),
    (["--passphrase", "12345678", *BASE, "--bssid", "02:00:00:00:00:00"], "--anonce"),
    (["--passphrase", "12345678", "--pmk", "00" * 32, *BASE], "not allowed with"),
    (BASE, "required"),
    (["--passphrase", "12345678", "--ssid-hex", "41" * 33, *BASE[2:]], "32 octets"),
])
def test_bad_input_exits_2_with_a_message(args, msg, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err


def test_lab_values_from_the_supplicant_log(capsys):
    # tests/data/lab/ft_air_ds.sta.log lines 737-739 and 1114-1115 (roam to ap2)
    rc = main(["--passphrase", "roamcert-passphrase", "--ssid", "roamcert", "--mdid", "a1b2",
               "--r0kh-id", "020000000000.roamcert", "--r1kh-id", "02:00:00:00:01:00",
               "--sta", "02:00:00:00:02:00", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert d["pmk_r0"] == "65eae36e2185c5cc1a96b51e04c493166cf73f5ae543017dbcbe9ea8fe0592df"
    assert d["pmkr0name"] == "8b6e1e85bb8336bd23071630c0cda0e1"
    assert d["pmk_r1"] == "409e9113e35d345554cd4d7b9c87283d959643d396de4403efeda162672578f9"
    assert d["pmkr1name"] == "d6a807fe1a33d420cd214000fe52ed05"


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "--r0kh-id" in capsys.readouterr().out
