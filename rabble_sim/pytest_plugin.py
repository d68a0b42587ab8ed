"""The pytest plugin: schedule files as tests, and fixtures for scenario tests.

Every ``*.json`` under a ``regressions/`` or ``schedules/`` folder is collected as one
test that replays it. A regression passes once its violation no longer occurs (the bug
is fixed); a schedule with ``"expect": "violation"`` (a known-bug demonstration) passes
only while its violation reproduces; any other schedule passes while it replays without
a violation.

    def test_lock_server(rabble_sweep):
        rabble_sweep(scenario)          # fails the test with the violation and its schedule
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from .core import RabbleError, UsageError
from .schedule import (
    DIVERGENCES_SHOWN,
    Schedule,
    check_against,
    load,
    load_scenario,
    replay,
    shrink,
)
from .search import STRATEGIES, SweepReport, sweep
from .sim import Scenario, Trace, summarize

Sweep = Callable[..., SweepReport]


def reference_of(scenario: Scenario) -> str:
    """``MODULE:NAME`` of a module-level name bound to ``scenario``, so that a saved
    schedule can be replayed; a protocol's own module is preferred over test modules."""
    found = sorted(
        (module_name.split(".")[0] == "tests" or module_name.startswith("test_"), module_name, name)
        for module_name, module in list(sys.modules.items())
        for name, value in list(vars(module).items())
        if value is scenario
    )
    if not found:
        raise UsageError(
            f"scenario {scenario.name!r} is not bound to a module-level name: "
            "pass reference='MODULE:NAME' to rabble_sweep"
        )
    _, module_name, name = found[0]
    return f"{module_name}:{name}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rabble-sim")
    group.addoption(
        "--rabble-seeds",
        type=int,
        default=100,
        help="how many seeds rabble_sweep runs per scenario (default: 100)",
    )
    group.addoption(
        "--rabble-strategy",
        default="swarm",
        choices=list(STRATEGIES),
        help="the strategy rabble_sweep searches with (default: swarm)",
    )
    group.addoption(
        "--rabble-save-dir",
        default=None,
        help="where rabble_sweep saves failing schedules (default: regressions/<scenario>/)",
    )


@pytest.fixture
def rabble_seeds(request: pytest.FixtureRequest) -> int:
    """The number of seeds given with ``--rabble-seeds``."""
    return int(request.config.getoption("--rabble-seeds"))


@pytest.fixture
def rabble_sweep(request: pytest.FixtureRequest, rabble_seeds: int) -> Sweep:
    """``rabble_sweep(scenario, seeds=None, reference=None)`` runs the scenario under
    ``--rabble-seeds`` seeds and fails the test on the first violation, after saving its
    schedule (named by ``reference``, ``MODULE:SCENARIO``, so that it can be replayed)."""
    save_dir = request.config.getoption("--rabble-save-dir")
    strategy = request.config.getoption("--rabble-strategy")
    root = request.config.rootpath

    def run_sweep(
        scenario: Scenario, seeds: range | None = None, reference: str | None = None
    ) -> SweepReport:
        report = sweep(
            scenario, seeds if seeds is not None else range(rabble_seeds), strategy=strategy
        )
        failure = report.failure
        if failure is not None and failure.violation is not None:
            ref = reference or reference_of(scenario)
            directory = Path(save_dir) if save_dir else root / "regressions" / scenario.name
            found = Schedule.from_run(failure, ref)
            shrunk = shrink(found, scenario)
            saved = shrunk.schedule
            path = saved.save(directory)
            v, first = saved.violation, failure.violation
            assert v is not None
            steps = len(saved.events)
            origin = (
                f"shrunk to {steps} step{'s' * (steps != 1)} from {failure.steps}"
                if shrunk.reproduced
                else f"not shrunk: {shrunk.note}"
            )
            if (v["check"], v["message"]) != (first.check, first.message):
                origin += f", which failed at step {first.step} with {first}"
            pytest.fail(
                f"{scenario.name}: seed {failure.seed}, step {v.get('step')}: "
                f"{v['check']}: {v['message']}\n({origin})\n"
                f"schedule saved: {path}\nreplay it with: rabble-sim replay {path}",
                pytrace=False,
            )
        return report

    return run_sweep


