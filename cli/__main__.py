"""./roamcert <command>: run, test, lab, bench, analyze, ftkeys, report, verify, gate, compare, trend."""
from __future__ import annotations

import importlib
import sys

USAGE = """usage: ./roamcert <command> [args]

  run [--dut NAME]... [pytest args]   conformance run on the lab; writes runs/<UTC time>/
  test [pytest args]                  roamcert's own tests (includes the virtual-lab tests)
  lab up|down|status                  a lab for interactive work
  bench lab|analyze                   print lab and analyzer performance figures
  analyze --pcap FILE ...             offline analysis of captures and logs (exit 1 on violations)
  ftkeys ...                          FT key hierarchy calculator
  report RUN [--profile P]            rebuild a run's certificates (HTML, PDF), index and Allure report
  verify RUN                          recheck a run's hashes against its manifest; re-judge its evidence
  gate --baseline RUN --current RUN   regression gate between two runs (verdicts and metrics)
  compare RUN_A RUN_B                 two runs side by side (terminal and HTML)
  trend RUN...                        pass rates and roam-time/outage percentiles across runs
"""

COMMANDS = {
    "run": "cli.run",
    "test": "cli.test",
    "lab": "cli.labcmd",
    "bench": "cli.bench",
    "analyze": "cli.analyze",
    "ftkeys": "cli.ftkeys",
    "report": "cli.report",
    "gate": "cli.gate",
    "verify": "cli.verify",
    "compare": "cli.compare",
    "trend": "cli.trend",
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    mod = COMMANDS.get(argv[0])
    if not mod:
        print(f"roamcert: unknown command {argv[0]!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    return importlib.import_module(mod).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
