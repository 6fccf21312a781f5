"""The air of one case, as the judges read it: frames from the capture with their kinds,
the air's ground truth per AP, the channels the capture covered, and the APs' decoded
hostapd events. No verdicts here."""
from __future__ import annotations

from engine import capture, hostapd_events
from engine.frames import classify
from engine.frames import convert
from engine.ies import MalformedFrame
from engine.models import AirBSS


class Air:
    """The frames of one case's capture, read once.

    channels: the frequencies (MHz) the capture listened on, or None when it heard every
    channel (mac80211_hwsim's hwsim0 sees the whole simulated medium). A sniffer of monitor
    radios hears only the channels its radios are tuned to: a frame on another channel went
    by unseen, so its absence from the capture proves nothing (engine/judges: coverage)."""

    def __init__(self, path=None, frames=None, problems=(), channels=None):
        """From a capture file (path), or from frames already read (frames)."""
        self.path = path
        self.channels = frozenset(channels) if channels is not None else None
        if frames is None:
            reader = capture.open_capture(str(path))
            frames, problems = list(reader), list(reader.problems)
        self.frames = list(frames)
        self.problems = list(problems)
        self.kinds = [classify(f.raw) for f in self.frames]
        self.malformed: list[tuple] = []  # (frame, kind, error) of frames that did not decode

    def of_kind(self, *kinds: str):
        return [f for f, k in zip(self.frames, self.kinds) if k in kinds]

    def between(self, a: str, b: str, *kinds: str):
        """Frames of these kinds from a to b (either direction)."""
        a, b = a.lower(), b.lower()
        out = []
        for f in self.of_kind(*kinds):
            src, dst = f.src, f.dst
            if {src, dst} == {a, b}:
                out.append(f)
        return out

    def truth(self, aps) -> list[AirBSS]:
        """Each AP as the air saw it: its last beacon body before the end of the capture."""
        last = {}
        for f, k in zip(self.frames, self.kinds):
            if k in ("beacon", "probe_resp"):
                last[(k, f.addr3)] = f.body
        out = []
        for ap in aps:
            extra = {}
            if ("probe_resp", ap.bssid) in last:
                extra["probe_response_body"] = last[("probe_resp", ap.bssid)]
            out.append(AirBSS(ap.bssid, ap.config.ssid_b, ap.config.channel, ap.op_class,
                              ap.freq, last.get(("beacon", ap.bssid), b""), extra))
        return out

    def decoded(self, kind: str, decode):
        """[(frame, decoded)] of every frame of this kind that decodes. A frame that does not
        is kept in self.malformed as (frame, kind, error): whoever sent it is judged for it,
        and the rest of the air is still judged."""
        out = []
        for f in self.of_kind(kind):
            try:
                out.append((f, decode(f.raw)))
            except MalformedFrame as e:
                if not any(m[0] is f for m in self.malformed):
                    self.malformed.append((f, kind, str(e)))
        return out

    def btm_requests(self):
        return self.decoded("btm_request", convert.btm_request_from)

    def btm_responses(self):
        return self.decoded("btm_response", convert.btm_response_from)

    def beacon_requests(self):
        return self.decoded("rm_beacon_request", convert.beacon_request_from)

    def first_after(self, t: float, sta: str, *kinds: str):
        for f in self.of_kind(*kinds):
            if f.t >= t and sta.lower() in (f.src, f.dst):
                return f
        return None


def capture_channels(capture: dict | None) -> frozenset[int] | None:
    """The channels (MHz) a case's capture covered, from the evidence's "capture" record
    (written by the lab's capture, fixtures/plugin.py `air`): {"source": "hwsim0"} hears
    every channel (None); {"source": "sniffer", "radios": {"wlan5": 2412, ...}} hears the
    radios' frequencies. No record (a case recorded before sniffers existed) is hwsim0's."""
    if not capture or capture.get("source") == "hwsim0":
        return None
    if capture.get("source") != "sniffer" or not isinstance(capture.get("radios"), dict):
        raise ValueError(f"capture record {capture!r}: expected source hwsim0, or sniffer with radios "
                         "{radio: MHz}")
    try:
        return frozenset(int(f) for f in capture["radios"].values())
    except (TypeError, ValueError):
        raise ValueError(f"capture record {capture!r}: a radio's frequency is not a number of MHz") from None


def ap_events(ap, name: str, since: int = 0):
    """Decoded hostapd events (BSS-TM-RESP, BEACON-RESP-RX, ...) with their times."""
    out = []
    for t, text in ap.events()[since:]:
        if name in text:
            out.append((t, hostapd_events.decode(text)))
    return out
