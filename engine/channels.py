"""Channel numbers, frequencies and global operating classes (IEEE 802.11-2020 Annex E).

Table E-4 (Global operating classes) gives, per class: the starting frequency, the
channel spacing, the channel set, and behaviour limits. Its channel set means
different things by spacing, which is why the table below keeps the spacing:

- 20 MHz classes list 20 MHz channel numbers.
- 40 MHz classes list the primary 20 MHz channel; the behaviour limit says on which
  side the secondary channel lies (PrimaryChannelLowerBehavior: above the primary,
  PrimaryChannelUpperBehavior: below it).
- 80, 160 and 80+80 MHz classes (128, 129, 130) list channel center frequency
  indices; the 20 MHz channels they span are those within +-(width/2 - 10) MHz of the
  center, every 20 MHz (e.g. 42 -> 36, 40, 44, 48).

A Beacon request names a channel of its operating class (9.4.2.20.7): a 20 MHz or
primary channel, or for 128-130 a center frequency index. A Beacon report gives the
20 MHz channel the frame was received on and the operating class of the reporting
BSS's channel (9.4.2.21.7), so a report of a BSS on 36..48 at 80 MHz may carry
class 128 and channel 36; `holds` answers whether a class covers a 20 MHz channel.

The 2.4 GHz and 5 GHz classes are here (81-84, 115-130). Table E-4 also has
3.65 GHz, 4.9 GHz and 60 GHz (DMG) classes; a lab of hwsim radios uses none of
them, so they are left out and count as unknown.
"""
from __future__ import annotations

from dataclasses import dataclass

OP_CLASS_TABLE = "IEEE 802.11-2020 Annex E Table E-4 (Global operating classes)"


@dataclass(frozen=True)
class OpClass:
    number: int
    start_mhz: int  # starting frequency: a channel's center is start + 5 * number
    width_mhz: int  # channel spacing: 20, 40, 80, 160; 80+80 is 80 per segment
    channels: tuple[int, ...]  # Table E-4 channel set
    behaviour: str = ""  # "lower" / "upper" primary for 40 MHz; "center" for 80/160/80+80
    segments: int = 1  # 2 for 80+80

    def primaries(self, channel: int) -> frozenset[int]:
        """The 20 MHz channels covered by one entry of the channel set."""
        if self.behaviour != "center":
            return frozenset({channel})
        half = self.width_mhz // 10 - 2  # 80 MHz: 6, 160 MHz: 14 (channel numbers are 5 MHz apart)
        return frozenset(range(channel - half, channel + half + 1, 4))

    def all_primaries(self) -> frozenset[int]:
        out: set[int] = set()
        for c in self.channels:
            out |= self.primaries(c)
        return frozenset(out)


def _cls(n, start, width, chans, behaviour="", segments=1):
    return OpClass(n, start, width, tuple(chans), behaviour, segments)


# Global operating classes of Table E-4 for 2.4 GHz and 5 GHz.
OP_CLASSES: dict[int, OpClass] = {c.number: c for c in (
    _cls(81, 2407, 20, range(1, 14)),
    _cls(82, 2414, 20, (14,)),
    _cls(83, 2407, 40, range(1, 10), "lower"),
    _cls(84, 2407, 40, range(5, 14), "upper"),
    _cls(115, 5000, 20, (36, 40, 44, 48)),
    _cls(116, 5000, 40, (36, 44), "lower"),
    _cls(117, 5000, 40, (40, 48), "upper"),
    _cls(118, 5000, 20, (52, 56, 60, 64)),
    _cls(119, 5000, 40, (52, 60), "lower"),
    _cls(120, 5000, 40, (56, 64), "upper"),
    _cls(121, 5000, 20, range(100, 145, 4)),
    _cls(122, 5000, 40, (100, 108, 116, 124, 132, 140), "lower"),
    _cls(123, 5000, 40, (104, 112, 120, 128, 136, 144), "upper"),
    _cls(124, 5000, 20, (149, 153, 157, 161)),
    _cls(125, 5000, 20, range(149, 178, 4)),
    _cls(126, 5000, 40, (149, 157, 165, 173), "lower"),
    _cls(127, 5000, 40, (153, 161, 169, 177), "upper"),
    _cls(128, 5000, 80, (42, 58, 106, 122, 138, 155, 171), "center"),
    _cls(129, 5000, 160, (50, 114, 163), "center"),
    _cls(130, 5000, 80, (42, 58, 106, 122, 138, 155, 171), "center", segments=2),
)}


def known(op_class: int) -> bool:
    return op_class in OP_CLASSES


def request_channels(op_class: int, channel: int) -> frozenset[int] | None:
    """The 20 MHz channels a Beacon request (or an AP Channel Report entry) names with
    this class and channel; channel 0 means the whole class. None when the class is
    unknown or the channel is not in its set."""
    oc = OP_CLASSES.get(op_class)
    if oc is None:
        return None
    if channel == 0:
        return oc.all_primaries()
    if channel not in oc.channels:
        return None
    return oc.primaries(channel)


def holds(op_class: int, channel: int) -> bool:
    """Whether the class covers this 20 MHz channel (how a Beacon report names it)."""
    oc = OP_CLASSES.get(op_class)
    return oc is not None and channel in oc.all_primaries()


def channel_freq(channel: int) -> int:
    """Centre frequency in MHz of a 2.4 GHz or 5 GHz channel number."""
    if 1 <= channel <= 13:
        return 2407 + 5 * channel
    if channel == 14:
        return 2484
    return 5000 + 5 * channel


def op_class_of(channel: int) -> int:
    """Global operating class (Table E-4) of a 20 MHz channel; 0 when there is none."""
    if 1 <= channel <= 13:
        return 81
    if channel == 14:
        return 82
    if 36 <= channel <= 48:
        return 115
    if 52 <= channel <= 64:
        return 118
    if 100 <= channel <= 144:
        return 121
    return 125 if channel >= 149 else 0


# --- 80 MHz channels (VHT), kept apart from the 20 MHz table above -------------------------
# The 5 GHz 80 MHz channels by their centre channel index (Table E-4, operating class 128),
# each covering four 20 MHz channels: centre - 6, -2, +2, +6.
VHT80_CENTERS = (42, 58, 106, 122, 138, 155, 171)


def vht80_center(channel: int) -> int:
    """Centre channel index (vht_oper_centr_freq_seg0_idx) of the 80 MHz channel holding
    this 20 MHz channel; ValueError when no 80 MHz channel holds it."""
    for c in VHT80_CENTERS:
        if c - 6 <= channel <= c + 6 and (channel - c + 6) % 4 == 0:
            return c
    raise ValueError(f"channel {channel} is in no 5 GHz 80 MHz channel (centres {VHT80_CENTERS})")


def ht40_secondary_above(channel: int) -> bool:
    """Whether the HT40 secondary channel of an 80 MHz channel's primary lies above it:
    the 80 MHz channel is two 40 MHz pairs, primary the lower or the upper of its pair."""
    return (channel - vht80_center(channel) + 6) % 8 == 0
