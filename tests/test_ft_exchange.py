"""The FT exchange finder over hand-built frame sequences (IEEE 802.11-2020 13.5, 13.8).

The roam reuses the real handshake's identities and nonces (test_ft_wire) so every
expected key, PMKID and KCK is fixed by real frames; MICs are computed here from the
13.8.4/13.8.5 concatenation written out by hand.
"""
from __future__ import annotations

import json

from engine.ft import Secrets, find_exchanges
from engine.verdict import FAIL, INFO, PASS
from shared_data import SHARED
from test_ft_wire import (LLC_EAPOL, M1_INFO, M2_INFO, M3_INFO, M4_INFO, REAL_ANONCE,
                          REAL_PASSPHRASE, REAL_PMKR0NAME, REAL_PMKR1NAME, REAL_R0KH,
                          REAL_R1KH, REAL_SNONCE, REAL_SSID, REAL_KCK, assoc_req, assoc_resp,
                          auth, beacon, cmac, data_frame, eapol_data, eapol_key, el, fte,
                          frames, ft_action, mac, mde, real_m2, reassoc_req, reassoc_resp,
                          rsne)

STA, TARGET, OLD = "02:00:00:00:01:00", "02:00:00:00:00:00", "02:00:00:00:02:00"
SECRETS = Secrets.from_passphrase(REAL_PASSPHRASE, REAL_SSID)
SSID_EL = el(0, REAL_SSID)


def _fte(mic=bytes(16), anonce=REAL_ANONCE, snonce=REAL_SNONCE, count=3):
    return fte(anonce, snonce, mic, count=count, r0kh=REAL_R0KH, r1kh=REAL_R1KH)


def _signed(seq, rs=None, md=None, anonce=REAL_ANONCE, snonce=REAL_SNONCE):
    """RSNE + MDE + FTE with the FTE MIC computed by hand (13.8.4 / 13.8.5)."""
    rs = rs if rs is not None else rsne(4, [REAL_PMKR1NAME])
    md = md if md is not None else mde()
    data = (mac(STA) + mac(TARGET) + bytes([seq]) + rs + md
            + _fte(bytes(16), anonce, snonce))
    return rs + md + _fte(cmac(REAL_KCK, data), anonce, snonce)


def _roam(over_ds=False, resp_elems=None, req_elems=None, status=0, extra=()):
    seq = [(0.500000, beacon(TARGET, SSID_EL + rsne() + mde()))]
    if over_ds:
        seq += [(1.000000, ft_action(1, STA, OLD, TARGET, rsne(4, [REAL_PMKR0NAME]) + mde()
                                     + fte(snonce=REAL_SNONCE, r0kh=REAL_R0KH))),
                (1.001000, ft_action(2, STA, OLD, TARGET, rsne(4, [REAL_PMKR0NAME]) + mde()
                                     + _fte(count=0)))]
    else:
        seq += [(1.000000, auth(STA, TARGET, 1, 0, rsne(4, [REAL_PMKR0NAME]) + mde()
                                + fte(snonce=REAL_SNONCE, r0kh=REAL_R0KH))),
                (1.001000, auth(STA, TARGET, 2, 0, rsne(4, [REAL_PMKR0NAME]) + mde()
                                + _fte(count=0), from_ap=True))]
    seq += [(1.002000, reassoc_req(STA, TARGET, OLD, SSID_EL + (req_elems or _signed(5)))),
            (1.004250, reassoc_resp(STA, TARGET, status, resp_elems or _signed(6))),
            (1.010000, data_frame(STA, "ff:ff:ff:ff:ff:ff", TARGET,
                                  bytes.fromhex("aaaa030000000806") + bytes(28), to_ds=True))]
    seq += list(extra)
    return frames(seq)


def _by_rule(x):
    return {v.rule: v for v in x.verdicts}


def test_clean_over_the_air_roam_passes_every_check():
    a = find_exchanges(_roam(), SECRETS)
    assert len(a.exchanges) == 1 and not a.findings
    x = a.exchanges[0]
    assert (x.sta, x.target, x.current, x.over_ds) == (STA, TARGET, OLD, False)
    assert x.to_dict()["frames"] == {"request": 1, "response": 2, "reassoc_request": 3,
                                     "reassoc_response": 4}
    assert x.latency_us == 4250  # 1.004250 - 1.000000
    assert x.mic_ok is True and x.pmkr1name_ok is True and x.eapol_after == []
    v = _by_rule(x)
    for rule in ("FT-SEQUENCE", "FT-AUTH-STATUS", "FT-SNONCE", "FT-ANONCE", "FT-MDE",
                 "FT-MDE-BEACON", "FT-PMKR0NAME", "FT-PMKR1NAME", "FT-MIC-5", "FT-MIC-6",
                 "FT-MIC-COUNT", "FT-REASSOC-STATUS", "FT-NO-4WAY"):
        assert v[rule].status == PASS, v[rule].describe()
    assert v["FT-LATENCY"].status == INFO and v["FT-LATENCY"].observed == "4250 us"
    assert all(v.clause.startswith("IEEE 802.11-2020 ") for v in x.verdicts)
    assert a.fourway_count == 0


