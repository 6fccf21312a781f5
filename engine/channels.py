"""Channel numbers, frequencies and global operating classes (IEEE 802.11-2020 Annex E)."""
from __future__ import annotations


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
