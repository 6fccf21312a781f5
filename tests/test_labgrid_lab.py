"""--lab labgrid: places through a real labgrid coordinator and exporter on 127.0.0.1,
the lab host over ssh, the esp32-twin's serial through ser2net, and esptool's view of it.

The tests without `lab` start only labgrid (coordinator + exporter, a few seconds); the
`lab` test boots the proof VM as the lab host (tests/labgrid_rig.py) and runs
`./roamcert run --lab labgrid -m smoke` through the coordinator, with a second job
asking for the same place while the first holds it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devices.base import DutError
from devices.esp32_flash import identify, read_build
from devices.registry import twin_args
from lab.esp32_twin import ROM_BANNER, SerialEndpoint
from lab.labgrid_place import LabgridError, Place, PlaceBusy, acquire_first, parse_show

sys.path.insert(0, str(Path(__file__).resolve().parent))
from labgrid_rig import LGVENV, PLACE, SNIFFER_PLACE, SNIFFER_RADIOS, LabgridRig, free_port, wait_until  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

needs_labgrid = pytest.mark.skipif(not (LGVENV / "bin" / "labgrid-client").exists(),
                                   reason="the labgrid venv is missing: bash tools/setup.sh --labgrid")


# -- reading labgrid-client's answers ------------------------------------------------------------
# `labgrid-client -p proof show` as labgrid 26.0.1 printed it for the proof's place.
SHOW = """Place 'proof':
  matches:
    exp1/*/*
  acquired: vm/root
  acquired resources:
    exp1/esp32-twin/NetworkSerialPort/NetworkSerialPort
    exp1/lab-host/NetworkService/NetworkService
  created: 2026-12-07 04:03:56.760608
  changed: 2026-12-07 04:03:58.340034
Acquired resource 'NetworkSerialPort' (exp1/esp32-twin/NetworkSerialPort/NetworkSerialPort):
  {'acquired': 'proof',
   'avail': True,
   'cls': 'NetworkSerialPort',
   'params': {'extra': {'proxy': 'localhost', 'proxy_required': False},
              'host': '127.0.0.1',
              'port': 5555,
              'speed': 115200}}
Acquired resource 'NetworkService' (exp1/lab-host/NetworkService/NetworkService):
  {'acquired': 'proof',
   'avail': True,
   'cls': 'NetworkService',
   'params': {'address': '127.0.0.1',
              'extra': {'proxy': 'localhost', 'proxy_required': False},
              'port': 2222,
              'username': 'root'}}
"""


def test_show_output_gives_resources_by_group():
    res = parse_show(SHOW)
    assert [(r.exporter, r.group, r.cls) for r in res] == [
        ("exp1", "esp32-twin", "NetworkSerialPort"), ("exp1", "lab-host", "NetworkService")]
    assert res[0].params == {"host": "127.0.0.1", "port": 5555, "speed": 115200}
    assert res[1].params == {"address": "127.0.0.1", "port": 2222, "username": "root"}


def test_place_needs_a_name_or_an_environment():
    with pytest.raises(LabgridError, match="--lg-place NAME or --lg-env FILE"):
        Place(client="/bin/true")


def test_missing_resource_names_what_the_place_has():
    p = Place("proof", client="/bin/true")
    p.resources = parse_show(SHOW)
    with pytest.raises(LabgridError, match=r"no NetworkSerialPort named 'esp32-3'.*exp1/esp32-twin/NetworkSerialPort"):
        p.find("NetworkSerialPort", "esp32-3")
    assert p.find("NetworkSerialPort", "esp32-twin").params["port"] == 5555


def test_twin_arguments():
    assert twin_args(None) == {"endpoint": "socket", "listen": 0, "serial": None}
    assert twin_args("pty")["endpoint"] == "pty"
    assert twin_args("listen=4000,serial=lg:esp32-twin") == {"endpoint": "socket", "listen": 4000,
                                                             "serial": "lg:esp32-twin"}
    with pytest.raises(ValueError, match="bad argument 'speed=9'"):
        twin_args("listen=4000,speed=9")
    with pytest.raises(ValueError, match="not a port number"):
        twin_args("listen=abc")


# -- esptool -------------------------------------------------------------------------------------
def _build(tmp_path: Path, chip: str = "esp32") -> Path:
    """A build folder laid out as `idf.py build` leaves it (flasher_args.json and the images)."""
    (tmp_path / "bootloader").mkdir()
    (tmp_path / "partition_table").mkdir()
    (tmp_path / "bootloader" / "bootloader.bin").write_bytes(b"\xe9" + bytes(255))
    (tmp_path / "partition_table" / "partition-table.bin").write_bytes(b"\xaa\x50" + bytes(62))
    (tmp_path / "roaming_11kvr.bin").write_bytes(b"\xe9\x06\x02\x20" + b"app" * 100)
    (tmp_path / "flasher_args.json").write_text(json.dumps({
        "write_flash_args": ["--flash_mode", "dio", "--flash_size", "2MB", "--flash_freq", "40m"],
        "flash_settings": {"flash_mode": "dio", "flash_size": "2MB", "flash_freq": "40m"},
        "flash_files": {"0x8000": "partition_table/partition-table.bin", "0x1000": "bootloader/bootloader.bin",
                        "0x10000": "roaming_11kvr.bin"},
        "bootloader": {"offset": "0x1000", "file": "bootloader/bootloader.bin", "encrypted": "false"},
        "app": {"offset": "0x10000", "file": "roaming_11kvr.bin", "encrypted": "false"},
        "extra_esptool_args": {"after": "hard_reset", "before": "default_reset", "stub": True, "chip": chip}}))
    return tmp_path


def test_build_folder_gives_offsets_and_hashes(tmp_path):
    import hashlib
    b = read_build(_build(tmp_path))
    assert b.chip == "esp32"
    assert [i.offset for i in b.images] == [0x1000, 0x8000, 0x10000]
    app = (tmp_path / "roaming_11kvr.bin").read_bytes()
    assert b.app.sha256 == hashlib.sha256(app).hexdigest()
    assert (b.flash_mode, b.flash_freq, b.flash_size) == ("dio", "40m", "2MB")


def test_build_folder_errors_are_clear(tmp_path):
    with pytest.raises(DutError, match="no flasher_args.json"):
        read_build(tmp_path)
    _build(tmp_path)
    (tmp_path / "roaming_11kvr.bin").unlink()
    with pytest.raises(DutError, match=r"roaming_11kvr.bin \(for offset 0x10000\) is missing"):
        read_build(tmp_path)


def test_identify_on_the_twin_fails_clearly():
    """The twin prints an ESP-IDF boot (ROM banner with boot:0x13, SPI flash boot) but has no
    ROM bootloader behind it: esptool must give up, and say why."""
    ep = SerialEndpoint("socket")
    stop = threading.Event()

    def banner():
        while not stop.is_set():
            ep.write(("\r\n".join(ROM_BANNER).format(rst="0x1 (POWERON_RESET)") + "\r\n").encode())
            stop.wait(0.3)

    t = threading.Thread(target=banner, daemon=True)
    t.start()
    try:
        with pytest.raises(DutError) as e:
            identify(ep.url, attempts=1)
    finally:
        stop.set()
        t.join()
        ep.close()
    msg = str(e.value)
    assert "could not reach an Espressif ROM bootloader on socket://127.0.0.1:" in msg
    # esptool read the banner: the chip booted from flash, not into download mode
    assert "download mode" in msg.lower() or "boot mode" in msg.lower()


# -- labgrid itself: a coordinator and an exporter, no VM ---------------------------------------
@pytest.fixture
def coordinator(tmp_path):
    """A coordinator and an exporter of one NetworkService, a place matching it."""
    port = free_port()
    addr = f"127.0.0.1:{port}"
    procs = []

    def spawn(name, argv):
        log = open(tmp_path / f"{name}.log", "wb")
        procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
                                      stdin=subprocess.DEVNULL))
        log.close()

    def client(*args, user=None):
        env = dict(os.environ, **({"USER": user} if user else {}))
        return subprocess.run([str(LGVENV / "bin" / "labgrid-client"), "-x", addr, *args], env=env,
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)

    (tmp_path / "exporter.yaml").write_text(
        "labhost:\n  NetworkService:\n    address: 127.0.0.1\n    port: 1\n    username: root\n"
        "labhost2:\n  NetworkService:\n    address: 127.0.0.1\n    port: 2\n    username: root\n")
    try:
        spawn("coordinator", [str(LGVENV / "bin" / "labgrid-coordinator"), "-l", addr])
        wait_until(lambda: client("places").returncode == 0, 30, "the coordinator")
        spawn("exporter", [str(LGVENV / "bin" / "labgrid-exporter"), "-c", addr, "-n", "unit",
                           "--hostname", "127.0.0.1", str(tmp_path / "exporter.yaml")])
        wait_until(lambda: "unit/labhost2" in client("resources").stdout, 30, "the exporter")
        assert client("-p", "unit", "create").returncode == 0
        assert client("-p", "unit", "add-match", "unit/labhost/*").returncode == 0
        yield addr, client
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()


@needs_labgrid
def test_place_lock_is_labgrids(coordinator):
    addr, client = coordinator
    first = Place("unit", coordinator=addr, client=str(LGVENV / "bin" / "labgrid-client"))
    first.acquire()
    try:
        assert first.find("NetworkService").params == {"address": "127.0.0.1", "port": 1, "username": "root"}
        # another job (another user, as CI runners are) is refused, and told who holds it
        r = client("-p", "unit", "acquire", user="ci-job-2")
        assert r.returncode != 0 and "already acquired" in r.stderr
        second = Place("unit", coordinator=addr, client=str(LGVENV / "bin" / "labgrid-client"))
        with pytest.raises(PlaceBusy, match="held by another job"):
            second.acquire()
    finally:
        first.release()
    assert "acquired: None" in client("-p", "unit", "show").stdout


@needs_labgrid
def test_pool_takes_the_first_free_place(coordinator):
    addr, client = coordinator
    lgc = str(LGVENV / "bin" / "labgrid-client")
    assert client("-p", "unit2", "create").returncode == 0
    assert client("-p", "unit2", "add-match", "unit/labhost2/*").returncode == 0
    held = client("-p", "unit", "acquire", user="other-job")
    assert held.returncode == 0, held.stderr
    try:
        got = acquire_first([Place("unit", coordinator=addr, client=lgc), Place("unit2", coordinator=addr, client=lgc)])
        try:
            assert got.name == "unit2"
            # a worker starting at index 1 (gw1) tries unit2 first; with both held it names both
            with pytest.raises(PlaceBusy, match=r"every labgrid place of the pool(.|\n)*unit(.|\n)*unit2"):
                acquire_first([Place("unit", coordinator=addr, client=lgc),
                               Place("unit2", coordinator=addr, client=lgc)], start=1)
        finally:
            got.release()
    finally:
        client("-p", "unit", "release", user="other-job")


@needs_labgrid
def test_environment_file_names_the_place(coordinator, tmp_path):
    """--lg-env: labgrid-client takes the place from the file's RemotePlace."""
    addr, client = coordinator
    env = tmp_path / "lab.yaml"
    env.write_text("targets:\n  main:\n    resources:\n      RemotePlace:\n        name: unit\n")
    place = Place(env=str(env), coordinator=addr, client=str(LGVENV / "bin" / "labgrid-client"))
    place.acquire()
    try:
        assert "acquired: None" not in client("-p", "unit", "show").stdout
        assert place.find("NetworkService").group == "labhost"
    finally:
        place.release()
    assert "acquired: None" in client("-p", "unit", "show").stdout


@needs_labgrid
def test_unknown_place_fails_clearly(coordinator):
    addr, _ = coordinator
    with pytest.raises(LabgridError, match="cannot acquire labgrid place nowhere"):
        Place("nowhere", coordinator=addr, client=str(LGVENV / "bin" / "labgrid-client")).acquire()


# -- the proof: ./roamcert run through the coordinator, the VM as the lab host ------------------
@needs_labgrid
@pytest.mark.lab
def test_smoke_run_through_labgrid_and_a_second_job_is_refused(tmp_path):
    rig = LabgridRig(tmp_path / "rig").start()
    try:
        env = dict(os.environ, ROAMCERT_RUNS=str(tmp_path / "runs"))
        argv = [str(ROOT / "roamcert"), "run", *rig.run_args(), "--dut", "linux-wpas", "--dut", rig.twin_dut(),
                "-m", "smoke", "--keep-evidence"]
        out1 = open(tmp_path / "job1.out", "wb")
        job1 = subprocess.Popen(argv, stdout=out1, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                                stdin=subprocess.DEVNULL)
        try:
            holder = wait_until(lambda: job1.poll() is not None or rig.holder(), 300,
                                "job 1 acquiring the place", interval=1)
            assert job1.poll() is None, (tmp_path / "job1.out").read_text()[-3000:]
            # job 2 asks for the same place while job 1 holds it
            # job 2 asks for the same place while job 1 holds it: the suites' own pytest run,
            # without ./roamcert run's report building, so that it overlaps job 1's lab start-up
            # and not the FT cases, whose 100 ms answers need the machine's CPU
            env2 = dict(env, USER="ci-job-2")
            argv2 = [sys.executable, "-m", "pytest", str(ROOT / "suites"), "-o", "testpaths=suites",
                     f"--run-dir={tmp_path / 'runs2'}", *rig.run_args(), "--dut", "linux-wpas", "-k", "SMOKE-01"]
            job2 = subprocess.run(argv2, capture_output=True, text=True, env=env2, cwd=ROOT, timeout=600,
                                  stdin=subprocess.DEVNULL)
            assert job1.poll() is None, "job 1 ended before job 2 was refused: the lock was not tested"
            assert job2.returncode != 0
            assert f"labgrid place {PLACE} is held by another job" in job2.stdout
            assert f"already acquired by {holder}" in job2.stdout
            assert rig.holder() == holder  # job 2 took nothing from job 1
            code = job1.wait(1500)
        finally:
            if job1.poll() is None:
                job1.terminate()
                job1.wait(60)
            out1.close()
        log = (tmp_path / "job1.out").read_text()
        assert code == 0, log[-5000:]
        assert rig.holder() is None  # released at the end
        run = next((tmp_path / "runs").glob("2*"))
        summary = json.loads((run / "summary.json").read_text())
        lab = summary["run"]["lab"]
        assert lab["kind"] == "labgrid" and lab["place"] == PLACE
        assert lab["lab_host"] == f"root@127.0.0.1:{rig.ssh_port}"
        verdicts = {(c["dut"], c["case_id"]): c["verdict"] for c in summary["cases"]}
        # the twin claims no DUT-side commands and no FT over the DS: those two skip
        assert {k: v for k, v in verdicts.items() if v != "passed"} == {
            ("esp32-twin", "SMOKE-02"): "skipped", ("esp32-twin", "SMOKE-04"): "skipped"}, verdicts
        assert len(verdicts) == 10
        # the twin was read through the place's network serial port, i.e. through ser2net
        duts = {d["name"]: d for d in summary["run"]["duts"]}
        assert duts["esp32-twin"]["port"] == f"rfc2217://127.0.0.1:{rig.ser2net_port}?ign_set_control"
        # the daemons' logs and the captures came back from the lab host into the run folder
        pcaps = list(run.glob("cases/*/air.pcap"))
        assert len(pcaps) == 8 and all(p.stat().st_size > 1000 for p in pcaps)
        assert "CTRL-EVENT-CONNECTED" in (run / "lab" / "daemons" / "dut-linux-wpas.log").read_text()
        # nothing of the run is left on the lab host
        left = on_lab_host(rig, "ls -d /tmp/roamcert-[0-9]* 2>/dev/null; grep -c fuse.sshfs /proc/mounts; "
                                "ip -o link show type bridge")
        assert left.split() == ["0"], left
        # esptool through the same network serial port: no ROM bootloader behind the twin's UART
        # (esptool opened the port and sent its SYNC: nothing answered)
        with pytest.raises(DutError, match="could not reach an Espressif ROM bootloader on rfc2217://"
                                           "(.|\n)*No serial data received"):
            identify(f"rfc2217://127.0.0.1:{rig.ser2net_port}?ign_set_control", attempts=1)
        sniffer_run_judges_as_hwsim0(rig, tmp_path)
    finally:
        rig.stop()