def test_to_dict_is_json_with_the_contract_keys():
    d = json.loads(json.dumps(find_exchanges(_roam(), SECRETS).to_dict()))
    x = d["exchanges"][0]
    assert {"sta", "target", "over_ds", "mic_ok", "pmkr1name_ok", "latency_us"} <= set(x)
    assert x["latency_us"] == 4250 and x["mic_ok"] is True


def test_flipped_mic_byte_in_reassoc_response_fails_mic6():
    good = _signed(6)
    i = good.index(b"\x37") + 4  # first MIC octet (RSNE and MDE bytes hold no 0x37 here)
    bad = good[:i] + bytes([good[i] ^ 1]) + good[i + 1:]
    x = find_exchanges(_roam(resp_elems=bad), SECRETS).exchanges[0]
    v = _by_rule(x)
    assert v["FT-MIC-6"].status == FAIL and v["FT-MIC-5"].status == PASS
    assert x.mic_ok is False and not x.ok
    # the reassociation response is the AP's frame: its bad MIC is the reference AP's fault
    assert v["FT-MIC-6"].layer == "reference AP" and v["FT-MIC-5"].layer == "DUT"


def test_eapol_4way_after_ft_reassoc_fails():
    m1 = eapol_data(STA, TARGET, eapol_key(M1_INFO, bytes(range(32))), from_ap=True)
    a = find_exchanges(_roam(extra=[(1.02, m1)]), SECRETS)
    x = a.exchanges[0]
    assert x.eapol_after == [6]
    assert _by_rule(x)["FT-NO-4WAY"].status == FAIL
    assert a.fourway_count == 1


def test_anonce_not_echoed_fails():
    other = bytes(32)
    x = find_exchanges(_roam(req_elems=_signed(5, anonce=other)), SECRETS).exchanges[0]
    assert _by_rule(x)["FT-ANONCE"].status == FAIL and x.anonce_ok is False


def test_mde_change_fails_and_beacon_mismatch_fails():
    md = mde(cap=0x00)
    x = find_exchanges(_roam(req_elems=_signed(5, md=md)), SECRETS).exchanges[0]
    assert _by_rule(x)["FT-MDE"].status == FAIL and x.mde_ok is False
    fs = _roam()
    fs[0].raw = beacon(TARGET, SSID_EL + rsne() + mde(bytes.fromhex("a1b2")))
    x = find_exchanges(fs, SECRETS).exchanges[0]
    assert _by_rule(x)["FT-MDE-BEACON"].status == FAIL


def test_wrong_pmkr1name_fails():
    rs = rsne(4, [bytes(16)])
    x = find_exchanges(_roam(req_elems=_signed(5, rs=rs)), SECRETS).exchanges[0]
    v = _by_rule(x)
    assert v["FT-PMKR1NAME"].status == FAIL and x.pmkr1name_ok is False
    assert v["FT-MIC-5"].status == PASS  # the MIC covers what was sent


def test_reassoc_rejected_fails_status():
    x = find_exchanges(_roam(status=53), SECRETS).exchanges[0]
    v = _by_rule(x)
    assert v["FT-REASSOC-STATUS"].status == FAIL and x.reassoc_status == 53


def test_without_secrets_key_checks_are_info_only():
    x = find_exchanges(_roam()).exchanges[0]
    v = _by_rule(x)
    assert v["FT-MIC-5"].status == INFO and v["FT-PMKR1NAME"].status == INFO
    assert x.mic_ok is None and x.pmkr1name_ok is None
    assert "FT-PMKR0NAME" not in v
    assert v["FT-SNONCE"].status == PASS


