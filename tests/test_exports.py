"""The public face: every exported name exists once, and the layers import one way."""

from __future__ import annotations

import ast
from pathlib import Path

import rabble_sim
import rabble_sim.checks

PACKAGE = Path(rabble_sim.__file__).parent

# Each part may import only the parts to its left (DESIGN.md, STYLE.md)...
LAYERS = ["core", "codec", "executor", "sim", "checks", "schedule", "search", "debug", "cli"]
# ... and the TCP executor only core, codec and the executor's semantics (written once for
# both hosts), so that it runs without the simulator.
BESIDE = {"net": ["core", "codec", "executor"]}
CONTRACT = [
    "Pid", "NodeId", "CorrelationId", "Envelope", "Process", "message",
    "StartTimer", "CancelTimer", "Timeout", "Persist", "Shutdown",
    "start_timer", "cancel_timer", "persist", "Scenario", "Faults", "View",
]  # fmt: skip


def test_the_contract_names_are_exported() -> None:
    for name in CONTRACT:
        assert name in rabble_sim.__all__, name
        assert getattr(rabble_sim, name) is not None


def test_every_exported_name_is_exported_once_and_exists() -> None:
    for module in (
        rabble_sim,
        rabble_sim.core,
        rabble_sim.sim,
        rabble_sim.codec,
        rabble_sim.checks,
    ):
        names = module.__all__
        assert len(names) == len(set(names)), module.__name__
        for name in names:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def _imported_parts(path: Path) -> set[str]:
    """The rabble_sim parts a module imports, by relative or absolute import."""
    parts = set()
    depth = len(path.relative_to(PACKAGE).parts) - 1  # 0 for rabble_sim/x.py
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level and node.module and node.level > depth:
                parts.add(node.module.split(".")[0])
            elif node.module and node.module.startswith("rabble_sim."):
                parts.add(node.module.split(".")[1])
    return parts


def test_the_import_graph_flows_one_way() -> None:
    allowed_by_part = {part: set(LAYERS[:rank]) for rank, part in enumerate(LAYERS)}
    allowed_by_part.update({part: set(below) for part, below in BESIDE.items()})
    allowed_by_part["cli"] |= set(BESIDE)
    for part, allowed_below in allowed_by_part.items():
        allowed = allowed_below | {part, "_version"}
        for path in (PACKAGE / part).rglob("*.py"):
            wrong = _imported_parts(path) - allowed
            assert not wrong, f"{path.relative_to(PACKAGE)} imports {sorted(wrong)}"


def test_every_module_says_what_it_is_for() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        docstring = ast.get_docstring(ast.parse(path.read_text()))
        assert docstring, f"{path.relative_to(PACKAGE)} has no module docstring"
