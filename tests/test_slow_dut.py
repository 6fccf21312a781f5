"""The deliberately slowed DUT (linux-wpas:slow): the quota it asks for reaches the lab as
configured, its reports say it is a test mutant and never certify it, and the gate compares
it against the reference DUT's run case by case. Nothing here measures time: what the quota
does to roam time is shown by two real runs (docs/ci.md, "A slowed DUT against the gate")."""
from __future__ import annotations

import subprocess
from types import SimpleNamespace

import pytest

import fake_runs as fr
from devices import linux_wpas
from devices.registry import DutSpecError, check_spec
from lab import cpu_limit
from lab.cpu_limit import CpuLimit, CpuLimitError
from reports import certificate, gate
from reports import profile as pf
from reports import summary as sm


@pytest.mark.parametrize("text,quota,period", [
    ("30000/100000", 30000, 100000), ("1000/1000", 1000, 1000), ("5%", 5000, 100000), ("12.5%", 12500, 100000),
])
def test_limit_parses(text, quota, period):
    lim = CpuLimit.parse(text)
    assert (lim.quota_us, lim.period_us) == (quota, period)
    assert lim.cpu_max == f"{quota} {period}"


@pytest.mark.parametrize("text", ["", "fast", "30000", "999/100000", "200000/100000", "1000/2000000", "0%", "-5%"])
def test_bad_limits_are_refused(text):
    with pytest.raises(CpuLimitError):
        CpuLimit.parse(text)


def test_dut_spec_checks_the_quota_before_the_lab_boots():
    check_spec("linux-wpas:slow")
    check_spec("linux-wpas:slow=20000/100000")
    check_spec("linux-wpas:keep-neigh")
    with pytest.raises(DutSpecError, match="cpu quota 10 µs"):
        check_spec("linux-wpas:slow=10/100000")
    with pytest.raises(DutSpecError, match="give a quota"):
        check_spec("linux-wpas:slow=")
    with pytest.raises(DutSpecError, match="unknown linux-wpas variant 'slower'"):
        check_spec("linux-wpas:slower")


