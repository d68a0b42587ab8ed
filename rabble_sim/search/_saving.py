"""A failure found by a search, shrunk and saved as a schedule, and the text that says so.

Shared by the pytest fixtures and by ``fail_with_schedule``, for a ``@given`` test of your
own: whatever found the failure, the user reads the same report and gets the same file.
"""

from __future__ import annotations

import sys
from importlib.machinery import PathFinder
from pathlib import Path

import attrs

from ..core import UsageError
from ..schedule import Schedule, ShrinkResult, load_scenario, shrink
from ..sim import RunResult, Scenario

SHRINK_SECONDS = 6.0
"""How long a failure found in a test is shrunk before it is saved."""


def reference_of(scenario: Scenario, root: Path | None = None) -> str:
    """``MODULE:NAME`` of a module-level name bound to ``scenario``, so that a saved
    schedule can be replayed; a protocol's own module is preferred over test modules. A
    module that does not import from ``root`` under its own name (a test module, which
    pytest imported from its own folder) is named by its path from ``root`` instead
    (``tests/test_x.py`` is ``tests.test_x``), which does."""
    found = sorted(
        (module_name.split(".")[0] == "tests" or module_name.startswith("test_"), module_name, name)
        for module_name, module in list(sys.modules.items())
        if not module_name.startswith("_")  # __main__: no other interpreter imports it so
        for name, value in list(vars(module).items())
        if value is scenario
    )
    if not found:
        raise UsageError(
            f"scenario {scenario.name!r} is not bound to a module-level name: pass "
            "reference='MODULE:NAME', or, for a scenario a function builds (a parametrized "
            "one), reference='MODULE:FACTORY(args)' with the arguments as Python literals"
        )
    _, module_name, name = found[0]
    return f"{_rooted(module_name, root)}:{name}"


def _rooted(module_name: str, root: Path | None) -> str:
    """``module_name``, or, if it does not import from ``root`` but its file lies below
    ``root``, the dotted path of that file from ``root``."""
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    if root is None or path is None:
        return module_name
    top = module_name.split(".", maxsplit=1)[0]
    if PathFinder.find_spec(top, [str(root)]) is not None:
        return module_name
    try:
        parts = Path(path).resolve().relative_to(root.resolve()).with_suffix("").parts
    except ValueError:
        return module_name
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) if parts and all(p.isidentifier() for p in parts) else module_name


def _loads_again(reference: str, scenario: Scenario, root: Path | None) -> None:
    """Refuse to save a schedule whose scenario reference would not load this scenario
    again (from ``root``, if given: nothing could replay it), saying how to name it."""
    try:
        loaded = load_scenario(reference, None if root is None else [root])
    except UsageError as e:
        problem = str(e)
    else:
        if loaded.name == scenario.name:
            return
        problem = f"it names scenario {loaded.name!r}, not {scenario.name!r}"
    raise UsageError(
        f"cannot save a schedule of scenario {scenario.name!r} as {reference!r}: {problem}; "
        "name a module-level scenario of an importable module (MODULE:NAME), or the "
        "function that builds it (MODULE:FACTORY(args), arguments as Python literals)"
    )


def save_failure(
    failure: RunResult,
    scenario: Scenario,
    directory: Path,
    *,
    reference: str | None = None,
    expect: str | None = None,
    shrinking: bool = True,
    shrink_seconds: float | None = SHRINK_SECONDS,
    name: str | None = None,
    root: Path | None = None,
    found_by: str | None = None,
) -> tuple[Path, str]:
    """Shrink ``failure`` (a run of ``scenario`` that kept its messages, or one
    ``recorded`` gives), save its schedule in ``directory`` (marked ``expect``; as
    ``name``.json if given, replacing an earlier one, else named by its digest; shrunk
    for at most ``shrink_seconds``, or not at all without ``shrinking``), and
    return the file and a report of it: the violation, how it was shrunk, and the commands
    that replay and debug it. ``found_by`` says what found it (default: its seed, or
    Hypothesis)."""
    reference = reference or reference_of(scenario, root)
    _loads_again(reference, scenario, root)
    found = Schedule.from_run(failure, reference)
    if not shrinking:  # saved as it is
        shrunk = ShrinkResult(found, 0, len(found.events), None)
    else:
        shrunk = shrink(found, scenario, seconds=shrink_seconds)
    saved = attrs.evolve(shrunk.schedule, expect=expect)
    path = _shown(saved.save(directory) if name is None else _replace(saved, directory, name))
    v, first = saved.violation, failure.violation
    assert v is not None and first is not None
    steps = len(saved.events)
    origin = (
        f"shrunk to {steps} step{'s' * (steps != 1)} from {failure.steps}"
        if shrunk.reproduced
        else f"not shrunk: {shrunk.note}"
        if shrunk.reproduced is False
        else f"{steps} step{'s' * (steps != 1)}, as "
        + (f"{found_by} found it" if found_by else "Hypothesis shrank it")
    )
    if shrunk.reproduced and shrunk.note:
        origin += f"; {shrunk.note}"
    if (v["check"], v["message"]) != (first.check, first.message):
        origin += f", which failed at step {first.step} with {first}"
    seeded = f"seed {failure.seed}" if failure.seed is not None else "Hypothesis"  # check's runs
    where = found_by or seeded
    text = (
        f"{scenario.name}: {where}, step {v.get('step')}: {v['check']}: {v['message']}\n"
        f"({origin})\nschedule saved: {path}\nreplay it with: rabble-sim replay {path}\n"
        f"debug it with: rabble-sim debug {path}"
    )
    return path, text


def _replace(schedule: Schedule, directory: Path, name: str) -> Path:
    path = directory / f"{name}.json"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(schedule.dumps(), encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot save the schedule in {directory}: {e.strerror or e}") from None
    return path


def _shown(path: Path) -> Path:
    """``path`` relative to the current directory when it is below it: what to type."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def fail_with_schedule(
    result: RunResult,
    *,
    reference: str | None = None,
    save_dir: Path | str | None = None,
    name: str = "hypothesis",
) -> None:
    """Nothing, if ``result`` passed; else save its schedule and raise ``AssertionError``
    with its report, for a ``@given(runs(scenario))`` test of your own. Hypothesis shrinks
    a failure by running the test again and again, and replays the smallest failing run
    last: each failing run replaces the file (``regressions/<scenario>/<name>.json`` by
    default), so the one left is the smallest."""
    if result.violation is None:
        return
    from ..sim import recorded  # noqa: PLC0415

    scenario = result.scenario
    directory = Path(save_dir) if save_dir is not None else Path("regressions") / scenario.name
    _, text = save_failure(
        recorded(result), scenario, directory, reference=reference, shrinking=False, name=name
    )
    raise AssertionError(text)
