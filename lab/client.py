"""Host side of the agent protocol (see lab/agent.py). Transport-agnostic: give it a
connected socket or any pair of binary file objects."""
from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field


class AgentError(RuntimeError):
    pass


class AgentGone(AgentError):
    pass


class AgentTimeout(AgentError):
    """The agent took no answer back within the call's time: it is hung, or its lab is."""

    def __init__(self, op: str, timeout: float):
        super().__init__(f"agent did not answer {op} within {timeout:.0f}s")
        self.op = op
        self.timeout = timeout


@dataclass
class Stream:
    """Everything one source (a daemon's ctrl interface or stdout) has said, in order."""
    name: str
    items: list = field(default_factory=list)  # (t, text)
    exit: dict | None = None  # {"code":, "tail":[...]} once the process died


class AgentClient:
    def __init__(self, rfile, wfile, on_close=None):
        self.rfile = rfile
        self.wfile = wfile
        self.wlock = threading.Lock()
        self.cond = threading.Condition()
        self.pending: dict[int, dict] = {}
        self.streams: dict[str, Stream] = {}
        self.ids = itertools.count(1)
        self.closed = False
        self.close_reason = ""
        self.ready = threading.Event()
        self.info: dict = {}
        self.sinks: dict[str, object] = {}  # stream name -> binary file its "out" lines go to
        self.on_close = on_close
        self.reader = threading.Thread(target=self._read, daemon=True, name="agent-reader")
        self.reader.start()

    def _read(self):
        try:
            for raw in self.rfile:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue  # console noise on the port never kills the link
                self._dispatch(msg)
            self.close_reason = "agent closed the connection"
        except OSError as e:
            self.close_reason = f"agent link error: {e}"
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        if self.on_close:
            self.on_close()

    def _dispatch(self, msg: dict):
        with self.cond:
            if "ev" in msg:
                ev, src = msg["ev"], msg.get("src", "")
                if ev == "ready":
                    self.info = msg
                    self.ready.set()
                else:
                    sink = self.sinks.get(src)
                    if sink is not None and ev == "out":
                        # a mirrored file: its lines go to the host's copy, not into memory
                        sink.write(msg.get("line", "").encode("utf-8", "replace") + b"\n")
                        sink.flush()
                        self.cond.notify_all()
                        return
                    s = self.streams.setdefault(src, Stream(src))
                    if ev == "exit":
                        s.exit = {"code": msg.get("code"), "tail": msg.get("tail", []), "t": msg["t"]}
                    else:
                        s.items.append((msg["t"], msg.get("text", msg.get("line", ""))))
            elif msg.get("id") is not None:
                self.pending[msg["id"]] = msg
            self.cond.notify_all()

    def stream(self, name: str) -> Stream:
        with self.cond:
            return self.streams.setdefault(name, Stream(name))

    def reset_stream(self, name: str):
        with self.cond:
            self.streams[name] = Stream(name)

    def call(self, op: str, timeout: float = 30, **args):
        rid = next(self.ids)
        data = (json.dumps({"id": rid, "op": op, "args": args}) + "\n").encode()
        with self.wlock:
            if self.closed:
                raise AgentGone(self.close_reason or "agent link closed")
            try:
                self.wfile.write(data)
                self.wfile.flush()
            except OSError as e:
                raise AgentGone(f"cannot reach the agent: {e}") from e
        deadline = time.monotonic() + timeout
        with self.cond:
            while rid not in self.pending:
                if self.closed:
                    raise AgentGone(self.close_reason or "agent link closed")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AgentTimeout(op, timeout)
                self.cond.wait(left)
            msg = self.pending.pop(rid)
        if not msg.get("ok"):
            raise AgentError(f"{op} failed in the lab: {msg.get('error')}")
        return msg.get("result")

    def wait(self, pred, timeout: float):
        """Wait until pred() (called under the lock) is true; return its value or None."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                v = pred()
                if v or self.closed:
                    return v
                left = deadline - time.monotonic()
                if left <= 0:
                    return v
                self.cond.wait(min(left, 0.5))

    # thin helpers -----------------------------------------------------------
    def run(self, argv: list[str], timeout: float = 30, check: bool = True, input: str | None = None) -> dict:
        res = self.call("run", timeout=timeout + 5, argv=argv, limit=timeout, input=input)
        if check and res["rc"] != 0:
            raise AgentError(f"{' '.join(argv)} exited {res['rc']}: {res['stderr'].strip() or res['stdout'].strip()}")
        return res
