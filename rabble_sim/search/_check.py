"""Search with Hypothesis: the run loop's choices come from Hypothesis, which shrinks a
failing run to a short one.

``check`` works inside a pytest test and outside it. Settings come from three profiles:
``rabble-dev`` (100 examples), ``rabble-ci`` (200, derandomised: the same examples every
time) and ``rabble-nightly`` (10,000); by default ``rabble-ci`` when the ``CI``
environment variable is set, else ``rabble-dev``. No deadline: a run takes as long as it
takes. No example database: failures are kept as schedule files instead.
"""

from __future__ import annotations

import os
from collections import Counter

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
from hypothesis.errors import Flaky

from ..core import RabbleError
from ..sim import DEFAULT_STEP_TIMEOUT, RunResult, Scenario, recorded, run
from ..sim._hypothesis import HypothesisChooser, HypothesisDraws, StrategyDraw

PROFILES = {
    "rabble-dev": settings(max_examples=100),
    "rabble-ci": settings(max_examples=200, derandomize=True),
    "rabble-nightly": settings(max_examples=10_000),
}
for _name, _profile in PROFILES.items():
    settings.register_profile(_name, _profile)


def default_profile() -> str:
    """``RABBLE_SIM_PROFILE`` if set, else ``rabble-ci`` on CI, else ``rabble-dev``."""
    chosen = os.environ.get("RABBLE_SIM_PROFILE")
    if chosen:
        return chosen
    return "rabble-ci" if os.environ.get("CI") else "rabble-dev"


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
    shrink_runs: int = 100,
    max_steps: int | None = None,
    step_timeout: float | None = DEFAULT_STEP_TIMEOUT,
) -> CheckReport:
    """Search ``scenario`` with Hypothesis; return the shrunk failing run, if any.

    ``examples`` overrides the profile's number of examples; ``seed`` fixes Hypothesis'
    randomness, so that the same call finds the same failure. Hypothesis shrinks for at
    most ``shrink_runs`` runs: on long scenarios each costs a whole run, and the delta
    debugging that follows (``rabble_sim.schedule.shrink``) is cheaper per step.
    ``max_steps`` overrides the scenario's bound; a step that takes longer than
    ``step_timeout`` seconds is a violation.
    """
    name = profile or default_profile()
    if name not in PROFILES:
        raise RabbleError(f"unknown profile {name!r}: use one of {', '.join(PROFILES)}")
    report = CheckReport()
    limit = scenario.max_steps if max_steps is None else max_steps
    failing: set[bytes] = set()  # the decisions of every failing run so far
    shrinking = [0]

    @st.composite
    def runs(draw: StrategyDraw) -> RunResult:
        # The whole run is drawn: every decision it makes is a draw of this strategy.
        chooser = HypothesisChooser(HypothesisDraws(draw), scenario.faults, max_steps=limit)
        return run(scenario, chooser, max_steps=limit, messages=False, step_timeout=step_timeout)

    def one_run(result: RunResult) -> None:
        report.runs += 1
        report.steps += result.steps
        report.events.update(result.trace.counts())
        assert result.decisions is not None
        choices = result.decisions.tobytes()
        if failing:
            shrinking[0] += 1
            if shrinking[0] > shrink_runs and choices not in failing:
                # Out of shrinking budget: every new attempt "passes", so Hypothesis
                # settles on the best failure it has (replaying a known failure still
                # fails, or Hypothesis would call the test flaky); delta debugging
                # goes on from there.
                return
        if result.violation is not None:
            failing.add(choices)
            # Hypothesis replays its shrunk example last: the last failing run is it.
            report.failure = result
            raise _Found(str(result.violation))

    test = settings(
        PROFILES[name],
        max_examples=examples if examples is not None else PROFILES[name].max_examples,
        deadline=None,
        database=None,
        verbosity=Verbosity.quiet,
        suppress_health_check=SUPPRESSED,
        print_blob=False,
        report_multiple_bugs=False,
        # The explain phase traces every line of every run while shrinking (sys.settrace
        # before Python 3.12): it makes shrinking many times slower, and a simulation runs
        # the same lines whether it fails or not, so it would explain nothing.
        phases=[phase for phase in PROFILES[name].phases if phase is not Phase.explain],
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
