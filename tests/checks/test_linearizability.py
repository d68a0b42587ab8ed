"""The checker on small histories made by hand, and against brute force on random ones."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import attrs
import pytest
from hypothesis import given, settings, strategies as st

from rabble_sim.checks import (
    UNKNOWN,
    History,
    KvModel,
    Model,
    RegisterModel,
    check_linearizability,
)
from rabble_sim.core import InvalidDefinition, UsageError

from .helpers import brute_force, op, prefix

REGISTER = RegisterModel()


def check(*ops: Any, model: Any = REGISTER) -> Any:
    return check_linearizability(model, History(ops, "test"))


def test_an_empty_history_is_linearizable() -> None:
    assert check().linearizable
    assert check(op(1, ("write", 1), None, 1, None)).linearizable


def test_a_stale_read_is_not_linearizable_and_the_explanation_names_it() -> None:
    w1 = op(1, ("write", 1), None, 1, 2)
    w2 = op(2, ("write", 2), None, 3, 4)
    stale = op(3, ("read",), 1, 5, 6)
    result = check(w1, w2, stale)
    assert not result.linearizable
    e = result.explanation
    assert e is not None
    assert e.stuck == stale
    assert e.involved == (w2, stale)  # the read, and the last write linearized before it
    assert (e.prefix, e.events) == (5, 6)
    assert e.linearization == (w1, w2)
    assert e.state == 2
    text = e.describe(REGISTER, unit="line")
    assert "completion at line 6: process 3: read -> 1  (lines 5-6)" in text
    assert "the first 5 of 6 events" in text
    assert "1. process 1: write 1  (lines 1-2)" in text
    assert "state after it: 2" in text


def test_a_search_out_of_time_knows_nothing() -> None:
    ops = (op(1, ("write", 1), None, 1, 2), op(2, ("read",), 1, 3, 4))
    late = check_linearizability(REGISTER, History(ops, "test"), timeout=1e-9)
    assert late.linearizable is None and late.explanation is None and not late
    assert check_linearizability(REGISTER, History(ops, "test"), timeout=60).linearizable


def test_a_read_of_a_value_never_written_names_the_read() -> None:
    result = check(op(1, ("write", 1), None, 1, 2), op(2, ("read",), 7, 3, 4))
    assert result.explanation is not None
    assert result.explanation.stuck.output == 7


def test_concurrent_writes_can_take_effect_in_either_order() -> None:
    w1 = op(1, ("write", 1), None, 1, 4)
    w2 = op(2, ("write", 2), None, 2, 5)
    for value in (1, 2):
        assert check(w1, w2, op(3, ("read",), value, 6, 7)).linearizable
    assert not check(w1, w2, op(3, ("read",), None, 6, 7)).linearizable
    # Both reads after both writes must agree.
    r1, r2 = op(3, ("read",), 1, 6, 7), op(4, ("read",), 2, 8, 9)
    assert not check(w1, w2, r1, r2).linearizable


def test_a_read_concurrent_with_a_write_may_see_either_value() -> None:
    w = op(1, ("write", 1), None, 1, 10)
    assert check(w, op(2, ("read",), None, 2, 3)).linearizable
    assert check(w, op(2, ("read",), 1, 2, 3)).linearizable
    # ... but not the new value and then the old one.
    assert not check(w, op(2, ("read",), 1, 2, 3), op(3, ("read",), None, 4, 5)).linearizable


def test_a_pending_write_may_or_may_not_take_effect_but_not_both() -> None:
    w1 = op(1, ("write", 1), None, 1, 2)
    pending = op(2, ("write", 2), None, 3, None)
    assert check(w1, pending, op(3, ("read",), 1, 4, 5)).linearizable  # not (yet)
    assert check(w1, pending, op(3, ("read",), 2, 4, 5)).linearizable  # it did
    both = check(w1, pending, op(3, ("read",), 2, 4, 5), op(4, ("read",), 1, 6, 7))
    assert not both.linearizable
    # It cannot take effect before it was invoked.
    early = check(w1, op(3, ("read",), 2, 3, 4), op(2, ("write", 2), None, 5, None))
    assert not early.linearizable


def test_a_completed_write_must_take_effect() -> None:
    w1 = op(1, ("write", 1), None, 1, 2)
    w2 = op(2, ("write", 2), None, 3, 4)
    assert not check(w1, w2, op(3, ("read",), 1, 5, 6)).linearizable


def test_compare_and_swap() -> None:
    w = op(1, ("write", 1), None, 1, 2)
    swapped = op(2, ("cas", 1, 2), True, 3, 4)
    assert check(w, swapped, op(3, ("read",), 2, 5, 6)).linearizable
    assert not check(w, swapped, op(3, ("read",), 1, 5, 6)).linearizable
    # A failed cas says the value was not FROM: it was 1, so cas 1 -> 3 cannot fail.
    refused = op(2, ("cas", 1, 3), False, 3, 4)
    assert not check(w, refused).linearizable
    assert check(w, op(2, ("cas", 5, 3), False, 3, 4)).linearizable
    # ... unless a concurrent write changed it first.
    w2 = op(3, ("write", 7), None, 2, 5)
    assert check(w, refused, w2).linearizable
    # cas from an empty register.
    assert check(op(1, ("cas", None, 4), True, 1, 2), op(2, ("read",), 4, 3, 4)).linearizable
    # A cas that never completed may have swapped, or not.
    maybe = op(2, ("cas", 1, 2), None, 3, None)
    assert check(w, maybe, op(3, ("read",), 2, 4, 5)).linearizable
    assert check(w, maybe, op(3, ("read",), 1, 4, 5)).linearizable


def test_a_read_that_timed_out_constrains_nothing() -> None:
    w = op(1, ("write", 1), None, 1, 2)
    assert check(w, op(2, ("read",), UNKNOWN, 3, 4)).linearizable


def test_operations_at_equal_times_overlap() -> None:
    # The read is invoked at the instant the write returns: they are concurrent.
    w = op(1, ("write", 1), None, 1, 3)
    assert check(w, op(2, ("read",), None, 3, 4)).linearizable
    assert not check(w, op(2, ("read",), None, 4, 5)).linearizable


def test_kv_keys_are_checked_apart_and_the_failing_key_is_named() -> None:
    kv = KvModel()
    ops = [
        op(1, ("put", "a", "x"), None, 1, 2),
        op(2, ("append", "b", "1"), None, 1, 3),
        op(1, ("append", "a", "y"), None, 3, 4),
        op(2, ("get", "b"), "1", 4, 5),
        op(1, ("get", "a"), "x", 5, 6),  # stale: "xy"
    ]
    result = check_linearizability(kv, History(ops, "h"))
    assert result.explanation is not None
    assert result.explanation.part.source == "h, key 'a'"
    assert result.explanation.stuck == ops[4]
    assert result.explanation.state == (("a", "xy"),)
    assert check_linearizability(kv, History(ops[:4], "h")).linearizable


@attrs.frozen
class Counter(Model[int]):
    """A user's model: ``("add", n)`` answers the new total, ``("get",)`` the total."""

    def init(self) -> int:
        return 0

    def step(self, state: int, input: Any, output: Any) -> tuple[bool, int]:
        new = state + input[1] if input[0] == "add" else state
        return (output is UNKNOWN or output == new), new

    def read_only(self, input: Any, output: Any) -> bool:
        return bool(input[0] == "get")


