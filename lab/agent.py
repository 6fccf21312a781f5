#!/usr/bin/env python3
"""The lab agent: the one process the host talks to inside a lab.

Stdlib only, because it runs on the VM's (or lab host's) system Python.
Protocol: JSON objects, one per line, over any byte stream (virtio-serial, a
pipe, later ssh). The host sends {"id": n, "op": ..., ...}; the agent answers
{"id": n, "ok": true, "result": ...} or {"id": n, "ok": false, "error": "..."}.
Unsolicited events have no id: {"ev": "ctrl"|"out"|"exit", "src": name,
"t": <this kernel's CLOCK_REALTIME>, ...}. The pcap written by the capture is
stamped by the same kernel clock, so frames and events can be correlated.

`agent.py --watch-link IFACE` is the link monitor (op watch_link runs it, in the DUT's
network namespace when it has one): one JSON object per line on stdout for every change
of the interface's carrier (IFF_LOWER_UP) or operstate in RTM_NEWLINK, and for every
nl80211 CONNECT / ROAM / DISCONNECT on it (the "mlme" multicast group).
"""
import argparse
import json
import os
import select
import signal
import socket
import struct
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

    def op_watch_link(self, name, ifname, netns=None):
        """Start the link monitor for ifname (see watch_link below); its lines are `out` events."""
        argv = [sys.executable, "-u", "-I", "-S", os.path.abspath(__file__), "--watch-link", ifname]
        if netns:
            argv = ["ip", "netns", "exec", netns] + argv
        return self.op_spawn(name, argv, stream=True)

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


# -- the link monitor -------------------------------------------------------------------
# Constants from linux/netlink.h, rtnetlink.h, if_link.h, if.h, genetlink.h, nl80211.h.
NETLINK_ROUTE, NETLINK_GENERIC, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP = 0, 16, 270, 1
RTMGRP_LINK, RTM_NEWLINK, RTM_GETLINK = 1, 16, 18
NLM_F_REQUEST, NLMSG_ERROR, NLMSG_DONE = 1, 2, 3
IFLA_IFNAME, IFLA_OPERSTATE, IFLA_CARRIER = 3, 16, 33
IFF_UP, IFF_RUNNING, IFF_LOWER_UP, IFF_DORMANT = 0x1, 0x40, 0x10000, 0x20000
OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 16, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_MCAST_GROUPS = 1, 2, 7
CTRL_ATTR_MCAST_GRP_NAME, CTRL_ATTR_MCAST_GRP_ID = 1, 2
NL80211_CMDS = {46: "CONNECT", 47: "ROAM", 48: "DISCONNECT"}
NL80211_ATTR_IFINDEX, NL80211_ATTR_MAC = 3, 6
NL80211_ATTR_REASON_CODE, NL80211_ATTR_DISCONNECTED_BY_AP, NL80211_ATTR_STATUS_CODE = 54, 71, 72


def _nl_messages(data):
    """(type, payload) of each netlink message in one datagram."""
    off = 0
    while off + 16 <= len(data):
        length, mtype = struct.unpack_from("=IH", data, off)
        if length < 16:
            break
        yield mtype, data[off + 16:off + length]
        off += (length + 3) & ~3


def _attrs(data):
    out, off = {}, 0
    while off + 4 <= len(data):
        length, atype = struct.unpack_from("=HH", data, off)
        if length < 4:
            break
        out[atype & 0x3fff] = data[off + 4:off + length]
        off += (length + 3) & ~3
    return out


def _nl_request(sock, mtype, payload):
    sock.send(struct.pack("=IHHII", 16 + len(payload), mtype, NLM_F_REQUEST, 1, 0) + payload)


def _nl80211_mlme_group(gen):
    """The nl80211 family id and its "mlme" multicast group id, from the genetlink controller."""
    name = b"nl80211\0"
    attr = struct.pack("=HH", 4 + len(name), CTRL_ATTR_FAMILY_NAME) + name
    attr += b"\0" * (-len(attr) % 4)
    _nl_request(gen, GENL_ID_CTRL, struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0) + attr)
    for mtype, payload in _nl_messages(gen.recv(65536)):
        if mtype == NLMSG_ERROR:
            raise OSError("nl80211 family lookup refused")
        a = _attrs(payload[4:])
        fam = struct.unpack("=H", a[CTRL_ATTR_FAMILY_ID][:2])[0]
        groups = _attrs(a.get(CTRL_ATTR_MCAST_GROUPS, b""))
        for g in groups.values():
            ga = _attrs(g)
            if ga.get(CTRL_ATTR_MCAST_GRP_NAME, b"").rstrip(b"\0") == b"mlme":
                return fam, struct.unpack("=I", ga[CTRL_ATTR_MCAST_GRP_ID][:4])[0]
    raise OSError("nl80211 has no mlme multicast group")


