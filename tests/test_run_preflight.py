"""./roamcert run fails fast (issue 12 item 6): options that cannot work end the run before
the lab boots, in one line naming the problem and the choices, exit 2; the console shows
roamcert's line per case, not pytest's progress letters as well."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import serial

from cli import run as run_cmd
from test_reports_fakesuite import run_pytest, write_suite

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_lab(monkeypatch, tmp_path):
    """A run that got as far as booting a lab, or making a run folder, fails the test."""
    import lab.launch

    def boom(*a, **k):
        raise AssertionError("the lab was booted")
    monkeypatch.setattr(lab.launch, "open_lab", boom)
    runs = tmp_path / "runs"
    monkeypatch.setenv("ROAMCERT_RUNS", str(runs))
    yield runs
    assert not runs.exists() or not any(runs.iterdir())


def one_line(capsys) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_unknown_dut(no_lab, capsys):
    assert run_cmd.main(["--dut", "nosuch", "-m", "smoke"]) == 2
    err = one_line(capsys)
    assert "unknown DUT 'nosuch'" in err and "linux-wpas" in err and "esp32-twin" in err and "esp32:PORT" in err


def test_unknown_linux_wpas_variant(no_lab, capsys):
    assert run_cmd.main(["--dut=linux-wpas:nosuch"]) == 2
    err = one_line(capsys)
    assert "variant 'nosuch'" in err and "linux-wpas:no-btm" in err


def test_missing_serial_port(no_lab, capsys, tmp_path):
    port = str(tmp_path / "ttyUSB9")
    assert run_cmd.main(["--dut", f"esp32:{port}"]) == 2
    err = one_line(capsys)
    assert f"ESP32 serial port {port} does not exist" in err and "serial ports on this host:" in err


def test_esp32_without_port(no_lab, capsys):
    assert run_cmd.main(["--dut", "esp32"]) == 2
    assert "needs its serial port" in one_line(capsys)


def test_busy_serial_port(no_lab, capsys):
    master, slave = os.openpty()
    name = os.ttyname(slave)
    holder = serial.Serial(name, exclusive=True)  # another program has the board open
    try:
        assert run_cmd.main(["--dut", f"esp32:{name}"]) == 2
        assert f"ESP32 serial port {name} is busy" in one_line(capsys)
    finally:
        holder.close()
        os.close(master)
        os.close(slave)


def test_free_serial_port_passes_the_check():
    master, slave = os.openpty()
    try:
        assert run_cmd.preflight(["--dut", f"esp32:{os.ttyname(slave)}"]) is None
    finally:
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize("argv, want", [
    (["--lab", "moon"], "unknown lab 'moon'; choices: virtual, local"),
    (["--lab=moon", "--dut", "linux-wpas"], "unknown lab 'moon'; choices: virtual, local"),
    (["--radios", "x"], "--radios: invalid int value: 'x'"),
    (["--radios", "1"], "at least 2 radios"),
])
def test_bad_lab_options(no_lab, capsys, argv, want):
    assert run_cmd.main(argv) == 2
    assert want in one_line(capsys)


def test_plain_pytest_refuses_an_unknown_dut_before_the_lab():
    # the same check from pytest_configure, for runs started with pytest itself
    p = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(ROOT / "suites"),
                        "-o", "testpaths=suites", "--collect-only", "-q", "--dut", "nosuch"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == pytest.ExitCode.USAGE_ERROR
    assert "unknown DUT 'nosuch'; choices:" in p.stderr


def test_console_shows_one_line_per_case_not_progress_letters(tmp_path):
    suite = tmp_path / "suite"
    write_suite(suite)
    proc = run_pytest(suite, "--run-dir", str(tmp_path / "run"), "-p", "cli.case_lines",
                      "-o", "console_output_style=classic")
    lines = proc.stdout.splitlines()
    # no "test_fake.py .Fs" progress line, no percentages
    assert not [ln for ln in lines if re.fullmatch(r"test_fake\.py\s*[.FsExX]*\s*", ln)], proc.stdout
    assert not [ln for ln in lines if re.search(r"\[\s*\d+%\]", ln)]
    cases = [ln for ln in lines if re.match(r"\[[^\]]*\] [A-Z]+-\d+  [A-Z]+  ", ln)]
    assert [ln.split()[1:3] for ln in cases] == [["BTM-01", "PASSED"], ["BTM-02", "FAILED"],
                                                 ["FT-09", "SKIPPED"], ["LAB-01", "ERROR"]]
    assert any(ln.startswith("cases: ") for ln in lines)  # roamcert's summary
    final = lines[-1]  # pytest's final line
    assert all(x in final for x in ("1 failed", "2 passed", "1 skipped", "1 error")), final
    # and without the plugin the letters are there (the check above can fail)
    plain = run_pytest(suite, "--run-dir", str(tmp_path / "run2"))
    # (-q: the letters land in front of roamcert's lines, ".[802.11v] BTM-01  PASSED")
    assert any(re.match(r"(test_fake\.py\s*)?[.FsE]+\s*\[", ln) for ln in plain.stdout.splitlines()), plain.stdout