def on_lab_host(rig: LabgridRig, command: str, binary: bool = False):
    r = subprocess.run(["ssh", "-T", "-p", str(rig.ssh_port), "-i", str(rig.key), "-o", "BatchMode=yes",
                        "-o", f"UserKnownHostsFile={rig.known_hosts}", "root@127.0.0.1", command],
                       capture_output=True, text=not binary, timeout=60, stdin=subprocess.DEVNULL)
    return r.stdout


def sniffer_run_judges_as_hwsim0(rig: LabgridRig, tmp_path: Path) -> None:
    """The smoke FT roam again, through the place whose sniffer group names two of the lab
    host's radios: roamcert captures the air with those radios in monitor mode, tuned to the
    two APs' channels, and never with hwsim0. The test itself captures hwsim0 on the lab
    host meanwhile, as the witness: the sniffer heard every frame hwsim0 saw on its two
    channels, and the judge gives, rule by rule, the same verdicts from either capture of
    the same roam (whatever the roam's outcome on a loaded machine)."""
    witness = "/tmp/roamcert-witness.pcap"
    on_lab_host(rig, f"ip link set hwsim0 up; rm -f {witness}; "
                     f"(tcpdump -i hwsim0 -U -s 0 -w {witness} </dev/null >/dev/null 2>&1 & echo $! > {witness}.pid)")
    env = dict(os.environ, ROAMCERT_RUNS=str(tmp_path / "runs-sniffer"))
    argv = [str(ROOT / "roamcert"), "run", *rig.run_args(SNIFFER_PLACE), "--dut", "linux-wpas",
            "-m", "smoke", "-k", "SMOKE-02", "--keep-evidence"]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900,
                           stdin=subprocess.DEVNULL)
    finally:
        on_lab_host(rig, f"kill $(cat {witness}.pid); sleep 1")
    (tmp_path / "witness.pcap").write_bytes(on_lab_host(rig, f"cat {witness}; rm -f {witness} {witness}.pid",
                                                        binary=True))
    runs = list((tmp_path / "runs-sniffer").glob("2*"))
    assert runs, (r.stdout + r.stderr)[-5000:]
    summary = json.loads((runs[0] / "summary.json").read_text())
    assert summary["run"]["lab"]["air"] == "sniffer" and summary["run"]["lab"]["sniffer"] == list(SNIFFER_RADIOS)
    assert [c["case_id"] for c in summary["cases"]] == ["SMOKE-02"]
    case = runs[0] / "cases" / "SMOKE-02-linux-wpas"
    doc = json.loads((case / "evidence.json").read_text())
    # serving AP on channel 1, target on channel 6, one radio each
    assert {a["freq"] for a in doc["aps"].values()} == {2412, 2437}
    assert doc["capture"] == {"source": "sniffer", "radios": dict(zip(SNIFFER_RADIOS, (2412, 2437)))}
    assert not list(case.glob("air-*.pcap"))  # the radios' pcaps were merged into air.pcap
    sniffer_capture_is_the_witness(case, tmp_path / "witness.pcap", summary["cases"][0].get("reason"))
    assert rig.holder(SNIFFER_PLACE) is None
    # the radios are managed again (a lab host is left as the run found it)
    state = on_lab_host(rig, "iw dev " + " info; iw dev ".join(SNIFFER_RADIOS) + " info")
    assert state.count("type managed") == len(SNIFFER_RADIOS), state


