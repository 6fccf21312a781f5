"""A slow reference AP is the lab's fault, not the DUT's: recorded on the virtual lab under
load (tests/data/lab/README.md, rejudge/FT-02-slow-ap), hostapd answered a repeated FT
Authentication twice with two ANonces and refused the reassociation with status 55."""
from __future__ import annotations

from pathlib import Path

from reports.rejudge import judge_folder

DATA = Path(__file__).parent / "data" / "rejudge"


def test_repeated_ft_authentication_answered_twice_is_the_labs_fault():
    _, vs = judge_folder(DATA / "FT-02-slow-ap")
    fails = {v.rule: v for v in vs if v.status == "fail"}
    status = fails["FT-REASSOC-STATUS"]
    assert status.observed == "status 55" and status.layer == "lab"
    assert "frames 92, 97, same SNonce" in status.message and "frames 101, 105" in status.message
    # the roam that did not complete follows from it
    assert fails["ROAM-COMPLETED"].layer == "lab" and "FT-" in fails["ROAM-COMPLETED"].message
    assert not [v for v in vs if v.status == "fail" and v.layer not in ("lab",)], \
        [(v.rule, v.layer) for v in vs if v.status == "fail"]


def test_a_normal_ft_roam_has_no_lab_fault():
    _, vs = judge_folder(DATA / "SMOKE-02-linux-wpas")
    assert not [v for v in vs if v.layer == "lab"]
    assert not [v for v in vs if v.status == "fail"]
