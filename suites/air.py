"""Reading a case's evidence for the oracle: frames from the capture, the air's
ground truth, and the daemons' decoded events. No verdicts are made here."""
from __future__ import annotations

from engine import capture, hostapd_events
from engine.frames import classify, header_len, mac
from engine.frames import convert
from engine.models import AirBSS


class Air:
    """The frames of one case's capture, read once."""

    def __init__(self, path):
        self.path = path
        reader = capture.open_capture(str(path))
        self.frames = list(reader)
        self.problems = list(reader.problems)
        self.kinds = [classify(f.raw) for f in self.frames]

    def of_kind(self, *kinds: str):
        return [f for f, k in zip(self.frames, self.kinds) if k in kinds]

    def between(self, a: str, b: str, *kinds: str):
        """Frames of these kinds from a to b (either direction)."""
        a, b = a.lower(), b.lower()
        out = []
        for f in self.of_kind(*kinds):
            src, dst = mac(f.raw[10:16]), mac(f.raw[4:10])
            if {src, dst} == {a, b}:
                out.append(f)
        return out

    def truth(self, aps) -> list[AirBSS]:
        """Each AP as the air saw it: its last beacon body before the end of the capture."""
        last = {}
        for f, k in zip(self.frames, self.kinds):
            if k in ("beacon", "probe_resp"):
                last[(k, mac(f.raw[16:22]))] = f.raw[header_len(f.raw):]
        out = []
        for ap in aps:
            extra = {}
            if ("probe_resp", ap.bssid) in last:
                extra["probe_response_body"] = last[("probe_resp", ap.bssid)]
            out.append(AirBSS(ap.bssid, ap.config.ssid_b, ap.config.channel, ap.op_class,
                              ap.freq, last.get(("beacon", ap.bssid), b""), extra))
        return out

    def btm_requests(self):
        return [(f, convert.btm_request_from(f.raw)) for f in self.of_kind("btm_request")]

    def btm_responses(self):
        return [(f, convert.btm_response_from(f.raw)) for f in self.of_kind("btm_response")]

    def beacon_requests(self):
        return [(f, convert.beacon_request_from(f.raw)) for f in self.of_kind("rm_beacon_request")]

    def first_after(self, t: float, sta: str, *kinds: str):
        for f in self.of_kind(*kinds):
            if f.t >= t and sta.lower() in (mac(f.raw[10:16]), mac(f.raw[4:10])):
                return f
        return None


def ap_events(ap, name: str, since: int = 0):
    """Decoded hostapd events (BSS-TM-RESP, BEACON-RESP-RX, ...) with their times."""
    out = []
    for t, text in ap.events()[since:]:
        if name in text:
            out.append((t, hostapd_events.decode(text)))
    return out
