"""FT key hierarchy against published vectors and a real FT-PSK handshake."""
from __future__ import annotations

import hashlib

import pytest

from engine.ft.keys import (KeyInputError, Secrets, derive_keys, derive_pmk_r0,
                            kdf_sha256, mac_bytes, pmk_from_passphrase)
from test_ft_wire import (REAL_ANONCE, REAL_AP, REAL_KCK, REAL_M2_MIC, REAL_M2_ZEROED,
                          REAL_MDID, REAL_PASSPHRASE, REAL_PMKR0NAME, REAL_PMKR1NAME, REAL_R0KH, REAL_R1KH,
                          REAL_SNONCE, REAL_SSID, REAL_STA, cmac)

# IEEE 802.11 Annex J.4 passphrase-to-PSK test vectors (as carried in iwd unit/test-crypto.c)
ANNEX_J4 = [
    ("password", b"IEEE",
     "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"),
    ("ThisIsAPassword", b"ThisIsASSID",
     "0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af"),
    ("a" * 32, b"Z" * 32, "becb93866bb8c3832cb777c2f559807c8c59afcb6eae734885001300a981cc62"),
]


@pytest.mark.parametrize("pw,ssid,psk", ANNEX_J4)
def test_pmk_from_passphrase_annex_j4(pw, ssid, psk):
    assert pmk_from_passphrase(pw, ssid).hex() == psk


def test_kdf_sha256_ieee_p802_11az_j13_vector():
    # IEEE P802.11az/D2.6 J.13 (as carried in hostap src/common/common_module_tests.c):
    # KDF-SHA256(PMK, "Pairwise key expansion", min(AA,SPA)||max||min(N)||max, 640)
    # = KCK | KEK | TK | KDK. Pins i and L as 16-bit little-endian and the truncation.
    pmk = bytes.fromhex("def43e5567e01ca6649265f19a290eeff8bd888f6c1d9cc9d10f04bd378f3cad")
    aa, spa = bytes.fromhex("c0ffd4a8dbc1"), bytes.fromhex("00904c01c107")
    an = bytes.fromhex("be7a1ca284347b5bd67dbd2dfdb4d99f1afae0b88ba18e008718417e4b27ef5f")
    sn = bytes.fromhex("404b012ffb43ed0fb43ea1f287c91f2506d21b4a92d74b5ea50c943350ce8671")
    out = kdf_sha256(pmk, b"Pairwise key expansion", spa + aa + sn + an, 640)
    assert out[:16].hex() == "cd7b9e7555362df0b63568484a8112f5"
    assert out[16:32].hex() == "99cad3588da0f1e63fd190191039bb4b"
    assert out[32:48].hex() == "9e2e9377e7532e737a1bc250fe194a03"
    assert out[48:].hex() == "6c7fb97ceb55b01acff00f070942bdf5291feb4bee38e0365b25a250bb2ac9ff"


def test_real_kck_reproduces_the_real_m2_mic():
    # Establishes REAL_KCK from the real frame alone (bare AES-CMAC, no engine code).
    assert cmac(REAL_KCK, REAL_M2_ZEROED) == REAL_M2_MIC


def test_real_pmkr0name_hashes_to_the_real_pmkr1name():
    # PMKR1Name = Truncate-128(SHA-256("FT-R1N" || PMKR0Name || R1KH-ID || S1KH-ID))
    h = hashlib.sha256(b"FT-R1N" + REAL_PMKR0NAME + mac_bytes(REAL_R1KH) + mac_bytes(REAL_STA))
    assert h.digest()[:16] == REAL_PMKR1NAME
    k = Secrets.from_passphrase(REAL_PASSPHRASE, REAL_SSID).keys(REAL_MDID, REAL_R0KH,
                                                                  REAL_R1KH, REAL_STA)
    assert k.pmkr0name == REAL_PMKR0NAME


