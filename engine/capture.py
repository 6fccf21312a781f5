"""Streaming reader of pcap and pcapng captures of 802.11 frames.

Yields Frame records one at a time (memory stays flat). Link types 105 (802.11)
and 127 (radiotap + 802.11) are read; the radiotap header is parsed for the flags,
the channel frequency and the antenna signal, then stripped together with the FCS
when the radiotap Flags say the frame carries one. A truncated or damaged file
yields every whole frame, then the problem lands in Reader.problems.
"""
from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from typing import BinaryIO, Iterator

LINKTYPE_80211 = 105
LINKTYPE_RADIOTAP = 127
SUPPORTED = (LINKTYPE_80211, LINKTYPE_RADIOTAP)
MAX_RECORD = 1 << 18  # larger captured lengths mean a damaged file


class CaptureError(ValueError):
    """The file cannot be read as a capture of 802.11 frames at all."""


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def _header_len(raw: bytes) -> int:
    from engine.frames.header import header_len
    return header_len(raw)


@dataclass(frozen=True, slots=True)
class Frame:
    index: int  # 1-based, as Wireshark numbers frames
    t: float  # seconds since the epoch
    linktype: int
    freq: int | None  # MHz, from radiotap
    signal: int | None  # dBm, first antenna signal in radiotap
    raw: bytes  # 802.11 frame, radiotap and FCS stripped
    bad_fcs: bool = False  # radiotap Flags b6: the frame failed its FCS check

    # The MAC header's addresses by name (IEEE 802.11-2020 9.3.3.2: in management frames
    # Address 1 is the receiver/DA, Address 2 the transmitter/SA, Address 3 the BSSID).
    # A frame too short for an address gives what it has, as the header reader would.
    @property
    def dst(self) -> str:
        return _mac(self.raw[4:10])

    @property
    def src(self) -> str:
        return _mac(self.raw[10:16])

    @property
    def addr3(self) -> str:
        return _mac(self.raw[16:22])

    @property
    def body(self) -> bytes:
        """The frame body after the MAC header (b"" when the header is incomplete)."""
        try:
            return self.raw[_header_len(self.raw):]
        except ValueError:
            return b""


# radiotap fields in the default namespace: bit -> (alignment, size)
# (https://www.radiotap.org/fields/defined)
_RT_FIELDS = {
    0: (8, 8), 1: (1, 1), 2: (1, 1), 3: (2, 4), 4: (1, 2), 5: (1, 1), 6: (1, 1),
    7: (2, 2), 8: (2, 2), 9: (2, 2), 10: (1, 1), 11: (1, 1), 12: (1, 1), 13: (1, 1),
    14: (2, 2), 15: (2, 2), 16: (1, 1), 17: (1, 1), 18: (4, 8), 19: (1, 3), 20: (4, 8),
    21: (2, 12), 22: (8, 12), 23: (2, 12), 24: (2, 12), 25: (2, 6), 26: (1, 1), 27: (2, 4),
}
RT_FLAG_FCS = 0x10
RT_FLAG_BAD_FCS = 0x40


def parse_radiotap(buf: bytes) -> tuple[int, int | None, int | None, int]:
    """(header length, frequency, signal dBm, flags) of a radiotap header.

    Raises ValueError when the header does not fit the buffer. Fields the
    parser cannot size (unknown bits, TLVs) end the walk; what was read stays.
    """
    if len(buf) < 8:
        raise ValueError(f"radiotap header needs 8 octets, record has {len(buf)}")
    version, _pad, rt_len = struct.unpack_from("<BBH", buf, 0)
    if version != 0:
        raise ValueError(f"radiotap version {version} is not 0")
    if rt_len < 8 or rt_len > len(buf):
        raise ValueError(f"radiotap length {rt_len} does not fit the {len(buf)}-octet record")
    words = []
    pos = 4
    while True:
        if pos + 4 > rt_len:
            raise ValueError("radiotap present bitmaps run past the header")
        w = struct.unpack_from("<I", buf, pos)[0]
        words.append(w)
        pos += 4
        if not w & 0x80000000:
            break
    freq = signal = None
    flags = 0
    ns_radiotap = True
    ns_base = 0
    for wi, w in enumerate(words):
        if ns_radiotap and ns_base == 0:
            for bit in range(29):
                if not w & (1 << bit):
                    continue
                if bit not in _RT_FIELDS:
                    return rt_len, freq, signal, flags
                align, size = _RT_FIELDS[bit]
                pos = (pos + align - 1) & ~(align - 1)
                if pos + size > rt_len:
                    raise ValueError(f"radiotap field {bit} runs past the header")
                if bit == 1 and wi == 0:
                    flags = buf[pos]
                elif bit == 3 and freq is None:
                    freq = struct.unpack_from("<H", buf, pos)[0] or None
                elif bit == 5 and signal is None:
                    signal = struct.unpack_from("<b", buf, pos)[0]
                elif bit == 18 and freq is None:
                    freq = struct.unpack_from("<H", buf, pos + 4)[0] or None
                pos += size
        elif not ns_radiotap and ns_base == 0:
            # vendor namespace: OUI (3), sub-namespace (1), skip length (2), then data
            pos = (pos + 1) & ~1
            if pos + 6 > rt_len:
                raise ValueError("radiotap vendor namespace runs past the header")
            skip = struct.unpack_from("<H", buf, pos + 4)[0]
            pos += 6 + skip
            if pos > rt_len:
                raise ValueError("radiotap vendor namespace data runs past the header")
        elif ns_radiotap:
            if w & 0x1FFFFFFF:
                return rt_len, freq, signal, flags  # undefined extended bits: sizes unknown
        if w & (1 << 29):
            ns_radiotap, ns_base = True, 0
        elif w & (1 << 30):
            ns_radiotap, ns_base = False, 0
        else:
            ns_base += 32
    return rt_len, freq, signal, flags


