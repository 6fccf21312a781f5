"""./roamcert test: roamcert's own tests, the virtual-lab integration tests included."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    return int(pytest.main([str(ROOT / "tests"), "--durations=10", *argv]))
