"""Mutation testing of a scenario's checks: plant one small bug at a time in the protocol's
source, sweep each mutant, and report the bugs no check noticed.

Mutations come from the standard ``ast`` (no mutation library fitted a protocol's few
hundred lines better): a comparison flipped (``<`` and ``<=``, ``>`` and ``>=``, ``==``
and ``!=``, ``in`` and ``not in``), ``and`` and ``or`` swapped, an integer constant one
larger, and a simple statement (an assignment, a call, an augmented assignment) deleted.
Each edits the exact span of the source it names, so a mutant's diff is the one line
changed. Each mutant is swept in a fresh interpreter that imports a copy of the file's
top-level package with the mutant in it (the real sources are never touched): a violation
kills the mutant; none in the seeds, it survived, and its diff is a place where the checks
are too weak to see a real mistake. The unmutated copy runs first, as a control.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import attrs

from ..core import UsageError

FLIPS: dict[type[ast.cmpop], tuple[str, str]] = {
    ast.Lt: ("<", "<="),
    ast.LtE: ("<=", "<"),
    ast.Gt: (">", ">="),
    ast.GtE: (">=", ">"),
    ast.Eq: ("==", "!="),
    ast.NotEq: ("!=", "=="),
}
MUTANT_TIMEOUT = 600.0
"""Seconds one mutant's sweep may take before it counts as a hang (killed: it never ends)."""


@attrs.frozen
class Mutant:
    """One small bug: ``file``'s text with ``line``'s span replaced."""

    id: str
    file: Path
    line: int
    description: str
    source: str
    """The whole mutated file."""
    diff: str


@attrs.frozen
class Verdict:
    """How a mutant fared: ``killed`` (a check failed), ``survived`` (none did), or
    ``error`` (the sweep could not run it: the mutant does not import, say)."""

    mutant: Mutant
    outcome: str
    detail: str


def mutants_of(path: Path) -> list[Mutant]:
    """Every mutant of the Python file ``path``, in the order of the source."""
    text = path.read_text()
    tree = ast.parse(text, str(path))
    lines = text.splitlines(keepends=True)
    found: list[Mutant] = []
    in_functions = {
        (statement.lineno, statement.col_offset)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for statement in ast.walk(function)
        if isinstance(statement, ast.stmt) and statement is not function
    }  # a statement deleted at module or class level would only break the import
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and (node.lineno, node.col_offset) not in in_functions:
            continue
        for line, start, end, replacement, description in _edits(node, lines):
            mutated = _replace(lines, line, start, end, replacement)
            if mutated == text:
                continue
            diff = "".join(
                difflib.unified_diff(
                    lines, mutated.splitlines(keepends=True),
                    str(path), f"{path} (mutant)", n=1,
                )
            )  # fmt: skip
            found.append(Mutant("", path, line, description, mutated, diff))
    found.sort(key=lambda m: (m.line, m.description))
    return [attrs.evolve(m, id=f"{path.stem}-{i}") for i, m in enumerate(found, 1)]


Edit = tuple[int, int, int, str, str]
"""(line, start column, end column, replacement, description): a span of one line."""


def _edits(node: ast.AST, lines: list[str]) -> Iterator[Edit]:
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        op = type(node.ops[0])
        left, right = node.left, node.comparators[0]
        if left.end_lineno == right.lineno == node.lineno and left.end_col_offset is not None:
            between = lines[node.lineno - 1][left.end_col_offset : right.col_offset]
            if op in FLIPS:
                old, new = FLIPS[op]
                yield _within(node.lineno, left.end_col_offset, between, old, new, "flip")
            elif op in (ast.In, ast.NotIn):
                old, new = ("in", "not in") if op is ast.In else ("not in", "in")
                yield _within(node.lineno, left.end_col_offset, between, old, new, "flip")
    elif isinstance(node, ast.BoolOp) and len(node.values) == 2:
        first, second = node.values
        if first.end_lineno == second.lineno and first.end_col_offset is not None:
            between = lines[second.lineno - 1][first.end_col_offset : second.col_offset]
            old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
            yield _within(second.lineno, first.end_col_offset, between, old, new, "swap")
    elif (
        isinstance(node, ast.Constant)
        and type(node.value) is int
        and node.end_lineno == node.lineno
        and node.end_col_offset is not None
    ):
        value = node.value
        yield (node.lineno, node.col_offset, node.end_col_offset, str(value + 1),
               f"constant {value} -> {value + 1}")  # fmt: skip
    elif (
        isinstance(node, ast.Assign | ast.AugAssign | ast.Expr)
        and node.end_lineno == node.lineno
        and node.end_col_offset is not None
        and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ):
        statement = lines[node.lineno - 1][node.col_offset : node.end_col_offset]
        yield (node.lineno, node.col_offset, node.end_col_offset, "pass",
               f"deleted: {statement.strip()[:60]}")  # fmt: skip


