"""The public face: every exported name exists once, and the layers import one way."""

from __future__ import annotations

import ast
from pathlib import Path

import rabble_sim
import rabble_sim.checks
import rabble_sim.maelstrom

PACKAGE = Path(rabble_sim.__file__).parent

# Each part may import only the parts to its left (DESIGN.md, STYLE.md)...
LAYERS = ["core", "codec", "executor", "sim", "checks", "schedule", "search", "debug", "cli"]
# ... and the TCP executor only core, codec and the executor's semantics (written once for
# both hosts), so that it runs without the simulator; the Maelstrom adapter hosts the
# executor as the TCP node does, and may use the node too.
BESIDE = {"net": ["core", "codec", "executor"], "maelstrom": ["core", "codec", "executor", "net"]}
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
        rabble_sim.maelstrom,
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


# Attributes of objects from the standard library and the UI toolkits that the package sets
# or reads as those libraries document it.
FOREIGN_ATTRIBUTES = {
    "file",  # rich.console.Console.file: where the console writes
    "border_title",  # textual widgets
    "border_subtitle",
    "display",
    "highlighted",  # textual's OptionList: the option highlighted
    "check_hostname",  # ssl.SSLContext
    "daemon",  # threading.Thread
}
FOREIGN_PRIVATE = {"os._exit"}  # the documented way to exit without unwinding


def _declared(tree: ast.Module) -> set[str]:
    """The attribute names a module's own classes declare: class-level names (attrs
    fields among them), methods, and attributes assigned on ``self``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    names.add(item.target.id)
                elif isinstance(item, ast.Assign):
                    names.update(t.id for t in item.targets if isinstance(t, ast.Name))
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            names.add(node.attr)
    return names


def _reaches_into(path: Path) -> list[str]:
    """Where the module at ``path`` assigns an attribute of an object that is not its own
    (no class of this module declares it), or uses a private name declared elsewhere."""
    tree = ast.parse(path.read_text())
    declared = _declared(tree)
    wrong = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or node.attr.startswith("__"):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue
        if node.attr in declared or ast.unparse(node) in FOREIGN_PRIVATE:
            continue
        assigned = isinstance(node.ctx, ast.Store) and node.attr not in FOREIGN_ATTRIBUTES
        if assigned or node.attr.startswith("_"):
            where = path.relative_to(PACKAGE) if path.is_relative_to(PACKAGE) else path.name
            wrong.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    return wrong


def test_no_module_assigns_another_modules_attributes_or_uses_its_private_names() -> None:
    # Each part of the simulator (the World, its Network and Timers, the executors) is
    # changed only through its own methods: what one part may do to another is its
    # public interface, and nothing else.
    wrong = [line for path in sorted(PACKAGE.rglob("*.py")) for line in _reaches_into(path)]
    assert not wrong, "\n".join(wrong)


def test_the_private_access_check_sees_a_module_that_reaches_in(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("def bump(world):\n    world.step = 3\n    return world._take(1)\n")
    assert _reaches_into(module) == ["probe.py:2: world.step", "probe.py:3: world._take"]
