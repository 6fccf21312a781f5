"""The findings registry (engine.findings) and its renderings (reports.findings_table).

Independent truth: the guideline quotes are looked up in the seeds file itself, the rule
and case ids in the suites and engine sources that emit them, the esp32 withdrawal in the
real board log; the README and docs/findings.md must hold exactly what the registry renders."""
from __future__ import annotations

import dataclasses
import importlib
import re
from pathlib import Path

import pytest

from engine import findings as F
from engine.clauses import GUIDELINES_FILE
from fixtures.case import CaseSpec
from reports import findings_table as T
from shared_data import SHARED

ROOT = Path(__file__).resolve().parent.parent
SEED = Path(str(SHARED) + "/seeds") / GUIDELINES_FILE
BOARD_LOG = Path(str(SHARED) + "/data/esp32/roaming_example_btm_roam.log")


def suite_case_ids() -> set[str]:
    ids = set()
    for p in sorted((ROOT / "suites").glob("test_*.py")):
        mod = importlib.import_module(f"suites.{p.stem}")
        for value in vars(mod).values():
            if isinstance(value, list) and value and all(isinstance(v, CaseSpec) for v in value):
                ids |= {v.id for v in value}
    return ids


def verdict_sources() -> str:
    return "\n".join(p.read_text() for d in ("engine", "suites") for p in sorted((ROOT / d).rglob("*.py"))
                     if p.name != "findings.py")


# --- the registry ---

def test_registry_is_sound():
    assert F.problems() == []
    # 9 entries at first; BTM-17 and BCN-19 were withdrawn when the oracle was calibrated (docs/calibration.md)
    assert len({f.id for f in F.FINDINGS}) == len(F.FINDINGS) >= 7


def test_guideline_quotes_are_verbatim_in_the_seeds_file():
    seed = SEED.read_text()
    guideline = [f for f in F.FINDINGS if re.fullmatch(r"IND-\d", f.clause)]
    assert guideline, "the kernel carrier finding quotes IND-6"
    for f in guideline:
        assert f.quote and f.quote in seed, f.id
    # the IND-6 sentence as a reader can find it in the file (markdown escapes and all)
    assert "the miniport driver must not make a status indication of NDIS\\_STATUS\\_MEDIA\\_CONNECT" \
        in F.by_id("LINUX-MAC80211-CARRIER-DROP").quote


def test_every_case_id_is_a_real_case():
    known = suite_case_ids()
    for f in F.FINDINGS:
        assert set(f.cases) <= known, (f.id, set(f.cases) - known)


def test_every_rule_is_a_verdict_the_oracle_or_a_suite_emits():
    src = verdict_sources()
    for f in F.FINDINGS:
        for r in f.rules:
            literal = '"' + r.rpartition(":")[2].rstrip("*")  # "BTM-RESPONSE", or the prefix f"DP-LOSS-{n}"
            assert literal in src, (f.id, r)


def test_match_names_the_finding_of_a_fail():
    assert F.match("FT-05", "FT-MD-NO-FT", "linux-wpas").id == "WPAS-FT-OTHER-MD"
    assert F.match("FT-08", "DP-LOSS-2", "linux-wpas").id == "LINUX-ARP-EVICT-NOCARRIER"
    assert F.match("FT-08", "IND-6", "linux-wpas").id == "LINUX-MAC80211-CARRIER-DROP"
    # with the neighbour entries kept (FT-09), the largest span left is the supplicant's port
    assert F.match("FT-09", "DP-LOSS-1", "linux-wpas", "supplicant").id == "WPAS-FT-PORT-OPENS-LATE"
    # a report never names an entry of another layer than the verdict's
    assert F.match("FT-08", "IND-6", "linux-wpas", "supplicant") is None
    assert F.match("FT-08", "IND-6", "linux-wpas", "kernel/driver").id == "LINUX-MAC80211-CARRIER-DROP"
    assert F.match("BTM-12", "BTM-RESPONSE", "wpa_supplicant 2.10").id == "WPAS-BTM-EXPIRED-NO-RESPONSE"


@pytest.mark.parametrize("case, rule, dut", [
    ("FT-05", "FT-MD-NO-FT", "esp32"),        # another DUT
    ("FT-05", "FT-MD-NO-FT-ACTION", "linux-wpas"),  # a rule the finding does not explain
    ("FT-06", "FT-DS-NOT-OFFERED", "linux-wpas"),   # withdrawn: test stimulus
    ("IND-05", "IND-8", "linux-wpas"),               # withdrawn: test stimulus
    ("FT-08", "DP-BASELINE", "linux-wpas"),          # the family wildcard is DP-LOSS-* only
])
def test_match_returns_none_for_what_no_finding_explains(case, rule, dut):
    assert F.match(case, rule, dut) is None


