"""The findings registry (engine.findings) rendered for people: the README section and
docs/findings.md. Both files hold exactly what this module renders; tests keep them in sync.

Regenerate both after editing the registry:

    .venv/bin/python -m reports.findings_table
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from engine import findings as F
from engine.clauses import GUIDELINES
from reports.readme_markers import marked_section, with_marked_section

BEGIN, END = "<!-- findings:begin -->", "<!-- findings:end -->"
ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
LONG_FORM = ROOT / "docs" / "findings.md"


def cases_text(cases: tuple[str, ...]) -> str:
    """FT-02, FT-03, FT-04, FT-08 -> 'FT-02..04, FT-08' (runs of consecutive numbers joined)."""
    out, run = [], []

    def flush():
        if not run:
            return
        prefix, first, last = run[0][0], run[0][1], run[-1][1]
        out.append(f"{prefix}-{first:02d}" if first == last else f"{prefix}-{first:02d}..{last:02d}")
        run.clear()

    for c in cases:
        prefix, num = c.rsplit("-", 1)
        n = int(num)
        if run and (prefix != run[-1][0] or n != run[-1][1] + 1):
            flush()
        run.append((prefix, n))
    flush()
    return ", ".join(out)


def clause_text(clause: str) -> str:
    """The clause numbers without their titles, for the table."""
    return re.sub(r" \([^)]*\)", "", clause)


def upstream_text(upstream: str) -> str:
    """The upstream status in a few words, for the table."""
    m = re.match(r"fixed in hostap (\w+) '([^']+)'.*?first in (hostap_\w+)", upstream, re.S)
    if m:
        return f"fixed in {m.group(3)} ({m.group(1)} '{m.group(2)}')"
    if upstream.startswith("unchanged"):
        return upstream.split(" (")[0]
    if upstream.startswith("n/a"):
        return "n/a (kernel)" if "kernel" in upstream else "n/a"
    return upstream


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    """The README's findings section, between the markers."""
    lines = [
        "roamcert never weakens a check to make the reference DUT pass. Running it against Debian "
        "12's wpa_supplicant 2.10 (the reference DUT `linux-wpas`, kernel 6.1, mac80211_hwsim) and "
        "hostapd 2.10 shows these deviations; the cases fail with the evidence in their folders. "
        "The registry is `engine/findings.py` (`match()` names the finding a FAIL is); this section "
        "and the long form in [docs/findings.md](docs/findings.md) are generated from it by "
        "`reports/findings_table.py`.",
        "",
        "| case(s) | finding | layer | severity | clause | upstream |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for f in F.FINDINGS:
        lines.append("| " + " | ".join(_cell(x) for x in (
            cases_text(f.cases), f"{f.title} (`{f.id}`)", f.layer, f.severity, clause_text(f.clause),
            upstream_text(f.upstream))) + " |")
    lines += ["", "Withdrawn after review (not DUT findings):", ""]
    lines += [f"- {w.title} (`{w.id}`): {w.reason}" for w in F.WITHDRAWN]
    lines += ["", "Reference AP and lab behaviour seen on the way (not DUT findings):", ""]
    lines += [f"- {n.title} ({n.layer}): {n.text}" for n in F.REFERENCE_NOTES]
    return "\n".join(lines) + "\n"


def long_form() -> str:
    """docs/findings.md: every entry with its behaviour, quote, reasoning and upstream status."""
    out = [
        "# Findings on the reference DUT",
        "",
        "Generated from `engine/findings.py` by `reports/findings_table.py` "
        "(`.venv/bin/python -m reports.findings_table`); edit the registry, not this file.",
        "",
        "Clause numbers are IEEE Std 802.11-2020's. A quote is given only where a public source "
        "shows the words; otherwise the entry says what was searched. Guideline quotes are "
        f"verbatim from the {GUIDELINES}. hostap commits are upstream hashes; \"first in\" was "
        f"checked by ancestry against the release commits {F.HOSTAP_2_10} (hostap_2_10) and "
        f"{F.HOSTAP_2_11} (hostap_2_11).",
        "",
    ]
    for f in F.FINDINGS:
        out += [
            f"## {f.id}: {f.title}",
            "",
            f"- Cases: {', '.join(f.cases)}",
            f"- Rules whose FAIL it explains: {', '.join(f'`{r}`' for r in f.rules)}",
            f"- Applies to: {', '.join(f.applies_to)}",
            f"- Layer: {f.layer}",
            f"- Severity: {f.severity}",
            f"- Clause: {f.clause}",
            "",
            f"**Behaviour.** {f.behaviour}",
            "",
        ]
        if f.quote:
            out += [f"**Quote.** \"{f.quote}\"", "", f"Source: {f.quote_source}", ""]
        else:
            out += [f"**Quote.** None. {f.quote_source}", ""]
        out += [
            f"**Severity.** {f.severity_reason}",
            "",
            f"**Upstream.** {f.upstream}",
            "",
            f"**Evidence.** {f.evidence}",
            "",
            "**hostap tests.** " + (", ".join(f"`{t}`" for t in f.hostap_tests)
                                    if f.hostap_tests else "none asserts this behaviour"),
            "",
        ]
    out += ["## Withdrawn", ""]
    for w in F.WITHDRAWN:
        out += [f"### {w.id}: {w.title}", "", f"Was: {w.was}", "", f"Why withdrawn: {w.reason}", ""]
    out += ["## Withdrawn if the oracle accepts the behaviour", "",
            "The entries below replace the finding of the same id if the oracle decides the "
            "behaviour is allowed.", ""]
    for w in F.WITHDRAW_IF_ACCEPTED.values():
        out += [f"### {w.id}: {w.title}", "", f"Was: {w.was}", "", f"Why: {w.reason}", ""]
    out += ["## Reference AP and lab notes", ""]
    for n in F.REFERENCE_NOTES:
        out += [f"### {n.id}: {n.title}", "", f"Layer: {n.layer}. {n.text}", "", f"Source: {n.source}", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def readme_section(text: str) -> str:
    """What README text holds between the markers (ValueError if they are missing)."""
    return marked_section(text, BEGIN, END)


def with_section(text: str) -> str:
    """README text with the section between the markers replaced by markdown()."""
    return with_marked_section(text, BEGIN, END, markdown())


def write(readme: Path = README, long_form_path: Path = LONG_FORM) -> None:
    text = readme.read_text()
    readme_section(text)  # clear error before anything is written
    readme.write_text(with_section(text))
    long_form_path.write_text(long_form())


if __name__ == "__main__":
    write()
    print(f"wrote {README} (findings section) and {LONG_FORM}", file=sys.stderr)
