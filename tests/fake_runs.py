"""Small hand-written run folders for the certification, gate and verify tests.

A run has summary.json (schema 1, as reports/plugin.py writes it), one evidence file per
case under cases/<case>-<dut>/ and a junit.xml; seal() publishes it (manifest, certificates,
index) the way the end of a run does. Doctor copies of it to test each gate path.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from engine.findings import Finding

R = "IEEE 802.11-2020"
CAPS = ["ft_psk", "ft_over_air", "btm", "commands"]
# what devices.registry gives the twin's identity
TWIN_IDENTITY = {"simulation": "esp32-twin: a wpa_supplicant re-emitted as ESP-IDF serial output; proves the "
                               "adapter, not a device", "backing": "wpa_supplicant 2.10"}


def verdict(rule, status="pass", layer="DUT", clause=f"{R} 13.5", observed="as expected"):
    return {"rule": rule, "clause": clause, "status": status, "expected": "conformant behaviour",
            "observed": observed, "evidence": ["frame 12"], "message": "", "layer": layer}


def case(cid, outcome="passed", dut="linux-wpas", reqs=(), fails=(), metrics=None, duration=2.0,
         family="802.11r", reason=""):
    vs = [verdict(f"{cid}-OK")] + [verdict(r, "fail", layer=layer, observed="not as expected") for r, layer in fails]
    return {"nodeid": f"suites/test_x.py::test_{cid}[{dut}]", "case_id": cid, "title": f"case {cid}",
            "family": family, "feature": "f", "story": "s", "requirements": list(reqs), "needs": [],
            "severity": "critical", "params": {}, "verdict": outcome,
            "reason": reason or ("" if outcome == "passed" else f"{cid}: rule(s) violated"),
            "duration_s": duration, "dut": dut, "verdicts": vs,
            "attachments": [{"name": "air", "path": f"cases/{cid}-{dut}/air.txt", "mime": "text/plain"}],
            "steps": [], "metrics": metrics or {}, "roams": [], "timelines": []}


def basic_cases(dut="linux-wpas", roam_us=(4100, 4300, 4200, 4500, 4400, 4000, 4600, 4800, 4300, 5200)):
    """Every mandatory and capability-conditional case of profiles/roaming-basic.toml, passing."""
    out = []
    for cid in ("SMOKE-01", "SMOKE-02", "FT-01", "IND-07", "SMOKE-03", "IND-02", "BTM-01", "BTM-02",
                "IND-01", "IND-03"):
        out.append(case(cid, dut=dut, reqs=("IND-7",) if cid == "IND-07" else ()))
    out.append(case("FT-02", dut=dut, reqs=("IND-6", "IND-7"), metrics={"ft_latency_us": list(roam_us)}))
    out.append(case("FT-08", dut=dut, reqs=("IND-6",), metrics={"ping_lost_per_roam": [3, 4, 2, 5]}))
    return out


def write_run(folder: Path, cases, duts=("linux-wpas",), profile: str | None = "roaming-basic",
              run_id: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    run = {"id": run_id or folder.name, "start": "2026-06-01T10:00:00+00:00", "end": "2026-06-01T10:20:00+00:00",
           "duration_s": 1200.0, "command": "pytest suites", "git_rev": "abc123", "interrupted": False,
           "complete": True, "duts": [dict({"name": d, "mac": "02:00:00:00:02:00", "version": "v2.10",
                                             "capabilities": CAPS}, **TWIN_IDENTITY if d == "esp32-twin" else {})
                                        for d in duts],
           "lab": {"hostapd": "hostapd v2.10"}, "versions": {"python": "3.11"}}
    if profile:
        from reports import profile as pf
        run["profile"] = pf.load(profile).stamp()
    for c in cases:
        d = folder / "cases" / f"{c['case_id']}-{c['dut']}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "air.txt").write_text(f"frames of {c['case_id']} on {c['dut']}\n")
    (folder / "junit.xml").write_text("<testsuites/>\n")
    (folder / "summary.json").write_text(json.dumps({"schema": 1, "run": run, "totals": {}, "cases": list(cases)},
                                                    indent=2))
    return folder


def seal(folder: Path, pdf: bool = False):
    from reports import publish
    return publish.publish(folder, fresh=True, pdf=pdf)


def copy_run(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def finding(fid, severity, cases=("FT-02",), rules=("IND-6",), layer="supplicant", applies_to=("linux-wpas",)):
    return Finding(id=fid, title=f"finding {fid}", behaviour="the DUT does X", cases=tuple(cases),
                   rules=tuple(rules), clause=f"{R} 11.24.7.3", quote="", quote_source="", severity=severity,
                   severity_reason="why", layer=layer, applies_to=tuple(applies_to),
                   upstream="https://example.invalid/bug/1", evidence="runs/x")


def registry(monkeypatch, *found: Finding) -> None:
    """Replace engine.findings.match with a lookup over the given findings."""
    from engine import findings

    def match(case_id, rule, dut, layer=None):
        for f in found:
            if case_id in f.cases and rule in f.rules and (not f.applies_to or dut in f.applies_to) \
                    and (layer is None or layer == f.layer):
                return f
        return None

    monkeypatch.setattr(findings, "match", match)
