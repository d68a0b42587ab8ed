"""The pytest plugin: ``--rabble-seeds`` and the ``rabble_sweep`` fixture for scenario tests.

def test_lock_server(rabble_sweep):
    rabble_sweep(scenario)          # fails the test with the violation and its schedule
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from .core import UsageError
from .schedule import Schedule
from .search import SweepReport, sweep
from .sim import Scenario

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

    def run_sweep(
        scenario: Scenario, seeds: range | None = None, reference: str | None = None
    ) -> SweepReport:
        report = sweep(scenario, seeds if seeds is not None else range(rabble_seeds))
        failure = report.failure
        if failure is not None and failure.violation is not None:
            ref = reference or reference_of(scenario)
            directory = Path(save_dir) if save_dir else Path("regressions") / scenario.name
            path = Schedule.from_run(failure, ref).save(directory)
            v = failure.violation
            pytest.fail(
                f"{scenario.name}: seed {failure.seed}, step {v.step}: {v.check}: {v.message}\n"
                f"schedule saved: {path}\nreplay it with: rabble-sim replay {path}",
                pytrace=False,
            )
        return report

    return run_sweep
