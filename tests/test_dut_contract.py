"""The DUT contract (devices.base.DUT) says it all: the adapters offer it, and the suites
and fixtures use nothing of a DUT that it does not list."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from devices import base
from devices.esp32_board import Esp32Board
from devices.linux_wpas import LinuxWpasDut

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = set(base.REQUIRED) | {m for ms in base.BY_CAPABILITY.values() for m in ms}


def members(cls) -> set[str]:
    """Attributes a class offers: its functions and properties, and what __init__ assigns."""
    out = {n for n, _ in inspect.getmembers(cls)}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if not inspect.isfunction(init):
            continue
        import textwrap
        for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(init)))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self" \
                    and isinstance(node.ctx, ast.Store):
                out.add(node.attr)
    return out | set(getattr(cls, "__annotations__", {}))


def test_every_contract_member_is_declared_on_the_protocol():
    declared = set(base.DUT.__dict__) | set(base.DUT.__annotations__)
    assert CONTRACT <= declared, CONTRACT - declared


@pytest.mark.parametrize("cls,caps", [(LinuxWpasDut, {"commands", "radio_control", "data_plane"}), (Esp32Board, set())])
def test_adapters_offer_the_contract(cls, caps):
    want = set(base.REQUIRED) | {m for c in caps for m in base.BY_CAPABILITY[c]}
    missing = want - members(cls)
    assert not missing, f"{cls.__name__} lacks {sorted(missing)}"


def used_on(name: str, path: Path) -> set[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {(n.lineno, n.attr) for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == name}


@pytest.mark.parametrize("path", sorted((ROOT / "suites").glob("*.py")) + [ROOT / "fixtures" / "plugin.py"],
                         ids=lambda p: p.name)
def test_suites_use_only_the_contract(path):
    # dut_session is the module's DutSlot (fixtures/plugin.py): the DUT is its `current`,
    # made again by `ensure` after a fault; what the cases get from it is checked as `dut`
    slot = {"current", "ensure"}
    bad = sorted({(line, attr) for line, attr in used_on("dut", path) if attr not in CONTRACT} |
                 {(line, attr) for line, attr in used_on("dut_session", path) if attr not in slot})
    assert not bad, f"{path.name} reaches past the DUT contract: " + ", ".join(f"line {n}: dut.{a}" for n, a in bad)


def test_the_check_can_fail(tmp_path):
    p = tmp_path / "test_x.py"
    p.write_text("def f(dut):\n    return dut.sup.status()\n")
    assert used_on("dut", p) == {(2, "sup")} and "sup" not in CONTRACT
