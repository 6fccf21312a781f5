"""The esp32-twin's driver state codes (`wifi:state: <old> -> init (<code>)`) against the
codes public ESP32 board logs print (lab.esp32_twin.state_code). No lab needed."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("old, reason, frame, printed", [
    # each printed code as a public ESP32 board log shows it
    ("run", 2, "DEAUTH", "2c0"), ("auth", 3, "DEAUTH", "3c0"), ("assoc", 6, "DEAUTH", "6c0"),
    ("run", 15, "DEAUTH", "fc0"), ("auth", 8, "DISASSOC", "8a0"), ("auth", 2, None, "200"),
    ("run", 204, None, "cc00"), ("run", 3, None, "0"),
])
def test_state_codes_are_the_ones_boards_print(old, reason, frame, printed):
    from lab.esp32_twin import state_code
    assert f"{state_code(old, reason, frame):x}" == printed
