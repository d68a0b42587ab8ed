"""Random numbers for processes: a decision of the run, recorded, replayed and shrunk."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from rabble_sim import (
    CorrelationId,
    Envelope,
    Liveness,
    Pid,
    RandomChooser,
    RandomValue,
    Scenario,
    Timeout,
    View,
    get_random,
    run,
    start_timer,
)
from rabble_sim.schedule import Schedule, loads, replay, replay_events, shrink
from rabble_sim.search import sweep
from rabble_sim.sim import recorded

DIE = Pid("die", "a")


@attrs.define
class Die:
    """Asks for ``rolls`` random numbers below 100, one after another, from its init."""

    pid: Pid
    rolls: int = 3
    below: int = 100
    got: list[int] = attrs.Factory(list)

    def init(self, output: list[Envelope]) -> None:
        output.append(get_random(self.pid, self.below, CorrelationId(self.pid, 0)))

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, RandomValue):
            self.got.append(msg.value)
            if len(self.got) < self.rolls:
                output.append(get_random(self.pid, self.below, CorrelationId(self.pid, 0)))


def below_40(view: View) -> None:
    die = view.processes[DIE]
    assert all(v < 40 for v in die.got), f"rolled {die.got}"


def dice(**kwargs: Any) -> Scenario:
    return Scenario("dice", ["a"], lambda node, durable: [Die(DIE, **kwargs)])


BUGGY = Scenario("dice_below_40", ["a"], lambda node, durable: [Die(DIE)], invariants=below_40)


def rolls(seed: int, scenario: Scenario) -> tuple[list[int], Any]:
    worlds: list[Any] = []
    result = run(scenario, RandomChooser(seed), observers=[worlds.append])
    return worlds[-1].processes[DIE].got, result


def test_a_random_number_is_a_seeded_decision_of_the_run_recorded_with_its_step() -> None:
    got, result = rolls(4, dice())
    assert len(got) == 3 and all(0 <= v < 100 for v in got)
    assert rolls(4, dice())[0] == got, "the same seed, the same numbers"
    assert any(rolls(seed, dice())[0] != got for seed in range(5, 10))
    trace = result.trace
    assert trace.randoms(0) == (got[0],), "init's request is served as the nodes start"
    assert [v for step in range(1, len(trace)) for v in trace.randoms(step)] == got[1:]


def test_a_saved_schedule_keeps_the_numbers_and_replays_them() -> None:
    _, result = rolls(2, BUGGY)
    schedule = Schedule.from_run(recorded(result), "tests.sim.test_random:BUGGY")
    again = loads(schedule.dumps())
    assert again.start_random == schedule.start_random != ()
    assert [e.get("random") for e in again.events if "random" in e]
    outcome = replay(again, BUGGY)
    assert outcome.divergences == ()
    assert (outcome.violation is None) == (result.violation is None)


def test_shrinking_takes_a_failing_number_down_to_the_smallest_that_still_fails() -> None:
    report = sweep(BUGGY, range(50), strategy="random")
    assert report.failure is not None
    found = Schedule.from_run(report.failure, "tests.sim.test_random:BUGGY")
    result = shrink(found, BUGGY)
    assert result.reproduced is True
    numbers = [*result.schedule.start_random] + [
        v for e in result.schedule.events for v in e.get("random", ())
    ]
    assert 40 in numbers and all(v in (0, 40) for v in numbers), numbers
    assert replay(result.schedule, BUGGY).reproduces(result.schedule)


@pytest.mark.parametrize("below", [0, -3, "6"])
def test_a_request_for_no_possible_number_is_a_bad_request(below: Any) -> None:
    result = run(dice(below=below), RandomChooser(0))
    assert result.violation is not None
    assert result.violation.check == "bad request of die::a to its executor"
    assert "GetRandom.below must be a positive integer" in result.violation.message


@attrs.define
class TwoAsks:
    """Asks for a number below 1 (no decision at all), then one below 100."""

    pid: Pid
    got: list[int] = attrs.Factory(list)

    def init(self, output: list[Envelope]) -> None:
        output.append(get_random(self.pid, 1, CorrelationId(self.pid, 0)))
        output.append(get_random(self.pid, 100, CorrelationId(self.pid, 0)))

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, RandomValue):
            self.got.append(msg.value)


def test_a_request_with_one_possible_answer_is_no_decision_and_replays_exactly() -> None:
    scenario = Scenario("two-asks", ["a"], lambda node, durable: [TwoAsks(DIE)])
    worlds: list[Any] = []
    result = run(scenario, RandomChooser(3), observers=[worlds.append])
    drawn = result.trace.randoms(0)
    assert len(drawn) == 1 and sorted(worlds[-1].processes[DIE].got) == sorted([0, drawn[0]])
    schedule = Schedule.from_run(recorded(result), "tests.sim.test_random:two")
    assert schedule.start_random == drawn
    assert replay(loads(schedule.dumps()), scenario).divergences == ()


def test_a_replay_whose_random_numbers_no_longer_fit_says_so() -> None:
    _, result = rolls(2, BUGGY)
    schedule = Schedule.from_run(recorded(result), "tests.sim.test_random:BUGGY")
    fewer = Scenario("dice_below_40", ["a"], lambda node, durable: [Die(DIE, below=20)])
    outcome = replay(schedule, fewer)
    assert any("is not below 20 today" in d.what for d in outcome.divergences), outcome.divergences
    assert not any(d.skipped for d in outcome.divergences)


COIN = Pid("coin", "a")


@attrs.define
class Coin:
    """Tosses a coin (a random number below 2) every 10 ms until it comes up 1."""

    pid: Pid
    tosses: list[int] = attrs.Factory(list)

    def init(self, output: list[Envelope]) -> None:
        output.append(start_timer(self.pid, 10, CorrelationId(self.pid, 0)))

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Timeout):
            output.append(get_random(self.pid, 2, CorrelationId(self.pid, 1)))
        elif isinstance(msg, RandomValue):
            self.tosses.append(msg.value)
            if msg.value == 0:
                output.append(start_timer(self.pid, 10, CorrelationId(self.pid, 0)))


def came_up_one(view: View) -> None:
    assert 1 in view.processes[COIN].tosses, "no 1 yet"


TOSSES = Scenario(
    "tosses", ["a"], lambda node, durable: [Coin(COIN)], max_steps=0,
    liveness=Liveness(came_up_one, within=100),
)  # fmt: skip


def test_the_liveness_phase_draws_fairly_seeded_by_the_run() -> None:
    # Nothing recorded: the liveness phase of a replay is a fresh, fair one. Were its
    # numbers the simplest (0), as a search's may be, the coin would never come up 1.
    outcomes = [replay_events(TOSSES, [], None, seed=seed).result for seed in range(5)]
    assert all(r.ok for r in outcomes), [r.violation for r in outcomes]
    again = [replay_events(TOSSES, [], None, seed=seed).result for seed in range(5)]
    digests = [r.trace.digest() for r in outcomes]
    assert digests == [r.trace.digest() for r in again], "the same seed, the same tosses"
    assert len(set(digests)) > 1, "each seed its own"
