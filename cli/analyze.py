"""./roamcert analyze: offline analysis of a capture and/or DUT logs.

  analyze [--pcap FILE] [--ssid S --passphrase P] [--wpas-log F] [--esp32-log F] [--json]

Exit 0 when nothing is violated, 1 when something is, 2 when an input cannot be read.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from devices import esp32_log, wpas_log
from engine.analyze import Analyzer, Report, ssid_text
from engine.capture import CaptureError, FastReader, Reader
from engine.ft.keys import KeyInputError, Secrets


class _Usage(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _Usage(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="roamcert analyze", description=__doc__.split("\n\n")[0])
    p.add_argument("--pcap", help="capture (pcap or pcapng; radiotap or plain 802.11)")
    p.add_argument("--ssid", help="SSID (text) for the FT keys and the candidate profile")
    p.add_argument("--passphrase", help="WPA passphrase, to verify FT MICs and PMKR1Name")
    p.add_argument("--wpas-log", action="append", default=[], help="wpa_supplicant debug/ctrl log")
    p.add_argument("--esp32-log", action="append", default=[], help="ESP-IDF serial log")
    p.add_argument("--json", action="store_true", help="print the analysis as JSON")
    return p


def _lines(path: str, bad: list):
    """Text lines of a log; lines that are not UTF-8 are decoded with replacement and noted."""
    with open(path, "rb") as fh:
        for i, b in enumerate(fh, 1):
            try:
                yield b.decode("utf-8")
            except UnicodeDecodeError:
                bad.append(i)
                yield b.decode("utf-8", "replace")


def _read_log(a: Analyzer, path: str, kind: str) -> None:
    name = os.path.basename(path)
    bad: list[int] = []
    if kind == "esp32":
        p = esp32_log.Esp32LogParser(name)
        evs = [e for i, line in enumerate(_lines(path, bad), 1) for e in p.feed_line(line, f"{name}:{i}")]
        evs += p.flush()
        inds = esp32_log.to_indications(evs)
    else:
        p = wpas_log.WpasLogParser(name)
        evs = [e for i, line in enumerate(_lines(path, bad), 1) for e in p.feed_line(line, None, f"{name}:{i}")]
        evs += p.flush()
        inds = wpas_log.to_indications(evs)
    if bad:
        a.note("LOG-ENCODING", f"{len(bad)} line(s) not UTF-8, read with replacement characters",
               [f"{name}:{i}" for i in bad[:5]])
    if not evs:
        a.note("LOG-EMPTY", f"no {kind} event recognised in {name}", [name])
    a.add_events(name, evs, inds)


def run(args) -> Report:
    ssid = args.ssid.encode("utf-8") if args.ssid is not None else None
    secrets = None
    if args.passphrase is not None:
        if ssid is None:
            raise KeyInputError("--passphrase needs --ssid")
        secrets = Secrets.from_passphrase(args.passphrase, ssid)
    a = Analyzer(secrets, ssid)
    if args.pcap:
        reader = FastReader(args.pcap)
        feed = a.feed
        for f in reader:
            feed(f)
        for p in reader.problems:
            a.note("CAPTURE-DAMAGED", p, [os.path.basename(args.pcap)])
    for path in args.wpas_log:
        _read_log(a, path, "wpas")
    for path in args.esp32_log:
        _read_log(a, path, "esp32")
    return a.finish()


def _clean(s) -> str:
    """No control characters reach the terminal, whatever a frame or log carried."""
    s = "" if s is None else str(s)
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}"
                   for c in s)


def render(r: Report) -> str:
    out = []
    w = out.append
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(r.frames.items(), key=lambda kv: -kv[1]))
    w(f"frames: {r.frame_total}" + (f" ({kinds})" if kinds else ""))
    if r.bss:
        w("\nBSS seen")
        for b in r.bss:
            w(f"  {b.bssid}  ch {b.channel:<3} ssid {_clean(ssid_text(b.ssid) if b.ssid is not None else '?')}"
              f"  akm {','.join(map(str, b.akms)) or '-'}" + (f"  ({_clean(b.problem)})" if b.problem else ""))
    w("\nFT exchanges")
    if not r.ft:
        w("  none")
    for x in r.ft:
        how = "over the DS" if x.get("over_ds") else "over the air" if x.get("over_ds") is False else "?"
        w(f"  {_clean(x.get('sta'))} -> {_clean(x.get('target'))}  {how}  mic_ok {x.get('mic_ok')}  "
          f"pmkr1name_ok {x.get('pmkr1name_ok')}  latency {x.get('latency_us')} us")
    w("\nBTM exchanges")
    if not r.btm:
        w("  none")
    for x in r.btm:
        d = x.to_dict()
        cands = " ".join(f"{c['bssid']}/{c['preference']}" for c in d["candidates"]) or "-"
        w(f"  [{d['verdict']}] token {d['dialog_token']} {_clean(d['ap'])} -> {_clean(d['sta'])}  "
          f"status {d['status']}  target {d['target']}  candidates {cands}  ({_clean(d['request'])})")
    w("\nBeacon reports")
    if not r.beacon_reports:
        w("  none")
    for x in r.beacon_reports:
        d = x.to_dict()
        w(f"  [{d['verdict']}] token {d['token']} {d['mode']} op class {d['op_class']} ch {d['channel']}  "
          f"reported {', '.join(d['bssids']) or '-'}  ({d['request']})")
    if r.indications:
        w("\nIndications")
        for i in r.indications:
            w(f"  {i.t:14.3f}  {i.kind.value:<22} {_clean(i.bssid or ''):<17} {_clean(i.status or ''):<8} "
              f"{_clean(i.reason or '')}  [{_clean(i.source)}]")
    if r.findings:
        w("\nNotes")
        for v in r.findings:
            if v.status != "fail":
                w(f"  {_clean(v.rule)}: {_clean(v.observed)}  [{_clean(', '.join(v.evidence))}]")
    vs = r.violations
    w(f"\nViolations: {len(vs)}")
    for v in vs:
        w("  " + _clean(v.describe()))
    return "\n".join(out)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and not argv[0].startswith("-"):  # case or run folders: judge their evidence again
        from cli import rejudge
        return rejudge.main(argv)
    p = _parser()
    try:
        args = p.parse_args(argv)
        if not (args.pcap or args.wpas_log or args.esp32_log):
            raise _Usage("give --pcap and/or --wpas-log / --esp32-log")
        report = run(args)
    except SystemExit as e:  # --help
        return int(e.code or 0)
    except _Usage as e:
        print(f"roamcert analyze: error: {e}", file=sys.stderr)
        print(p.format_usage().rstrip(), file=sys.stderr)
        return 2
    except (OSError, CaptureError, KeyInputError) as e:
        print(f"roamcert analyze: error: {_clean(e)}", file=sys.stderr)
        return 2
    if args.json:
        d = report.to_dict()
        # indented JSON goes through the pure-Python encoder: only for reports a person reads
        big = len(d["ft"]) + len(d["btm"]) + len(d["beacon_reports"]) + len(d["indications"]) > 200
        print(json.dumps(d, indent=None if big else 2, default=str))
    else:
        print(render(report))
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