def _within(line: int, offset: int, between: str, old: str, new: str, what: str) -> Edit:
    at = between.index(f" {old} ") + 1 if f" {old} " in between else between.index(old)
    start = offset + at
    return line, start, start + len(old), new, f"{what} {old} -> {new}"


def _replace(lines: list[str], line: int, start: int, end: int, replacement: str) -> str:
    changed = list(lines)
    text = changed[line - 1]
    changed[line - 1] = text[:start] + replacement + text[end:]
    return "".join(changed)


def judge(
    reference: str,
    mutants: list[Mutant],
    *,
    seeds: int,
    jobs: int,
    extra: list[str] | None = None,
    dask: str | None = None,
    on_verdict: Callable[[Verdict], None] | None = None,
) -> tuple[Verdict, list[Verdict]]:
    """Sweep the unmutated code (the control) and then each mutant, each with ``seeds``
    seeds of ``reference`` and the ``run`` options ``extra``: ``jobs`` at a time here, or,
    with ``dask``, as tasks on that Dask scheduler's workers (each gets the package's
    source with its mutant, and sweeps it there)."""
    control = _verdict(None, *sweep_mutant(reference, {}, seeds, extra or []))
    if control.outcome != "survived":
        raise UsageError(
            f"{reference} fails before any mutation ({control.detail}): mutation testing "
            "needs a scenario that passes"
        )
    sources = [_package_with(mutant) for mutant in mutants]

    def heard(mutant: Mutant, outcome: tuple[str, str]) -> Verdict:
        verdict = _verdict(mutant, *outcome)
        if on_verdict is not None:
            on_verdict(verdict)
        return verdict

    if dask is not None:
        outcomes = _on_dask(dask, reference, sources, seeds, extra or [])
        return control, [heard(m, o) for m, o in zip(mutants, outcomes, strict=True)]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        swept = pool.map(lambda files: sweep_mutant(reference, files, seeds, extra or []), sources)
        return control, [heard(m, o) for m, o in zip(mutants, swept, strict=True)]


def sweep_mutant(
    reference: str, files: dict[str, str], seeds: int, extra: list[str]
) -> tuple[str, str]:
    """Sweep ``reference`` in a fresh interpreter whose import path starts with ``files``
    (relative path to source: a package with its mutant; none for the control), then the
    current directory. Plain data in and out, so that it runs as a Dask task too: the
    outcome (killed, survived or error) and its detail."""
    with tempfile.TemporaryDirectory(prefix="rabble-mutant-") as folder:
        for relative, text in files.items():
            target = Path(folder) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        # Run from the temporary folder, so that its files come first on the import path,
        # then what the current directory and PYTHONPATH hold.
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [folder, os.getcwd(), *filter(None, [env.get("PYTHONPATH")])]
        )
        command = [
            sys.executable, "-m", "rabble_sim.cli", "run", reference, "--seeds", str(seeds),
            "--workers", "1", "--no-shrink", "--save-dir", str(Path(folder) / "found"),
            "--json", *extra,
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, env=env, cwd=folder,
                timeout=MUTANT_TIMEOUT, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return "killed", f"the sweep ran past {MUTANT_TIMEOUT:g} s"
    if done.returncode == 0:
        return "survived", f"no violation in {seeds} seeds"
    if done.returncode == 1:
        report = json.loads(done.stdout)
        return "killed", f"seed {report.get('seed')}: {report.get('violation', {}).get('check')}"
    reason = (done.stderr.strip().splitlines() or ["exit status " + str(done.returncode)])[-1]
    return "error", reason


def _on_dask(
    address: str, reference: str, sources: list[dict[str, str]], seeds: int, extra: list[str]
) -> list[tuple[str, str]]:
    from ._dask import connect  # noqa: PLC0415  (imports dask.distributed: only if used)

    with connect(address) as client:
        futures = [
            client.submit(sweep_mutant, reference, files, seeds, extra, pure=False)
            for files in sources
        ]
        return [(outcome, detail) for outcome, detail in client.gather(futures)]


def _verdict(mutant: Mutant | None, outcome: str, detail: str) -> Verdict:
    return Verdict(mutant or _CONTROL, outcome, detail)


_CONTROL = Mutant("control", Path("-"), 0, "no mutation", "", "")


def _package_with(mutant: Mutant) -> dict[str, str]:
    """The source of ``mutant.file``'s top-level package (the outermost folder with an
    ``__init__.py``, or the module alone), by path relative to its parent, with the mutant
    in place of the file."""
    file = mutant.file.resolve()
    top = file.parent
    if not (top / "__init__.py").exists():  # a module on its own
        return {file.name: mutant.source}
    while (top.parent / "__init__.py").exists():
        top = top.parent
    files = {
        str(path.relative_to(top.parent)): path.read_text()
        for path in sorted(top.rglob("*.py"))
        if "__pycache__" not in path.parts
    }
    files[str(file.relative_to(top.parent))] = mutant.source
    return files
