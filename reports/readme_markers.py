"""A generated section of the README: the text between a begin and an end marker.

The findings table (reports/findings_table.py) and the coverage matrix
(reports/coverage_matrix.py) each own one such section; both read and rewrite it here."""
from __future__ import annotations


def _span(text: str, begin: str, end: str) -> tuple[int, int]:
    try:
        start = text.index(begin) + len(begin)
        return start, text.index(end, start)
    except ValueError:
        raise ValueError(f"README.md lacks the {begin} ... {end} markers") from None


def marked_section(text: str, begin: str, end: str) -> str:
    """What text holds between the markers (ValueError naming them if either is missing)."""
    start, stop = _span(text, begin, end)
    return text[start:stop].strip("\n") + "\n"


def with_marked_section(text: str, begin: str, end: str, section: str) -> str:
    """text with the part between the markers replaced by section."""
    start, stop = _span(text, begin, end)
    return text[:start] + "\n" + section + text[stop:]