class Reader:
    """Iterate to get Frame records; afterwards, .problems lists what went wrong.

    Reader(path_or_binary_stream). Raises CaptureError for a file that is not a
    pcap/pcapng capture, or that holds an unsupported link type.
    """

    def __init__(self, source, strip_fcs: bool = True):
        if isinstance(source, (str, os.PathLike)):
            self._f: BinaryIO = open(source, "rb", buffering=1 << 20)
            self._own = True
            self.name = os.fspath(source)
        else:
            self._f = source
            self._own = False
            self.name = getattr(source, "name", "<stream>")
        self.problems: list[str] = []
        self.count = 0
        self.strip_fcs = strip_fcs
        head = self._f.read(4)
        if len(head) < 4:
            self.close()
            raise CaptureError(f"{self.name}: {len(head)} octets, too short for a capture")
        self._head = head
        magic_le = struct.unpack("<I", head)[0]
        if head == b"\x0a\x0d\x0d\x0a":
            self.format = "pcapng"
        elif magic_le in (0xA1B2C3D4, 0xA1B23C4D, 0xD4C3B2A1, 0x4D3CB2A1):
            self.format = "pcap"
            self._pcap_header(head)
        else:
            self.close()
            raise CaptureError(f"{self.name}: magic {head.hex()} is neither pcap nor pcapng")

    # -- plumbing --
    def close(self) -> None:
        if self._own:
            self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        try:
            if self.format == "pcap":
                yield from self._pcap_records()
            else:
                yield from self._pcapng_blocks()
        finally:
            self.close()

    def _frame(self, t: float, linktype: int, data: bytes, fcs_len: int = 0) -> Frame | None:
        self.count += 1
        idx = self.count
        if linktype == LINKTYPE_RADIOTAP:
            try:
                rt_len, freq, signal, flags = parse_radiotap(data)
            except ValueError as err:
                self.problems.append(f"frame {idx}: {err}; frame skipped")
                return None
            raw = data[rt_len:]
            if flags & RT_FLAG_FCS and self.strip_fcs:
                raw = raw[:-4] if len(raw) >= 4 else b""
            return Frame(idx, t, linktype, freq, signal, raw, bool(flags & RT_FLAG_BAD_FCS))
        raw = data[:-fcs_len] if fcs_len and self.strip_fcs else data
        return Frame(idx, t, linktype, None, None, raw)

    def _read(self, n: int) -> bytes:
        return self._f.read(n)

    # -- pcap --
    def _pcap_header(self, head: bytes) -> None:
        rest = self._read(20)
        if len(rest) < 20:
            self.close()
            raise CaptureError(f"{self.name}: pcap header cut short")
        le = head in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
        self._e = "<" if le else ">"
        magic = struct.unpack(self._e + "I", head)[0]
        self._tsdiv = 1e9 if magic == 0xA1B23C4D else 1e6
        _vmaj, _vmin, _zone, _sig, self._snap, lt = struct.unpack(self._e + "HHiIII", rest)
        self.linktype = lt & 0xFFFF
        # LinkType field b28 (F) says b29-b31 hold the FCS length in 16-bit words
        self._fcs_len = ((lt >> 29) & 7) * 2 if lt & (1 << 28) else 0
        if self.linktype not in SUPPORTED:
            self.close()
            raise CaptureError(f"{self.name}: link type {self.linktype} is not 802.11 "
                               f"(105) or radiotap (127)")

    def _pcap_records(self) -> Iterator[Frame]:
        hdr = struct.Struct(self._e + "IIII")
        read = self._f.read
        lt = self.linktype
        while True:
            h = read(16)
            if not h:
                return
            if len(h) < 16:
                self.problems.append(f"truncated: record header of frame {self.count + 1} has "
                                     f"{len(h)} of 16 octets")
                return
            sec, frac, caplen, _orig = hdr.unpack(h)
            if caplen > MAX_RECORD:
                self.problems.append(f"damaged: frame {self.count + 1} claims {caplen} captured "
                                     f"octets; reading stopped")
                return
            data = read(caplen)
            if len(data) < caplen:
                self.problems.append(f"truncated: frame {self.count + 1} has {len(data)} of "
                                     f"{caplen} captured octets")
                return
            fr = self._frame(sec + frac / self._tsdiv, lt, data, self._fcs_len)
            if fr is not None:
                yield fr

    # -- pcapng --
    def _pcapng_blocks(self) -> Iterator[Frame]:
        e = "<"
        ifaces: list[tuple[int, float, float, int]] = []  # linktype, units/s, offset, fcs
        first = True
        last_t = 0.0
        spb_noted = False
        while True:
            if first:
                h = self._head + self._read(8)
                first = False
            else:
                h = self._read(8)
            if not h:
                return
            if len(h) < 8:
                self.problems.append(f"truncated: block header after frame {self.count} has "
                                     f"{len(h)} of 8 octets")
                return
            btype_raw = h[:4]
            if btype_raw == b"\x0a\x0d\x0d\x0a":
                bom = h[8:12] if len(h) >= 12 else self._read(4)
                if len(bom) < 4:
                    self.problems.append("truncated: section header block cut short")
                    return
                if bom == b"\x4d\x3c\x2b\x1a":
                    e = "<"
                elif bom == b"\x1a\x2b\x3c\x4d":
                    e = ">"
                else:
                    self.problems.append(f"damaged: section header byte-order magic {bom.hex()}")
                    return
                blen = struct.unpack(e + "I", h[4:8])[0]
                if blen < 28 or blen % 4 or blen > MAX_RECORD:
                    self.problems.append(f"damaged: section header block length {blen}")
                    return
                rest = self._read(blen - 12)
                if len(rest) < blen - 12:
                    self.problems.append("truncated: section header block cut short")
                    return
                ifaces = []
                continue
            btype, blen = struct.unpack(e + "II", h)
            if blen < 12 or blen % 4 or blen > MAX_RECORD + 64:
                self.problems.append(f"damaged: block type {btype:#x} after frame {self.count} "
                                     f"has length {blen}; reading stopped")
                return
            body = self._read(blen - 8)
            if len(body) < blen - 8:
                self.problems.append(f"truncated: block type {btype:#x} after frame "
                                     f"{self.count} has {len(body) + 8} of {blen} octets")
                return
            body = body[:-4]  # trailing block total length
            if btype == 1:  # Interface Description Block
                if len(body) < 8:
                    self.problems.append("damaged: interface description block too short")
                    return
                lt = struct.unpack_from(e + "H", body, 0)[0]
                ifaces.append(self._idb_options(e, lt, body[8:]))
            elif btype in (6, 2):  # Enhanced Packet Block, obsolete Packet Block
                if len(body) < 20:
                    self.problems.append(f"damaged: packet block after frame {self.count} "
                                         f"too short")
                    return
                if btype == 6:
                    iid, hi, lo, caplen, _orig = struct.unpack_from(e + "IIIII", body, 0)
                else:
                    iid, _drops, hi, lo, caplen, _orig = struct.unpack_from(e + "HHIIII", body, 0)
                if caplen > len(body) - 20:
                    self.problems.append(f"damaged: frame {self.count + 1} captured length "
                                         f"{caplen} exceeds its block; reading stopped")
                    return
                if iid >= len(ifaces):
                    self.problems.append(f"damaged: frame {self.count + 1} names interface "
                                         f"{iid}, only {len(ifaces)} described; reading stopped")
                    return
                lt, units, offset, fcs = ifaces[iid]
                self._check_linktype(lt, iid)
                last_t = ((hi << 32) | lo) / units + offset
                fr = self._frame(last_t, lt, body[20:20 + caplen], fcs)
                if fr is not None:
                    yield fr
            elif btype == 3:  # Simple Packet Block: interface 0, no timestamp
                if not ifaces or len(body) < 4:
                    self.problems.append("damaged: simple packet block without interface")
                    return
                lt, _u, _o, fcs = ifaces[0]
                self._check_linktype(lt, 0)
                orig = struct.unpack_from(e + "I", body, 0)[0]
                if not spb_noted:
                    self.problems.append("simple packet blocks carry no timestamp; they get "
                                         "the previous frame's time")
                    spb_noted = True
                fr = self._frame(last_t, lt, body[4:4 + min(orig, len(body) - 4)], fcs)
                if fr is not None:
                    yield fr
            # other blocks (statistics, name resolution, custom) carry no frames

    def _check_linktype(self, lt: int, iid: int) -> None:
        if lt not in SUPPORTED:
            raise CaptureError(f"{self.name}: interface {iid} has link type {lt}, not 802.11 "
                               f"(105) or radiotap (127)")

    def _idb_options(self, e: str, lt: int, opts: bytes) -> tuple[int, float, float, int]:
        units, offset, fcs = 1e6, 0.0, 0
        pos = 0
        while pos + 4 <= len(opts):
            code, olen = struct.unpack_from(e + "HH", opts, pos)
            val = opts[pos + 4:pos + 4 + olen]
            if code == 0:
                break
            if code == 9 and olen >= 1:  # if_tsresol
                r = val[0]
                units = float(2 ** (r & 0x7F)) if r & 0x80 else float(10 ** r)
            elif code == 14 and olen >= 8:  # if_tsoffset, seconds
                offset = float(struct.unpack(e + "q", val[:8])[0])
            elif code == 13 and olen >= 1:  # if_fcslen, octets
                fcs = val[0]
            pos += 4 + ((olen + 3) & ~3)
        return lt, units, offset, fcs


