"""Hypothesis-driven search: finds, shrinks, and is reproducible with a seed."""

from __future__ import annotations

from rabble_sim import run
from rabble_sim.schedule import Schedule, load_scenario, replay, shrink
from rabble_sim.search import check
from rabble_sim.sim._hypothesis import HypothesisChooser


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
    """Stands in for Hypothesis' ConjectureData: answers draws from a script."""

    def __init__(self, booleans: list[bool]) -> None:
        self.booleans = booleans
        self.choices: list[object] = []

    def draw_boolean(self, p: float) -> bool:
        value = self.booleans.pop(0) if self.booleans else False
        self.choices.append(value)
        return value

    def draw_integer(self, low: int, high: int, **weights: object) -> int:
        self.choices.append(low)
        return low


class FakeData:
    def __init__(self, booleans: list[bool]) -> None:
        self.conjecture_data = ScriptedDraws(booleans)


def test_a_hypothesis_run_is_while_shaped() -> None:
    scenario = load_scenario("protocols.echo:bug_shared_cache")
    # The fault mix (drops, duplicates, crashes: all drawn off), then "go on" for three
    # steps, then "stop". With no fault on, each step draws only which message to deliver.
    data = FakeData([False] * 3 + [True, True, True, False])
    result = run(
        scenario, HypothesisChooser(data, scenario.faults, max_steps=100), check_liveness=False
    )
    assert result.steps == 3
    assert [e.kind for e in result.events()] == ["deliver"] * 3, "index 0: the oldest message"
    # With every draw at its simplest, the run does nothing at all.
    empty = run(
        scenario,
        HypothesisChooser(FakeData([]), scenario.faults, max_steps=100),
        check_liveness=False,
    )
    assert empty.steps == 0
