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