class FastReader(Reader):
    """engine.capture.Reader with the radiotap layout remembered per present bitmap.

    Most captures repeat a handful of radiotap layouts, so the walk over the present
    bits is done once per layout; the frames are the same as Reader's (see
    tests/test_analyze.py). Layouts it does not handle (extended bitmaps, vendor
    namespaces, fields running past the header) go through Reader's own parser."""

    def __init__(self, source, strip_fcs: bool = True):
        super().__init__(source, strip_fcs)
        self._layouts: dict[bytes, tuple | None] = {}

    def _frame(self, t, linktype, data, fcs_len=0):
        if linktype != LINKTYPE_RADIOTAP or len(data) < 8 or data[0] or data[7] & 0xE0:
            return super()._frame(t, linktype, data, fcs_len)
        key = data[2:8]
        lay = self._layouts.get(key, False)
        if lay is False:
            lay = self._layouts[key] = _layout(data)
        if lay is None:
            return super()._frame(t, linktype, data, fcs_len)
        self.count += 1
        rt_len, flags_at, freq_at, chan_at, sig_at = lay
        flags = data[flags_at] if flags_at is not None else 0
        freq = (data[freq_at] | data[freq_at + 1] << 8) or None if freq_at is not None else None
        if freq is None and chan_at is not None:
            freq = (data[chan_at] | data[chan_at + 1] << 8) or None
        signal = None
        if sig_at is not None:
            signal = data[sig_at] - 256 if data[sig_at] > 127 else data[sig_at]
        raw = data[rt_len:]
        if flags & RT_FLAG_FCS and self.strip_fcs:
            raw = raw[:-4] if len(raw) >= 4 else b""
        return Frame(self.count, t, linktype, freq, signal, raw, bool(flags & RT_FLAG_BAD_FCS))