def test_wrong_passphrase_fails_mics():
    x = find_exchanges(_roam(), Secrets.from_passphrase("87654321", REAL_SSID)).exchanges[0]
    v = _by_rule(x)
    assert v["FT-MIC-5"].status == FAIL and v["FT-PMKR1NAME"].status == FAIL
    assert v["FT-MIC-6"].status == FAIL and v["FT-MIC-6"].layer == "lab"  # neither side verifies


def test_over_the_ds_roam():
    a = find_exchanges(_roam(over_ds=True), SECRETS)
    x = a.exchanges[0]
    assert x.over_ds is True and x.current == OLD and x.latency_us == 4250
    assert x.ok, "\n".join(v.describe() for v in x.verdicts if v.status == FAIL)
    assert _by_rule(x)["FT-SEQUENCE"].clause == "IEEE 802.11-2020 13.5.4"


def test_incomplete_exchange_is_reported():
    fs = _roam()[:3]  # beacon, auth 1, auth 2
    x = find_exchanges(fs, SECRETS).exchanges[0]
    v = _by_rule(x)
    assert v["FT-SEQUENCE"].status == FAIL and "reassociation request" in v["FT-SEQUENCE"].observed
    assert x.latency_us is None


def test_auth_rejected():
    fs = _roam()
    fs[2].raw = auth(STA, TARGET, 2, 53, b"", from_ap=True)
    x = find_exchanges(fs, SECRETS).exchanges[0]
    assert _by_rule(x)["FT-AUTH-STATUS"].status == FAIL


def _initial_then_roam():
    assoc_elems = SSID_EL + rsne(4) + mde()
    resp_elems = rsne(4) + mde() + _fte(count=0)
    m3_data = rsne(4, [REAL_PMKR1NAME]) + mde() + _fte(count=0)
    seq = [
        (0.1, beacon(TARGET, SSID_EL + rsne() + mde())),
        (0.2, assoc_req(STA, TARGET, assoc_elems)),
        (0.201, assoc_resp(STA, TARGET, 0, resp_elems)),
        (0.202, eapol_data(STA, TARGET, eapol_key(M1_INFO, REAL_ANONCE), from_ap=True)),
        (0.203, eapol_data(STA, TARGET, real_m2(), from_ap=False)),
        (0.204, eapol_data(STA, TARGET, eapol_key(M3_INFO, REAL_ANONCE, m3_data, bytes(16), 2),
                           from_ap=True)),
        (0.205, eapol_data(STA, TARGET, eapol_key(M4_INFO, bytes(32), b"", bytes(16), 2),
                           from_ap=False)),
    ]
    return frames(seq + [(f.t, f.raw) for f in _roam()])


def test_initial_ft_association_then_roam():
    a = find_exchanges(_initial_then_roam(), SECRETS)
    assert len(a.initial) == 1 and len(a.exchanges) == 1
    i = a.initial[0]
    v = {x.rule: x for x in i.verdicts}
    for rule in ("FT-INIT-ASSOC", "FT-MDE-BEACON", "FT-INIT-4WAY", "FT-INIT-PMKR1NAME",
                 "FT-INIT-M2-MIC"):
        assert v[rule].status == PASS, v[rule].describe()
    assert i.handshake.messages == {1: [3], 2: [4], 3: [5], 4: [6]}
    assert a.fourway_count == 1
    assert a.exchanges[0].ok and a.exchanges[0].eapol_after == []


def test_initial_association_with_tampered_m2_fails_m2_mic():
    fs = _initial_then_roam()
    raw = bytearray(fs[4].raw)
    raw[-1] ^= 0x01  # last octet of the R0KH-ID in the M2 Key Data
    fs[4].raw = bytes(raw)
    i = find_exchanges(fs, SECRETS).initial[0]
    assert {x.rule: x for x in i.verdicts}["FT-INIT-M2-MIC"].status == FAIL


def test_initial_association_without_m4_fails_4way():
    fs = _initial_then_roam()
    del fs[6]
    i = find_exchanges(fs, SECRETS).initial[0]
    v = {x.rule: x for x in i.verdicts}
    assert v["FT-INIT-4WAY"].status == FAIL and v["FT-INIT-4WAY"].observed == "messages 1, 2, 3"


