"""The FT key hierarchy for FT-PSK (AKM 00-0F-AC:4, CCMP).

IEEE 802.11-2020 12.7.1.6.2 (KDF), 12.7.1.7.3 (PMK-R0), 12.7.1.7.4 (PMK-R1),
12.7.1.7.5 (PTK), J.4 (passphrase to PMK). Every input is bytes on the wire:
SSIDs are raw octets (hostile SSIDs are not text), the MDID is the two octets in
the order they appear in the MDE.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass


class KeyInputError(ValueError):
    """An input to the key hierarchy has the wrong size or form."""


PMK_LEN = 32
NONCE_LEN = 32
# FT-PSK with CCMP-128: KCK 128, KEK 128, TK 128 bits (12.7.1.7.5, Table 12-8).
KCK_LEN, KEK_LEN, TK_LEN = 16, 16, 16
PTK_BITS = 8 * (KCK_LEN + KEK_LEN + TK_LEN)

_MAC_RE = re.compile(r"^[0-9a-fA-F]{2}([:-]?)(?:[0-9a-fA-F]{2}\1){4}[0-9a-fA-F]{2}$")


def mac_bytes(addr) -> bytes:
    """6 octets from b"...", "02:00:00:00:01:00", "02-00-..." or "020000000100"."""
    if isinstance(addr, (bytes, bytearray)):
        if len(addr) != 6:
            raise KeyInputError(f"a MAC address is 6 octets, got {len(addr)}")
        return bytes(addr)
    if not isinstance(addr, str) or not _MAC_RE.match(addr.strip()):
        raise KeyInputError(f"not a MAC address: {addr!r}")
    return bytes.fromhex(re.sub(r"[:-]", "", addr.strip()))


def mac_str(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def _need(name: str, value, size: int | None = None, lo: int = 0, hi: int = 1 << 16) -> bytes:
    if not isinstance(value, (bytes, bytearray)):
        raise KeyInputError(f"{name} must be bytes, got {type(value).__name__}")
    value = bytes(value)
    if size is not None and len(value) != size:
        raise KeyInputError(f"{name} is {size} octets, got {len(value)}")
    if not lo <= len(value) <= hi:
        raise KeyInputError(f"{name} is {lo}..{hi} octets, got {len(value)}")
    return value


def pmk_from_passphrase(passphrase, ssid: bytes) -> bytes:
    """PSK = PBKDF2-HMAC-SHA1(passphrase, SSID, 4096, 256 bits) (J.4.1).

    The passphrase is 8..63 ASCII characters in 32..126 (J.4.1)."""
    if isinstance(passphrase, str):
        try:
            passphrase = passphrase.encode("ascii")
        except UnicodeEncodeError:
            raise KeyInputError("the passphrase must be ASCII (IEEE 802.11-2020 J.4.1)") from None
    pw = _need("passphrase", passphrase, lo=8, hi=63)
    if any(c < 32 or c > 126 for c in pw):
        raise KeyInputError("the passphrase must be printable ASCII 32..126 (J.4.1)")
    ssid = _need("SSID", ssid, lo=0, hi=32)
    return hashlib.pbkdf2_hmac("sha1", pw, ssid, 4096, PMK_LEN)


def kdf_sha256(key: bytes, label: bytes, context: bytes, length_bits: int) -> bytes:
    """KDF-Hash-Length (12.7.1.6.2) with SHA-256.

    result = HMAC(K, i || Label || Context || Length) for i = 1.., i and Length as
    16-bit little-endian integers, truncated to Length bits."""
    if length_bits <= 0 or length_bits % 8 or length_bits > 0xFFFF:
        raise KeyInputError(f"KDF length must be a positive multiple of 8 below 65536, "
                            f"got {length_bits}")
    tail = length_bits.to_bytes(2, "little")
    out = b""
    i = 1
    while len(out) * 8 < length_bits:
        out += hmac.new(key, i.to_bytes(2, "little") + label + context + tail,
                        hashlib.sha256).digest()
        i += 1
    return out[:length_bits // 8]


def _sha256_128(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()[:16]


def derive_pmk_r0(pmk: bytes, ssid: bytes, mdid: bytes, r0kh_id: bytes,
                  s0kh_id: bytes) -> tuple[bytes, bytes, bytes]:
    """(PMK-R0, PMK-R0-Name-Salt, PMKR0Name) per 12.7.1.7.3.

    R0-Key-Data = KDF-SHA256(XXKey, "FT-R0", SSIDlength || SSID || MDID ||
    R0KHlength || R0KH-ID || S0KH-ID, 384); PMK-R0 is its first 256 bits and the
    salt the next 128; PMKR0Name = Truncate-128(SHA-256("FT-R0N" || salt))."""
    pmk = _need("PMK", pmk, size=PMK_LEN)
    ssid = _need("SSID", ssid, lo=0, hi=32)
    mdid = _need("MDID", mdid, size=2)
    r0kh_id = _need("R0KH-ID", r0kh_id, lo=1, hi=48)
    s0kh_id = mac_bytes(s0kh_id)
    ctx = bytes([len(ssid)]) + ssid + mdid + bytes([len(r0kh_id)]) + r0kh_id + s0kh_id
    data = kdf_sha256(pmk, b"FT-R0", ctx, 384)
    pmk_r0, salt = data[:32], data[32:48]
    return pmk_r0, salt, _sha256_128(b"FT-R0N", salt)


def derive_pmk_r1(pmk_r0: bytes, pmkr0name: bytes, r1kh_id, s1kh_id) -> tuple[bytes, bytes]:
    """(PMK-R1, PMKR1Name) per 12.7.1.7.4.

    PMK-R1 = KDF-SHA256(PMK-R0, "FT-R1", R1KH-ID || S1KH-ID, 256);
    PMKR1Name = Truncate-128(SHA-256("FT-R1N" || PMKR0Name || R1KH-ID || S1KH-ID))."""
    pmk_r0 = _need("PMK-R0", pmk_r0, size=32)
    pmkr0name = _need("PMKR0Name", pmkr0name, size=16)
    r1 = mac_bytes(r1kh_id)
    s1 = mac_bytes(s1kh_id)
    return (kdf_sha256(pmk_r0, b"FT-R1", r1 + s1, 256),
            _sha256_128(b"FT-R1N", pmkr0name, r1, s1))


@dataclass(frozen=True)
class PTK:
    kck: bytes
    kek: bytes
    tk: bytes
    name: bytes  # PTKName

    def to_dict(self) -> dict:
        return {"kck": self.kck.hex(), "kek": self.kek.hex(), "tk": self.tk.hex(),
                "ptk_name": self.name.hex()}


def derive_ptk(pmk_r1: bytes, pmkr1name: bytes, snonce: bytes, anonce: bytes,
               bssid, sta) -> PTK:
    """PTK = KDF-SHA256(PMK-R1, "FT-PTK", SNonce || ANonce || BSSID || STA-ADDR, 384)
    split KCK | KEK | TK (12.7.1.7.5); PTKName = Truncate-128(SHA-256(PMKR1Name ||
    "FT-PTKN" || SNonce || ANonce || BSSID || STA-ADDR))."""
    pmk_r1 = _need("PMK-R1", pmk_r1, size=32)
    pmkr1name = _need("PMKR1Name", pmkr1name, size=16)
    snonce = _need("SNonce", snonce, size=NONCE_LEN)
    anonce = _need("ANonce", anonce, size=NONCE_LEN)
    ctx = snonce + anonce + mac_bytes(bssid) + mac_bytes(sta)
    data = kdf_sha256(pmk_r1, b"FT-PTK", ctx, PTK_BITS)
    return PTK(kck=data[:KCK_LEN], kek=data[KCK_LEN:KCK_LEN + KEK_LEN],
               tk=data[KCK_LEN + KEK_LEN:], name=_sha256_128(pmkr1name, b"FT-PTKN", ctx))


@dataclass(frozen=True)
class FTKeys:
    """One STA's FT key hierarchy toward one R1KH."""
    pmk: bytes
    ssid: bytes
    mdid: bytes
    r0kh_id: bytes
    r1kh_id: bytes
    sta: bytes
    pmk_r0: bytes
    pmk_r0_salt: bytes
    pmkr0name: bytes
    pmk_r1: bytes
    pmkr1name: bytes

    def ptk(self, snonce: bytes, anonce: bytes, bssid) -> PTK:
        return derive_ptk(self.pmk_r1, self.pmkr1name, snonce, anonce, bssid, self.sta)

    def to_dict(self) -> dict:
        return {"pmk": self.pmk.hex(), "ssid": self.ssid.hex(), "mdid": self.mdid.hex(),
                "r0kh_id": self.r0kh_id.hex(), "r1kh_id": mac_str(self.r1kh_id),
                "sta": mac_str(self.sta), "pmk_r0": self.pmk_r0.hex(),
                "pmk_r0_name_salt": self.pmk_r0_salt.hex(), "pmkr0name": self.pmkr0name.hex(),
                "pmk_r1": self.pmk_r1.hex(), "pmkr1name": self.pmkr1name.hex()}