def test_a_users_own_model() -> None:
    add1, add2 = op(1, ("add", 1), 1, 1, 4), op(2, ("add", 2), 3, 2, 5)
    assert check(add1, add2, op(3, ("get",), 3, 6, 7), model=Counter()).linearizable
    result = check(add1, add2, op(3, ("get",), 2, 6, 7), model=Counter())
    assert result.explanation is not None
    assert "('get',) -> 2" in result.explanation.describe(Counter())


def test_a_model_need_only_have_init_and_step() -> None:
    class Bare:
        def init(self) -> int:
            return 0

        def step(self, state: int, input: Any, output: Any) -> tuple[bool, int]:
            return output == state + 1, state + 1

    result = check(op(1, "inc", 1, 1, 2), op(1, "inc", 3, 3, 4), model=Bare())
    assert result.explanation is not None
    assert "'inc' -> 3" in result.explanation.describe(Bare())


def test_bad_operations_and_states_are_errors_that_say_so() -> None:
    with pytest.raises(UsageError, match="register model: unknown operation \\('incr',\\)"):
        check(op(1, ("incr",), None, 1, 2))
    with pytest.raises(UsageError, match="cas answers True or False"):
        check(op(1, ("cas", 1, 2), "yes", 1, 2))
    with pytest.raises(UsageError, match="kv model: put takes a string"):
        check(op(1, ("put", "k", 1), None, 1, 2), model=KvModel())

    class Lists:
        def init(self) -> list[int]:
            return []

        def step(self, state: list[int], input: Any, output: Any) -> tuple[bool, list[int]]:
            return True, [*state, input]

    with pytest.raises(InvalidDefinition, match="a state must be hashable"):
        check(op(1, 1, None, 1, 2), model=Lists())


