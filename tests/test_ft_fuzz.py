"""Random and mutated bytes into the FT frame readers and the exchange finder: only the
documented errors may escape (MalformedFrame from readers, nothing from the finder)."""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.ft import find_exchanges
from engine.ft import frame as fr
from engine.ft.mic import mic_parts, verify_mic
from engine.ies import MalformedFrame
from engine.verdict import Verdict
from test_ft_exchange import SECRETS, _initial_then_roam
from test_ft_wire import F, REAL_KCK

SEED = [f.raw for f in _initial_then_roam()]
LAB_PCAP = Path(__file__).parent / "data" / "lab" / "ft_air_ds.pcap"
if LAB_PCAP.exists():  # the real FT frames of the lab capture, too
    from test_ft_lab import _pcap
    SEED += [raw for _, raw in _pcap() if raw[0] in (0x00, 0x10, 0x20, 0x30, 0xb0, 0xd0)]
FAST = settings(max_examples=300, deadline=None)


@st.composite
def mutated(draw):
    raw = bytearray(draw(st.sampled_from(SEED)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "grow"]))
        if op == "flip" and raw:
            i = draw(st.integers(0, len(raw) - 1))
            raw[i] = draw(st.integers(0, 255))
        elif op == "cut":
            raw = raw[:draw(st.integers(0, len(raw)))]
        else:
            raw += draw(st.binary(max_size=8))
    return bytes(raw)


frame_bytes = st.one_of(st.binary(max_size=300), mutated())


def _readers(raw):
    f = fr.parse(raw)
    for e in f.elements:
        if e.id == fr.EID_FTE:
            fr.parse_fte(e.body)
        elif e.id == fr.EID_MDE:
            fr.parse_mde(e.body)
        elif e.id == fr.EID_RSNE:
            fr.parse_rsne(e.body)
    fr.eapol_key(f)
    mic_parts(raw)
    verify_mic(REAL_KCK, raw)


@FAST
@given(frame_bytes)
def test_readers_raise_only_malformed_frame(raw):
    try:
        _readers(raw)
    except MalformedFrame:
        pass


@FAST
@given(st.lists(frame_bytes, max_size=12), st.booleans())
def test_finder_never_raises(raws, with_secrets):
    fs = [F(i, i * 0.001, r) for i, r in enumerate(raws)]
    a = find_exchanges(fs, SECRETS if with_secrets else None)
    for v in a.verdicts():
        assert isinstance(v, Verdict) and v.clause.startswith("IEEE 802.11-2020")
    json.dumps(a.to_dict())


@FAST
@given(st.integers(0, len(SEED) - 1), mutated())
def test_one_mutated_frame_in_a_real_sequence(i, raw):
    fs = [F(k, k * 0.001, r) for k, r in enumerate(SEED)]
    fs[i] = F(i, i * 0.001, raw)
    a = find_exchanges(fs, SECRETS)
    a.to_dict()
