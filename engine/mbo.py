"""Wi-Fi Alliance MBO (Multi Band Operation) attributes carried in BTM frames.

MBO is a Wi-Fi Alliance specification, not IEEE 802.11: its attributes ride in a Vendor
Specific element (IEEE 802.11-2020 9.4.2.25) with the WFA OUI 50:6F:9A and OUI type 0x16,
each attribute being Attribute ID (1 octet), Length (1 octet), body. The attribute IDs and
the value tables below are the MBO Technical Specification's as hostap's
src/common/ieee802_11_defs.h names them (MBO v0.0_r19: Table 4-5 MBO Attributes, 4.2.7 /
Table 4-21 Transition Rejection Reason Code); no MBO text is quoted here.

In a BTM Request an MBO AP may add a Transition Reason Code, a Cellular Data Connection
Preference and (with Disassociation Imminent) an Association Retry Delay; an MBO STA that
rejects may answer with a Transition Rejection Reason Code. None of them changes what
IEEE 802.11 allows the STA to answer (engine/btm.py): the checks here judge the attributes'
form, on the layer that sent them.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.verdict import FAIL, INFO, REFERENCE_AP, Verdict, check

MBO_REQUIREMENT = "Wi-Fi Alliance MBO Technical Specification"  # a case row's requirement id
MBO_SPEC = f"{MBO_REQUIREMENT} (not IEEE 802.11)"  # the verdicts' clause
WFA_OUI, MBO_OUI_TYPE = bytes.fromhex("506f9a"), 0x16

# Table 4-5 (MBO Attributes)
CELL_DATA_PREF, TRANSITION_REASON, TRANSITION_REJECT_REASON, ASSOC_RETRY_DELAY = 5, 6, 7, 8
ATTRIBUTE_NAMES = {1: "MBO AP Capability Indication", 2: "Non-preferred Channel Report",
                   3: "Cellular Data Capabilities", 4: "Association Disallowed",
                   CELL_DATA_PREF: "Cellular Data Connection Preference",
                   TRANSITION_REASON: "Transition Reason Code",
                   TRANSITION_REJECT_REASON: "Transition Rejection Reason Code",
                   ASSOC_RETRY_DELAY: "Association Retry Delay"}
# The one-octet values of each attribute the BTM frames carry.
TRANSITION_REASONS = {0: "unspecified", 1: "excessive frame loss", 2: "excessive delay",
                      3: "insufficient bandwidth", 4: "load balancing", 5: "low RSSI",
                      6: "excessive retransmissions", 7: "high interference", 8: "gray zone",
                      9: "transitioning to a premium AP"}
REJECT_REASONS = {0: "unspecified", 1: "excessive frame loss expected", 2: "excessive delay expected",
                  3: "insufficient QoS capacity", 4: "low RSSI", 5: "high interference",
                  6: "service unavailable"}
CELL_PREFS = {0: "excluded", 1: "not preferred", 255: "preferred"}
ONE_OCTET = {TRANSITION_REASON: TRANSITION_REASONS, TRANSITION_REJECT_REASON: REJECT_REASONS,
             CELL_DATA_PREF: CELL_PREFS}


@dataclass(frozen=True)
class MboElement:
    """The attributes of one MBO element, in order, and what is wrong with its form."""
    attributes: tuple[tuple[int, bytes], ...]
    problems: tuple[str, ...] = ()

    def get(self, attr: int) -> bytes | None:
        return next((b for a, b in self.attributes if a == attr), None)

    def value(self, attr: int) -> int | None:
        b = self.get(attr)
        return b[0] if b and len(b) == 1 else None


def mbo_element(vendor_bodies) -> MboElement | None:
    """The MBO element among Vendor Specific element bodies (OUI 50:6F:9A, type 0x16)."""
    for body in vendor_bodies:
        if body[:3] == WFA_OUI and len(body) > 3 and body[3] == MBO_OUI_TYPE:
            return parse_attributes(bytes(body[4:]))
    return None


def parse_attributes(buf: bytes) -> MboElement:
    out, problems, p = [], [], 0
    while p < len(buf):
        if len(buf) - p < 2:
            problems.append(f"a torn attribute header at octet {p}")
            break
        aid, n = buf[p], buf[p + 1]
        if p + 2 + n > len(buf):
            problems.append(f"attribute {aid} says {n} octets, {len(buf) - p - 2} follow")
            break
        body = buf[p + 2:p + 2 + n]
        if aid in ONE_OCTET and n != 1:
            problems.append(f"{ATTRIBUTE_NAMES[aid]} of {n} octets, expected 1")
        elif aid == ASSOC_RETRY_DELAY and n != 2:
            problems.append(f"{ATTRIBUTE_NAMES[aid]} of {n} octets, expected 2")
        elif aid in ONE_OCTET and body[0] not in ONE_OCTET[aid]:
            problems.append(f"{ATTRIBUTE_NAMES[aid]} {body[0]} is reserved")
        out.append((aid, bytes(body)))
        p += 2 + n
    return MboElement(tuple(out), tuple(problems))


def check_request(vendor_bodies, expect: dict, disassoc_imminent: bool,
                  evidence: tuple[str, ...] = ()) -> list[Verdict]:
    """The AP's request carries the MBO attributes the case asked for (expect: reason,
    cell_pref, retry_delay), well formed. These are the reference AP's verdicts."""
    m = mbo_element(vendor_bodies)
    if m is None:
        return [Verdict("BTM-MBO-REQUEST", MBO_SPEC, FAIL, "an MBO element in the BTM Request",
                        "none", evidence, layer=REFERENCE_AP)]
    got = {"reason": m.value(TRANSITION_REASON), "cell_pref": m.value(CELL_DATA_PREF)}
    delay = m.get(ASSOC_RETRY_DELAY)
    got["retry_delay"] = int.from_bytes(delay, "little") if delay and len(delay) == 2 else None
    want = {k: v for k, v in expect.items() if k in got}
    out = [check("BTM-MBO-REQUEST", MBO_SPEC, not m.problems and all(got[k] == v for k, v in want.items()),
                 f"MBO attributes {want}, well formed", f"{got}" + (f"; {'; '.join(m.problems)}" if m.problems else ""),
                 evidence, layer=REFERENCE_AP)]
    if got["retry_delay"] is not None:
        # hostapd refuses an Association Retry Delay without Disassociation Imminent
        # (hostap test_wnm_bss_tm_req_with_mbo_ie); the frame should agree.
        out.append(check("BTM-MBO-RETRY-DELAY", MBO_SPEC, disassoc_imminent,
                         "Association Retry Delay only with Disassociation Imminent",
                         f"Disassociation Imminent {int(disassoc_imminent)}", evidence, layer=REFERENCE_AP))
    return out


