"""Where the read-only shared inputs are: beside the repository (CI clones main with
shared/ beside it), else the workplace's /work/shared."""
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
SHARED = next((p for p in (_ROOT.parent / "shared", Path("/work/shared")) if (p / "data").is_dir()),
              _ROOT.parent / "shared")
