"""Roam timeline pictures: what is drawn, escaping, and bad input."""
from __future__ import annotations

import io
import re

import pytest

from reports import timeline

H = "<script>alert(1)</script>\"'&"

ROAM = {
    "title": "FT roam " + H,
    "dut": {"name": "sta", "mac": "02:00:00:00:02:00"},
    "current": {"name": "AP1", "bssid": "02:00:00:00:00:00"},
    "target": "02:00:00:00:01:00",
    "frames": [
        {"t": 10.000, "src": "current", "dst": "dut", "label": "BTM Request", "index": 812},
        {"t": 10.003, "src": "02:00:00:00:02:00", "dst": "02:00:00:00:00:00", "label": "BTM Response", "index": 815},
        {"t": 10.020, "src": "dut", "dst": "02:00:00:00:01:00", "label": "FT Auth " + H, "index": 820},
        {"t": 10.027, "src": "target", "dst": "dut", "label": "Reassoc Response", "ok": False},
    ],
    "indications": [
        {"t": 10.005, "kind": "ROAMING_START", "reason": "btm", "bssid": None, "status": None, "source": ""},
        {"t": 10.030, "kind": "ROAMING_COMPLETION", "bssid": "02:00:00:00:01:00", "status": "success",
         "reason": None, "source": ""},
    ],
    "latencies": {"ft": {"us": 7000, "start": 10.020, "end": 10.027}, "btm to roam": 25000, "tiny": 850},
}


def texts(svg: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m) for m in re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S)]


def test_svg_shows_frames_indications_times_and_latencies():
    svg = timeline.svg(ROAM)
    t = texts(svg)
    joined = "\n".join(t)
    for want in ["BTM Request  #812", "BTM Response  #815", "Reassoc Response", "ROAMING_START (reason btm)",
                 "ROAMING_COMPLETION (02:00:00:00:01:00, success)", "Station (DUT)", "Current AP", "Target AP",
                 "sta · 02:00:00:00:02:00", "AP1 · 02:00:00:00:00:00", "02:00:00:00:01:00",
                 "ft: 7.0 ms", "btm to roam: 25.0 ms", "tiny: 850 µs"]:
        assert want in joined, want
    # Times are relative to the first event, in ms: 10.003 s is +3.000, 10.030 s is +30.000.
    assert "+0.000" in t and "+3.000" in t and "+30.000" in t
    # Rows go in time order: the ROAMING_START (10.005) comes between the BTM response and the FT auth.
    ys = {m[1].split()[0] + " " + m[1].split()[1]: float(m[0])
          for m in re.findall(r'<text\b[^>]*\by="([\d.]+)"[^>]*>([^<]*)</text>', svg)
          if m[1].startswith(("BTM Response", "ROAMING_START", "FT Auth"))}
    assert ys["BTM Response"] < ys["ROAMING_START (reason"] < ys["FT Auth"]
    # Every address matched a lane: no "Other" lane was needed.
    assert "Other" not in t


def test_hostile_text_is_escaped_in_svg():
    svg = timeline.svg(ROAM)
    assert "<script" not in svg and H not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert svg.startswith("<svg") and "<metadata" not in svg
    assert not re.search(r"(?:href|src)\s*=\s*[\"']?(?:https?:)?//", svg)


def test_unknown_address_gets_an_other_lane():
    roam = {"frames": [{"t": 1, "src": "aa:bb:cc:dd:ee:ff", "dst": "dut", "label": "Deauth"}]}
    assert "Other" in texts(timeline.svg(roam))


def test_png_is_not_blank(tmp_path):
    from PIL import Image

    p = timeline.render(ROAM, tmp_path / "t.png")
    img = Image.open(io.BytesIO(p.read_bytes())).convert("L")
    lo, hi = img.getextrema()
    assert hi - lo > 150 and img.size[0] > 1000


@pytest.mark.parametrize("roam, msg", [
    ([], "must be a dict"),
    ({}, "nothing to draw"),
    ({"frames": [{"t": "soon"}]}, "frame #0 t: not a number"),
    ({"frames": [{"t": float("nan")}]}, "not finite"),
    ({"frames": ["x"]}, "frame #0 is not a dict"),
    ({"frames": {}}, "nothing to draw"),
    ({"frames": "abc"}, "must be lists"),
    ({"indications": [{"t": 1, "kind": "ROAMING_START"}], "latencies": [1]}, "latencies must be a dict"),
    ({"indications": [{"t": 1, "kind": "ROAMING_START"}], "latencies": {"x": "fast"}}, "latency x"),
])
def test_bad_roam_data_raises_timeline_error(roam, msg):
    with pytest.raises(timeline.TimelineError, match=msg):
        timeline.svg(roam)


def test_unclosed_roaming_start_still_draws():
    roam = {"indications": [{"t": 1.0, "kind": "ROAMING_START", "reason": "low rssi"}]}
    assert "ROAMING_START (reason low rssi)" in texts(timeline.svg(roam))


def test_port_and_media_indications_render_with_their_layer_and_open_no_bracket():
    roam = {"indications": [
        {"t": 1.0, "kind": "ROAMING_START", "reason": "btm"},
        {"t": 1.1, "kind": "MEDIA_DISCONNECT", "bssid": "02:00:00:00:00:00", "reason": "carrier off",
         "layer": "kernel/driver", "evidence": "RTM_NEWLINK ifindex=4 ifname=wlan2 flags=0x1003 <UP>"},
        {"t": 1.2, "kind": "PORT_UNAUTHORIZED", "reason": "operstate DOWN", "layer": "supplicant"},
        {"t": 1.3, "kind": "ROAMING_COMPLETION", "bssid": "02:00:00:00:01:00", "status": "success"},
        {"t": 1.4, "kind": "PORT_AUTHORIZED", "reason": "operstate UP", "layer": "supplicant"}]}
    t = texts(timeline.svg(roam))
    assert any(x.startswith("MEDIA_DISCONNECT [kernel/driver] (reason carrier") for x in t)
    assert any(x.startswith("PORT_UNAUTHORIZED [supplicant] (reason operstate") for x in t)
    assert "PORT_AUTHORIZED [supplicant] (reason operstate UP)" in t
    rows, _ = timeline._rows(roam)
    assert [r["ind"] for r in rows][2] == "PORT_UNAUTHORIZED"
