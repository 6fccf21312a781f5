"""The engine's frame decoding against Wireshark's dissectors, field by field, on the
lab captures (tests/data/lab/*.pcap): BTM request/response, RM beacon request/report,
and the FT frames (authentication, FT Action, reassociation: MDE and FTE).

tshark output (-T ek) is the independent truth; the engine side uses engine.capture,
engine.frames.convert and engine.frames.elements.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from engine import ies
from engine.capture import Reader
from engine.frames import classify, convert
from engine.frames import elements as el

LAB = Path(__file__).parent / "data" / "lab"
BTM_RM, FT = LAB / "btm_rm.pcap", LAB / "ft_air_ds.pcap"

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None,
                                reason="tshark is not installed (Debian package tshark)")


def tshark(path: Path, dfilter: str) -> dict[int, dict]:
    """frame number -> every field of the frame's wlan layers, keyed as -T ek names them."""
    r = subprocess.run(["tshark", "-r", str(path), "-Y", dfilter, "-T", "ek"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.splitlines():
        d = json.loads(line)
        if "layers" not in d:
            continue
        fields = {}
        for name, layer in d["layers"].items():
            if name.startswith("wlan") and isinstance(layer, dict):
                fields.update(layer)
        out[int(d["layers"]["frame"]["frame_frame_number"])] = fields
    return out


def many(d: dict, key: str) -> list[str]:
    v = d.get("wlan_wlan_" + key)
    if v is None:
        return []
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


def one(d: dict, key: str) -> str:
    v = many(d, key)
    assert len(v) == 1, f"{key}: {v}"
    return v[0]


def num(s: str) -> int:
    return int(s, 0)


def hexcolon(s: str) -> bytes:
    return bytes.fromhex(s.replace(":", ""))


def engine_frames(path: Path, *kinds: str) -> dict[int, bytes]:
    return {f.index: f.raw for f in Reader(path) if classify(f.raw) in kinds}


def need(path: Path):
    if not path.exists():
        pytest.skip(f"lab capture {path.name} not present")


# --- BTM ---------------------------------------------------------------------------------

def check_candidates(d: dict, cands) -> None:
    assert many(d, "nreport_bssid") == [c.bssid for c in cands]
    assert [num(x) for x in many(d, "nreport_bssid_info")] == [c.bssid_info for c in cands]
    assert [num(x) for x in many(d, "nreport_opeclass")] == [c.op_class for c in cands]
    assert [num(x) for x in many(d, "nreport_channumber")] == [c.channel for c in cands]
    assert [num(x) for x in many(d, "nreport_phytype")] == [c.phy_type for c in cands]
    assert [num(x) for x in many(d, "nreport_subelem_bss_trn_can_pref")] == \
        [c.preference for c in cands if c.preference is not None]


def test_btm_frames():
    need(BTM_RM)
    ts = tshark(BTM_RM, "wlan.fixed.category_code == 10 && "
                        "(wlan.fixed.action_code == 7 || wlan.fixed.action_code == 8)")
    eng = engine_frames(BTM_RM, "btm_request", "btm_response")
    assert sorted(ts) == sorted(eng) and len(eng) == 4
    tokens, statuses, targets = [], [], []
    for n, raw in sorted(eng.items()):
        d = ts[n]
        if classify(raw) == "btm_request":
            rq = convert.btm_request_from(raw)
            assert num(one(d, "fixed_dialog_token")) == rq.dialog_token
            assert num(one(d, "fixed_request_mode_pref_cand")) == int(rq.pref_list)
            assert num(one(d, "fixed_request_mode_abridged")) == int(rq.abridged)
            assert num(one(d, "fixed_request_mode_disassoc_imminent")) == int(rq.disassoc_imminent)
            assert num(one(d, "fixed_request_mode_bss_term_included")) == int(rq.bss_term_included)
            assert num(one(d, "fixed_disassoc_timer")) == rq.disassoc_timer
            assert num(one(d, "fixed_validity_interval")) == rq.validity_interval
            check_candidates(d, rq.candidates)
            tokens.append(rq.dialog_token)
        else:
            rs = convert.btm_response_from(raw)
            assert num(one(d, "fixed_dialog_token")) == rs.dialog_token
            assert num(one(d, "fixed_bss_transition_status_code")) == rs.status
            assert num(one(d, "fixed_bss_termination_delay")) == rs.bss_termination_delay
            assert many(d, "fixed_bss_transition_target_bss") == ([rs.target] if rs.target else [])
            check_candidates(d, rs.candidates)
            statuses.append(rs.status)
            targets.append(rs.target)
    # what the capture script asked for (btm_rm.txt)
    assert tokens == [5, 9] and statuses == [0, 7] and targets == ["02:00:00:00:01:00", None]


# --- Radio Measurement ---------------------------------------------------------------------

def test_beacon_request_and_report_frames():
    need(BTM_RM)
    ts = tshark(BTM_RM, "wlan.fixed.category_code == 5 && "
                        "(wlan.fixed.action_code == 0 || wlan.fixed.action_code == 1)")
    eng = engine_frames(BTM_RM, "rm_beacon_request", "rm_request", "rm_beacon_report", "rm_report")
    assert sorted(ts) == sorted(eng) and len(eng) == 6
    modes, reported = [], []
    for n, raw in sorted(eng.items()):
        d = ts[n]
        if classify(raw) == "rm_beacon_request":
            (rq,) = convert.beacon_requests_from(raw)
            assert num(one(d, "rm_dialog_token")) == rq.dialog_token
            assert num(one(d, "measure_req_token")) == rq.token
            assert num(one(d, "measure_req_operatingclass")) == rq.op_class
            assert num(one(d, "measure_req_channelnumber")) == rq.channel
            assert num(one(d, "measure_req_randint")) == rq.randomization_interval
            assert num(one(d, "measure_req_duration")) == rq.duration
            assert num(one(d, "measure_req_measurementmode")) == rq.mode
            assert one(d, "measure_req_bssid") == rq.bssid
            detail = many(d, "measure_req_beacon_sub_bri_reporting_detail")
            assert [num(x) for x in detail] == ([rq.reporting_detail] if rq.reporting_detail is not None else [])
            last = many(d, "measure_req_beacon_sub_last_report_ind_req")
            assert last == (["True"] if rq.last_indication else [])
            modes.append(rq.mode)
        else:
            reps = convert.beacon_reports_from(raw)
            assert num(one(d, "rm_dialog_token")) == reps[0].token
            assert [num(x) for x in many(d, "measure_req_token")] == [r.measurement_token for r in reps]
            assert [num(x) for x in many(d, "measure_rep_operatingclass")] == [r.op_class for r in reps]
            assert [num(x) for x in many(d, "measure_rep_channelnumber")] == [r.channel for r in reps]
            assert many(d, "measure_rep_bssid") == [r.bssid for r in reps]
            assert [num(x) for x in many(d, "measure_rep_starttime")] == [r.start_tsf for r in reps]
            assert [num(x) for x in many(d, "measure_rep_duration")] == [r.duration for r in reps]
            assert [num(x) for x in many(d, "measure_rep_rcpi")] == [r.rcpi for r in reps]
            assert [num(x) for x in many(d, "measure_rep_parenttsf")] == [r.parent_tsf for r in reps]
            last = many(d, "measure_req_beacon_sub_last_report")
            assert last == [str(r.last_indication) for r in reps if r.last_indication is not None]
            reported.append([r.bssid for r in reps])
    assert modes == [2, 0, 1]  # table, passive, active (btm_rm.txt)
    assert len(reported) == 3 and all(reported)


# --- FT -------------------------------------------------------------------------------------

FT_FILTER = ("wlan.fixed.auth.alg == 2 || wlan.fc.type_subtype == 2 || wlan.fc.type_subtype == 3 "
             "|| wlan.fixed.category_code == 6")


def _elements(raw: bytes, kind: str):
    start = {"auth": 24 + 6, "reassoc_req": 24 + 10, "reassoc_resp": 24 + 6,
             "ft_action_req": 24 + 2 + 12, "ft_action_resp": 24 + 2 + 14}[kind]
    return {e.id: e.body for e in ies.walk(raw, start)}


@pytest.mark.parametrize("path", [FT, BTM_RM], ids=lambda p: p.name)
def test_ft_frames(path):
    need(path)
    ts = tshark(path, FT_FILTER)
    eng = {}
    for n, raw in engine_frames(path, "auth", "reassoc_req", "reassoc_resp", "ft_action_req",
                                "ft_action_resp").items():
        k = classify(raw)
        if k == "auth" and int.from_bytes(raw[24:26], "little") != 2:
            continue
        eng[n] = (k, raw)
    assert sorted(ts) == sorted(eng) and eng
    fte_seen = 0
    for n, (k, raw) in sorted(eng.items()):
        d = ts[n]
        if k == "auth":
            alg, seq, status = (int.from_bytes(raw[i:i + 2], "little") for i in (24, 26, 28))
            assert (num(one(d, "fixed_auth_alg")), num(one(d, "fixed_auth_seq")),
                    num(one(d, "fixed_status_code"))) == (alg, seq, status)
        elif k in ("ft_action_req", "ft_action_resp"):
            a = convert.ft_action_from(raw)
            assert one(d, "fixed_sta_address") == a.sta
            assert one(d, "fixed_target_ap_address") == a.target_ap
            if a.status is not None:
                assert num(one(d, "fixed_status_code")) == a.status
        elif k == "reassoc_resp":
            assert num(one(d, "fixed_status_code")) == int.from_bytes(raw[26:28], "little")
        elems = _elements(raw, k)
        if el.EID_MDE in elems:
            md = el.mobility_domain(elems[el.EID_MDE])
            assert num(one(d, "mobility_domain_mdid")) == int.from_bytes(md.mdid, "little")
            assert num(one(d, "mobility_domain_ft_capab")) == md.ft_capability
            assert num(one(d, "mobility_domain_ft_capab_ft_over_ds")) == int(md.ft_over_ds)
        else:
            assert many(d, "mobility_domain_mdid") == []
        if el.EID_FTE in elems:
            fte_seen += 1
            f = el.fast_transition(elems[el.EID_FTE])
            assert num(one(d, "ft_mic_control_element_count")) == f.element_count
            assert hexcolon(one(d, "ft_mic")) == f.mic
            assert hexcolon(one(d, "ft_anonce")) == f.anonce
            assert hexcolon(one(d, "ft_snonce")) == f.snonce
            assert [hexcolon(x) for x in many(d, "ft_subelem_r0kh_id")] == ([f.r0kh_id] if f.r0kh_id else [])
            assert [hexcolon(x) for x in many(d, "ft_subelem_r1kh_id")] == ([f.r1kh_id] if f.r1kh_id else [])
        else:
            assert many(d, "ft_mic") == []
    assert fte_seen == len(eng)  # every FT frame of these captures carries an FTE