def test_temporary_refusal_then_association_judges_the_second_only():
    """Status 30 (9.4.1.9, rejected temporarily) is the AP's PMF SA Query wait, not the STA's
    doing; the association the STA makes after it is judged as usual. Any other refusal fails."""
    fs = _initial_then_roam()
    refused = [(0.15, assoc_req(STA, TARGET, SSID_EL + rsne(4) + mde())),
               (0.151, assoc_resp(STA, TARGET, 30, el(56, bytes([3]) + (1000).to_bytes(4, "little"))))]
    a = find_exchanges(frames([(fs[0].t, fs[0].raw)] + refused + [(f.t, f.raw) for f in fs[1:]]), SECRETS)
    first, second = a.initial
    v1 = {x.rule: x for x in first.verdicts}
    assert v1["FT-INIT-ASSOC"].status == INFO and v1["FT-INIT-ASSOC"].layer == "reference AP"
    assert {x.rule: x for x in second.verdicts}["FT-INIT-ASSOC"].status == PASS
    other = find_exchanges(frames([(0.15, refused[0][1]), (0.151, assoc_resp(STA, TARGET, 17, b""))]), SECRETS)
    assert {x.rule: x for x in other.initial[0].verdicts}["FT-INIT-ASSOC"].status == FAIL


def test_association_request_sent_again_before_an_answer_judges_the_repeat():
    fs = _initial_then_roam()
    first = (0.19, assoc_req(STA, TARGET, SSID_EL + rsne(4) + mde()))  # no answer to this one
    a = find_exchanges(frames([(fs[0].t, fs[0].raw), first] + [(f.t, f.raw) for f in fs[1:]]), SECRETS)
    lost, kept = a.initial
    assert lost.repeated_by == 2 and lost.response is None
    v = {x.rule: x for x in lost.verdicts}
    assert v["FT-INIT-ASSOC"].status == INFO
    assert {x.rule: x.status for x in kept.verdicts}["FT-INIT-4WAY"] == PASS
    # without a repeat, a missing answer still fails
    alone = find_exchanges(frames([first]), SECRETS)
    v = {x.rule: x for x in alone.initial[0].verdicts}["FT-INIT-ASSOC"]
    assert v.status == FAIL and v.layer == "reference AP"  # the missing answer is the AP's


def test_4way_started_again_by_the_ap_judges_the_handshake_that_completes():
    """Messages 1, 2 and a lost 3, then the AP starts over with a new ANonce (12.7.6.2)."""
    fs = _initial_then_roam()
    other_anonce = bytes(32)
    aborted = [(0.2015, eapol_data(STA, TARGET, eapol_key(M1_INFO, other_anonce), from_ap=True)),
               (0.2016, eapol_data(STA, TARGET, eapol_key(M2_INFO, bytes(range(32))), from_ap=False))]
    seq = [(f.t, f.raw) for f in fs[:3]] + aborted + [(f.t, f.raw) for f in fs[3:]]
    a = find_exchanges(frames(seq), SECRETS)
    (i,) = a.initial
    assert len(a.handshakes) == 2 and i.handshake is a.handshakes[1] and i.handshake.complete
    v = {x.rule: x.status for x in i.verdicts}
    assert v["FT-INIT-4WAY"] == PASS and v["FT-INIT-M2-MIC"] == PASS


def test_malformed_ft_frames_become_findings():
    fs = _roam()
    fs[4].raw = fs[4].raw[:-5]  # reassoc response: FTE runs past the end
    fs.append(type(fs[0])(9, 2.0, b"\x08"))  # one octet
    a = find_exchanges(fs, SECRETS)
    x = a.exchanges[0]
    assert any(v.rule == "FT-FRAME" and v.status == FAIL and v.evidence == ("frame 4",)
               and v.layer == "reference AP" for v in x.findings)  # the AP sent the torn frame
    assert not x.ok
    assert any(v.rule == "FT-FRAME" and v.evidence == ("frame 9",) for v in a.findings)


def test_non_ft_traffic_finds_nothing():
    fs = frames([(0.0, beacon(TARGET, SSID_EL + rsne(2))),
                 (0.1, assoc_req(STA, TARGET, SSID_EL + rsne(2))),
                 (0.2, data_frame(STA, TARGET, TARGET, LLC_EAPOL[:6] + b"\x08\x00" + bytes(20),
                                  to_ds=True))])
    a = find_exchanges(fs, SECRETS)
    assert a.exchanges == [] and a.initial == [] and a.fourway_count == 0


def test_group_key_messages_are_not_4way():
    fs = _roam(extra=[(1.1, eapol_data(STA, TARGET, eapol_key(0x1382), from_ap=True))])
    a = find_exchanges(fs, SECRETS)
    assert a.fourway_count == 0 and a.exchanges[0].eapol_after == []


def test_m2_info_constant_is_a_message_2():
    # M2_INFO is the Key Information of the real M2 (0x010b): MIC, pairwise, version 3
    assert real_m2()[5:7] == M2_INFO.to_bytes(2, "big")


