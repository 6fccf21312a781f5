"""The clause registry: where every judging rule comes from.

IND-1..IND-9 quote /work/shared/seeds/native-802.11-general-roaming-operation-guidelines.md
verbatim (markdown and all, so a test can find each quote in the file); `text` gives
the same words with the markdown links and escapes removed, for reports.

IEEE clause numbers are IEEE Std 802.11-2020. Each constant carries the clause title
too, so a reader can find it even where the numbering differs between editions
(802.11-2016 numbers most of these one step higher, e.g. 11.11.9.3, 9.6.14.9).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

GUIDELINES = "Native 802.11 General Roaming Operation Guidelines"
GUIDELINES_FILE = "native-802.11-general-roaming-operation-guidelines.md"

# IEEE Std 802.11-2020. 9.6.13.9 and Table 9-428 were checked against public code
# comments that cite 802.11-2020; the others follow the 2020 renumbering of
# 802.11-2016 (radio measurement 11.11 -> 11.10, elements 9.4.2.x -> 9.4.2.(x-1)).
BTM = "IEEE 802.11-2020 11.24.7 (BSS transition management for network load balancing)"
BTM_QUERY = "IEEE 802.11-2020 11.24.7.2 (BSS transition management query)"
BTM_REQUEST = "IEEE 802.11-2020 11.24.7.3 (BSS transition management request)"
BTM_RESPONSE = "IEEE 802.11-2020 11.24.7.4 (BSS transition management response)"
BTM_REQUEST_FRAME = "IEEE 802.11-2020 9.6.13.9 (BSS Transition Management Request frame format)"
BTM_RESPONSE_FRAME = "IEEE 802.11-2020 9.6.13.10 (BSS Transition Management Response frame format)"
BTM_STATUS_TABLE = "IEEE 802.11-2020 Table 9-428 (BTM status code definitions)"
CANDIDATE_PREFERENCE = ("IEEE 802.11-2020 9.4.2.36 (Neighbor Report element, "
                        "BSS Transition Candidate Preference subelement)")
NEIGHBOR_REPORT = "IEEE 802.11-2020 11.10.10 (Neighbor report)"
NEIGHBOR_REPORT_ELEMENT = "IEEE 802.11-2020 9.4.2.36 (Neighbor Report element)"
BEACON_MEASUREMENT = "IEEE 802.11-2020 11.10.9.3 (Beacon report)"
BEACON_REQUEST = "IEEE 802.11-2020 9.4.2.20.7 (Beacon request)"
BEACON_REPORT = "IEEE 802.11-2020 9.4.2.21.7 (Beacon report)"
MEASUREMENT_REPORT = "IEEE 802.11-2020 9.4.2.21 (Measurement Report element)"
ELEMENT_FORMAT = "IEEE 802.11-2020 9.4.2.1 (Elements, general)"
BSS_CANDIDATE_LIST = "Native 802.11 BSS Network Candidate List (bss-network-candidate-list.md)"

# BTM status codes, Table 9-428.
BTM_STATUS = {
    0: "Accept",
    1: "Reject - Unspecified reject reason",
    2: "Reject - Insufficient Beacon or Probe Response frames received from all candidates",
    3: "Reject - Insufficient available capacity from all candidates",
    4: "Reject - BSS termination undesired",
    5: "Reject - BSS termination delay requested",
    6: "Reject - STA BSS Transition Candidate List provided",
    7: "Reject - No suitable BSS transition candidates",
    8: "Reject - Leaving ESS",
}

_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def render(markdown: str) -> str:
    """The quote as a reader sees it: links become their text, escapes go."""
    s = _LINK.sub(r"\1", markdown)
    return s.replace("\\_", "_").replace("**", "").strip()


@dataclass(frozen=True)
class Rule:
    id: str
    statement: str
    quotes: tuple[str, ...]  # verbatim substrings of GUIDELINES_FILE

    @property
    def text(self) -> str:
        return " ".join(render(q) for q in self.quotes)

    @property
    def clause(self) -> str:
        """What goes into Verdict.clause."""
        return f'{GUIDELINES}: "{self.text}"'


_RS = "[NDIS\\_STATUS\\_DOT11\\_ROAMING\\_START](https://msdn.microsoft.com/library/windows/hardware/ff567360)"
_RC = "[NDIS\\_STATUS\\_DOT11\\_ROAMING\\_COMPLETION](https://msdn.microsoft.com/library/windows/hardware/ff567359)"
_AS = "[NDIS\\_STATUS\\_DOT11\\_ASSOCIATION\\_START](https://msdn.microsoft.com/library/windows/hardware/ff567321)"
_AC = "[NDIS\\_STATUS\\_DOT11\\_ASSOCIATION\\_COMPLETION](https://msdn.microsoft.com/library/windows/hardware/ff567319)"

RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("IND-1", "ROAMING_START happens only in the OP state, after a completed connection.", (
        "The miniport driver must have previously completed a connection operation to a BSS "
        "network and must be in the operational (OP) state.",
    )),
    Rule("IND-2", "Every ROAMING_START is closed by exactly one ROAMING_COMPLETION. No second "
                  "ROAMING_START comes before it.", (
        f"The miniport driver must enclose the roaming operation between {_RS} and {_RC} indications.",
        f"After the miniport driver makes an {_RS} indication, it cannot start another roaming "
        f"operation until it makes an {_RC} indication.",
    )),
    Rule("IND-3", "Every association is bracketed by ASSOCIATION_START and ASSOCIATION_COMPLETION, "
                  "and happens inside a connection operation (CONNECTION_START/COMPLETION) or a "
                  "roaming operation.", (
        f"The miniport driver must enclose the association operation between {_AS} and {_AC} indications.",
    )),
    Rule("IND-4", "If the candidate list is empty, there is no roaming operation.", (
        "If the candidate list is empty, the 802.11 station must not perform the roaming operation.",
    )),
    Rule("IND-5", "ROAMING_START carries a reason.", (
        "When it makes this indication, the miniport driver provides information about the "
        "reason for the roaming operation.",
    )),
    Rule("IND-6", "A successful roam makes no MEDIA_CONNECT indication, so the link never goes "
                  "down during it.", (
        "If the 802.11 station successfully roams to a BSS network, the miniport driver must not "
        "make a status indication of NDIS\\_STATUS\\_MEDIA\\_CONNECT.",
    )),
    Rule("IND-7", "A roam succeeds iff an association succeeded. The ROAMING_COMPLETION status "
                  "matches the last association's status.", (
        "The 802.11 station has successfully associated with an AP in an infrastructure BSS network.",
        f"The miniport driver makes an {_RC} indication to report the status of the roaming operation.",
    )),
    Rule("IND-8", "A roam fails when the candidates are exhausted, the PHYs are off, or a reset or "
                  "disconnect is requested. After a failure the station stays in OP and retries "
                  "periodically.", (
        "The 802.11 station has exhausted its list of candidate BSS networks without a successful association.",
        "All of the PHYs on the 802.11 station have been turned off during the roaming operation.",
        "The operating system makes a method request of "
        "[OID\\_DOT11\\_RESET\\_REQUEST](https://msdn.microsoft.com/library/windows/hardware/ff569409) "
        "or a set request of "
        "[OID\\_DOT11\\_DISCONNECT\\_REQUEST](https://msdn.microsoft.com/library/windows/hardware/ff569147).",
        "If the roaming operation fails, the miniport driver must remain in the OP operating state "
        "and must periodically perform other roaming operations while in that state.",
    )),
    Rule("IND-9", "Association attempts target only members of the candidate list.", (
        "The miniport driver will initiate an association operation with entries from the 802.11 "
        "station's candidate list.",
    )),
)}


def rule(rule_id: str) -> Rule:
    try:
        return RULES[rule_id]
    except KeyError:
        raise ValueError(f"unknown rule id {rule_id!r}; known: {', '.join(RULES)}") from None
