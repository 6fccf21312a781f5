"""Root conftest: the repository root is the import root (engine, lab, devices, ...)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

pytest_plugins = ["fixtures.esp32_options", "fixtures.labgrid_options", "fixtures.plugin", "reports.plugin"]