def _pcap_frames(path):
    """Records of a little-endian pcap with radiotap (linktype 127), radiotap stripped.
    Written here so this test does not depend on the capture reader."""
    data = open(path, "rb").read()
    assert data[:4] == bytes.fromhex("d4c3b2a1") and data[20:24] == (127).to_bytes(4, "little")
    out, pos = [], 24
    while pos + 16 <= len(data):
        sec, usec, incl = (int.from_bytes(data[pos + o:pos + o + 4], "little") for o in (0, 4, 8))
        rec = data[pos + 16:pos + 16 + incl]
        rt_len = int.from_bytes(rec[2:4], "little")
        out.append((sec + usec / 1e6, rec[rt_len:]))
        pos += 16 + incl
    return frames(out)


def test_real_iphone_ft_psk_association_request_is_an_initial_ft_association():
    # wlanpi-profiler capture: an iPhone 12 Pro Max associating to a profiler AP that
    # advertises FT-PSK. Read by eye from the hex: A1 (AP) 00:c0:ca:ad:cb:dc, A2 (STA)
    # 1a:b2:70:4e:cf:16, RSNE AKM 00-0f-ac:4, MDE 36 03 45 c2 00. No response captured.
    fs = _pcap_frames(str(SHARED) + "/data/pcap/wlanpi-profiler_Apple_iPhonePro12Max_A2342_"
                      "iOS14.4_1a-b2-70-4e-cf-16_5.8GHz.pcap")
    a = find_exchanges(fs, SECRETS)
    assert not a.findings and a.exchanges == []
    (i,) = a.initial
    assert (i.sta, i.ap) == ("1a:b2:70:4e:cf:16", "00:c0:ca:ad:cb:dc")
    assert i.request.mde == bytes.fromhex("360345c200")
    (v,) = i.verdicts
    assert (v.rule, v.status, v.observed) == ("FT-INIT-ASSOC", FAIL, "none")


def test_garbage_after_the_ft_elements_is_a_finding_but_the_mic_still_verifies():
    fs = _roam(req_elems=_signed(5) + b"\xdd\x09\x00")  # vendor element cut short
    x = find_exchanges(fs, SECRETS).exchanges[0]
    v = _by_rule(x)
    assert v["FT-MIC-5"].status == PASS
    (f,) = x.findings
    assert (f.rule, f.status, f.evidence) == ("FT-FRAME", FAIL, ("frame 3",))


def test_retransmitted_association_request_is_not_a_second_association():
    fs = _initial_then_roam()
    rr = bytearray(fs[1].raw)
    rr[1] |= 0x08  # Retry bit, same Sequence Control
    fs.insert(2, type(fs[0])(99, 0.2005, bytes(rr)))
    a = find_exchanges(fs, SECRETS)
    assert len(a.initial) == 1
    assert all(v.status == PASS for v in a.initial[0].verdicts)
    rr[23] ^= 0x10  # a new Sequence Control: a new attempt, which got no response
    fs[2] = type(fs[0])(99, 0.2005, bytes(rr))
    assert len(find_exchanges(fs, SECRETS).initial) == 2


def test_ft_8021x_roam_gets_no_key_verdicts_only_info():
    rs = rsne(3, [REAL_PMKR1NAME])  # AKM 00-0F-AC:3, FT over 802.1X: not a PSK hierarchy
    fs = _roam(req_elems=_signed(5, rs=rs), resp_elems=_signed(6, rs=rs))
    x = find_exchanges(fs, SECRETS).exchanges[0]
    v = _by_rule(x)
    assert v["FT-KEYS"].status == INFO and v["FT-KEYS"].observed == "AKM 3"
    assert v["FT-MIC-5"].status == INFO and x.mic_ok is None and x.pmkr1name_ok is None
    assert x.ok


def test_reassociation_without_visible_ft_request_still_checks_echoes():
    # e.g. FT over the DS with protected FT Action frames: only the reassociation is seen
    fs = _roam()
    del fs[1:3]
    resp = _signed(6, anonce=bytes(32))
    fs[2].raw = reassoc_resp(STA, TARGET, 0, resp)
    x = find_exchanges(fs, SECRETS).exchanges[0]
    v = _by_rule(x)
    assert x.over_ds is None and x.request is None
    assert v["FT-ANONCE"].status == FAIL and v["FT-SNONCE"].status == PASS
    assert x.latency_us == 2250  # from the Reassociation Request
