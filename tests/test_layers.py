"""Imports run one way: engine <- lab <- devices <- fixtures <- suites <- reports <- cli.

Each package may import only the packages listed for it in ALLOWED (docs/architecture.md
explains why each edge exists). A name that starts with "_" is private to its package: no
other package imports it. The walk reads every import statement with ast, function-level
imports included, so a lazy import cannot hide a back-edge.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "lab", "devices", "fixtures", "suites", "reports", "cli", "tools")

# package -> the packages of ours it may import (besides itself)
ALLOWED: dict[str, frozenset[str]] = {
    "engine": frozenset(),
    "lab": frozenset({"engine"}),
    "devices": frozenset({"engine", "lab"}),
    "fixtures": frozenset({"engine", "lab", "devices"}),
    "suites": frozenset({"engine", "lab", "devices", "fixtures"}),
    "reports": frozenset({"engine", "lab", "devices", "fixtures", "suites"}),
    "cli": frozenset({"engine", "lab", "devices", "fixtures", "suites", "reports"}),
    "tools": frozenset({"engine", "lab", "devices"}),
}


def imports_of(path: Path):
    """(line, imported module, [imported names]) for every absolute import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, []
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module, [a.name for a in node.names]


def violations(root: Path = ROOT) -> list[str]:
    out = []
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            rel = path.relative_to(root)
            for line, module, names in imports_of(path):
                top = module.split(".")[0]
                if top not in PACKAGES or top == pkg:
                    continue
                if top not in ALLOWED[pkg]:
                    out.append(f"{rel}:{line}: {pkg} imports {module} (allowed: {sorted(ALLOWED[pkg])})")
                parts = module.split(".")[1:] + names
                private = [p for p in parts if p.startswith("_") and not p.startswith("__")]
                if private:
                    out.append(f"{rel}:{line}: {pkg} imports private {module} {private}")
    return out


def test_imports_run_one_way():
    bad = violations()
    assert not bad, "import edges against the layering:\n" + "\n".join(bad)


def test_a_back_edge_is_caught(tmp_path):
    """The check itself can fail: copy the tree's layout with one deliberate back-edge."""
    for pkg in PACKAGES:
        (tmp_path / pkg).mkdir()
    (tmp_path / "engine" / "bad.py").write_text("def f():\n    from reports import summary\n")
    (tmp_path / "cli" / "priv.py").write_text("from engine.capture import _RT_FIELDS\n")
    (tmp_path / "suites" / "ok.py").write_text("from engine import verdict\n")
    bad = violations(tmp_path)
    assert len(bad) == 2, bad
    assert "engine/bad.py:2: engine imports reports" in bad[0]
    assert "private" in bad[1] and "_RT_FIELDS" in bad[1]


@pytest.mark.parametrize("pkg", PACKAGES)
def test_every_package_is_walked(pkg):
    assert any((ROOT / pkg).rglob("*.py")), f"{pkg}/ has no modules: ALLOWED is out of date"


def _suite_and_device_modules():
    return sorted((ROOT / "suites").glob("*.py")) + sorted((ROOT / "devices").glob("*.py"))


@pytest.mark.parametrize("path", sorted((ROOT / "suites").glob("*.py")), ids=lambda p: p.name)
def test_no_suite_module_makes_a_verdict(path):
    """Verdicts come from engine/judges only: a suite imports nothing that makes one."""
    bad = [f"line {line}: {module} {names}" for line, module, names in imports_of(path)
           if module == "engine.verdict" or (module == "engine" and "verdict" in names)
           or module.startswith("engine.indications") and {"check"} & set(names)]
    assert not bad, f"{path.name} makes verdicts itself: {bad}"


@pytest.mark.parametrize("path", _suite_and_device_modules(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_frames_are_read_by_name(path):
    """No raw byte slices of frames in suites and devices: engine.capture.Frame names the
    addresses (src, dst, addr3) and the body, engine/frames decodes the rest."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Subscript)
           and isinstance(n.value, ast.Attribute) and n.value.attr == "raw"]
    assert not bad, f"{path.name} slices .raw at line(s) {bad}"
