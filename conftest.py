"""Root conftest: the repository root is the import root (engine, lab, devices, ...)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# fixtures.parallel before the plugins that import it, so pytest imports (and rewrites) it first.
pytest_plugins = ["fixtures.esp32_options", "fixtures.labgrid_options", "fixtures.parallel", "fixtures.plugin",
                  "reports.plugin"]