def sniffer_capture_is_the_witness(case: Path, witness: Path, reason: str | None = None) -> None:
    """The sniffer's air.pcap of a case against hwsim0's capture of the same time: the same
    frames on the sniffer's channels, and the same verdicts from the case's evidence."""
    from collections import Counter

    from engine.air import Air
    from engine.capture import open_capture
    from engine.evidence import CaseEvidence
    from engine.frames import classify
    from engine.judges import run as judge

    doc = json.loads((case / "evidence.json").read_text())
    sniffed = list(open_capture(str(case / "air.pcap")))
    assert {f.freq for f in sniffed} == {2412, 2437}
    # The span compared: while every radio listened (their tcpdumps start and stop one after
    # the other, a second or two apart under TCG), 10 ms in from either end (both captures
    # are stamped by the lab host's clock, hwsim0 when a radio sends, a sniffer radio when
    # it receives: the same frame microseconds apart).
    lo = max(min(f.t for f in sniffed if f.freq == c) for c in (2412, 2437)) + 0.01
    hi = min(max(f.t for f in sniffed if f.freq == c) for c in (2412, 2437)) - 0.01
    assert hi - lo > 1.0, (lo, hi)
    seen = [f for f in open_capture(str(witness)) if sniffed[0].t - 0.005 <= f.t <= sniffed[-1].t + 0.005]

    # Frame by frame, but for what hwsim makes differ: hwsim0 also shows the ACKs hwsim
    # simulates (no other radio receives them), and hwsim writes a beacon's or probe
    # response's TSF timestamp per receiving radio, after hwsim0 got the frame.
    def same(f):
        kind, raw = classify(f.raw), f.raw
        if kind in ("beacon", "probe_resp"):
            raw = raw[:24] + bytes(8) + raw[32:]  # 9.4.1.10: the 8-octet Timestamp opens the body
        return f.freq, raw

    heard = Counter(same(f) for f in sniffed if lo < f.t < hi)
    witnessed = Counter(same(f) for f in seen if lo < f.t < hi and f.freq in (2412, 2437)
                        and classify(f.raw) != "control")
    assert sum(heard.values()) > 50
    assert heard == witnessed, (f"missed {sum((witnessed - heard).values())}, "
                                f"extra {sum((heard - witnessed).values())}")
    # the case's evidence judged from the witness's frames gives the run's verdicts
    recorded = [(v["rule"], v["status"], v["layer"]) for v in json.loads((case / "verdicts.json").read_text())]
    from_hwsim0 = [(v.rule, v.status, v.layer) for v in
                   judge(CaseEvidence.from_dict(doc), Air(frames=seen)).verdicts]
    assert recorded == from_hwsim0, reason