def test_an_operation_cannot_return_before_it_is_invoked() -> None:
    with pytest.raises(UsageError, match="returns at 1, before it is invoked at 2"):
        op(1, ("read",), None, 2, 1)


# Random small histories against brute force.

VALUES = st.sampled_from([None, 1, 2])


@st.composite
def register_ops(draw: st.DrawFn) -> tuple[Any, Any]:
    kind = draw(st.sampled_from(["read", "write", "cas"]))
    if kind == "read":
        return ("read",), draw(st.one_of(VALUES, st.just(UNKNOWN)))
    if kind == "write":
        return ("write", draw(VALUES)), None
    return ("cas", draw(VALUES), draw(VALUES)), draw(st.booleans())


@st.composite
def kv_ops(draw: st.DrawFn) -> tuple[Any, Any]:
    key = draw(st.sampled_from("ab"))
    kind = draw(st.sampled_from(["get", "put", "append"]))
    value = draw(st.sampled_from(["", "x", "y", "xy", "yx"]))
    return ((kind, key), value) if kind == "get" else ((kind, key, value[:1] or "x"), None)


def histories(calls: st.SearchStrategy[tuple[Any, Any]]) -> st.SearchStrategy[History]:
    @st.composite
    def build(draw: st.DrawFn) -> History:
        ops = []
        for process in range(draw(st.integers(0, 7))):
            (input, output), start = draw(calls), draw(st.integers(0, 12))
            length = draw(st.one_of(st.none(), st.integers(0, 6)))
            end = None if length is None else start + length
            ops.append(op(process, input, output, start, end))
        return History(ops, "random")

    return build()


def _agrees_with_brute_force(model: Any, history: History) -> None:
    result = check_linearizability(model, history)
    assert result.linearizable == brute_force(model, history)
    e = result.explanation
    if e is not None:  # the prefix is the longest that can be linearized
        assert brute_force(model, prefix(e.part, e.prefix))
        assert not brute_force(model, prefix(e.part, e.prefix + 1))
        assert e.stuck.returned == e.part.events()[e.prefix][0]


@settings(max_examples=400, deadline=None)
@given(histories(register_ops()))
def test_the_register_checker_agrees_with_brute_force(history: History) -> None:
    _agrees_with_brute_force(REGISTER, history)


@settings(max_examples=300, deadline=None)
@given(histories(kv_ops()))
def test_the_kv_checker_agrees_with_brute_force_on_the_whole_map(history: History) -> None:
    result = check_linearizability(KvModel(), history)
    assert result.linearizable == brute_force(KvModel(), history)
    if result.explanation is not None:
        _agrees_with_brute_force(KvModel(), result.explanation.part)


@settings(max_examples=200, deadline=None)
@given(histories(register_ops()))
def test_without_read_only_hints_the_answer_is_the_same(history: History) -> None:
    @attrs.frozen
    class Plain:
        def init(self) -> Hashable:
            return None

        def step(self, state: Hashable, input: Any, output: Any) -> tuple[bool, Hashable]:
            return REGISTER.step(state, input, output)

    assert (
        check_linearizability(Plain(), history).linearizable
        == check_linearizability(REGISTER, history).linearizable
    )
