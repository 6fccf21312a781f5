"""AES-CMAC and the FTE MIC of reassociation frames.

No real FT reassociation capture with known keys was available when this was
written (tests/data/lab/ was absent), so the frames here are built by hand from the
IEEE 802.11-2020 field tables, and their MICs are computed by the test from the
13.8.4/13.8.5 concatenation written out byte by byte, with a bare AES-CMAC and the
KCK established by a real handshake (test_ft_keys).
"""
from __future__ import annotations

import pytest

from engine.ft.mic import aes_cmac, compute_mic, mic_parts, verify_mic
from engine.ies import MalformedFrame
from test_ft_wire import (REAL_ANONCE, REAL_KCK, REAL_PMKR1NAME, REAL_R0KH, REAL_R1KH,
                          REAL_SNONCE, cmac, el, fte, mac, mde, reassoc_req, reassoc_resp, rsne)

RFC4493_KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
RFC4493_MSG = bytes.fromhex(
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")


@pytest.mark.parametrize("n,tag", [
    (0, "bb1d6929e95937287fa37d129b756746"),
    (16, "070a16b46b4d4144f79bdd9dd04a287c"),
    (40, "dfa66747de9ae63030ca32611497c827"),
    (64, "51f0bebf7e3b9d92fc49741779363cfe"),
])
def test_aes_cmac_rfc4493(n, tag):
    assert aes_cmac(RFC4493_KEY, RFC4493_MSG[:n]).hex() == tag


STA, TARGET, OLD = "02:00:00:00:01:00", "02:00:00:00:00:00", "02:00:00:00:02:00"
VENDOR = el(221, bytes.fromhex("0050f2020101000003a4000027a4000042435e0062322f00"))  # WMM


def _req_elems(mic=bytes(16)):
    return [rsne(4, [REAL_PMKR1NAME]), mde(),
            fte(REAL_ANONCE, REAL_SNONCE, mic, count=3, r0kh=REAL_R0KH, r1kh=REAL_R1KH)]


def _hand_mic(seq: int, elems) -> bytes:
    r, m, f = elems
    zeroed = f[:4] + bytes(16) + f[20:]  # ID, Length, MIC Control, then the 16 MIC octets
    return cmac(REAL_KCK, mac(STA) + mac(TARGET) + bytes([seq]) + r + m + zeroed)


def _signed_request():
    m = _hand_mic(5, _req_elems())
    r, md, f = _req_elems(m)
    # a supported-rates element before and a vendor element after: outside the MIC
    return reassoc_req(STA, TARGET, OLD, el(0, b"test-ft-psk") + r + md + f + VENDOR), m


def test_hand_built_reassoc_request_mic_verifies():
    raw, m = _signed_request()
    r = verify_mic(REAL_KCK, raw)
    assert r.ok and r.seq == 5 and r.observed == m == r.expected


def test_mic_parts_slice_exact_element_spans():
    raw, _ = _signed_request()
    p = mic_parts(raw)
    r, md, f = _req_elems(p.received_mic)
    assert (p.rsne, p.mde, p.fte) == (r, md, f)
    assert p.ric == b"" and p.rsnxe == b"" and p.element_count == 3
    assert (p.sta, p.target) == (STA, TARGET)


@pytest.mark.parametrize("i", range(16))
def test_any_flipped_mic_byte_fails(i):
    raw, m = _signed_request()
    at = raw.index(_req_elems(m)[2]) + 4 + i  # FTE: ID, Length, MIC Control (2), MIC
    bad = raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1:]
    assert not verify_mic(REAL_KCK, bad).ok


def test_flipped_byte_inside_covered_elements_fails_and_outside_does_not():
    raw, _ = _signed_request()
    rs = raw.index(rsne(4, [REAL_PMKR1NAME]))
    bad = bytearray(raw)
    bad[rs + 10] ^= 0x80  # inside the RSNE
    assert not verify_mic(REAL_KCK, bytes(bad)).ok
    tail = bytearray(raw)
    tail[-1] ^= 0xFF  # last octet of the vendor element after the FTE
    assert verify_mic(REAL_KCK, bytes(tail)).ok
    head = bytearray(raw)
    head[36] ^= 0xFF  # inside the SSID element before the RSNE
    assert verify_mic(REAL_KCK, bytes(head)).ok


def test_wrong_kck_fails():
    raw, _ = _signed_request()
    assert not verify_mic(bytes(16), raw).ok


def test_reassoc_response_uses_seq_6_and_sta_first():
    elems = _req_elems()
    m6 = _hand_mic(6, elems)
    r, md, f = _req_elems(m6)
    raw = reassoc_resp(STA, TARGET, 0, r + md + f)
    assert verify_mic(REAL_KCK, raw).ok
    m5 = _hand_mic(5, elems)  # the seq-5 MIC must not pass as seq 6
    r, md, f = _req_elems(m5)
    assert not verify_mic(REAL_KCK, reassoc_resp(STA, TARGET, 0, r + md + f)).ok


def test_ric_is_rde_plus_its_resource_elements():
    rde = el(57, bytes([1, 1, 0, 0]))  # RDE id 1, 1 resource descriptor, status 0
    tspec = el(13, bytes(55))
    r, md, _ = _req_elems()
    f0 = fte(REAL_ANONCE, REAL_SNONCE, bytes(16), count=5, r0kh=REAL_R0KH, r1kh=REAL_R1KH)
    want = cmac(REAL_KCK, mac(STA) + mac(TARGET) + b"\x05" + r + md + f0 + rde + tspec)
    f = fte(REAL_ANONCE, REAL_SNONCE, want, count=5, r0kh=REAL_R0KH, r1kh=REAL_R1KH)
    raw = reassoc_req(STA, TARGET, OLD, r + md + f + rde + tspec + VENDOR)
    p = mic_parts(raw)
    assert p.ric == rde + tspec and p.element_count == 5
    assert verify_mic(REAL_KCK, raw).ok


def test_compute_mic_matches_hand_concatenation():
    r, md, f = _req_elems()
    assert compute_mic(REAL_KCK, STA, TARGET, 5, r, md, f) == _hand_mic(5, (r, md, f))


@pytest.mark.parametrize("raw", [
    b"",
    b"\x20\x00",
    reassoc_req(STA, TARGET, OLD, rsne() + mde()),  # no FTE
    reassoc_req(STA, TARGET, OLD, rsne() + mde() + el(55, bytes(40))),  # short FTE
    reassoc_req(STA, TARGET, OLD, rsne() + mde() + b"\x37\xff\x00"),  # FTE past the end
])
def test_malformed_frames_raise_malformed_frame(raw):
    with pytest.raises(MalformedFrame):
        verify_mic(REAL_KCK, raw)
