"""Incremental line framing for a raw byte stream (a serial port, a socket).

Serial output is messy: lines arrive in pieces, boards mix CR, LF and CRLF,
ESP-IDF colours its log lines with ANSI codes, a reset leaves garbage bytes
(the ROM may even talk at another baud rate), and a runaway task can print
forever without a newline. LineFramer turns all of that into clean text lines
and never raises on bad bytes.
"""
from __future__ import annotations

import re
from collections import deque

# CSI sequences (colours, cursor moves) and the two-byte escapes.
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
# Control bytes other than TAB that have no place in a log line.
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
TRUNCATED_MARK = " [truncated]"


class LineFramer:
    """feed(bytes) -> complete lines; partial input is kept for the next feed."""

    def __init__(self, max_line: int = 4096, keep: int = 64):
        self.max_line = max_line
        self._buf = bytearray()
        self._skip_lf = False  # a CR ended the last line; a following LF belongs to it
        self._discarding = False  # inside an over-long line, dropping bytes to its end
        self.recent: deque[str] = deque(maxlen=keep)
        self.count = 0  # lines emitted so far

    def feed(self, data: bytes) -> list[str]:
        out: list[str] = []
        if not data:
            return out
        if isinstance(data, str):
            data = data.encode("utf-8", "replace")
        for b in bytes(data).split(b"\0") if b"\0" in data else (bytes(data),):
            self._feed(b, out)
        return out

    def _feed(self, data: bytes, out: list[str]) -> None:
        i, n = 0, len(data)
        if self._skip_lf and n and data[0:1] == b"\n":
            i = 1
        self._skip_lf = False
        while i < n:
            j = _next_eol(data, i)
            if j < 0:
                self._take(data[i:], out)
                return
            self._take(data[i:j], out)
            self._end_line(out)
            if data[j:j + 1] == b"\r":
                if j + 1 < n:
                    i = j + 2 if data[j + 1:j + 2] == b"\n" else j + 1
                else:
                    self._skip_lf = True
                    i = j + 1
            else:
                i = j + 1

    def _take(self, chunk: bytes, out: list[str]) -> None:
        if self._discarding:
            return
        self._buf += chunk
        if len(self._buf) > self.max_line:
            cut = bytes(self._buf[:self.max_line])
            self._buf.clear()
            self._emit(cut, out, truncated=True)
            self._discarding = True

    def _end_line(self, out: list[str]) -> None:
        if self._discarding:
            self._discarding = False
            self._buf.clear()
            return
        raw = bytes(self._buf)
        self._buf.clear()
        self._emit(raw, out)

    def _emit(self, raw: bytes, out: list[str], truncated: bool = False) -> None:
        text = clean(raw)
        if truncated:
            text += TRUNCATED_MARK
        if not text.strip():
            return
        self.count += 1
        self.recent.append(text)
        out.append(text)

    def flush(self) -> list[str]:
        """Return the pending partial line (if any) as a line of its own."""
        out: list[str] = []
        if self._buf and not self._discarding:
            self._end_line(out)
        self._buf.clear()
        self._discarding = False
        return out

    def last_lines(self, n: int = 20) -> list[str]:
        return list(self.recent)[-n:]


def _next_eol(data: bytes, start: int) -> int:
    r = data.find(b"\r", start)
    lf = data.find(b"\n", start)
    if r < 0:
        return lf
    if lf < 0:
        return r
    return min(r, lf)


def clean(raw: bytes) -> str:
    """One raw line to text: ANSI codes and NULs out, bad UTF-8 replaced."""
    raw = _ANSI.sub(b"", raw.replace(b"\0", b""))
    text = raw.decode("utf-8", "replace")
    return _CTRL.sub("", text).rstrip()


def split_text(text: str) -> list[str]:
    """Frame a whole text (a log file's content) the same way as a stream."""
    f = LineFramer(max_line=1 << 20)
    lines = f.feed(text.encode("utf-8", "replace"))
    return lines + f.flush()
