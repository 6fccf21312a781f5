"""The certificate and the Allure single-file HTML opened in real headless Chromium.

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe,
fds 3/4, NUL-separated JSON): we see every network request the page makes, every
console message and uncaught exception, and take a screenshot.
"""
from __future__ import annotations

import base64
import fcntl
import importlib.util
import io
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("reports_fakesuite", HERE / "test_reports_fakesuite.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")


class Browser:
    """Just enough of the DevTools protocol over a pipe."""

    def __init__(self, profile: Path):
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()
        # Copies above 9 (never clobbering an fd in use), so that placing them at 3 and 4 is safe.
        hi_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
        hi_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)

        def wire():  # the protocol pipes must be fds 3 (commands in) and 4 (replies out)
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
                "--hide-scrollbars", "--mute-audio", "--window-size=1280,900",
                f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=wire, pass_fds=(3, 4))
        for fd in (to_child_r, from_child_w, hi_r, hi_w):
            os.close(fd)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except (OSError, TimeoutError, RuntimeError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)

    def _read(self, deadline: float) -> dict | None:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._r], [], [], left)
            if not ready:
                return None
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the protocol pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 20):
        self._id += 1
        mid = self._id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._read(deadline)
            if m is None:
                raise TimeoutError(method)
            if m.get("id") == mid:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def pump(self, seconds: float):
        deadline = time.monotonic() + seconds
        while (m := self._read(deadline)) is not None:
            self.events.append(m)

    def wait_event(self, method: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if any(e.get("method") == method for e in self.events):
                return True
            m = self._read(deadline)
            if m is None:
                return False
            self.events.append(m)


def open_page(path: Path, tmp: Path, settle: float = 2.0) -> dict:
    """Load a local file; return requests, console errors, exceptions and a PNG screenshot."""
    b = Browser(tmp / "profile")
    try:
        target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = b.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for dom in ("Page", "Network", "Runtime", "Log"):
            b.send(f"{dom}.enable", session=sid)
        b.send("Emulation.setDeviceMetricsOverride",
               {"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": False}, session=sid)
        b.send("Page.navigate", {"url": path.resolve().as_uri()}, session=sid)
        loaded = b.wait_event("Page.loadEventFired", 30)
        b.pump(settle)  # let the page's scripts run and ask for whatever they ask for
        shot = base64.b64decode(b.send("Page.captureScreenshot", {"format": "png"}, session=sid)["data"])
        dom = b.send("Runtime.evaluate", {"expression": "document.body ? document.body.innerText : ''",
                                          "returnByValue": True}, session=sid)["result"].get("value", "")
        alerts = [e for e in b.events if e.get("method") == "Page.javascriptDialogOpening"]
    finally:
        b.close()
    ev = b.events
    return {
        "loaded": loaded,
        "requests": [e["params"]["request"]["url"] for e in ev if e.get("method") == "Network.requestWillBeSent"],
        "console_errors": [e["params"] for e in ev if e.get("method") == "Runtime.consoleAPICalled"
                           and e["params"].get("type") in ("error", "assert")],
        "exceptions": [e["params"] for e in ev if e.get("method") == "Runtime.exceptionThrown"],
        "log_errors": [e["params"]["entry"] for e in ev if e.get("method") == "Log.entryAdded"
                       and e["params"]["entry"].get("level") == "error"],
        "dialogs": alerts,
        "png": shot,
        "text": dom,
    }


def assert_not_blank(png: bytes) -> None:
    from PIL import Image

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(io.BytesIO(png)).convert("L")
    assert img.size[0] >= 800 and img.size[1] >= 600
    lo, hi = img.getextrema()
    assert hi - lo > 100, "the screenshot is a flat colour"
    hist = img.histogram()
    top = max(hist)
    assert top < 0.98 * sum(hist), "the screenshot is almost all one colour"


def remote(urls):
    return [u for u in urls if not u.startswith(("file:", "data:", "blob:", "about:"))]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    run, proc = fake.make_run(tmp)
    assert (run / "summary.json").is_file(), proc.stdout + proc.stderr
    return run


def test_certificate_opens_offline_without_errors(run, tmp_path):
    from reports.certificate import file_name

    page = run / file_name("dut-" + fake.HOSTILE)
    res = open_page(page, tmp_path, settle=0.5)
    assert res["loaded"]
    assert res["requests"] and all(u.startswith("file:") for u in res["requests"]), res["requests"]
    assert remote(res["requests"]) == []
    assert res["console_errors"] == [] and res["exceptions"] == [] and res["log_errors"] == []
    assert res["dialogs"] == [], "a hostile string ran as script"
    # The hostile SSID is shown as text, verbatim.
    assert fake.HOSTILE in res["text"]
    assert "NOT CONFORMANT" in res["text"]
    assert_not_blank(res["png"])


def test_allure_single_file_opens_offline_without_errors(run, tmp_path):
    from reports import allure_html

    try:
        allure_html.allure_cli()
    except allure_html.AllureError as e:
        pytest.skip(str(e))
    page = allure_html.build(run)
    res = open_page(page, tmp_path, settle=3.0)
    assert res["loaded"]
    assert remote(res["requests"]) == [], remote(res["requests"])
    assert res["console_errors"] == [] and res["exceptions"] == [], (res["console_errors"], res["exceptions"])
    assert res["dialogs"] == []
    # The app rendered the run (its own text, not our page's): the count, the epics as
    # groups, and the failed case unfolded.
    text = res["text"]
    assert "Results 5" in text, text[:500]
    assert "802.11v" in text and "802.11r" in text and "BTM-02 BTM token echo" in text, text[:500]
    assert_not_blank(res["png"])
    (run / "allure-screenshot.png").write_bytes(res["png"])


def test_harness_catches_requests_console_errors_and_exceptions(tmp_path):
    # A control: the checks above can fail. Port 9 (discard) on loopback: nothing leaves the machine.
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><p>x</p><img src="http://127.0.0.1:9/pixel.png">'
                    '<script>console.error("boom"); null.f();</script></body></html>')
    res = open_page(page, tmp_path, settle=0.5)
    assert res["loaded"]
    assert remote(res["requests"]) == ["http://127.0.0.1:9/pixel.png"]
    assert [m["args"][0]["value"] for m in res["console_errors"]] == ["boom"]
    assert len(res["exceptions"]) == 1
    with pytest.raises(AssertionError):
        assert_not_blank(res["png"])  # a lone "x" on white is not a rendered report
