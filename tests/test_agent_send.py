"""The lab agent's output under short writes: an unbuffered virtio port may take a long
line in pieces, and every octet must still go out (a cut line is a reply the host never
gets: `iw list`, 245 kB, was lost that way)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

AGENT = Path(__file__).resolve().parent.parent / "lab" / "agent.py"


def load_agent():
    spec = importlib.util.spec_from_file_location("roamcert_agent_under_test", AGENT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class ShortWrites:
    """A raw file that takes at most `chunk` octets per write, and sometimes none (None,
    as a non-blocking fd does when full)."""

    def __init__(self, chunk: int):
        self.chunk = chunk
        self.got = bytearray()
        self.calls = 0

    def write(self, b) -> int | None:
        self.calls += 1
        if self.calls % 5 == 0:
            return None
        n = min(len(b), self.chunk)
        self.got += bytes(b[:n])
        return n

    def flush(self) -> None:
        pass


def test_long_reply_goes_out_whole(tmp_path, monkeypatch):
    mod = load_agent()
    monkeypatch.setattr(mod, "CTRL_DIR", str(tmp_path / "ctrl"))
    out = ShortWrites(chunk=4096)
    agent = mod.Agent(iter(()), out)
    text = "Wiphy phy0\n" + "\t\tEHT bw=20 MHz, 3.2 µs GI\n" * 10000
    agent.send({"id": 7, "ok": True, "result": {"rc": 0, "stdout": text}})
    assert out.calls > 10  # it did come in pieces
    line = bytes(out.got)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line)["result"]["stdout"] == text
