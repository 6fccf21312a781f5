#!/usr/bin/env python3
"""The lab agent: the one process the host talks to inside a lab.

Stdlib only, because it runs on the VM's (or lab host's) system Python.
Protocol: JSON objects, one per line, over any byte stream (virtio-serial, a
pipe, later ssh). The host sends {"id": n, "op": ..., ...}; the agent answers
{"id": n, "ok": true, "result": ...} or {"id": n, "ok": false, "error": "..."}.
Unsolicited events have no id: {"ev": "ctrl"|"out"|"exit", "src": name,
"t": <this kernel's CLOCK_REALTIME>, ...}. The pcap written by the capture is
stamped by the same kernel clock, so frames and events can be correlated.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque

CTRL_DIR = "/tmp/roamcert-ctrl"


class Agent:
    def __init__(self, rfile, wfile):
        self.rfile = rfile
        self.wfile = wfile
        self.wlock = threading.Lock()
        self.procs = {}  # name -> (Popen, tail deque, logpath)
        self.attached = {}  # name -> (socket, thread)
        self.seq = 0
        os.makedirs(CTRL_DIR, exist_ok=True)

    # -- output ------------------------------------------------------------
    def send(self, obj):
        data = (json.dumps(obj) + "\n").encode()
        with self.wlock:
            try:
                # An unbuffered virtio port takes a long line in pieces (write returns
                # fewer octets than given): write until all of it went, or the line is cut
                # and its reply never reaches the host.
                view = memoryview(data)
                while view:
                    n = self.wfile.write(view)
                    if n is None:  # would block: the host is not reading yet
                        time.sleep(0.01)
                        continue
                    view = view[n:]
                self.wfile.flush()
            except OSError:
                pass  # host side gone: nobody to tell

    def event(self, ev, src, **kw):
        self.send({"ev": ev, "src": src, "t": time.time(), **kw})

    # -- main loop ---------------------------------------------------------
    def serve(self):
        self.event("ready", "agent", pid=os.getpid(), uname=os.uname().release)
        for line in self.rfile:
            line = line.strip()
            if not line:
                continue
            try:
                req = json.loads(line)
            except ValueError:
                self.send({"id": None, "ok": False, "error": "bad json: %r" % line[:200]})
                continue
            # Slow ops (ctrl waits, command runs) must not block event delivery
            # or other requests, so each request runs on its own thread.
            threading.Thread(target=self.handle, args=(req,), daemon=True).start()

    def handle(self, req):
        rid = req.get("id")
        op = req.get("op", "")
        fn = getattr(self, "op_" + op, None)
        if fn is None:
            self.send({"id": rid, "ok": False, "error": "unknown op %r" % op})
            return
        try:
            res = fn(**req.get("args", {}))
            self.send({"id": rid, "ok": True, "result": res})
        except Exception as e:  # the host gets the error text, the agent lives on
            self.send({"id": rid, "ok": False, "error": "%s: %s" % (type(e).__name__, e)})

    # -- ops -----------------------------------------------------------------
    def op_ping(self):
        return {"t": time.time(), "uname": os.uname().release}

    def op_run(self, argv, limit=30, input=None):
        p = subprocess.run(argv, input=input, capture_output=True, text=True,
                           timeout=limit, errors="replace")
        return {"rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr}

    def op_write_file(self, path, text, mode=0o644):
        d = os.path.dirname(path)
        if d:
            os.makedirs(d, exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def op_read_file(self, path, tail=0):
        with open(path, "rb") as f:
            data = f.read()
        text = data.decode("utf-8", "replace")
        if tail:
            text = "\n".join(text.splitlines()[-tail:])
        return text

    def op_spawn(self, name, argv, log=None, stream=False, env=None, cwd=None):
        """Start a daemon. Its output goes to `log`; with stream it is also pushed as events."""
        if name in self.procs and self.procs[name][0].poll() is None:
            raise RuntimeError("%s is already running" % name)
        penv = dict(os.environ)
        penv.update(env or {})
        if log:
            os.makedirs(os.path.dirname(log) or ".", exist_ok=True)
        logf = open(log, "ab", buffering=0) if log else subprocess.DEVNULL
        tail = deque(maxlen=60)
        if stream:
            p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=penv, cwd=cwd)
            threading.Thread(target=self._pump, args=(name, p, logf, tail), daemon=True).start()
        else:
            p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=penv, cwd=cwd)
            threading.Thread(target=self._reap, args=(name, p, log, tail), daemon=True).start()
        self.procs[name] = (p, tail, log)
        return {"pid": p.pid}

    def _pump(self, name, p, logf, tail):
        for raw in p.stdout:
            if logf is not subprocess.DEVNULL:
                logf.write(raw)
            line = raw.decode("utf-8", "replace").rstrip("\n")
            tail.append(line)
            self.event("out", name, line=line)
        self._exited(name, p, tail)

    def _reap(self, name, p, log, tail):
        p.wait()
        if log:
            try:
                with open(log, "rb") as f:
                    f.seek(max(0, os.path.getsize(log) - 8192))
                    tail.extend(f.read().decode("utf-8", "replace").splitlines()[-40:])
            except OSError:
                pass
        self._exited(name, p, tail)

    def _exited(self, name, p, tail):
        rc = p.wait()
        self.event("exit", name, code=rc, tail=list(tail))

    def op_stop(self, name, limit=5):
        entry = self.procs.get(name)
        if not entry:
            return {"running": False}
        p = entry[0]
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(limit)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return {"code": p.returncode}

    def op_status(self, name):
        entry = self.procs.get(name)
        if not entry:
            return {"running": False, "code": None}
        p = entry[0]
        return {"running": p.poll() is None, "code": p.returncode, "tail": list(entry[1])}

    def _ctrl_socket(self, path, timeout):
        self.seq += 1
        local = os.path.join(CTRL_DIR, "c%d-%d" % (os.getpid(), self.seq))
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            os.unlink(local)
        except OSError:
            pass
        s.bind(local)
        s.settimeout(timeout)
        try:
            s.connect(path)
        except OSError:
            s.close()
            os.unlink(local)
            raise
        return s, local

    def op_ctrl(self, path, cmd, limit=10):
        """One control-interface request on a fresh socket, as wpa_cli does."""
        s, local = self._ctrl_socket(path, limit)
        try:
            s.send(cmd.encode())
            while True:
                data = s.recv(65536).decode("utf-8", "replace")
                if not data.startswith("<"):  # skip unsolicited events
                    return data
        finally:
            s.close()
            os.unlink(local)

    def op_attach(self, name, path, limit=10):
        """Subscribe to a control interface and push its events."""
        if name in self.attached:
            return "already"
        deadline = time.time() + limit
        while True:
            try:
                s, local = self._ctrl_socket(path, 2)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        s.settimeout(max(5.0, deadline - time.time()))  # a loaded lab answers slowly
        s.send(b"ATTACH")
        reply = s.recv(4096)
        if not reply.startswith(b"OK"):
            raise RuntimeError("ATTACH refused: %r" % reply)
        s.settimeout(None)
        t = threading.Thread(target=self._monitor, args=(name, s, local), daemon=True)
        self.attached[name] = (s, t)
        t.start()
        return "OK"

    def _monitor(self, name, s, local):
        while True:
            try:
                data = s.recv(65536)
            except OSError:
                break
            if not data:
                break
            self.event("ctrl", name, text=data.decode("utf-8", "replace"))
        try:
            os.unlink(local)
        except OSError:
            pass

    def op_detach(self, name):
        entry = self.attached.pop(name, None)
        if entry:
            try:
                entry[0].send(b"DETACH")
            except OSError:
                pass
            entry[0].close()
        return "OK"

    def op_shutdown(self):
        for name in list(self.procs):
            try:
                self.op_stop(name, limit=2)
            except Exception:
                pass
        os.sync()
        if os.getpid() == 1 or os.environ.get("ROAMCERT_POWEROFF"):
            threading.Timer(0.2, _poweroff).start()
        return "OK"


def _poweroff():
    try:
        with open("/proc/sysrq-trigger", "w") as f:
            f.write("o")
    except OSError:
        os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", help="character device to talk over (virtio-serial)")
    ap.add_argument("--port-name", help="virtio-serial port name to look up in sysfs")
    args = ap.parse_args()
    if args.port_name:
        args.port = find_vport(args.port_name)
    if args.port:
        fd = os.open(args.port, os.O_RDWR)
        rfile = os.fdopen(fd, "rb", buffering=0)
        wfile = os.fdopen(os.dup(fd), "wb", buffering=0)
        rfile = _LineReader(rfile)
    else:
        rfile = sys.stdin.buffer
        wfile = sys.stdout.buffer
    Agent(rfile, wfile).serve()


def find_vport(name):
    base = "/sys/class/virtio-ports"
    for _ in range(100):
        if os.path.isdir(base):
            for d in os.listdir(base):
                try:
                    with open(os.path.join(base, d, "name")) as f:
                        if f.read().strip() == name:
                            return "/dev/" + d
                except OSError:
                    pass
        time.sleep(0.05)
    raise SystemExit("virtio port %s not found" % name)


class _LineReader:
    """Line iterator over a raw fd (virtio ports give short reads)."""

    def __init__(self, f):
        self.f = f

    def __iter__(self):
        buf = b""
        while True:
            chunk = self.f.read(65536)
            if not chunk:
                # A virtio port reads empty while the host side is not connected.
                time.sleep(0.05)
                continue
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                yield line


if __name__ == "__main__":
    main()
