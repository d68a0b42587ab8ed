"""Hypothesis-driven search: finds, shrinks, and is reproducible with a seed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rabble_sim import run
from rabble_sim.schedule import Schedule, load_scenario, replay, shrink
from rabble_sim.search import check
from rabble_sim.sim import PCTChooser, RandomChooser, RecordedDraws
from rabble_sim.sim._hypothesis import HypothesisChooser, HypothesisDraws


def test_check_finds_and_shrinks_the_echo_bug() -> None:
    reference = "protocols.echo:bug_shared_cache"
    scenario = load_scenario(reference)
    report = check(scenario, examples=50, seed=3)
    assert report.failure is not None and report.failure.violation is not None
    assert report.failure.violation.check == "postcondition replies_match_requests"
    found = Schedule.from_run(report.failure, reference)
    assert replay(found, scenario).reproduces(found)
    assert len(shrink(found, scenario).schedule.events) == 3


def test_check_with_a_seed_finds_the_same_failure_twice() -> None:
    scenario = load_scenario("protocols.echo:bug_shared_cache")
    first, second = (check(scenario, examples=30, seed=9) for _ in range(2))
    assert first.failure is not None and second.failure is not None
    assert first.failure.trace.digest() == second.failure.trace.digest()


def test_check_passes_a_correct_scenario() -> None:
    report = check(load_scenario("protocols.echo:scenario"), examples=20, seed=1)
    assert report.ok and report.runs >= 20


class ScriptedDraws:
    """Answers each weighted decision from a script (then the simplest), and every "one
    of n" with the simplest, 0."""

    def __init__(self, weighted: list[int]) -> None:
        self.script = weighted

    def choose(self, n: int) -> int:
        return 0

    def weighted(self, probabilities: Sequence[float]) -> int:
        return self.script.pop(0) if self.script else 0


def test_a_hypothesis_run_is_while_shaped() -> None:
    scenario = load_scenario("protocols.echo:bug_shared_cache")
    # The fault mix (drops, duplicates, crashes: all decided off), then "go on" for three
    # steps, then "stop". With no fault on, each step decides only which message to deliver.
    draws = ScriptedDraws([0] * 3 + [1, 1, 1, 0])
    result = run(
        scenario, HypothesisChooser(draws, scenario.faults, max_steps=100), check_liveness=False
    )
    assert result.steps == 3
    assert [e.kind for e in result.events()] == ["deliver"] * 3, "index 0: the oldest message"
    # With every draw at its simplest, the run does nothing at all.
    empty = run(
        scenario,
        HypothesisChooser(ScriptedDraws([]), scenario.faults, max_steps=100),
        check_liveness=False,
    )
    assert empty.steps == 0


def coins(*flips: bool) -> Callable[[object], object]:
    """A composite strategy's ``draw`` that answers fair coins from ``flips`` (then False,
    the simplest) and integers with their lowest value."""
    script = list(flips)

    def draw(strategy: object) -> object:
        if "booleans" in repr(strategy):
            return script.pop(0) if script else False
        return 0

    return draw


def test_weighted_decisions_are_fair_coins_with_the_simplest_outcome_at_all_false() -> None:
    assert HypothesisDraws(coins()).weighted([0.75]) == 0, "all False: the simplest"
    assert HypothesisDraws(coins(True)).weighted([0.75]) == 1, "[0.5, 1) is the 0.75 share"
    assert HypothesisDraws(coins(False, True)).weighted([0.75]) == 1, "[0.25, 0.5)"
    # 0.01 to stop, 0.99 to go on: one True coin goes on; stopping takes seven False.
    assert HypothesisDraws(coins(True)).weighted([0.99]) == 1
    assert HypothesisDraws(coins(*[False] * 5, True)).weighted([0.99]) == 1
    assert HypothesisDraws(coins(*[False] * 7)).weighted([0.99]) == 0
    # Three outcomes: [0, 0.7) simplest, [0.7, 0.9) the first fault, [0.9, 1) the second.
    assert HypothesisDraws(coins(True, False, True, True, True)).weighted([0.2, 0.1]) == 1
    assert HypothesisDraws(coins(True, True, True, True)).weighted([0.2, 0.1]) == 2


def test_a_run_is_made_again_from_its_decisions_alone() -> None:
    scenario = load_scenario("protocols.echo:bug_shared_cache")
    first = check(scenario, examples=30, seed=9)
    assert first.failure is not None and first.failure.decisions is not None
    for chooser in (RandomChooser(5), PCTChooser(5, depth=3, steps=200)):
        result = run(scenario, chooser)
        again = run(scenario, chooser.again(RecordedDraws(result.decisions or ())))
        assert again.trace.digest() == result.trace.digest()
