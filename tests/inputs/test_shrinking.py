"""Shrinking inputs: the fewest inputs, each with the simplest values that still fail,
whether the failure needs values that agree or values that differ."""

from __future__ import annotations

from typing import Any

from rabble_sim import Inputs, Scenario, View
from rabble_sim.schedule import Schedule, shrink
from rabble_sim.schedule._format import to_event
from rabble_sim.search import sweep
from rabble_sim.sim import Input
from tests.inputs.test_giving import A, B, Recorder, Word, make_word


def texts_differ(view: View) -> None:
    words = {msg.text for pid in (A, B) for msg, _, _ in view.processes[pid].got}
    assert len(words) < 2, f"two different words: {sorted(words)}"


def one_word_thrice(view: View) -> None:
    for pid in (A, B):
        times = [msg.times for msg, _, _ in view.processes[pid].got if msg.times >= 2]
        assert len(times) < 2, f"{pid} got two words of {times} times"


def scenario(check: Any) -> Scenario:
    return Scenario(
        "words",
        ["a", "b"],
        lambda node, durable: [Recorder(node_pid) for node_pid in (A, B) if node_pid.node == node],
        invariants=[check],
        inputs=Inputs([A, B], make_word, max=6),
    )


def shrunk_inputs(check: Any) -> list[Input]:
    words = scenario(check)
    report = sweep(words, range(100))
    assert report.failure is not None
    result = shrink(Schedule.from_run(report.failure, "tests.inputs:words"), words)
    assert result.reproduced is True
    events = [to_event(e) for e in result.schedule.events]
    return [e for e in events if isinstance(e, Input)]


def test_a_failure_that_needs_two_different_values_keeps_the_two_simplest() -> None:
    given = shrunk_inputs(texts_differ)
    assert sorted((e.msg for e in given), key=repr) == [Word("a", 1), Word("b", 1)]
    assert [e.to for e in given] == [A, A], "the simplest target, for both"


def test_a_failure_that_needs_values_of_at_least_two_keeps_two_and_nothing_bigger() -> None:
    given = shrunk_inputs(one_word_thrice)
    assert [e.msg for e in given] == [Word("a", 2), Word("a", 2)]