def derive_keys(pmk: bytes, ssid: bytes, mdid: bytes, r0kh_id: bytes, r1kh_id, sta) -> FTKeys:
    """The whole hierarchy from the PMK (the XXKey of FT-PSK, 12.7.1.7.3)."""
    sta_b = mac_bytes(sta)
    r1 = mac_bytes(r1kh_id)
    pmk_r0, salt, r0name = derive_pmk_r0(pmk, ssid, mdid, r0kh_id, sta_b)
    pmk_r1, r1name = derive_pmk_r1(pmk_r0, r0name, r1, sta_b)
    return FTKeys(bytes(pmk), bytes(ssid), bytes(mdid), bytes(r0kh_id), r1, sta_b,
                  pmk_r0, salt, r0name, pmk_r1, r1name)


@dataclass(frozen=True)
class Secrets:
    """What the oracle needs to re-derive keys for any STA and AP: PMK and SSID."""
    pmk: bytes
    ssid: bytes

    def __post_init__(self):
        _need("PMK", self.pmk, size=PMK_LEN)
        _need("SSID", self.ssid, lo=0, hi=32)

    @classmethod
    def from_passphrase(cls, passphrase, ssid: bytes) -> "Secrets":
        return cls(pmk_from_passphrase(passphrase, ssid), bytes(ssid))

    def keys(self, mdid: bytes, r0kh_id: bytes, r1kh_id, sta) -> FTKeys:
        return derive_keys(self.pmk, self.ssid, mdid, r0kh_id, r1kh_id, sta)
