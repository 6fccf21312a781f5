"""Hand-built FT frames, laid out from the IEEE 802.11-2020 field tables, shared by the
test_ft_* files; plus tests pinning these builders to literal bytes."""
from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC

# -- the real FT-PSK handshake that anchors the key tests ------------------------------
# Source: hashcat module m37100 self-test (hash line + password "12345678"), taken from
# Wireshark's test capture wpa2-ft-psk.pcapng (FT initial mobility domain association,
# hostapd/wpa_supplicant). The RSNE PMKID in the real M2 is the AP-side PMKR1Name and
# the M2 Key MIC was made by the real supplicant.
REAL_PASSPHRASE = "12345678"
REAL_SSID = b"test-ft-psk"
REAL_AP = "02:00:00:00:00:00"
REAL_STA = "02:00:00:00:01:00"
REAL_MDID = bytes.fromhex("0102")
REAL_R0KH = b"wireshark-ft-psk"
REAL_R1KH = "02:00:00:00:00:00"
REAL_ANONCE = bytes.fromhex("eb131d608a197829340c645c3bf30df2c0c8e818e9e31c560af630664a21a009")
REAL_SNONCE = bytes.fromhex("b44919486bacb36befb4ab90c14e639bc5027cca16d62a1525c2424e6ac7d2fe")
REAL_PMKR1NAME = bytes.fromhex("3378f874c1930b599405d3de4b6e05cc")
# PMKR0Name: the value whose FT-R1N hash gives REAL_PMKR1NAME (pinned in test_ft_keys
# with bare hashlib), so it is fixed by the real PMKID, not by engine code.
REAL_PMKR0NAME = bytes.fromhex("ca740fbeb1e8f2293ce614f9d64ae979")
REAL_M2_MIC = bytes.fromhex("dd411684bd6e123bce3a606b2be06de2")
# EAPOL frame of M2 with its Key MIC field zeroed, as in the hash line
REAL_M2_ZEROED = bytes.fromhex(
    "010300fa02010b00000000000000000001b44919486bacb36befb4ab90c14e639bc5027cca16d62a"
    "1525c2424e6ac7d2fe00000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000009b30260100000fac040100000fac040100000fac0400"
    "0001003378f874c1930b599405d3de4b6e05cc3603010201376c0000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000010602000000000003107769"
    "7265736861726b2d66742d70736b")
# KCK that reproduces REAL_M2_MIC over REAL_M2_ZEROED (checked with a bare CMAC in
# test_ft_keys, so it is established by the real frame, not by engine code).
REAL_KCK = bytes.fromhex("258f13dded80136e5d4db91f46aafedf")


def real_m2() -> bytes:
    return REAL_M2_ZEROED[:81] + REAL_M2_MIC + REAL_M2_ZEROED[97:]


def cmac(key: bytes, data: bytes) -> bytes:
    c = CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()


def mac(s: str) -> bytes:
    return bytes.fromhex(s.replace(":", ""))


# -- 9.3.3 management frames ----------------------------------------------------------
def mgmt(subtype: int, a1: str, a2: str, a3: str, body: bytes, flags: int = 0) -> bytes:
    # Frame Control: protocol 0, type 0 (b2-b3), subtype (b4-b7); Duration; A1 A2 A3; Seq
    return bytes([subtype << 4, flags]) + b"\x00\x00" + mac(a1) + mac(a2) + mac(a3) \
        + b"\x10\x00" + body


def el(eid: int, body: bytes) -> bytes:
    return bytes([eid, len(body)]) + body


def rsne(akm: int = 4, pmkids=()) -> bytes:
    # 9.4.2.24: Version 1, group CCMP, 1 pairwise CCMP, 1 AKM, RSN caps, PMKID list
    b = (b"\x01\x00" + b"\x00\x0f\xac\x04" + b"\x01\x00\x00\x0f\xac\x04"
         + b"\x01\x00\x00\x0f\xac" + bytes([akm]) + b"\x00\x00")
    if pmkids:
        b += len(pmkids).to_bytes(2, "little") + b"".join(pmkids)
    return el(48, b)


def mde(mdid: bytes = REAL_MDID, cap: int = 0x01) -> bytes:
    return el(54, mdid + bytes([cap]))  # 9.4.2.46


def fte(anonce=bytes(32), snonce=bytes(32), mic=bytes(16), count=0, r0kh=None, r1kh=None,
        rsnxe_used=0) -> bytes:
    # 9.4.2.47: MIC Control (RSNXE Used b0, Element Count octet 2), MIC, ANonce, SNonce,
    # then subelements R1KH-ID (1) and R0KH-ID (3)
    b = bytes([rsnxe_used, count]) + mic + anonce + snonce
    if r1kh is not None:
        b += el(1, mac(r1kh))
    if r0kh is not None:
        b += el(3, r0kh)
    return el(55, b)


def auth(sta: str, ap: str, seq: int, status: int, elems: bytes, from_ap=False) -> bytes:
    body = (2).to_bytes(2, "little") + seq.to_bytes(2, "little") + status.to_bytes(2, "little")
    a1, a2 = (sta, ap) if from_ap else (ap, sta)
    return mgmt(11, a1, a2, ap, body + elems)