def check_response(vendor_bodies, status: int, evidence: tuple[str, ...] = ()) -> list[Verdict]:
    """An MBO element in the DUT's response: a Transition Rejection Reason Code belongs to a
    reject (non-zero status) and must be a defined value. No MBO element is no fault: the
    IEEE 802.11 answer stands on its own (a STA need not be an MBO STA)."""
    m = mbo_element(vendor_bodies)
    if m is None:
        return [Verdict("BTM-MBO-RESPONSE", MBO_SPEC, INFO, "an MBO STA may add MBO attributes",
                        "no MBO element in the response", evidence)]
    out = [check("BTM-MBO-RESPONSE", MBO_SPEC, not m.problems, "a well-formed MBO element",
                 "; ".join(m.problems) or f"attributes {[a for a, _ in m.attributes]}", evidence)]
    rr = m.value(TRANSITION_REJECT_REASON)
    if m.get(TRANSITION_REJECT_REASON) is not None:
        out.append(check("BTM-MBO-REJECT-REASON", MBO_SPEC, status != 0 and rr in REJECT_REASONS,
                         "a defined Transition Rejection Reason Code, only with a reject status",
                         f"status {status}, rejection reason {rr} "
                         f"({REJECT_REASONS.get(rr, 'reserved') if rr is not None else 'malformed'})", evidence))
    return out

