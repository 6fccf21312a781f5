"""The kernel's view of a DUT interface's link, from the lab agent's link monitor
(lab/agent.py --watch-link): carrier and operstate from RTM_NEWLINK, and nl80211
CONNECT / ROAM / DISCONNECT. Each record is stamped by the lab kernel's clock, the
clock of the pcap and of the daemons' logs."""
from __future__ import annotations

import json


class LinkWatchError(RuntimeError):
    pass


class LinkWatch:
    def __init__(self, lab, iface: str, netns: str | None = None, timeout: float = 15):
        self.lab = lab
        self.iface = iface
        self.netns = netns
        self.name = lab._name(f"link-{iface}-")
        lab.agent.reset_stream(self.name)
        lab.agent.call("watch_link", name=self.name, ifname=iface, netns=netns)
        s = lab.agent.stream(self.name)
        ok = lab.agent.wait(lambda: s.exit is not None or any('"watching"' in x for _, x in s.items), timeout)
        if not ok or s.exit is not None:
            tail = (s.exit or {}).get("tail") or [x for _, x in s.items]
            self.stop()
            raise LinkWatchError(f"link monitor for {iface} did not start: " + " | ".join(tail[-8:]))

    def mark(self) -> int:
        with self.lab.agent.cond:
            return len(self.lab.agent.stream(self.name).items)

    def records(self) -> list[dict]:
        """Every record so far, in order. A line that is not a record (a traceback, if the
        monitor died) is kept as {"kind": "error", "line": ...}."""
        with self.lab.agent.cond:
            items = list(self.lab.agent.stream(self.name).items)
        out = []
        for t, line in items:
            try:
                rec = json.loads(line)
                if not isinstance(rec, dict):
                    raise ValueError
            except ValueError:
                rec = {"t": t, "kind": "error", "line": line}
            out.append(rec)
        return out

    def alive(self) -> bool:
        return self.lab.agent.stream(self.name).exit is None

    def stop(self) -> None:
        try:
            self.lab.agent.call("stop", name=self.name)
        except Exception:
            pass  # the lab is going down; the records already read stay