def _mac(b):
    return ":".join("%02x" % x for x in b[:6])


def watch_link(ifname, out=sys.stdout):
    """Print the kernel's link events for ifname, one JSON object a line, each stamped with
    this kernel's CLOCK_REALTIME when the monitor read it (as the pcap's frames are stamped
    when the kernel took them: so a link event's t is at most a read's delay late)."""
    index = socket.if_nametoindex(ifname)
    rt = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    rt.bind((0, RTMGRP_LINK))
    gen = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    gen.bind((0, 0))
    fam, grp = _nl80211_mlme_group(gen)
    gen.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, grp)
    last = [None]

    def emit(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    def link(payload, t):
        initial = last[0] is None  # the answer to the RTM_GETLINK below
        family, _, _, idx, flags, _ = struct.unpack_from("=BBHiII", payload)
        if idx != index or family != 0:
            return
        a = _attrs(payload[16:])
        # wireless-extension events (IFLA_WIRELESS) are RTM_NEWLINKs without IFLA_OPERSTATE:
        # the operstate they do not carry is the last one seen
        oper = a[IFLA_OPERSTATE][0] if IFLA_OPERSTATE in a else (last[0][1] if last[0] else None)
        carrier = bool(flags & IFF_LOWER_UP)
        state = (carrier, oper)
        if state == last[0]:
            return  # the same flags again (wext events, other attribute changes)
        last[0] = state
        names = [n for f, n in ((IFF_UP, "UP"), (IFF_RUNNING, "RUNNING"), (IFF_LOWER_UP, "LOWER_UP"),
                                (IFF_DORMANT, "DORMANT")) if flags & f]
        opname = OPERSTATES[oper] if oper is not None and oper < len(OPERSTATES) else str(oper)
        name = a.get(IFLA_IFNAME, b"").rstrip(b"\0").decode() or ifname
        emit({"t": t, "kind": "link", "ifname": name, "ifindex": idx, "flags": flags,
              "carrier": carrier, "operstate": opname, "initial": initial,
              "line": "RTM_NEWLINK ifindex=%d ifname=%s flags=0x%x <%s> operstate=%s"
                      % (idx, name, flags, ",".join(names), opname)})

    def nl80211(payload, t):
        cmd = payload[0]
        what = NL80211_CMDS.get(cmd)
        if what is None:
            return
        a = _attrs(payload[4:])
        if struct.unpack("=I", a.get(NL80211_ATTR_IFINDEX, b"\0\0\0\0")[:4])[0] != index:
            return
        ev = {"t": t, "kind": "nl80211", "cmd": what, "ifname": ifname, "ifindex": index}
        parts = ["nl80211 %s ifindex=%d" % (what, index)]
        if NL80211_ATTR_MAC in a:
            ev["bssid"] = _mac(a[NL80211_ATTR_MAC])
            parts.append("bssid=" + ev["bssid"])
        if NL80211_ATTR_STATUS_CODE in a:
            ev["status"] = struct.unpack("=H", a[NL80211_ATTR_STATUS_CODE][:2])[0]
            parts.append("status=%d" % ev["status"])
        if NL80211_ATTR_REASON_CODE in a:
            ev["reason"] = struct.unpack("=H", a[NL80211_ATTR_REASON_CODE][:2])[0]
            parts.append("reason=%d" % ev["reason"])
        if cmd == 48:
            ev["by_ap"] = NL80211_ATTR_DISCONNECTED_BY_AP in a
            parts.append("by_ap=%d" % ev["by_ap"])
        ev["line"] = " ".join(parts)
        emit(ev)

    # the state before any change: one RTM_GETLINK for the interface
    _nl_request(rt, RTM_GETLINK, struct.pack("=BBHiII", 0, 0, 0, index, 0, 0))
    emit({"t": time.time(), "kind": "watching", "ifname": ifname, "ifindex": index,
          "line": "watching %s (ifindex %d): RTMGRP_LINK, nl80211 mlme group %d" % (ifname, index, grp)})
    for sock in (rt, gen):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    while True:
        ready, _, _ = select.select([rt, gen], [], [])
        for sock in ready:
            try:
                data = sock.recv(65536)
            except OSError as e:  # ENOBUFS: the kernel dropped messages; say so and go on
                emit({"t": time.time(), "kind": "error", "ifname": ifname,
                      "line": "netlink receive error (%s): link events may be missing" % e})
                continue
            t = time.time()
            for mtype, payload in _nl_messages(data):
                if sock is rt and mtype == RTM_NEWLINK:
                    link(payload, t)
                elif sock is gen and mtype == fam:
                    nl80211(payload, t)


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
    ap.add_argument("--watch-link", metavar="IFACE", help="run the link monitor for IFACE instead")
    args = ap.parse_args()
    if args.watch_link:
        return watch_link(args.watch_link)
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
