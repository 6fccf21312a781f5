"""./roamcert ftkeys: print the FT-PSK key hierarchy (IEEE 802.11-2020 12.7.1.7).

  ftkeys (--pmk HEX | --passphrase P) (--ssid S | --ssid-hex HEX) --mdid HEX
         --r0kh-id STR --r1kh-id MAC --sta MAC [--bssid MAC --anonce HEX --snonce HEX]
         [--json]

The MDID is given in wire order (as in hostapd's mobility_domain). Exit 2 on bad input.
"""
from __future__ import annotations

import argparse
import json
import sys

from engine.ft.keys import KeyInputError, derive_keys, mac_bytes, mac_str, pmk_from_passphrase


class _Usage(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # no sys.exit from inside main()
        raise _Usage(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="roamcert ftkeys", description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--pmk", help="PMK (XXKey) as 64 hex digits")
    src.add_argument("--passphrase", help="WPA passphrase, 8..63 ASCII characters")
    ss = p.add_mutually_exclusive_group(required=True)
    ss.add_argument("--ssid", help="SSID as text (UTF-8 octets)")
    ss.add_argument("--ssid-hex", help="SSID octets as hex (for SSIDs that are not text)")
    p.add_argument("--mdid", required=True, help="MDID, 4 hex digits in wire order")
    p.add_argument("--r0kh-id", required=True, help="R0KH-ID (hostapd nas_identifier)")
    p.add_argument("--r1kh-id", required=True, help="R1KH-ID, a MAC address")
    p.add_argument("--sta", required=True, help="STA MAC address (S0KH-ID/S1KH-ID)")
    p.add_argument("--bssid", help="target BSSID, for the PTK")
    p.add_argument("--anonce", help="ANonce, 64 hex digits, for the PTK")
    p.add_argument("--snonce", help="SNonce, 64 hex digits, for the PTK")
    p.add_argument("--json", action="store_true", help="print JSON (lowercase hex)")
    return p


def _hex(name: str, text: str, size: int | None = None) -> bytes:
    t = text.strip().replace(":", "").replace(" ", "")
    if t.lower().startswith("0x"):
        t = t[2:]
    try:
        b = bytes.fromhex(t)
    except ValueError:
        raise KeyInputError(f"{name} is not hex: {text!r}") from None
    if size is not None and len(b) != size:
        raise KeyInputError(f"{name} is {size} octets ({2 * size} hex digits), got {len(b)}")
    return b


def compute(a: argparse.Namespace) -> dict:
    ssid = _hex("--ssid-hex", a.ssid_hex) if a.ssid_hex is not None else a.ssid.encode("utf-8")
    if len(ssid) > 32:
        raise KeyInputError(f"an SSID is at most 32 octets, got {len(ssid)}")
    pmk = _hex("--pmk", a.pmk, 32) if a.pmk is not None else pmk_from_passphrase(a.passphrase, ssid)
    r0kh = a.r0kh_id.encode("utf-8")
    keys = derive_keys(pmk, ssid, _hex("--mdid", a.mdid, 2), r0kh, mac_bytes(a.r1kh_id),
                       mac_bytes(a.sta))
    out = {"pmk": pmk.hex(), "ssid": ssid.hex(), "mdid": keys.mdid.hex(),
           "r0kh_id": r0kh.hex(), "r1kh_id": mac_str(keys.r1kh_id), "sta": mac_str(keys.sta),
           "pmk_r0": keys.pmk_r0.hex(), "pmk_r0_name_salt": keys.pmk_r0_salt.hex(),
           "pmkr0name": keys.pmkr0name.hex(), "pmk_r1": keys.pmk_r1.hex(),
           "pmkr1name": keys.pmkr1name.hex()}
    ptk_args = (a.bssid, a.anonce, a.snonce)
    if any(x is not None for x in ptk_args):
        if not all(x is not None for x in ptk_args):
            raise KeyInputError("the PTK needs all of --bssid, --anonce and --snonce")
        ptk = keys.ptk(_hex("--snonce", a.snonce, 32), _hex("--anonce", a.anonce, 32),
                       mac_bytes(a.bssid))
        out.update(bssid=mac_str(mac_bytes(a.bssid)), anonce=a.anonce.lower(),
                   snonce=a.snonce.lower(), **ptk.to_dict())
    return out


_LABELS = [("pmk", "PMK"), ("pmk_r0", "PMK-R0"), ("pmk_r0_name_salt", "PMK-R0-Name-Salt"),
           ("pmkr0name", "PMKR0Name"), ("pmk_r1", "PMK-R1"), ("pmkr1name", "PMKR1Name"),
           ("kck", "KCK"), ("kek", "KEK"), ("tk", "TK"), ("ptk_name", "PTKName")]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    p = _parser()
    try:
        a = p.parse_args(argv)
        out = compute(a)
    except SystemExit as e:  # --help
        return int(e.code or 0)
    except (_Usage, KeyInputError) as e:
        print(f"roamcert ftkeys: error: {e}", file=sys.stderr)
        print(p.format_usage().rstrip(), file=sys.stderr)
        return 2
    if a.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"SSID {out['ssid']}  MDID {out['mdid']}  R0KH-ID {out['r0kh_id']}  "
          f"R1KH-ID {out['r1kh_id']}  STA {out['sta']}")
    for k, label in _LABELS:
        if k in out:
            print(f"{label:17} {out[k]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