class CgroupAgent:
    """The lab agent over a stand-in cgroup tree: the adapter's shell really runs, on files
    of a temporary folder in place of /sys/fs/cgroup (a cgroup2 mount of the lab's kernel
    shows the same files); sysctl answers as a 6.1 kernel does."""

    def __init__(self, root):
        self.root = root
        self.sysctl = {}
        self.calls = []
        (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
        (root / "cgroup.subtree_control").write_text("")

    def run(self, argv, check=True, timeout=30):
        self.calls.append(argv)
        if argv and argv[0] == "sysctl":
            keys = [a for a in argv[1:] if a.startswith("net.")]
            if "-w" in argv:
                self.sysctl.update(k.split("=") for k in keys)
                return {"stdout": "", "stderr": "", "rc": 0}
            return {"stdout": "".join(f"{k} = {self.sysctl[k]}\n" for k in keys), "stderr": "", "rc": 0}
        argv = [a.replace(cpu_limit.CGROUP_ROOT, str(self.root)) for a in argv]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return {"stdout": p.stdout, "stderr": p.stderr, "rc": p.returncode}


class FakeLab:
    def __init__(self, tmp_path):
        (tmp_path / "cg").mkdir()
        self.agent = CgroupAgent(tmp_path / "cg")
        self.log = tmp_path / "dut.log"
        self.log.write_text("")
        self.stopped = []

    def watch_link(self, iface, netns=None):
        raise RuntimeError("no link monitor in this test")

    def start_supplicant(self, cfg, name, netns=None):
        return SimpleNamespace(mac="02:00:00:00:09:00", iface="wlan0", log_host=str(self.log), name=name, pid=4242)

    def stop(self, sup):
        self.stopped.append(sup.name)

    def info(self):
        return {"wpa_supplicant": "2.10"}


def test_slow_variant_puts_its_supplicant_under_the_quota_it_was_given(tmp_path):
    lab = FakeLab(tmp_path)
    dut = linux_wpas.variant(lab, "slow=20000/100000")
    group = tmp_path / "cg" / "roamcert-dut-linux-wpas-slow"
    assert (group / "cpu.max").read_text().split() == ["20000", "100000"]
    assert (group / "cgroup.procs").read_text().split() == ["4242"]
    assert "+cpu" in (tmp_path / "cg" / "cgroup.subtree_control").read_text()
    assert not any(a[:2] == ["mount", "-t"] for a in lab.agent.calls)  # already mounted: no second mount
    ident = dut.identity()
    assert ident["name"] == "linux-wpas-slow"
    assert "cpu.max 20000 100000" in ident["cpu_limit"]
    assert ident["test_mutant"].startswith("linux-wpas:slow=20000/100000: wpa_supplicant deliberately slowed")
    assert "never to be certified" in ident["test_mutant"]
    assert dut.cpu == CpuLimit(20000, 100000)
    # cpu.stat is evidence: the counters since the case began
    (group / "cpu.stat").write_text("usage_usec 100\nnr_periods 3\nnr_throttled 1\nthrottled_usec 50\n")
    dut._cpu_mark = cpu_limit.parse_stat((group / "cpu.stat").read_text())
    (group / "cpu.stat").write_text("usage_usec 900\nnr_periods 13\nnr_throttled 7\nthrottled_usec 650\n")
    got = dut.cpu_throttling()
    assert (got["nr_periods"], got["nr_throttled"], got["throttled_usec"], got["usage_usec"]) == (10, 6, 600, 800)
    dut.close()
    assert lab.stopped == ["dut-linux-wpas-slow"]
    assert lab.agent.calls[-1] == ["rmdir", cpu_limit.group_path("dut-linux-wpas-slow")]  # the group goes too


def test_default_slow_variant_uses_the_documented_quota(tmp_path):
    lab = FakeLab(tmp_path)
    dut = linux_wpas.variant(lab, "slow")
    assert dut.cpu == CpuLimit.parse(linux_wpas.SLOW_DEFAULT)
    group = tmp_path / "cg" / "roamcert-dut-linux-wpas-slow"
    assert (group / "cpu.max").read_text().strip() == CpuLimit.parse(linux_wpas.SLOW_DEFAULT).cpu_max


def test_a_quota_the_kernel_did_not_take_stops_the_dut(tmp_path):
    lab = FakeLab(tmp_path)
    (tmp_path / "cg" / "roamcert-dut-linux-wpas-slow").write_text("a file where the group should be")
    with pytest.raises(CpuLimitError, match="did not take cpu.max"):
        linux_wpas.variant(lab, "slow")
    assert lab.stopped == ["dut-linux-wpas-slow"]  # the supplicant does not outlive the error


def test_the_reference_dut_and_its_options_are_not_mutants(tmp_path):
    assert linux_wpas.mutant_note("keep-neigh") == ""
    assert linux_wpas.mutant_note("no-btm").startswith("linux-wpas:no-btm: the reference DUT deliberately")
    dut = linux_wpas.LinuxWpasDut(FakeLab(tmp_path))
    assert "test_mutant" not in dut.identity() and "cpu_limit" not in dut.identity()


def _slow_run(tmp_path, roam_us):
    cases = fr.basic_cases(dut="linux-wpas-slow", roam_us=roam_us)
    run = fr.write_run(tmp_path / "slow", cases, duts=("linux-wpas-slow",))
    data = sm.load(run)
    data["run"]["duts"][0]["test_mutant"] = "linux-wpas:slow: slowed on purpose"
    (run / "summary.json").write_text(__import__("json").dumps(data))
    return run


def test_a_test_mutant_is_never_conformant_and_its_certificate_says_so(tmp_path):
    run = _slow_run(tmp_path, (4100, 4200))
    data = sm.load(run)
    cases = data["cases"]
    a = pf.assess(cases, pf.load("roaming-basic"), "linux-wpas-slow", data["run"]["duts"][0], data["run"])
    assert a.verdict == pf.NOT_CONFORMANT
    assert "TEST MUTANT: linux-wpas:slow: slowed on purpose" in a.reasons
    html = certificate.render(data, run, "linux-wpas-slow", pf.load("roaming-basic"))
    assert "TEST MUTANT — NOT CERTIFIABLE</b> — linux-wpas:slow: slowed on purpose" in html
    fr.seal(run)
    index = (run / "index.html").read_text()
    assert "TEST MUTANT</span>" in index and "NOT CONFORMANT" in index
    # the same cases without the mark are conformant: the mark alone decides
    ident = dict(data["run"]["duts"][0])
    del ident["test_mutant"]
    assert pf.assess(cases, pf.load("roaming-basic"), "linux-wpas-slow", ident, data["run"]).verdict == pf.CONFORMANT


def test_gate_pairs_two_dut_names_and_fails_on_roam_time_only(tmp_path):
    base = fr.write_run(tmp_path / "base", fr.basic_cases())
    slow = _slow_run(tmp_path, (9100, 9300, 9200, 9500, 9400, 9000, 9600, 9800, 9300, 10200))
    lines = []
    code = gate.run(str(base), str(slow), out=lines.append, dut_baseline="linux-wpas", dut_current="linux-wpas-slow")
    text = "\n".join(lines)
    assert code == 1
    assert "FT-02 [linux-wpas-slow]: roam time on the air p95 5200 -> 10200 µs" in text
    assert "New failures" not in text and "Missing" not in text
    lines = []
    assert gate.run(str(base), str(slow), out=lines.append, dut_baseline="linux-wpas", dut_current="linux-wpas-slow",
                    metrics=False) == 0
    assert "result: PASS" in "\n".join(lines) and "--no-metrics" in "\n".join(lines)
    # without the pairing every case is missing on one side and new on the other
    lines = []
    assert gate.run(str(base), str(slow), out=lines.append, metrics=False) == 1
    assert "missing" in "\n".join(lines).lower()
    from cli import gate as gate_cli
    args = ["--baseline", str(base), "--current", str(slow), "--dut-baseline", "linux-wpas",
            "--dut-current", "linux-wpas-slow"]
    assert gate_cli.main(args) == 1 and gate_cli.main(args + ["--no-metrics"]) == 0
    lines = []
    assert gate.run(str(base), str(slow), out=lines.append, dut_baseline="esp32") == 2
    assert "no case of DUT 'esp32'" in lines[0]


@pytest.mark.lab
def test_the_quota_reaches_the_supplicant_in_the_vm(tmp_path_factory):
    """On the virtual lab: the slowed DUT's wpa_supplicant is the process in the group, the
    lab's kernel holds the quota it was given, and the group goes with the DUT."""
    from lab.launch import close_lab, open_lab
    lab = open_lab("virtual", tmp_path_factory.mktemp("slowlab"))
    try:
        dut = linux_wpas.variant(lab, "slow=20000/100000")
        group = dut.cpu_group["cgroup"]
        try:
            assert lab.agent.run(["cat", f"{group}/cpu.max"])["stdout"].split() == ["20000", "100000"]
            assert str(dut.sup.pid) in lab.agent.run(["cat", f"{group}/cgroup.procs"])["stdout"].split()
            comm = lab.agent.run(["cat", f"/proc/{dut.sup.pid}/comm"])["stdout"].strip()
            assert comm == "wpa_supplicant"
            assert lab.agent.run(["cat", f"/proc/{dut.sup.pid}/cgroup"])["stdout"].strip().endswith(
                "/" + group.rsplit("/", 1)[1])
            stat = cpu_limit.stat(lab.agent, group)
            assert {"usage_usec", "nr_periods", "nr_throttled", "throttled_usec"} <= set(stat)
        finally:
            dut.close()
        assert lab.agent.run(["test", "-e", group], check=False)["rc"] != 0
    finally:
        close_lab(lab)
