"""Search with Hypothesis: the run loop's choices come from Hypothesis in bulk (a byte
string and a seed, see ``sim._hypothesis``), so that ``check`` searches what ``run``'s swarm
strategy searches, at the same speed, and Hypothesis can shrink a failing run's decisions.

``check`` works inside a pytest test and outside it. Its settings are a profile's
(``base_settings``): ``rabble-dev`` (100 examples), ``rabble-ci`` (200, derandomised: the
same examples every time), ``rabble-nightly`` (10,000), or one of your own loaded with
``--hypothesis-profile``. No deadline: a run takes as long as it takes. Failures go to the
example database, under keys of their scenario's.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, Literal

import attrs
from hypothesis import (
    HealthCheck,
    Phase,
    Verbosity,
    given,
    seed as seed_for,
    settings,
    strategies as st,
)
from hypothesis.database import ExampleDatabase
from hypothesis.errors import Flaky

from ..core import RabbleError
from ..sim import DEFAULT_STEP_TIMEOUT, RunResult, Scenario, recorded, run
from ..sim._hypothesis import ByteDraws, HypothesisChooser
from ._profiles import PROFILES, default_profile


@attrs.define
class CheckReport:
    """What a Hypothesis search did: runs (generated and while shrinking), steps, events
    by kind, and the shrunk failure, if any."""

    runs: int = 0
    steps: int = 0
    events: Counter[str] = attrs.Factory(Counter)
    failure: RunResult | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


StrategyDraw = Callable[[st.SearchStrategy[Any]], Any]
"""The ``draw`` of a ``@st.composite`` strategy."""
SEEDS = st.integers(0, 2**32 - 1)
DECISIONS_PER_STEP = 3
"""At most: a node fault's, an event's, a message fault's (an input's draws come on top)."""
MAX_DECISION_BYTES = 4096
"""Well within the bytes Hypothesis lets one example draw; a longer run's later decisions
come from the drawn seed."""

SUPPRESSED = [
    # Drawing an example is running a whole simulation, by design: it takes the time
    # the run takes, far more than Hypothesis expects a strategy to take.
    HealthCheck.too_slow,
    # A long run makes many decisions; a run that Hypothesis cuts short for it is a
    # shorter run, not a bad example.
    HealthCheck.data_too_large,
]
"""The health checks that do not fit a search where each example is a whole run."""


class _Found(Exception):
    """Raised inside the Hypothesis test so that Hypothesis shrinks the run."""


def check(
    scenario: Scenario,
    *,
    examples: int | None = None,
    profile: str | None = None,
    seed: int | None = None,
    shrink: bool = True,
    shrink_seconds: float | None = 2.0,
    max_steps: int | None = None,
    step_timeout: float | None = DEFAULT_STEP_TIMEOUT,
    database: ExampleDatabase | Literal["default"] | None = "default",
) -> CheckReport:
    """Search ``scenario`` with Hypothesis; return the failing run it found, shrunk.

    The settings are ``profile``'s, else those of the Hypothesis profile loaded
    (``--hypothesis-profile``), else ``rabble-ci`` on CI and ``rabble-dev`` elsewhere
    (``base_settings``). Failures go to the example database (the settings' own by
    default, ``.hypothesis/`` in the current directory; None for none), under keys of
    this scenario's, and the next search tries them first. ``examples`` overrides the
    number of examples; ``seed`` fixes Hypothesis' randomness, so that the same call finds
    the same failure (and, as under Hypothesis' ``@seed``, leaves the database alone).
    Once a run fails, Hypothesis shrinks it for at most ``shrink_seconds`` (None: no
    limit; not at all with ``shrink=False``): each attempt costs a whole run, and delta
    debugging, which callers run after it
    (``rabble_sim.schedule.shrink``) is cheaper per step. ``max_steps`` overrides the
    scenario's bound; a step that takes longer than ``step_timeout`` seconds is a
    violation.
    """
    base = base_settings(profile)
    report = CheckReport()
    limit = scenario.max_steps if max_steps is None else max_steps
    drawn_decisions = decisions(limit)
    failing: set[tuple[bytes, int]] = set()  # the draws of every failing run so far
    deadline: list[float] = []  # when shrinking must stop, once a run failed

    @st.composite
    def runs(draw: StrategyDraw) -> tuple[tuple[bytes, int], RunResult | None]:
        # A run's decisions, drawn in bulk: a byte string Hypothesis shrinks by deleting
        # and lowering, and a seed for any decisions beyond it.
        key = draw(drawn_decisions)
        if deadline and time.monotonic() > deadline[0] and key not in failing:
            # Out of shrinking time: a new attempt "passes" at once, without a run, so
            # that Hypothesis settles on the best failure it has (replaying a known failure
            # still fails, or Hypothesis would call the test flaky); delta debugging goes
            # on from there.
            return key, None
        return key, _run_of(scenario, key, limit, step_timeout)

    def one_run(drawn: tuple[tuple[bytes, int], RunResult | None]) -> None:
        key, result = drawn
        if result is None:
            return
        report.runs += 1
        report.steps += result.steps
        report.events.update(result.trace.counts())
        if result.violation is not None:
            failing.add(key)
            if not deadline and shrink_seconds is not None:
                deadline.append(time.monotonic() + shrink_seconds)
            # Hypothesis replays its shrunk example last: the last failing run is it.
            report.failure = result
            raise _Found(str(result.violation))

    test = settings(
        base,
        max_examples=examples if examples is not None else base.max_examples,
        deadline=None,
        database=scenario_database(base.database if database == "default" else database, scenario),
        verbosity=Verbosity.quiet,
        suppress_health_check=SUPPRESSED,
        print_blob=False,
        report_multiple_bugs=False,
        # The explain phase traces every line of every run while shrinking (sys.settrace
        # before Python 3.12): it makes shrinking many times slower, and a simulation runs
        # the same lines whether it fails or not, so it would explain nothing.
        phases=[
            phase
            for phase in base.phases
            if phase is not Phase.explain and (shrink or phase is not Phase.shrink)
        ],
    )(given(runs())(one_run))
    if seed is not None:
        test = seed_for(seed)(test)
    try:
        test()
    except _Found:
        assert report.failure is not None
        report.failure = recorded(report.failure, step_timeout=step_timeout)
        return report
    except Flaky as e:
        raise RabbleError(
            f"scenario {scenario.name!r} ran differently on the same choices ({type(e).__name__}): "
            "check it with rabble-sim determinism"
        ) from None
    report.failure = None
    return report


def decisions(max_steps: int) -> st.SearchStrategy[tuple[bytes, int]]:
    """A run's decisions, drawn in bulk: a byte string, which Hypothesis shrinks by
    deleting and lowering bytes, and a seed for the decisions beyond it."""
    size = min(MAX_DECISION_BYTES, 2 * DECISIONS_PER_STEP * max(max_steps, 1))
    return st.tuples(st.binary(min_size=size // 2, max_size=size), SEEDS)


def runs(
    scenario: Scenario,
    *,
    max_steps: int | None = None,
    step_timeout: float | None = DEFAULT_STEP_TIMEOUT,
) -> st.SearchStrategy[RunResult]:
    """A Hypothesis strategy of runs of ``scenario``, for a ``@given`` test of your own:
    each example is a whole run (events only), its decisions drawn as ``check`` draws them.
    Pass a failing one to ``rabble_sim.search.fail_with_schedule``."""
    limit = scenario.max_steps if max_steps is None else max_steps

    return decisions(limit).map(lambda key: _run_of(scenario, key, limit, step_timeout))


def _run_of(
    scenario: Scenario, key: tuple[bytes, int], limit: int, step_timeout: float | None
) -> RunResult:
    """The run that decisions ``key`` (bytes and seed) make, events only."""
    chooser = HypothesisChooser(ByteDraws(*key), scenario.faults)
    return run(scenario, chooser, max_steps=limit, messages=False, step_timeout=step_timeout)


def base_settings(profile: str | None = None) -> settings:
    """The settings a search starts from: ``profile`` (one of ``PROFILES``) if given; else
    the profile ``RABBLE_SIM_PROFILE`` names; else the Hypothesis profile loaded, if it is
    one of your own (``--hypothesis-profile``); else ``rabble-ci`` on CI, ``rabble-dev``
    elsewhere."""
    name = profile or os.environ.get("RABBLE_SIM_PROFILE")
    if name is None and settings.get_current_profile_name() not in ("default", "ci"):
        return settings()  # the profile loaded: --hypothesis-profile, or load_profile()
    name = name or default_profile()
    if name not in PROFILES:
        raise RabbleError(f"unknown profile {name!r}: use one of {', '.join(PROFILES)}")
    return PROFILES[name]


def scenario_database(
    database: ExampleDatabase | None, scenario: Scenario
) -> ExampleDatabase | None:
    """``database`` with keys of ``scenario``'s own: every ``check`` is the same Hypothesis
    test, so its keys alone would mix every scenario's failures."""
    return None if database is None else ScenarioDatabase(database, scenario.name)


class ScenarioDatabase(ExampleDatabase):
    """An example database that keeps one scenario's examples apart in another one."""

    def __init__(self, inner: ExampleDatabase, scenario: str) -> None:
        super().__init__()
        self._inner = inner
        self._prefix = f"rabble-sim:{scenario}:".encode()

    def save(self, key: bytes, value: bytes) -> None:
        self._inner.save(self._prefix + key, value)

    def fetch(self, key: bytes) -> Iterable[bytes]:
        return self._inner.fetch(self._prefix + key)

    def delete(self, key: bytes, value: bytes) -> None:
        self._inner.delete(self._prefix + key, value)

    def move(self, src: bytes, dest: bytes, value: bytes) -> None:
        self._inner.move(self._prefix + src, self._prefix + dest, value)
