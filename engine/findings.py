"""The findings registry: every known deviation of a reference DUT, one declarative entry each.

A case that FAILs on a reference DUT for a known reason points here (match()), so a report
can say which layer is at fault, how bad it is, what the standard or guideline says, and
whether hostap has changed the behaviour since. WITHDRAWN keeps the former README findings
that a review showed are not DUT findings, with the reason, so the history stays readable.
REFERENCE_NOTES records behaviour of the reference AP and the lab met on the way: none of it
is judged against a DUT.

Research behind the entries (December 2026):
- hostap history from the greearb/hostap-ct mirror, which carries upstream hostap commits
  with their upstream hashes. It has no release tags, so "first in hostap_2_11" means the
  commit is an ancestor of upstream's release commits cff80b4f7d3c ("Preparations for v2.10
  release", the hostap_2_10 tag) and d945ddd36808 ("Preparations for v2.11 release", the
  hostap_2_11 tag); public build recipes pin those two hashes to those tags. "main" means the
  newest upstream commit in that snapshot (Jouni Malinen's commits up to 2026-08-01).
- IEEE 802.11-2020 is not available here. A quote is given only where a public source shows
  the words, and quote_source names that source and the edition or draft it says it quotes.
  Clause numbers are 802.11-2020's (radio measurement 11.10, WNM frames 9.6.13, BTM 11.24.7).
- Guideline quotes (IND-n) come from engine.clauses, which quotes the seeds file verbatim.

Pure data: no I/O. The checks at the bottom run at import; tests/test_findings.py checks the
guideline quotes against the seeds file itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from engine.clauses import GUIDELINES, GUIDELINES_FILE, rule
from engine.verdict import FIRMWARE, KERNEL, LAB, LAYERS, REFERENCE_AP, SUPPLICANT

SEVERITIES = ("blocker", "major", "minor", "info")
WPAS_210 = "wpa_supplicant 2.10"
LINUX_WPAS = "linux-wpas"
ESP32_TWIN = "esp32-twin"  # backed by the lab's wpa_supplicant 2.10, so its supplicant findings are that one's
R = "IEEE 802.11-2020"
HOSTAP_2_10 = "cff80b4f7d3c"  # "Preparations for v2.10 release" (tag hostap_2_10)
HOSTAP_2_11 = "d945ddd36808"  # "Preparations for v2.11 release" (tag hostap_2_11)
NO_2020_TEXT = ("No verbatim IEEE 802.11-2020 text of this subclause was found in a public source "
                "(code comments, reflector posts, vendor documents searched); clause number and "
                "title follow the 2020 numbering.")
SEEDS_SOURCE = f"shared/seeds/{GUIDELINES_FILE} (verbatim; tests/test_findings.py finds it there)"


@dataclass(frozen=True)
class Finding:
    id: str                 # stable, e.g. "WPAS-FT-OTHER-MD"
    title: str
    behaviour: str          # what the DUT does, plainly
    cases: tuple[str, ...]  # case ids where it shows, e.g. ("FT-05",)
    rules: tuple[str, ...]  # rule ids whose FAIL it explains; a trailing "*" matches a family
    clause: str             # "IEEE 802.11-2020 13.5.x (title)" or the guideline rule id
    quote: str              # verbatim clause text, or "" (see quote_source)
    quote_source: str       # where the quote was checked, or why there is none
    severity: str           # "blocker" | "major" | "minor" | "info"
    severity_reason: str
    layer: str              # one of engine.verdict.LAYERS
    applies_to: tuple[str, ...]  # DUT names, e.g. ("linux-wpas",); software e.g. "wpa_supplicant 2.10"
    upstream: str           # "fixed in hostap <hash> '<subject>' (first in hostap_2_11)" / "unchanged as of <tag>" / "n/a"
    evidence: str           # where a reader sees it (case folder file, frame, log line kind)
    hostap_tests: tuple[str, ...] = ()  # hwsim tests that assert the behaviour, if any


@dataclass(frozen=True)
class Withdrawn:
    id: str
    title: str
    was: str     # the former README finding, as it read
    reason: str  # why it is not a DUT finding


@dataclass(frozen=True)
class ReferenceNote:
    """Behaviour of the reference AP or the lab seen while running the suites."""
    id: str
    title: str
    layer: str
    text: str
    source: str  # how it was established


_IND6 = rule("IND-6")
_IND2 = rule("IND-2")

FINDINGS: tuple[Finding, ...] = (
    Finding(
        id="LINUX-MAC80211-CARRIER-DROP",
        title="The link goes down during every roam made through wpa_supplicant's SME on mac80211",
        behaviour=(
            "With wpa_supplicant's own SME on a mac80211 driver (mac80211_hwsim here, most PCIe/USB "
            "cards), mac80211 ends the current association locally, without a frame on the air, as "
            "soon as it is asked to authenticate with another AP (FT over the air, plain roams) or to "
            "associate with it (FT over the DS). cfg80211 reports a disconnect, carrier (IFF_LOWER_UP) "
            "drops, and it comes back with the (re)association: a media disconnect and connect inside "
            "a successful roam. The old association is gone before the new one is tried, so a roam "
            "that then fails (FT-05's refused FT authentication, FT-12's FT authentication refused with "
            "status 53 by a target that cannot get PMK-R1, a refused reassociation) leaves the "
            "station out of the OP state, and wpa_supplicant starts a new connection (IND-8). "
            "A driver that roams by itself reports nl80211 ROAM and keeps carrier. "
            "wpa_supplicant's operstate DORMANT/UP during the roam is its 802.1X port state, a "
            "separate observation, not the link."),
        cases=("FT-02", "FT-03", "FT-04", "FT-05", "FT-08", "FT-09", "FT-10", "FT-11", "FT-12", "FT-14",
               "FT-15", "FT-16", "FT-17", "FT-18", "FT-19", "FT-20", "FT-21", "FT-22", "FT-23", "IND-06", "IND-07",
               "BTM-01", "BTM-02", "BTM-05", "BTM-07", "BTM-09", "BTM-10", "BTM-16", "BTM-18",
               # BTM-31 and BTM-41..43 stay on the BTM request; their roam is wpa_supplicant's own
               # move to the 5 GHz VHT80 BSS after the case's scan (suites/test_11v.py connect_among)
               "BTM-19", "BTM-20", "BTM-21", "BTM-22", "BTM-26", "BTM-27", "BTM-28", "BTM-29",
               "BTM-30", "BTM-31", "BTM-32", "BTM-35", "BTM-36", "BTM-37", "BTM-38", "BTM-39", "BTM-40", "BTM-41", "BTM-42",
               "BTM-43", "BTM-44", "BTM-45", "BTM-46"),
        # IND-8: a failed over-the-air roam leaves OP because the old association was already gone:
        # FT-05's refused FT authentication, FT-12's (the target cannot get PMK-R1, status 53), and
        # an over-the-air roam of FT-16/17/20/22/23 that the loaded lab's slow hostapd made fail
        rules=("IND-6", "FT-02:IND-8", "FT-05:IND-8", "FT-12:IND-8", "FT-16:IND-8", "FT-17:IND-8", "FT-20:IND-8",
               "FT-22:IND-8", "FT-23:IND-8"),
        clause=_IND6.id,
        quote=_IND6.quotes[0],
        quote_source=SEEDS_SOURCE,
        severity="major",
        severity_reason=(
            "Every roam of every mac80211 station driven by wpa_supplicant: the OS sees the link go "
            "down and up although the roam succeeds, and the carrier drop is what flushes the "
            "neighbour cache and costs about 0.8 s of traffic (LINUX-ARP-EVICT-NOCARRIER). Not a "
            "blocker: no frame is lost on the air and the roam itself completes."),
        layer=KERNEL,
        applies_to=(LINUX_WPAS, "Linux mac80211 with wpa_supplicant's SME (Debian 12, kernel 6.1)"),
        upstream=(
            "n/a: Linux kernel behaviour, not hostap. Debian 12's mac80211.ko (6.1.0-57) carries the "
            "log strings 'disconnect from AP %pM for new auth to %pM' and '... for new assoc to %pM' "
            "of this local teardown."),
        evidence=(
            "The case's indication trace (evidence.json, indications.json): MEDIA_DISCONNECT and "
            "MEDIA_CONNECT inside the roam, each citing the lab agent's netlink record "
            "(RTM_NEWLINK flags without, then with, LOWER_UP; cfg80211's nl80211 DISCONNECT by_ap=0 "
            "then CONNECT). FT-09 (neighbour entries kept) shows what is left of the outage "
            "(outage-roam-N.json): carrier_off -> carrier_on 150-330 ms (kernel), then carrier_on -> "
            "port_authorized 55-250 ms (the supplicant opening the 802.1X port; in some roams the "
            "longer of the two, and DP-LOSS then names the supplicant), 27-46 of 300 pings lost per "
            "roam against the 25 the ChromeOS criterion allows."),
    ),
    Finding(
        id="ESP32-STA-CONNECTED-ON-ROAM",
        title="The ESP32 firmware reports a new connection (WIFI_EVENT_STA_CONNECTED) after every roam",
        behaviour=(
            "After a successful roam the ESP-IDF Wi-Fi driver prints `wifi:connected with <ssid>, aid = .., "
            "channel .., bssid = <new BSSID>`, the WIFI_EVENT_STA_CONNECTED it posts to the application: the "
            "media connect indication of a new connection, inside a roam that succeeded (the real board log "
            "then shows a new `sta ip:` line). The roam itself is correct: on the esp32-twin the BTM response, "
            "the FT exchange (MICs, PMKR1Name, no 4-way) and the reassociation all pass in FT-16/FT-17. "
            "What rests on what: the one real-board BTM log is the evidence; mapping STA_CONNECTED to "
            "NDIS MEDIA_CONNECT is the adapter's analogy (devices/INDICATIONS.md), and that board's roam "
            "is break-before-make (`run -> init`, about 2 s, a new association and DHCP), which a reviewer "
            "may read as a new connection correctly reported. The twin's FAILs carry this label because "
            "the twin re-emits that line by construction (lab/esp32_twin.py): they prove the adapter, "
            "not the firmware, and no real-board FT log exists."),
        # BTM-19..46: the rows where the twin moves (runs/20261207T081033Z on esp32-twin); BTM-05,
        # 07, 09, 10, 16, 18: the same MEDIA_CONNECT closing the roam (runs/20261207T091950Z)
        cases=("FT-16", "FT-17", "BTM-01", "BTM-05", "BTM-07", "BTM-09", "BTM-10", "BTM-16", "BTM-18", "BTM-19", "BTM-20", "BTM-21", "BTM-22", "BTM-26", "BTM-27",
               "BTM-28", "BTM-29", "BTM-30", "BTM-32", "BTM-35", "BTM-36", "BTM-37", "BTM-40", "BTM-46"),
        rules=("IND-6",),
        clause=_IND6.id,
        quote=_IND6.quotes[0],
        quote_source=SEEDS_SOURCE,
        severity="minor",
        severity_reason=(
            "An indication, not a protocol fault: nothing is lost on the air, but an application that "
            "treats STA_CONNECTED as a new link (the roaming example restarts its IP handling) redoes work "
            "after every roam."),
        layer=FIRMWARE,
        applies_to=("esp32", "esp32-twin", "ESP-IDF Wi-Fi driver (roaming_11kvr example)"),
        upstream="n/a: ESP-IDF's closed Wi-Fi library; not checked against newer IDF releases in this session",
        evidence=(
            "Real board: shared/data/esp32/roaming_example_btm_roam.log lines 19-27 (`wifi:state: run -> "
            "init (0)`, init -> auth -> assoc -> run, then `wifi:connected with ...`). esp32-twin, which "
            "re-emits that line shape: FT-16, FT-17, BTM-01 IND-6 verdicts citing `serial:<line>` "
            "`wifi:connected with roamcert, ... bssid = <target>`."),
    ),
    Finding(
        id="LINUX-ARP-EVICT-NOCARRIER",
        title="A roam flushes the ARP cache, so traffic stops for about a second after each FT roam",
        behaviour=(
            "67-86 of 300 pings (10 ms apart) are lost per FT roam (86 when the review first saw it, 67-75 in this session's runs) although the FT exchange takes "
            "100-200 ms on the air. The carrier drop of LINUX-MAC80211-CARRIER-DROP makes the kernel "
            "evict the interface's neighbour entries (net.ipv4.conf.<if>.arp_evict_nocarrier and "
            "net.ipv6.conf.<if>.ndisc_evict_nocarrier default to 1); the first packet after the roam "
            "waits for a new ARP resolution, whose first request is lost in the roam and whose "
            "retransmission comes a full second later (that last step is the analysis of the issue 9 "
            "review; the capture cannot show it, the data frames are encrypted). Fix on the "
            "station: set both sysctls to 0 "
            "for the Wi-Fi interface (iwd does this; wpa_supplicant does not). Linux documents the "
            "sysctl as: \"Clears the ARP cache on NOCARRIER events. This option is important for "
            "wireless devices where the ARP cache should not be cleared when roaming between access "
            "points on the same network.\" (Documentation/networking/ip-sysctl.rst, added by commit "
            "fcdb44d08a95, https://git.zx2c4.com/linux-dev/diff/?id=fcdb44d08a95003c3d040aecdee286156ec6f34e)."),
        cases=("FT-08",),
        rules=("DP-LOSS-*",),
        clause=(f"{R} 13.1 (Overview of fast BSS transition); ChromeOS tast wificell criterion: at most "
                "25 lost 10 ms pings per roam"),
        quote="",
        quote_source=(NO_2020_TEXT + " The 25-ping limit is ChromeOS tast wificell's roam criterion "
                      "(shared/REFERENCE.md, 'Peer suites'), a criterion, not clause text."),
        severity="major",
        severity_reason=(
            "Three times the ChromeOS limit on every roam; voice and interactive traffic break for "
            "about a second. It has a one-line fix on the station, and the air side (the FT exchange) "
            "is fast, which is why it is major and not a blocker."),
        layer=KERNEL,
        applies_to=(LINUX_WPAS, "Linux >= 4.20 neighbour cache policy (Debian 12, kernel 6.1)"),
        upstream=(
            "n/a: kernel policy. Eviction on carrier down since Linux 4.20 (859bd2ef1fc1 'net: Evict "
            "neighbor entries on carrier down'); the opt-out since Linux 5.16 (fcdb44d08a95 'net: "
            "arp: introduce arp_evict_nocarrier sysctl parameter', 2021-11-01), default still 1. "
            "hostap main sets neither sysctl (no 'evict_nocarrier' anywhere in the snapshot's tree)."),
        evidence=(
            "FT-08 case folder: outage-roam-N.json decomposes each roam's outage from the air, the "
            "lab agent's netlink monitor and the DUT interface's own capture (dut.cap): carrier off "
            "-> on 150-310 ms (kernel), port authorized 55-130 ms later (supplicant), then 640-800 "
            "ms until the ARP request for the gateway (kernel: the entry was flushed at the carrier "
            "drop), 67-75 pings lost per roam. FT-09, the same roams with arp_evict_nocarrier=0, "
            "has no ARP wait and loses 27-46."),
    ),
    Finding(
        id="WPAS-FT-PORT-OPENS-LATE",
        title="After an FT reassociation the 802.1X port opens 55-250 ms after carrier is back",
        behaviour=(
            "With the neighbour entries kept (FT-09, arp_evict_nocarrier=0) the ping still loses 27-46 "
            "of 300 10 ms pings per FT roam. Decomposed (outage-roam-N.json): the FT exchange on the "
            "air, then carrier back (kernel), then 55-250 ms until operstate UP, the supplicant "
            "opening the 802.1X port, during which mac80211 drops data; with FT the keys are derived "
            "before the reassociation, so nothing is left to negotiate. Measured on the virtual lab "
            "(qemu TCG, two shared cores), which slows every netlink and key operation: the figure "
            "is the lab's, the order of events is the DUT's. FLAKY on the virtual lab: the count "
            "sits at the 25-ping limit, so DP-LOSS flips with the lab's speed. Three full runs of "
            "commit 0b5736e, back to back (bench stability): 20 and 20 lost (pass), then 30 and 28, "
            "then 26 and 30 (fail), the last on a quiet host; the supplicant's span of the outage "
            "was 58-62, 89 and 80-104 ms. The verdict is not retried; bench stability lists the "
            "flip with this entry."),
        cases=("FT-09",),
        rules=("DP-LOSS-*",),
        clause=(f"{R} 13.1 (Overview of fast BSS transition); ChromeOS tast wificell criterion: at most "
                "25 lost 10 ms pings per roam"),
        quote="",
        quote_source=(NO_2020_TEXT + " The 25-ping limit is ChromeOS tast wificell's roam criterion "
                      "(shared/REFERENCE.md, 'Peer suites'), a criterion, not clause text."),
        severity="minor",
        severity_reason=(
            "Over the ChromeOS limit on the virtual lab, but the span is inflated by the emulated "
            "machine; on real hardware the same sequence is expected to take milliseconds. Kept "
            "as a finding because DP-LOSS names the supplicant's span as the largest, not hidden."),
        layer=SUPPLICANT,
        applies_to=(LINUX_WPAS, WPAS_210),
        upstream="not checked against hostap's history in this session",
        evidence=(
            "FT-09 case folder: outage-roam-N.json (carrier_on -> port_authorized from the lab agent's "
            "netlink monitor), dut.cap (the DUT interface's own packets), ping-roam-N."),
    ),
    Finding(
        id="WPAS-FT-OTHER-MD",
        title="FT authentication toward an AP of another mobility domain",
        behaviour=(
            "Connected with FT-PSK in mobility domain a1b2, `ROAM <bssid>` toward a BSS of the same "
            "ESS that advertises MDID c3d4 makes wpa_supplicant 2.10 start the FT protocol (an "
            "Authentication frame with algorithm 2, FT) with its PMKR0Name from the old domain. The "
            "target has no PMK-R1 for the PMKR0Name the STA names and refuses with status 53 "
            "(Invalid PMKID). Cause in 2.10: sme_send_authentication() compares "
            "the target's MDID with wpa_s->sme.mobility_domain, which was just set from that same "
            "target's MDE (wpa_ft_prepare_auth_request -> sme_update_ft_ies), so the check always "
            "passes."),
        cases=("FT-05",),
        rules=("FT-MD-NO-FT",),
        clause=f"{R} 13.5.1 (FT protocol overview), 13.4 (FT initial mobility domain association)",
        quote="",
        quote_source=NO_2020_TEXT,
        severity="major",
        severity_reason=(
            "The STA uses keys of one mobility domain with an AP of another, and the roam fails where "
            "an initial mobility domain association would have worked. Networks with several "
            "mobility domains in one ESS are rare (the upstream fix says so), which keeps it from "
            "blocker."),
        layer=SUPPLICANT,
        applies_to=(LINUX_WPAS, WPAS_210),
        upstream=(
            "fixed in hostap bbe5f0c1eb66 'FT: Do not try to use FT protocol between mobility "
            "domains' (Jouni Malinen, 2022-11-08; first in hostap_2_11): FT keys remember their "
            "mobility domain (wpa_sm_has_ft_keys), another domain gets an initial mobility domain "
            "association, and FT_DS toward it answers FAIL unless forced."),
        evidence=(
            "FT-05 case folder: the capture's Authentication frame from the DUT with algorithm 2 to "
            "the c3d4 BSS and the target's status 53 answer; ft-analysis.json; the MD-DIFFERENT "
            "verdict showing the two MDIDs."),
        hostap_tests=("test_ap_ft_diff_mobility_domain", "test_ap_ft_diff_mobility_domain_over_ds"),
    ),
    Finding(
        id="WPAS-BTM-EXPIRED-NO-RESPONSE",
        title="No BSS Transition Management Response once the candidate list has expired",
        behaviour=(
            "A BTM request with a candidate list valid for one beacon interval (valid_int=1, about "
            "102 ms), whose candidate is not in the scan cache, makes wpa_supplicant 2.10 scan. When "
            "the scan starts after the validity interval ran out (the case keeps the radio busy "
            "with a passive scan the DUT did not ask for, as a driver's background scan would), "
            "wnm_scan_process() logs 'WNM: Previously stored BSS transition candidate list is not "
            "valid anymore - drop it', frees the list and returns: no BSS Transition Management "
            "Response is ever sent."),
        cases=("BTM-12",),
        rules=("BTM-RESPONSE",),
        clause=f"{R} 11.24.7.3 (BSS transition management request)",
        quote=("A non-AP STA that supports BSS transition management shall respond to an individually "
               "addressed BSS Transition Management Request frame with a BSS Transition Management "
               "Response frame."),
        quote_source=(
            "https://ieee802.org/11/email/stds-802-11-tgm/msg02823.html (TGm reflector, 2022: text of "
            "subclause 11.21.7.3 of the P802.11REVme draft, the draft's number for 802.11-2020 "
            "11.24.7.3). Not checked against the 2020 edition itself."),
        severity="minor",
        severity_reason=(
            "A mandatory response is missing, but only when the AP's validity interval is shorter "
            "than the delay before the STA can scan; what the AP loses is the refusal, not a usable "
            "transition (its candidate list has expired). Fixed upstream."),
        layer=SUPPLICANT,
        applies_to=(LINUX_WPAS, WPAS_210),
        upstream=(
            "fixed in hostap e508c070c40e 'WNM: Keep BTM information until connection completes' "
            "(Benjamin Berg, committed 2024-03-02; first in hostap_2_11): the expired-list path now "
            "goes to send_bss_resp_fail and answers status 1 (Reject - Unspecified reject reason)."),
        evidence=(
            "BTM-12 case folder: the request on the air and no WNM Action frame with action 8 from "
            "the DUT afterwards; wpa_supplicant's debug log line 'Previously stored BSS transition "
            "candidate list is not valid anymore'."),
    ),
    Finding(
        id="WPAS-BCN-ZERO-DURATION-SILENT",
        title="A beacon request with a zero measurement duration gets no answer",
        behaviour=(
            "A passive-mode beacon request with Measurement Duration 0 gets no Measurement Report at "
            "all: wpa_supplicant 2.10 logs 'Beacon request: Duration is 0' and drops the request "
            "without a report, a refusal or an incapable indication."),
        cases=("BCN-18",),
        rules=("BCN-PRESENT",),
        clause=f"{R} 11.10.6 (Requesting and reporting of measurements), 9.4.2.20.7 (Beacon request)",
        quote="",
        quote_source=NO_2020_TEXT,
        severity="minor",
        severity_reason=(
            "If it stays a finding: the requester cannot tell a dropped request from a lost frame and "
            "may retry; refusing (report mode Refused) would say what happened. A zero duration asks "
            "for no measurement, so nothing is lost but the answer. "
            "If the oracle accepts silence: withdraw (see WITHDRAW_IF_ACCEPTED) - hostap's "
            "test_rrm_beacon_req_active_zero_duration requires that no Beacon report is sent for a "
            "zero duration (active mode; the duration check is the same code path for passive)."),
        layer=SUPPLICANT,
        applies_to=(LINUX_WPAS, ESP32_TWIN, WPAS_210),
        upstream="unchanged as of hostap_2_11 and on main (the check and the test are both still there)",
        evidence=(
            "BCN-18 case folder: the Beacon Request on the air and no Radio Measurement Report from "
            "the DUT; no BEACON-RESP-RX event from hostapd."),
        hostap_tests=("test_rrm_beacon_req_active_zero_duration",),
    ),
    Finding(
        id="WPAS-BCN-PASSIVE-PROBE-BODY",
        title="Passive-mode beacon reports carry an earlier Probe Response's body",
        behaviour=(
            "In passive mode the DUT sends no Probe Request, so every frame it hears during the "
            "measurement is a Beacon; yet the Reported Frame Body holds the elements of a Probe "
            "Response it received before the measurement (no TIM, probe-response element set). "
            "wpa_supplicant 2.10 builds each report from its BSS table entry: it reports a BSS only "
            "if cfg80211 updated the entry during the measurement (the age check in "
            "wpas_beacon_rep_scan_process), but the body comes from wpa_bss_ie_ptr(), i.e. the IEs "
            "cfg80211 reports as NL80211_BSS_INFORMATION_ELEMENTS, which stay those of the last "
            "Probe Response once one was received (cfg80211_update_known_bss() in "
            "net/wireless/scan.c lets a Beacon replace them only 'if they were from a beacon "
            "before'); the Beacon's own elements (beacon_ie) are used only when there is no "
            "probe-response set. Fixed fields are rebuilt from the entry "
            "(latest TSF, beacon interval, capabilities), RCPI and Parent TSF are from the "
            "measurement. Reported Frame Information carries only the condensed PHY type; its "
            "Reported Frame Type bit is 0, which means 'Beacon or Probe Response' and cannot tell the "
            "two apart, so the report is not self-contradictory, only the body is not the frame that "
            "was measured."),
        cases=("BCN-01", "BCN-10", "BCN-38", "BCN-41", "BCN-52"),
        rules=("BCN-BODY-ELEMENTS",),
        clause=f"{R} 11.10.9.3 (Beacon report), 9.4.2.21.7 (Beacon report: Reported Frame Body)",
        quote="",
        quote_source=(NO_2020_TEXT + " Public descriptions of the passive mode (e.g. "
                      "https://sciensity.blogspot.com/2013/02/beacon.html, which paraphrases an "
                      "older edition) say the STA logs the Beacon, Probe Response and Measurement "
                      "Pilot frames received within the measurement duration; the 2020 wording was "
                      "not verified."),
        severity="minor",
        severity_reason=(
            "A real deviation: the body is not that of a frame received during the measurement. Its "
            "effect is small: the BSS really was heard during the measurement, the fixed fields and "
            "most elements agree, and the differences are the TIM and the probe-response-only "
            "elements. An AP that uses the body to learn the BSS's current Beacon contents can be "
            "misled."),
        layer=SUPPLICANT,
        applies_to=(LINUX_WPAS, ESP32_TWIN, WPAS_210),
        upstream=(
            "unchanged as of hostap_2_11 and on main (wpas_add_beacon_rep() still takes "
            "wpa_bss_ie_ptr(bss) and falls back to the beacon IEs only when there is no "
            "probe-response set)"),
        evidence=(
            "BCN-01/BCN-10 case folders (and BCN-38, BCN-41: the same passive-mode bodies with "
            "a randomization interval and with AP Channel Reports; esp32-twin, backed by the same "
            "wpa_supplicant 2.10, in BCN-38/41 of run 20261207T074300Z): the DUT's "
            "Beacon Report frame bodies against the Beacons "
            "and Probe Responses of the same BSS in the capture (the BCN-BODY-ELEMENTS verdict names "
            "the differing element)."),
    ),
    Finding(
        id="WPAS-BCN-SERVING-BSS-UNREQUESTED-CHANNEL",
        title="A beacon report for the serving BSS on a channel the request did not ask for",
        behaviour=(
            "An active-mode request for one channel of another ESS gets, besides the BSSs of that "
            "channel, a report for the DUT's serving BSS on its own channel whenever one of the "
            "serving AP's Beacons reached the DUT while the measurement scan ran. wpa_supplicant 2.10 "
            "filters the scan results of a beacon measurement by update time (8 ms slack) and TSF "
            "BSSID, never by the requested channels (wpas_beacon_rep_scan_process()); mac80211 "
            "refreshes the serving BSS's entry from each of its Beacons heard during a scan, and "
            "mac80211_hwsim delivers the serving channel's frames to an associated STA for the whole "
            "software scan (lab note LAB-HWSIM-SERVING-CHANNEL-DURING-SCAN). At 100 TU beacons that "
            "was the beacon phase's luck (the verdict flipped between runs); BCN-20's serving APs "
            "beacon every 20 TU, so a Beacon always falls inside the 60-100 ms scan and the report "
            "always comes. Confirmed in the evidence: the serving BSS's Reported Frame Body carries "
            "the Timestamp of the serving Beacon sent during the scan, and a run without such a Beacon logs \"RRM: "
            "Ignore scan result for <serving> due to old update\". The debug log of BCN-52 (run "
            "20261207T073635Z) shows the same on 5 GHz: the measurement scan covered 5180-5240 MHz only "
            "('Scan included frequencies: 5180 5200 5220 5240'), cfg80211 returned the associated "
            "02:00:00:00:01:00 on 2412 MHz among its results, and the report that followed named it "
            "with channel 1. In the rows whose requested channels exclude the serving channel (BCN-45, "
            "BCN-46, BCN-52, BCN-53) it happened in every run so far."),
        cases=("BCN-20", "BCN-45", "BCN-46", "BCN-52", "BCN-53", "BCN-54"),
        rules=("BCN-BSSID-MAY",),
        clause=f"{R} 11.10.9.3 (Beacon report)",
        quote="",
        quote_source=NO_2020_TEXT,
        severity="minor",
        severity_reason=(
            "An extra, correctly labelled report (its channel field says where the BSS is), so an AP "
            "can discard it; but it is a BSS that was not measured on a requested channel. On real "
            "radios the serving channel is heard only in the on-channel parts of a scan, so it shows "
            "less often there. The gap (no channel filter) is the supplicant's; how often it shows is "
            "the lab's: mac80211_hwsim lets the STA hear its serving channel for the whole scan, and the "
            "suite's serving APs beacon every 20 TU so it shows every run. BCN-52/53 (a 2.4 GHz Beacon "
            "heard while scanning 5 GHz) cannot happen on one real radio: there they show the missing "
            "filter, not a real-radio occurrence."),
        layer=SUPPLICANT,
        applies_to=(LINUX_WPAS, ESP32_TWIN, WPAS_210),
        upstream=(
            "unchanged as of hostap_2_11 and on main (wpas_beacon_rep_scan_process() has no "
            "frequency filter)"),
        evidence=(
            "BCN-20 case folder: a Beacon Report whose BSSID is the serving AP and whose channel is "
            "the serving channel, not the requested one; its Reported Frame Body's Timestamp is "
            "that of a serving Beacon on the air (air.pcap) sent between the DUT's power-save Null "
            "frame and its return to the channel. BCN-45 (active, AP Channel Report for channels 6 "
            "and 11) and BCN-46 (passive, channel 11) in runs 20261207T071612Z and 20261207T073635Z, "
            "BCN-52/53 (5 GHz, operating class 128) in 20261207T073635Z: a report of the serving AP "
            "02:00:00:00:01:00 with channel 1."),
    ),
    Finding(
        id="WPAS-BTM-TORN-LIST-KEPT",
        title="A torn BTM request's entries are acted on after the next connection; the next request goes unanswered",
        behaviour=(
            "A BTM Request whose last candidate entry's Length runs past the frame (BTM-31) makes "
            "wpa_supplicant 2.10 log 'WNM: Truncated request' and answer nothing, but the entries "
            "it read stay stored, with the source BSS and validity time of the request before it. "
            "After DISCONNECT, REMOVE_NETWORK and a new connection to the same AP within that "
            "validity, the next scan results make it transition to one of those entries and send "
            "a BSS Transition Management Response carrying the torn request's dialog token; the "
            "AP's next request, arriving during that transition, is dropped ('WNM: Ignore "
            "unexpected WNM Action frame') and never answered. The suite now runs BTM-31 last, so "
            "it shows only when a case follows it within the validity of an earlier request."),
        cases=("BTM-32",),
        rules=("BTM-RESPONSE",),
        clause=f"{R} 11.24.7.3 (BSS transition management request)",
        quote=("A non-AP STA that supports BSS transition management shall respond to an individually "
               "addressed BSS Transition Management Request frame with a BSS Transition Management "
               "Response frame."),
        quote_source=(
            "https://ieee802.org/11/email/stds-802-11-tgm/msg02823.html (TGm reflector, 2022: text of "
            "subclause 11.21.7.3 of the P802.11REVme draft, the draft's number for 802.11-2020 "
            "11.24.7.3). Not checked against the 2020 edition itself."),
        severity="minor",
        severity_reason=(
            "Needs a malformed request from the AP first; then the STA moves on a request it never "
            "accepted, in a later association, and leaves the AP's real request unanswered. The "
            "defect is keeping the list parsed from a frame it discarded across DISCONNECT and "
            "REMOVE_NETWORK and answering, in a new association, with that frame's token. Request 54 "
            "came while the STA was mid-transition, where 2.10 ignores WNM Action frames, so the "
            "'shall respond' quote is a weak basis for that part; and the conditions are the suite's "
            "own sequence (an injected malformed request, then the next case within an earlier "
            "request's validity)."),
        layer=SUPPLICANT,
        applies_to=(LINUX_WPAS, WPAS_210),
        upstream=(
            "not checked: hostap_2_11 reorganised the BTM state (e508c070c40e 'WNM: Keep BTM "
            "information until connection completes' and the commits around it); whether that "
            "clears a torn request's entries was not verified"),
        evidence=(
            "runs 20261207T074624Z and 20261207T075853Z, BTM-32 on linux-wpas (BTM-30, BTM-31, BTM-32 "
            "in a row): the debug log's 'Send BSS Transition Management Response ... dialog_token=53' "
            "(BTM-31's token) before BTM-32's request (token 54) and 'Ignore unexpected WNM Action "
            "frame' after it; the capture has the token-53 response and none for 54. In run "
            "20261207T075128Z (BTM-31 and BTM-32 alone) the kept list had no earlier validity and "
            "was dropped ('not valid anymore')."),
    ),
)

WITHDRAWN: tuple[Withdrawn, ...] = (
    Withdrawn(
        id="WPAS-DORMANT-MEDIA",
        title="Operstate DORMANT read as a media disconnect on every roam (IND-6)",
        was=("FT-02..04, BTM roams, IND-06/07: wpa_supplicant sets the interface DORMANT (the OS sees "
             "RUNNING drop) on every roam, FT included, and UP again after it: a media "
             "disconnect/connect across a successful roam. Clause: IND-6."),
        reason=(
            "wpa_supplicant's operstate DORMANT/UP is the 802.1X port-authorization state, not media "
            "connect; on Linux media connect is carrier (IFF_LOWER_UP) and nl80211 "
            "CONNECT/ROAM/DISCONNECT. The link does drop during these roams, but mac80211 drops it "
            "(kernel layer): replaced by LINUX-MAC80211-CARRIER-DROP."),
    ),
    Withdrawn(
        id="WPAS-FT-DS-NOT-OFFERED",
        title="FT_DS although both APs advertise FT over the DS = 0 (FT-06)",
        was=("FT-06: `FT_DS` sends an FT Action Request although both APs advertise FT over the DS as "
             "0; the roam then never closes. Clause: IEEE 802.11-2020 13.6, 9.4.2.46; IND-2."),
        reason=(
            "Test stimulus, not the DUT: `FT_DS <bssid>` is an operator command that forces an FT over "
            "the DS attempt, and wpa_supplicant's own roaming never chooses FT over the DS. hostap's "
            "test_ap_ft_over_ds_disabled issues FT_DS with ft_over_ds=0 on both APs, expects the "
            "command to answer OK and the AP to drop the request (no connection), and still does in "
            "hostap_2_11. The open roam is the adapter's reading of a command-started attempt that "
            "got no answer."),
    ),
    Withdrawn(
        id="WPAS-NO-RETRY-AFTER-FORCED-ROAM",
        title="No retry after a failed roam while the link looks good (IND-05)",
        was="IND-05: after a failed roam the DUT does not retry while its link looks good. Clause: IND-8.",
        reason=(
            "Test stimulus, not the DUT: the failed roam was forced by the test's command toward a "
            "target set up to fail. IND-8's periodic retry applies to roaming operations the station "
            "itself started; a station whose link is good has no roaming operation of its own to "
            "retry, and re-running an operator's command is not the station's job."),
    ),
    Withdrawn(
        id="ESP32-TWIN-BREAK-BEFORE-MAKE",
        title="esp32-twin: break-before-make BTM roams with reason 12 (IND-6)",
        was=("esp32-twin BTM roams: the ESP32 roaming example roams break-before-make (`run -> init`, "
             "reason 12, new IP), as the real board log in `shared/data/esp32` shows. Clause: IND-6."),
        reason=(
            "Circular: the twin prints the reason-12 disconnect itself, because it imitates the "
            "roaming example by design. The real board log (shared/data/esp32/"
            "roaming_example_btm_roam.log) has `wifi:state: run -> init (0)`, then init -> auth -> "
            "assoc -> run, `wifi:connected with ...` and a new `sta ip:` line, but no disconnect "
            "line and no reason 12. A real board's roam is judged from its own lines."),
    ),
    Withdrawn(
        id="WPAS-BTM-ESS-ACCEPT-ZERO-TARGET",
        title="ESS disassociation imminent without candidates answered status 0, Target BSSID zero (BTM-17)",
        was=("BTM-17: ESS disassociation imminent without candidates is answered status 0 with Target "
             "BSSID 00:00:00:00:00:00, and the DUT stays. Clause: IEEE 802.11-2020 9.6.13.10."),
        reason=(
            "Allowed by the oracle: deliberate wpa_supplicant behaviour since long before 2.10 (a "
            "Target BSSID is present whenever the status is 0; no target is known), unchanged in "
            "hostap_2_11. hostap's test_wnm_bss_tm_req sends ESS Disassociation Imminent (mode 0x10, a "
            "Session Information URL, no candidates) and asserts status 0; 9.6.13.10 requires the "
            "Target BSSID field whenever the status is 0 and no clause forbids accepting an ESS "
            "disassociation. The oracle now accepts status 0 with the zero Target BSSID for ESS "
            "Disassociation Imminent without candidates only (docs/calibration.md)."),
    ),
    Withdrawn(
        id="WPAS-BCN-RESERVED-DETAIL-SILENT",
        title="Reserved reporting detail gets no answer (BCN-19)",
        was="BCN-19: a reserved reporting detail (3) gets no answer. Clause: IEEE 802.11-2020 11.10.6.",
        reason=("Allowed by the oracle: a request with a reserved Reporting Detail is malformed, and "
                "hostap's test_rrm_beacon_req_table_detail requires no response to 'Reporting "
                "Detail 3 (invalid)'."),
    ),
    Withdrawn(
        id="WPAS-FT-DS-UNANSWERED-OPEN",
        title="An FT over the DS request that gets no answer is never given up (FT-06)",
        was=("FT-06: after the forced FT_DS toward APs that advertise FT over the DS = 0, the roaming "
             "operation opened at the FT Request (ROAMING_START, ASSOCIATION_START) never closes. "
             "Clause: IND-2, IND-3."),
        reason=(
            "The adapter opened that operation at a log line of the FT Request the test forced; no "
            "association started (the STA stays COMPLETED with its AP) and the AP dropped the request "
            "as the scenario intends. hostap's test_ap_ft_over_ds_disabled accepts the silence that "
            "follows. IND-2/IND-3 are INFO (test stimulus) in that case."),
    ),
)

# BCN-18 stays a finding: the oracle accepts Refused or Incapable for a zero-duration request
# but not silence (docs/calibration.md says why). Were silence ever accepted, this is its withdrawal.
WITHDRAW_IF_ACCEPTED: dict[str, Withdrawn] = {
    "WPAS-BCN-ZERO-DURATION-SILENT": Withdrawn(
        id="WPAS-BCN-ZERO-DURATION-SILENT",
        title="Zero-duration beacon request gets no answer (BCN-18)",
        was="BCN-18: a zero-duration beacon request gets no report, refusal or incapable indication. "
            "Clause: IEEE 802.11-2020 11.10.6.",
        reason=("Allowed by the oracle: hostap's test_rrm_beacon_req_active_zero_duration requires "
                "that no Beacon report is sent for a zero measurement duration."),
    ),
}

REFERENCE_NOTES: tuple[ReferenceNote, ...] = (
    ReferenceNote(
        id="HOSTAPD-BTM-QUERY-EMPTY",
        title="hostapd 2.10 answers a BTM Query itself with an empty candidate list",
        layer=REFERENCE_AP,
        text=("A BSS Transition Management Query gets a BSS Transition Management Request without a "
              "candidate list from hostapd itself (the BSS-TM-QUERY event is informational)."),
        source=("hostapd 2.10 source: ieee802_11_rx_bss_trans_mgmt_query() ends with "
                "ieee802_11_send_bss_trans_mgmt_request(hapd, addr, dialog_token), which builds no "
                "candidate list."),
    ),
    ReferenceNote(
        id="HOSTAPD-FT-PULL-STATUS-0",
        title="hostapd 2.10 answers a failed FT key pull with status 0",
        layer=REFERENCE_AP,
        text=("After a failed R0KH-R1KH key pull (FT-07, mismatched keys) hostapd sends an FT Response "
              "with status 0, which the DUT rejects."),
        source="carried over from the earlier README; not re-checked for this registry",
    ),
    ReferenceNote(
        id="HOSTAPD-FT-NO-R0KH-STATUS-53",
        title="hostapd 2.10 refuses an FT authentication at once (status 53) when it knows no R0KH to pull from",
        layer=REFERENCE_AP,
        text=("A target whose r0kh/r1kh lists name no key holder of the DUT's R0KH-ID, and that derives no "
              "PMK-R1 locally (ft_psk_generate_local=0), answers FT message 2 at once with status 53 "
              "(INVALID_PMKID), over the air and over the DS: no RRB pull is sent, so nothing waits for a "
              "pull timeout. FT-12 and FT-13 use this to make a failed PMK-R1 pull without timing."),
        source="FT-12/FT-13 on the virtual lab (December 2026): FT Authentication seq 2 and FT Action Response with status 53",
    ),
    ReferenceNote(
        id="HOSTAPD-FT-DEADLINE-IN-M3",
        title="hostapd 2.10 announces the reassociation deadline in 4-way message 3, not in FT message 2",
        layer=REFERENCE_AP,
        text=("hostapd puts TIE[ReassociationDeadline] (its reassociation_deadline, TUs) and TIE[KeyLifetime] in "
              "the Key Data of message 3 of the initial mobility domain association's 4-way handshake, wrapped "
              "with the KEK; its FT Authentication and FT Action Responses carry no TIE. The oracle reads the "
              "deadline from either place (engine/ft/transition.py)."),
        source=("FT-14/FT-15 on the virtual lab: message 2 without TIE; M3 unwrapped with the oracle's KEK gives "
                "1000 TUs, the configured value; hostapd's wpa_auth.c writes both TIEs after the FTE in M3"),
    ),
    ReferenceNote(
        id="HOSTAPD-BSS-TERM-TSF",
        title="hostapd 2.10 ignores the TSF of bss_term",
        layer=REFERENCE_AP,
        text=("The BSS Termination TSF given to BSS_TM_REQ bss_term=<tsf>,<min> is not used: the "
              "BSS Termination Duration subelement always carries TSF 0, only the duration is "
              "taken."),
        source=("hostapd 2.10 source: the bss_term= parser in hostapd/ctrl_iface.c zeroes the "
                "8 TSF octets ('TODO: TSF configurable/learnable') and reads only the minutes "
                "after the comma."),
    ),
    ReferenceNote(
        id="LAB-FT-AUTH-TIMEOUT",
        title="Under heavy CPU load an FT authentication can time out and end with status 55",
        layer=LAB,
        text=("With several VMs on two cores hostapd can take longer than mac80211's authentication "
              "timeout (about 100 ms; the recorded repeat came 136 ms after the first request) to answer "
              "an FT authentication; the repeated request gets a second ANonce, the STA goes on with "
              "the first and the reassociation fails with status 55. The oracle puts those FAILs on the "
              "reference AP, with the frames (engine/ft/checks.py _slow_ap, "
              "tests/data/rejudge/FT-02-slow-ap); the AP logs live on the VM's tmpfs to keep hostapd fast."),
        source="carried over from the earlier README (lab runs under load); not re-checked for this registry",
    ),
    ReferenceNote(
        id="LAB-HWSIM-SERVING-CHANNEL-DURING-SCAN",
        title="mac80211_hwsim lets an associated STA hear its serving channel while it scans another",
        layer=LAB,
        text=("A hwsim radio receives a frame sent on its current channel, its temporary (hardware "
              "scan / remain-on-channel) channel, or the channel of any of its interfaces' channel "
              "contexts. An associated STA doing a software scan of another channel therefore still "
              "hears its serving AP's Beacons, and mac80211 (which feeds every Beacon heard during a "
              "scan to cfg80211) refreshes the serving BSS's entry. A real radio tuned to the scanned "
              "channel would not. It makes BCN-20's extra report (WPAS-BCN-SERVING-BSS-UNREQUESTED-CHANNEL) "
              "depend on whether a serving Beacon falls inside the scan, which BCN-20 fixes with "
              "20 TU beacons."),
        source=("Linux mac80211_hwsim.c: mac80211_hwsim_tx_frame_no_nl() delivers when "
                "hwsim_chans_compat() matches tmp_chan or channel, else asks mac80211_hwsim_tx_iter() "
                "whether an interface's chanctx_conf is on the frame's channel; lab runs of BCN-20 "
                "(December 2026): the serving BSS's Beacon Report carries, in its Reported Frame Body, "
                "the Timestamp of a serving Beacon sent after the STA's Probe Request on the scanned "
                "channel and before its return."),
    ),
)


def claims(f: Finding, case_id: str, rule: str) -> bool:
    """f's rules name this rule in this case: a pattern ("DP-LOSS-*"), or "CASE:pattern"
    for a rule the finding explains in that case only."""
    if case_id not in f.cases:
        return False
    for r in f.rules:
        only, _, pattern = r.rpartition(":")
        if (not only or only == case_id) and fnmatchcase(rule, pattern):
            return True
    return False


def match(case_id: str, rule: str, dut: str, layer: str | None = None) -> Finding | None:
    """The registry entry a FAIL of `rule` in case `case_id` on DUT `dut` is, if any. With the
    verdict's layer, only an entry of that layer: a report never names a kernel finding for a
    verdict that blames the supplicant."""
    for f in FINDINGS:
        if dut in f.applies_to and claims(f, case_id, rule) and (layer is None or layer == f.layer):
            return f
    return None


def by_id(finding_id: str) -> Finding:
    for f in FINDINGS:
        if f.id == finding_id:
            return f
    raise KeyError(f"unknown finding {finding_id!r}; known: {', '.join(f.id for f in FINDINGS)}")


# --- checks (run at import: a malformed registry must not load) ---

# Numbers that only IEEE 802.11-2016 uses for what this registry cites: radio measurement
# (11.11.x, 2020: 11.10.x), WNM action frames (9.6.14.x, 2020: 9.6.13.x), the Measurement
# Report element (9.4.2.22, 2020: 9.4.2.21).
_OLD_NUMBERS = re.compile(r"(?<![\d.])(11\.11\.\d|9\.6\.14\.|9\.4\.2\.22\b)")
_IEEE_EDITION = re.compile(r"IEEE (?:Std )?802\.11-(\d{4})")
_CASE_ID = re.compile(r"^[A-Z]+-\d{2}$")


def problems(findings: tuple[Finding, ...] | None = None,
             withdrawn: tuple[Withdrawn, ...] | None = None) -> list[str]:
    """What is wrong with the registry (or the entries given instead); empty when it is sound."""
    fs = FINDINGS if findings is None else findings
    ws = WITHDRAWN if withdrawn is None else withdrawn
    out = []
    ids = [f.id for f in fs] + [w.id for w in ws]
    for i in sorted({i for i in ids if ids.count(i) > 1}):
        out.append(f"id {i} used more than once")
    for f in fs:
        if f.severity not in SEVERITIES:
            out.append(f"{f.id}: severity {f.severity!r} not in {SEVERITIES}")
        if f.layer not in LAYERS:
            out.append(f"{f.id}: layer {f.layer!r} not in {LAYERS}")
        if not (f.cases and f.rules and f.applies_to):
            out.append(f"{f.id}: cases, rules and applies_to must not be empty")
        out += [f"{f.id}: case id {c!r} is not like 'FT-05'" for c in f.cases if not _CASE_ID.match(c)]
        if not f.quote and not f.quote_source:
            out.append(f"{f.id}: no quote and no statement why")
        if f.quote and not f.quote_source:
            out.append(f"{f.id}: a quote without its source")
        for text in (f.clause, f.quote_source, f.title):
            for ed in _IEEE_EDITION.findall(text):
                if ed != "2020":
                    out.append(f"{f.id}: cites IEEE 802.11-{ed}; clauses are cited in 802.11-2020 form")
        if _OLD_NUMBERS.search(f.clause):
            out.append(f"{f.id}: clause {f.clause!r} uses an 802.11-2016 number")
        guideline = re.fullmatch(r"IND-\d", f.clause)
        if guideline:
            r = rule(f.clause)  # raises for an unknown rule id
            if f.quote and f.quote not in r.quotes:
                out.append(f"{f.id}: quote is not one of {f.clause}'s verbatim guideline quotes")
        elif not f.clause.startswith(R + " "):
            out.append(f"{f.id}: clause {f.clause!r} is neither '{R} <number> (<title>)' nor a "
                       f"{GUIDELINES} rule id")
    for w in tuple(ws) + tuple(WITHDRAW_IF_ACCEPTED.values()):
        if not (w.was and w.reason):
            out.append(f"{w.id}: withdrawn without what it was and why")
    for k, w in WITHDRAW_IF_ACCEPTED.items():
        if k != w.id or k not in {f.id for f in FINDINGS}:
            out.append(f"WITHDRAW_IF_ACCEPTED[{k!r}] does not name its own finding")
    for n in REFERENCE_NOTES:
        if n.layer not in LAYERS:
            out.append(f"{n.id}: layer {n.layer!r} not in {LAYERS}")
    seen: dict[tuple[str, str, str], str] = {}
    for f in fs:  # one FAIL is one finding: no (case, rule, DUT) claimed twice
        for key in ((c, r, d) for c in f.cases for r in f.rules for d in f.applies_to):
            if key in seen:
                out.append(f"{f.id} and {seen[key]} both claim {key}")
            seen.setdefault(key, f.id)
    return out


_bad = problems()
if _bad:
    raise ValueError("engine.findings is inconsistent:\n" + "\n".join(_bad))