def ft_action(action: int, sta: str, cur: str, target: str, elems: bytes, status=0) -> bytes:
    body = bytes([6, action]) + mac(sta) + mac(target)
    if action == 2:
        body += status.to_bytes(2, "little")
        return mgmt(13, sta, cur, cur, body + elems)
    return mgmt(13, cur, sta, cur, body + elems)


def reassoc_req(sta: str, ap: str, current: str, elems: bytes) -> bytes:
    # 9.3.3.7: Capability, Listen Interval, Current AP Address, elements
    return mgmt(2, ap, sta, ap, b"\x11\x04" + b"\x0a\x00" + mac(current) + elems)


def reassoc_resp(sta: str, ap: str, status: int, elems: bytes) -> bytes:
    # 9.3.3.8: Capability, Status Code, AID, elements
    return mgmt(3, sta, ap, ap, b"\x11\x04" + status.to_bytes(2, "little") + b"\x01\xc0" + elems)


def assoc_req(sta: str, ap: str, elems: bytes) -> bytes:
    return mgmt(0, ap, sta, ap, b"\x11\x04" + b"\x0a\x00" + elems)


def assoc_resp(sta: str, ap: str, status: int, elems: bytes) -> bytes:
    return mgmt(1, sta, ap, ap, b"\x11\x04" + status.to_bytes(2, "little") + b"\x01\xc0" + elems)


def beacon(ap: str, elems: bytes) -> bytes:
    return mgmt(8, "ff:ff:ff:ff:ff:ff", ap, ap, bytes(8) + b"\x64\x00" + b"\x11\x04" + elems)


def eapol_key(key_info: int, nonce: bytes = bytes(32), key_data: bytes = b"",
              mic: bytes = bytes(16), replay: int = 1) -> bytes:
    # 12.7.2: descriptor 2, Key Information, Key Length, Replay Counter, Nonce, IV, RSC,
    # Reserved, MIC (16), Key Data Length, Key Data; behind the 802.1X header (type 3)
    body = (b"\x02" + key_info.to_bytes(2, "big") + b"\x00\x10" + replay.to_bytes(8, "big")
            + nonce + bytes(16) + bytes(8) + bytes(8) + mic
            + len(key_data).to_bytes(2, "big") + key_data)
    return b"\x02\x03" + len(body).to_bytes(2, "big") + body


def data_frame(src: str, dst: str, bssid: str, payload: bytes, to_ds: bool) -> bytes:
    # 9.3.2.1: type 2 subtype 0; To DS: A1 BSSID A2 SA A3 DA; From DS: A1 DA A2 BSSID A3 SA
    fc1 = 0x01 if to_ds else 0x02
    a1, a2, a3 = (bssid, src, dst) if to_ds else (dst, bssid, src)
    return bytes([0x08, fc1]) + b"\x00\x00" + mac(a1) + mac(a2) + mac(a3) + b"\x20\x00" \
        + payload


LLC_EAPOL = bytes.fromhex("aaaa03000000888e")


def eapol_data(sta: str, ap: str, eapol: bytes, from_ap: bool) -> bytes:
    if from_ap:
        return data_frame(ap, sta, ap, LLC_EAPOL + eapol, to_ds=False)
    return data_frame(sta, ap, ap, LLC_EAPOL + eapol, to_ds=True)


# Key Information values (12.7.2, Figure 12-33): version 3 (AES-128-CMAC), pairwise
M1_INFO, M2_INFO, M3_INFO, M4_INFO = 0x008b, 0x010b, 0x13cb, 0x030b


@dataclass
class F:
    index: int
    t: float
    raw: bytes


def frames(raws_with_t) -> list[F]:
    return [F(i, t, r) for i, (t, r) in enumerate(raws_with_t)]


# -- layout pins --------------------------------------------------------------------
def test_rsne_builder_matches_the_octets_of_the_real_m2():
    # The real M2 Key Data starts with this RSNE (9.4.2.24), byte for byte.
    real = bytes.fromhex("30260100000fac040100000fac040100000fac04000001003378f874c1930b59"
                         "9405d3de4b6e05cc")
    assert real in REAL_M2_ZEROED
    assert rsne(4, [REAL_PMKR1NAME]) == real


def test_mde_and_fte_builders_match_the_real_m2():
    real_mde = bytes.fromhex("3603010201")
    assert real_mde in REAL_M2_ZEROED and mde() == real_mde
    i = REAL_M2_ZEROED.index(bytes.fromhex("376c"))
    real_fte = REAL_M2_ZEROED[i:i + 2 + 0x6c]
    assert fte(r1kh=REAL_R1KH, r0kh=REAL_R0KH) == real_fte


def test_reassoc_request_fixed_fields_by_hand():
    raw = reassoc_req("02:00:00:00:01:00", "02:00:00:00:00:00", "02:00:00:00:02:00", b"")
    assert raw[:2] == b"\x20\x00"  # subtype 2, type 0
    assert raw[4:10] == mac("02:00:00:00:00:00") and raw[10:16] == mac("02:00:00:00:01:00")
    assert raw[24:34] == b"\x11\x04\x0a\x00" + mac("02:00:00:00:02:00")
    assert len(raw) == 34
