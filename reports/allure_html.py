"""The Allure 3 single-file HTML report of a run: runs/<id>/allure-report.html.

Runs the npm package `allure` (3.x, installed at the repo root by `tools/setup.sh --node`)
with the machine's node, with the awesome plugin in singleFile mode. Allure's awesome
template hard-wires a Google Analytics loader (analyticsEnable: true, not switched by
ALLURE_NO_ANALYTICS), so the generated page is cleaned afterwards and then checked:
no script, stylesheet, image, frame, fetch or XHR may point at a remote host.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class AllureError(RuntimeError):
    """The Allure HTML could not be made or is not safe to open offline."""


def allure_cli(root: Path = ROOT) -> Path:
    cli = root / "node_modules" / ".bin" / "allure"
    if not cli.exists():
        raise AllureError(f"{cli} is missing: run tools/setup.sh --node (npm ci) first")
    return cli


# The analytics block of the awesome/classic templates: a gtag loader and its config script.
_GTAG = re.compile(r"<script[^>]*googletagmanager\.com[^>]*>\s*</script>\s*"
                   r"(<script>(?:(?!</script>).)*?gtag\((?:(?!</script>).)*?</script>)?", re.S | re.I)

_REMOTE = r"(?:https?:)?//(?!(?:localhost|127\.0\.0\.1)[:/])[A-Za-z0-9.-]+"
# Things a browser fetches by itself, in HTML and CSS.
_FETCHING = [
    re.compile(r"<(?:script|img|iframe|frame|embed|source|audio|video|input|track)\b[^>]*\ssrc\s*=\s*[\"']?\s*"
               + _REMOTE, re.I),
    re.compile(r"<link\b[^>]*\shref\s*=\s*[\"']?\s*" + _REMOTE, re.I),
    re.compile(r"<object\b[^>]*\sdata\s*=\s*[\"']?\s*" + _REMOTE, re.I),
    re.compile(r"url\(\s*[\"']?\s*" + _REMOTE, re.I),
    re.compile(r"@import\s+[\"']\s*" + _REMOTE, re.I),
    re.compile(r"<meta\b[^>]*http-equiv\s*=\s*[\"']?refresh[^>]*" + _REMOTE, re.I),
]
# Things a script fetches: fetch/XHR/import/beacon/WebSocket/EventSource with a literal remote URL.
_JS_FETCHING = [
    re.compile(r"\b(?:fetch|importScripts|sendBeacon|import)\s*\(\s*[\"'`]\s*(?:https?:)?//" , re.I),
    re.compile(r"\.open\s*\(\s*[\"'`]\w+[\"'`]\s*,\s*[\"'`](?:https?:)?//", re.I),
    re.compile(r"new\s+(?:WebSocket|EventSource|Worker)\s*\(\s*[\"'`](?:wss?:|https?:)?//", re.I),
    re.compile(r"googletagmanager|google-analytics|gtag\s*\(\s*[\"']config", re.I),
]
_DATA_URI = re.compile(r"data:(text/(?:javascript|css)|application/javascript);base64,([A-Za-z0-9+/=]+)")


def remote_refs(page: str) -> list[str]:
    """Every place in the page (and in its inlined base64 scripts and styles) that would
    make the browser or a script reach a remote host."""
    found = []
    texts = [("page", page)]
    for m in _DATA_URI.finditer(page):
        try:
            texts.append((m.group(1), base64.b64decode(m.group(2)).decode("utf-8", "replace")))
        except ValueError:
            found.append(f"{m.group(1)}: undecodable data URI")
    for where, text in texts:
        for rx in _FETCHING + (_JS_FETCHING if where != "text/css" else []):
            for m in rx.finditer(text):
                found.append(f"{where}: {m.group(0)[:120]}")
    return found


def strip_analytics(page: str) -> str:
    return _GTAG.sub("", page)


HISTORY = "allure-history.jsonl"


def previous_run(run_dir: Path) -> Path | None:
    """The newest sibling run folder older than run_dir (by name: UTC stamps sort) with an
    Allure history, or None."""
    run_dir = Path(run_dir).resolve()
    older = sorted(p for p in run_dir.parent.iterdir()
                   if p.is_dir() and not p.is_symlink() and p.name < run_dir.name and (p / HISTORY).is_file())
    return older[-1] if older else None


def build(run_dir: str | Path, *, timeout: float = 600, root: Path = ROOT, history_from: Path | None = None) -> Path:
    """Write run_dir/allure-report.html from run_dir/allure-results. Raises AllureError.

    Allure 3 keeps its history (the trend charts) in a JSONL file it appends each report's
    results to: run_dir/allure-history.jsonl starts as a copy of history_from's (the previous
    run's), so the trends carry on; without one it starts empty. allure-results is not touched.
    """
    run_dir = Path(run_dir)
    history = run_dir / HISTORY
    prev = Path(history_from) / HISTORY if history_from else None
    if prev is not None and prev.is_file():
        shutil.copyfile(prev, history)
    else:
        history.unlink(missing_ok=True)  # a rebuild must not count this run twice
    results = run_dir / "allure-results"
    if not any(results.glob("*-result.json")):
        raise AllureError(f"{results}: no Allure results (run the suite with allure-pytest installed)")
    cli = allure_cli(root)
    node = shutil.which("node")
    if node is None:
        raise AllureError("node is not installed")
    with tempfile.TemporaryDirectory(prefix="roamcert-allure-") as tmp:
        tmp = Path(tmp)
        out = tmp / "out"
        cfg = tmp / "allurerc.json"
        cfg.write_text(json.dumps({
            "name": f"roamcert {run_dir.name}",
            "output": str(out),
            "historyPath": str(history.resolve()),
            "plugins": {"awesome": {"options": {
                "singleFile": True, "reportName": f"roamcert {run_dir.name}", "reportLanguage": "en",
                "groupBy": ["epic", "feature", "story"]}}},
        }))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ALLURE_", "CI"))}
        env.update(ALLURE_NO_ANALYTICS="true", NO_UPDATE_NOTIFIER="1", npm_config_update_notifier="false",
                   NO_COLOR="1", FORCE_COLOR="0")
        try:
            # cwd is the temporary folder so that no allurerc of the user's is picked up.
            proc = subprocess.run([node, str(cli.resolve()), "generate", str(results.resolve()),
                                   "--config", str(cfg), "--output", str(out)],
                                  cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AllureError(f"allure generate took more than {timeout:.0f} s") from None
        except OSError as e:
            raise AllureError(f"cannot run allure: {e}") from None
        pages = sorted(out.rglob("index.html")) if out.exists() else []
        if proc.returncode != 0 or not pages:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-8:]
            raise AllureError(f"allure generate failed (exit {proc.returncode}): " + " | ".join(tail))
        page = strip_analytics(pages[0].read_text(encoding="utf-8"))
    bad = remote_refs(page)
    if bad:
        raise AllureError("the Allure page still reaches remote hosts: " + "; ".join(bad[:5]))
    dest = run_dir / "allure-report.html"
    tmp_dest = dest.with_name(".allure-report.html.tmp")
    tmp_dest.write_text(page, encoding="utf-8")
    tmp_dest.replace(dest)
    return dest
