"""Draw and Inputs: the simplest values, replayed decisions, and definitions refused clearly."""

from __future__ import annotations

from typing import Any

import pytest

from rabble_sim import Draw, Inputs, Pid, Scenario
from rabble_sim.core import InvalidDefinition

C1 = Pid("client", "c1")


def test_the_simplest_draws_are_the_first_option_false_and_lo() -> None:
    draw = Draw.replaying([])
    assert draw.choice(["x", "y"]) == "x"
    assert draw.boolean() is False
    assert draw.integer(3, 9) == 3
    assert draw.values == [0, 0, 0]


def test_replayed_decisions_give_the_values_they_name_and_out_of_range_ones_the_simplest() -> None:
    draw = Draw.replaying([1, 1, 6, 5])
    assert draw.choice(["x", "y"]) == "y"
    assert draw.boolean() is True
    assert draw.integer(3, 9) == 9
    assert draw.choice(["only", "two"]) == "only", "5 is no index of two options: the simplest"
    assert draw.values == [1, 1, 6, 0]


def test_a_draw_with_one_outcome_takes_no_decision_from_the_source() -> None:
    asked: list[int] = []

    def choose(n: int) -> int:
        asked.append(n)
        return n - 1

    draw = Draw(choose)
    assert draw.integer(4, 4) == 4
    assert draw.choice(["a", "b", "c"]) == "c"
    assert asked == [3]
    assert draw.values == [2], "only decisions are recorded, so that a replay reads them"
    again = Draw.replaying(draw.values)
    assert (again.integer(4, 4), again.choice(["a", "b", "c"])) == (4, "c")


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        (lambda d: d.choice([]), "needs at least one option"),
        (lambda d: d.integer(5, 4), "hi is below lo"),
    ],
)
def test_impossible_draws_say_what_is_wrong(call: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        call(Draw.replaying([]))


def make(draw: Draw) -> object:
    return None


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"to": "client::c1", "make": make}, "Inputs.to is a list of pids"),
        ({"to": [], "make": make}, "non-empty list of pids"),
        ({"to": [C1, C1], "make": make}, "names a pid twice"),
        ({"to": [C1], "make": 42}, "Inputs.make is a function of a Draw"),
        ({"to": [C1], "make": make, "max": -1}, "Inputs.max is a count"),
    ],
)
def test_malformed_inputs_are_refused_with_what_to_write(kwargs: Any, problem: str) -> None:
    with pytest.raises(InvalidDefinition, match=problem):
        Inputs(**kwargs)


def test_a_scenario_refuses_inputs_to_a_node_it_does_not_have() -> None:
    with pytest.raises(InvalidDefinition, match=r"inputs\[0\] go to \['client::c9'\]"):
        Scenario("s", ["c1"], lambda node, durable: [], inputs=Inputs([Pid("client", "c9")], make))
    with pytest.raises(InvalidDefinition, match=r"Scenario\.inputs is an Inputs or a list"):
        Scenario("s", ["c1"], lambda node, durable: [], inputs="make")


def test_a_scenario_takes_one_inputs_or_several() -> None:
    one = Inputs([C1], make, max=2)

    def start(node: str, durable: object) -> list[object]:
        return []

    assert Scenario("s", ["c1"], start, inputs=one).inputs == (one,)
    assert Scenario("s", ["c1"], start, inputs=[one, one]).inputs == (one, one)
    assert one.name == "make"
