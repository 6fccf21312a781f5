"""The coverage matrix (reports/coverage_matrix.py): read from the suites' case tables, kept in
sync in README.md and docs/coverage.md, and shown in the certificate with the run's counts."""
from __future__ import annotations

from pathlib import Path

import pytest

import fake_runs as fr
from fixtures.case import CaseSpec
from reports import certificate
from reports import coverage_matrix as cov
from reports import profile as pf
from reports import summary as sm

ROOT = Path(__file__).resolve().parent.parent
R = "IEEE 802.11-2020 "


def spec(cid, epic, feature, story, reqs):
    return CaseSpec(cid, f"title {cid}", epic, feature, story, tuple(reqs))


TABLE = [
    spec("BTM-02", "802.11v", "BSS Transition Management", "Disassociation imminent", (R + "11.24.7.3", "IND-6")),
    spec("NR-01", "802.11k", "Neighbor report", "Solicited", (R + "11.10.10.2", R + "9.4.2.36")),
    spec("BTM-01", "802.11v", "BSS Transition Management", "Candidate list", (R + "11.24.7.3",)),
    spec("BTM-03", "802.11v", "BSS Transition Management", "Disassociation imminent", (R + "9.6.13.9", "IND-2")),
    spec("FT-01", "802.11r", "FT-PSK", "Initial association", (R + "13.4",)),
]


def test_readme_coverage_section_is_the_rendered_matrix():
    assert cov.readme_section((ROOT / "README.md").read_text()) == cov.markdown(), \
        "README.md's coverage section is stale: run .venv/bin/python -m reports.coverage_matrix"


def test_docs_coverage_is_the_rendered_long_form():
    assert (ROOT / "docs" / "coverage.md").read_text() == cov.long_form(), \
        "docs/coverage.md is stale: run .venv/bin/python -m reports.coverage_matrix"


def test_every_case_of_the_tables_is_in_exactly_one_sub_feature():
    rows = cov.specs()
    subs = cov.matrix(rows)
    placed = [c for s in subs for c in s.cases]
    assert sorted(placed) == sorted({s.id for s in rows})
    for s in rows:
        (sub,) = [x for x in subs if s.id in x.cases]
        assert (sub.epic, sub.feature, sub.story) == (s.epic, s.feature, s.story)
        assert set(s.requirements) <= set(sub.requirements)


def test_matrix_groups_by_family_feature_and_story_in_family_order():
    subs = cov.matrix(TABLE)
    assert [(s.epic, s.feature, s.story, s.cases) for s in subs] == [
        ("802.11k", "Neighbor report", "Solicited", ["NR-01"]),
        ("802.11v", "BSS Transition Management", "Disassociation imminent", ["BTM-02", "BTM-03"]),
        ("802.11v", "BSS Transition Management", "Candidate list", ["BTM-01"]),
        ("802.11r", "FT-PSK", "Initial association", ["FT-01"]),
    ]
    assert subs[1].requirements == [R + "11.24.7.3", "IND-6", R + "9.6.13.9", "IND-2"]


def test_a_row_added_to_a_table_shows_up_without_touching_the_generator():
    grown = TABLE + [spec("BTM-04", "802.11v", "BSS Transition Management", "Malformed request", (R + "9.6.13.9",))]
    md = cov.markdown(cov.matrix(grown))
    assert "| 802.11v | BSS Transition Management | 3: Disassociation imminent; Candidate list; Malformed request " \
           "| BTM-01..04 | 9.6.13.9, 11.24.7.3, IND-2, IND-6 |" in md
    assert "| 802.11v | BSS Transition Management | Malformed request | BTM-04 | 9.6.13.9 |" in cov.long_form(cov.matrix(grown))


def test_rule_ids_no_case_names_are_listed_as_not_covered():
    md = cov.markdown(cov.matrix(TABLE))
    line = [x for x in md.splitlines() if x.startswith("Indication rules no case names")][0]
    assert "IND-2" not in line and "IND-6" not in line
    for rid in ("IND-1", "IND-3", "IND-9"):
        assert rid in line


@pytest.mark.parametrize("ids,text", [
    (["FT-04", "FT-02", "FT-03", "BTM-01"], "FT-02..04, BTM-01"),
    (["BCN-01", "BCN-03", "BCN-02", "BCN-05"], "BCN-01..03, BCN-05"),
    (["SMOKE-02", "weird id"], "SMOKE-02, weird id"),
])
def test_case_lists_are_compressed(ids, text):
    assert cov.cases_text(ids) == text


def test_run_coverage_counts_what_the_run_did():
    cases = [fr.case("BTM-02", "passed"), fr.case("BTM-03", "failed", fails=[("BTM-X", "supplicant")]),
             fr.case("NR-01", "skipped"), fr.case("XTRA-01", "passed", family="Lab")]
    rows = {(r["family"], r["story"]): r for r in cov.run_coverage(cases, cov.matrix(TABLE))}
    di = rows[("802.11v", "Disassociation imminent")]
    assert (di["total"], di["ran"], di["passed"], di["failed"], di["skipped"], di["not_run"], di["status"]) == \
        (2, 2, 1, 1, 0, 0, "failed")
    nr = rows[("802.11k", "Solicited")]
    assert (nr["ran"], nr["skipped"], nr["not_run"], nr["status"]) == (0, 1, 0, "skipped")
    ft = rows[("802.11r", "Initial association")]
    assert (ft["ran"], ft["not_run"], ft["status"]) == (0, 1, "not run")
    extra = rows[("Lab", "s")]  # a case outside the tables gets its own row
    assert extra["cases"] == ["XTRA-01"] and extra["passed"] == 1


def test_certificate_shows_the_matrix_with_the_run_counts(tmp_path):
    run = fr.write_run(tmp_path / "r", fr.basic_cases())
    data = sm.load(run)
    html = certificate.render(data, run, "linux-wpas", pf.load("roaming-basic"))
    assert '<h2 id="coverage">Coverage matrix</h2>' in html
    sec = html[html.index('id="coverage"'):html.index("Summary by requirement")]
    for sub in cov.matrix():
        assert sub.story in sec or sub.story.replace("'", "&#39;") in sec
    # FT-PSK "Initial mobility domain association" has FT-01 and SMOKE-01, both passed in this run
    row = [r for r in sec.split("<tr") if "Initial mobility domain association" in r][0]
    cells = [c.split(">", 1)[1].split("<")[0] for c in row.split("<td")[1:]]
    assert cells[-6:] == ["2", "2", "0", "0", "0", "0"]
    # one heading row per feature, naming its family
    assert sec.count('<tr class="group">') == len(cov.features(cov.matrix()))
    assert "802.11r · FT-PSK" in sec


def test_readme_without_markers_is_a_clear_error():
    with pytest.raises(ValueError, match="coverage:begin"):
        cov.readme_section("# README\n")