def test_hierarchy_reproduces_real_pmkr1name_and_kck():
    s = Secrets.from_passphrase(REAL_PASSPHRASE, REAL_SSID)
    k = s.keys(REAL_MDID, REAL_R0KH, REAL_R1KH, REAL_STA)
    assert k.pmkr1name == REAL_PMKR1NAME  # PMKID the real STA put in its M2 RSNE
    ptk = k.ptk(REAL_SNONCE, REAL_ANONCE, REAL_AP)
    assert ptk.kck == REAL_KCK
    assert len(ptk.kek) == 16 and len(ptk.tk) == 16


def test_one_bit_of_any_input_changes_pmkr1name():
    s = Secrets.from_passphrase(REAL_PASSPHRASE, REAL_SSID)
    base = dict(mdid=REAL_MDID, r0kh_id=REAL_R0KH, r1kh_id=REAL_R1KH, sta=REAL_STA)
    for name, other in (("mdid", bytes.fromhex("0201")),  # byte order matters: wire order
                        ("r0kh_id", b"wireshark-ft-psK"),
                        ("r1kh_id", "02:00:00:00:00:01"), ("sta", "02:00:00:00:01:01")):
        k = s.keys(**{**base, name: other})
        assert k.pmkr1name != REAL_PMKR1NAME, name


def test_pmk_r0_is_first_256_bits_and_salt_next_128():
    pmk = pmk_from_passphrase(REAL_PASSPHRASE, REAL_SSID)
    ctx = bytes([len(REAL_SSID)]) + REAL_SSID + REAL_MDID + bytes([len(REAL_R0KH)]) + REAL_R0KH \
        + mac_bytes(REAL_STA)
    r0kd = kdf_sha256(pmk, b"FT-R0", ctx, 384)
    pmk_r0, salt, _ = derive_pmk_r0(pmk, REAL_SSID, REAL_MDID, REAL_R0KH, REAL_STA)
    assert (pmk_r0, salt) == (r0kd[:32], r0kd[32:48])


def test_hostile_ssid_bytes_are_accepted_as_octets():
    ssid = b"\xff\x00\xfe'\";--\n"
    k = derive_keys(bytes(32), ssid, b"\xa1\xb2", b"nas1.w1.fi", "00:01:02:03:04:05",
                    "02:00:00:00:01:00")
    assert k.ssid == ssid and len(k.pmkr1name) == 16


@pytest.mark.parametrize("kwargs,what", [
    (dict(ssid=b"x" * 33), "SSID"),
    (dict(mdid=b"\x01"), "MDID"),
    (dict(r0kh_id=b""), "R0KH-ID"),
    (dict(r0kh_id=b"x" * 49), "R0KH-ID"),
    (dict(r1kh_id="00:01:02:03:04"), "MAC"),
    (dict(sta="zz:00:00:00:00:00"), "MAC"),
    (dict(pmk=bytes(31)), "PMK"),
    (dict(ssid="text-not-bytes"), "SSID"),
])
def test_bad_inputs_raise_key_input_error(kwargs, what):
    args = dict(pmk=bytes(32), ssid=b"s", mdid=b"\x01\x02", r0kh_id=b"r0", r1kh_id=REAL_R1KH,
                sta=REAL_STA)
    with pytest.raises(KeyInputError, match=what):
        derive_keys(**{**args, **kwargs})


@pytest.mark.parametrize("pw", ["short", "x" * 64, "caf\u00e9-caf\u00e9", "tab\there1"])
def test_bad_passphrases(pw):
    with pytest.raises(KeyInputError):
        pmk_from_passphrase(pw, b"ssid")


def test_ptk_needs_32_octet_nonces():
    s = Secrets(bytes(32), b"s")
    k = s.keys(b"\x01\x02", b"r0", REAL_R1KH, REAL_STA)
    with pytest.raises(KeyInputError, match="SNonce"):
        k.ptk(bytes(31), bytes(32), REAL_AP)