SCHEDULE_FOLDERS = ("regressions", "schedules")
CONTEXT = 6  # events shown on each side of the failing step


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".json" and in_schedule_folder(file_path, parent.config.rootpath):
        return ScheduleFile.from_parent(parent, path=file_path)
    return None


def in_schedule_folder(path: Path, root: Path) -> bool:
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = path.parts
    return any(part in SCHEDULE_FOLDERS for part in parts[:-1])


def scenario_folders(path: Path, root: Path) -> list[Path]:
    """Where the scenario module of the schedule at ``path`` is looked for before
    ``sys.path``, nearest first: the schedule's folder and each one above it, up to the
    rootdir or the folder that holds its ``regressions/`` (``schedules/``), whichever is
    higher, then on up while that folder is a package: pytest imports a test module in a
    package from the first folder above it that is not (its basedir)."""
    chain = [path.parent, *path.parent.parents]
    # The rootdir need not be above the project: pytest takes the common ancestor of the
    # arguments and the current directory, or the folder of an ini file.
    holder = next((d.parent for d in chain if d.name in SCHEDULE_FOLDERS), path.parent)
    top = max(chain.index(d) for d in (root, holder) if d in chain)
    folders = chain[: top + 1]
    while (folders[-1] / "__init__.py").is_file() and len(folders) < len(chain):
        folders.append(chain[len(folders)])
    return folders


class ScheduleFile(pytest.File):
    """A schedule file: one test."""

    def collect(self) -> list[pytest.Item]:
        return [ScheduleItem.from_parent(self, name=self.path.stem)]


class ScheduleFailed(Exception):
    """A schedule did not replay as it should; the message says how."""


class ScheduleItem(pytest.Item):
    """Replays a schedule file and judges it by its ``expect``."""

    def runtest(self) -> None:
        try:
            schedule = load(self.path)
            scenario = load_scenario(
                schedule.scenario, scenario_folders(self.path, self.config.rootpath)
            )
            check_against(schedule, scenario, str(self.path))
            outcome = replay(schedule, scenario)
        except RabbleError as e:
            raise ScheduleFailed(str(e)) from None
        v = outcome.violation
        if schedule.expect == "violation":
            if not outcome.reproduces(schedule):
                what = f"a different violation, {v}" if v is not None else "no violation"
                raise ScheduleFailed(
                    f"this known bug no longer reproduces: the replay found {what} "
                    f"instead of {schedule.violation}\n{_render(outcome.result.trace, None)}"
                )
        elif v is not None:
            kind = "still occurs" if outcome.reproduces(schedule) else "occurs"
            raise ScheduleFailed(
                f"violation {kind} at step {v.step}: {v}\n{_render(outcome.result.trace, v.step)}"
            )
        elif not outcome.fits:
            divergences = "\n".join(f"  {d}" for d in outcome.divergences[:DIVERGENCES_SHOWN])
            raise ScheduleFailed(f"{outcome.misfit()}\n{divergences}")

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: object = None
    ) -> str:
        if isinstance(excinfo.value, ScheduleFailed):
            return f"{self.path}: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"schedule {self.path.name}"


def _render(trace: Trace, step: int | None) -> str:
    """The events around ``step`` (the last ones if None), one a line, the step marked."""
    last = trace.steps if step is None else step
    lines = []
    for i in range(max(1, last - CONTEXT), min(trace.steps, last + CONTEXT) + 1):
        mark = ">>" if i == step else "  "
        lines.append(f"{mark} {i:>5}  {summarize(trace.step_plain(i))}")
    return "\n".join(lines)