def _layout(data: bytes):
    """(length, flags, frequency, XChannel frequency, signal offsets) of a radiotap header
    with one present word in the default namespace, or None to use the full parser."""
    rt_len = data[2] | data[3] << 8
    if rt_len < 8 or rt_len > len(data):
        return None
    w = int.from_bytes(data[4:8], "little")
    pos = 8
    flags_at = freq_at = chan_at = sig_at = None
    for bit in range(29):
        if not w & (1 << bit):
            continue
        if bit not in _RT_FIELDS:
            break
        align, size = _RT_FIELDS[bit]
        pos = (pos + align - 1) & ~(align - 1)
        if pos + size > rt_len:
            return None
        if bit == 1:
            flags_at = pos
        elif bit == 3:
            freq_at = pos
        elif bit == 5:
            sig_at = pos
        elif bit == 18:
            chan_at = pos + 4
        pos += size
    return rt_len, flags_at, freq_at, chan_at, sig_at


def open_capture(source, strip_fcs: bool = True) -> Reader:
    return Reader(source, strip_fcs)


def frames(source) -> Iterator[Frame]:
    """Frames of a capture, ignoring problems (use Reader to see them)."""
    return iter(Reader(source))


def from_bytes(data: bytes) -> Reader:
    return Reader(io.BytesIO(data))