def test_withdrawn_entries_are_not_findings():
    assert {w.id for w in F.WITHDRAWN}.isdisjoint(f.id for f in F.FINDINGS)
    assert {"WPAS-FT-DS-NOT-OFFERED", "WPAS-NO-RETRY-AFTER-FORCED-ROAM", "ESP32-TWIN-BREAK-BEFORE-MAKE",
            "WPAS-DORMANT-MEDIA"} <= {w.id for w in F.WITHDRAWN}
    assert set(F.WITHDRAW_IF_ACCEPTED) <= {f.id for f in F.FINDINGS}


def test_esp32_withdrawal_says_what_the_real_board_log_says():
    """The board log read by a person: a state change run -> init, a new IP, and neither a
    disconnect line nor reason 12 (that came from the twin)."""
    lines = BOARD_LOG.read_text().splitlines()
    assert any("wifi:state: run -> init (0)" in x for x in lines)
    assert any("sta ip:" in x for x in lines)
    assert not any(re.search(r"disconnect", x, re.I) for x in lines)
    assert not any(re.search(r"reason[= ]12\b", x) for x in lines)
    w = next(w for w in F.WITHDRAWN if w.id == "ESP32-TWIN-BREAK-BEFORE-MAKE")
    assert "no disconnect line and no reason 12" in w.reason


# --- the checks can fail ---

def _one(**changes) -> F.Finding:
    return dataclasses.replace(F.by_id("WPAS-BTM-EXPIRED-NO-RESPONSE"), **changes)


@pytest.mark.parametrize("changes, complaint", [
    ({"severity": "critical"}, "severity"),
    ({"layer": "wpa_supplicant"}, "layer"),
    ({"clause": "IEEE 802.11-2016 11.24.7.3 (BSS transition management request)"}, "802.11-2016"),
    ({"clause": "IEEE 802.11-2020 11.11.9.3 (Beacon report)"}, "802.11-2016 number"),
    ({"clause": "IEEE 802.11-2020 9.6.14.10 (BTM response)"}, "802.11-2016 number"),
    ({"clause": "section 11.24.7.3"}, "neither"),
    ({"quote": "invented words", "quote_source": ""}, "without its source"),
    ({"quote": "", "quote_source": ""}, "no quote"),
    ({"cases": ("btm12",)}, "case id"),
    ({"rules": ()}, "must not be empty"),
])
def test_problems_catches_a_bad_entry(changes, complaint):
    found = F.problems(findings=(_one(**changes),), withdrawn=())
    assert any(complaint in p for p in found), found


def test_problems_catches_a_guideline_quote_that_is_not_the_rules():
    carrier = F.by_id("LINUX-MAC80211-CARRIER-DROP")
    bad = dataclasses.replace(carrier, quote="the link must never go down")
    assert any("verbatim guideline" in p for p in F.problems(findings=(bad,), withdrawn=()))


def test_problems_catches_duplicates_and_double_claims():
    a = _one()
    twin = dataclasses.replace(a, id="OTHER")
    found = F.problems(findings=(a, a), withdrawn=())
    assert any("used more than once" in p for p in found)
    assert any("both claim" in p for p in F.problems(findings=(a, twin), withdrawn=()))


# --- the renderings ---

def test_readme_findings_section_is_the_rendered_registry():
    assert T.readme_section((ROOT / "README.md").read_text()) == T.markdown()


def test_docs_findings_is_the_rendered_long_form():
    assert (ROOT / "docs" / "findings.md").read_text() == T.long_form()


def test_table_has_one_row_per_finding_and_lists_every_withdrawal():
    md = T.markdown()
    rows = [x for x in md.splitlines() if x.startswith("| ") and not x.startswith("| case(s)")
            and not x.startswith("| ---")]
    assert len(rows) == len(F.FINDINGS)
    for f, row in zip(F.FINDINGS, rows):
        assert f"`{f.id}`" in row and f"| {f.layer} | {f.severity} |" in row
    for w in F.WITHDRAWN:
        assert f"`{w.id}`" in md
    long = T.long_form()
    for f in F.FINDINGS:
        assert f"## {f.id}: " in long and f.behaviour in long and f.severity_reason in long


def test_readme_without_markers_is_a_clear_error():
    with pytest.raises(ValueError, match="findings:begin"):
        T.readme_section("# README\nno markers here\n")


@pytest.mark.parametrize("cases, text", [
    (("FT-02", "FT-03", "FT-04", "FT-08"), "FT-02..04, FT-08"),
    (("BCN-01", "BCN-10"), "BCN-01, BCN-10"),
    (("IND-06", "BTM-07", "BTM-08"), "IND-06, BTM-07..08"),
])
def test_case_runs_are_compressed(cases, text):
    assert T.cases_text(cases) == text


@pytest.mark.parametrize("upstream, text", [
    ("fixed in hostap abc123 'FT: Subject' (Jouni, 2022; first in hostap_2_11): more",
     "fixed in hostap_2_11 (abc123 'FT: Subject')"),
    ("unchanged as of hostap_2_11 (details)", "unchanged as of hostap_2_11"),
    ("n/a: Linux kernel behaviour", "n/a (kernel)"),
])
def test_upstream_in_a_few_words(upstream, text):
    assert T.upstream_text(upstream) == text
