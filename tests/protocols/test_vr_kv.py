"""VR's state machine and its history check: the kv store's typed operations, the model
the history is checked against, and the linearizability search."""

from __future__ import annotations

import pytest

from protocols.vr import KV_MODEL, apply_call
from protocols.vr.kv import WRONG_TYPE, execute, replay, step
from rabble_sim import HistoryEvent, Pid
from rabble_sim.checks import UNKNOWN, check_linearizability, history_from_events, linearizable

A, B = Pid("client", "c1", "g1"), Pid("client", "c2", "g1")
linearizable_kv = linearizable(KV_MODEL)


def test_each_operation_on_its_own_type() -> None:
    store: dict[str, object] = {}
    calls_and_results = [
        (("get", "x"), None),
        (("put", "x", "a"), "ok"),
        (("append", "x", "bc"), 3),
        (("get", "x"), "abc"),
        (("cas", "x", "zz", "d"), False),
        (("cas", "x", "abc", "d"), True),
        (("push", "q", "1"), 1),
        (("push", "q", "2"), 2),
        (("pop", "q"), "1"),
        (("get", "q"), ("2",)),
        (("add", "s", "b"), True),
        (("add", "s", "a"), True),
        (("add", "s", "b"), False),
        (("get", "s"), ("a", "b")),
        (("pop", "empty"), None),
        (("cas", "absent", "", "x"), False),
    ]
    for call, result in calls_and_results:
        assert execute(store, call) == result, call  # type: ignore[arg-type]


def test_an_operation_on_another_type_changes_nothing() -> None:
    store = {"x": ("blob", "a"), "q": ("queue", ("1",))}
    for call in [("push", "x", "1"), ("pop", "x"), ("add", "q", "m"), ("append", "q", "s")]:
        before = dict(store)
        assert execute(store, call) == WRONG_TYPE  # type: ignore[arg-type]
        assert store == before


def test_put_replaces_any_type_and_malformed_calls_are_refused() -> None:
    assert apply_call(("queue", ("1",)), ("put", "q", "v")) == (("blob", "v"), "ok")
    for bad in [(), ("get",), ("put", "x"), ("frob", "x")]:
        with pytest.raises(ValueError, match="not a kv call"):
            apply_call(None, bad)


def test_the_model_is_pure_on_hashable_states() -> None:
    state, result = step(KV_MODEL.init(), ("push", "q", "1"))
    again, _ = step(KV_MODEL.init(), ("push", "q", "1"))
    assert (state, result) == (again, 1)
    assert hash(state) == hash(again)
    assert KV_MODEL.step((), ["push", "q", "1"], 1) == (True, state)  # a call read as a list
    assert KV_MODEL.step((), ("push", "q", "1"), 2) == (False, state)
    assert KV_MODEL.step((), ("push", "q", "1"), UNKNOWN) == (True, state)
    assert KV_MODEL.read_only(("cas", "x", "a", "b"), False)
    assert not KV_MODEL.read_only(("cas", "x", "a", "b"), True)
    assert replay([("put", "x", "a"), ("get", "x")]) == ((("x", ("blob", "a")),), ["ok", "a"])


def _history(*events: tuple[str, Pid, int, object]) -> list[HistoryEvent]:
    return [HistoryEvent(kind, c, op, v, i, i) for i, (kind, c, op, v) in enumerate(events)]


def test_a_read_after_a_write_must_see_it() -> None:
    write = [("invoke", A, 1, ("put", "x", "a")), ("ok", A, 1, "ok")]
    linearizable_kv(_history(*write, ("invoke", B, 1, ("get", "x")), ("ok", B, 1, "a")))
    with pytest.raises(AssertionError, match="not linearizable \\(in key 'x'\\)"):
        linearizable_kv(_history(*write, ("invoke", B, 1, ("get", "x")), ("ok", B, 1, None)))


def test_concurrent_operations_may_take_effect_in_either_order() -> None:
    for seen in (None, "a"):
        linearizable_kv(
            _history(
                ("invoke", A, 1, ("put", "x", "a")),
                ("invoke", B, 1, ("get", "x")),
                ("ok", B, 1, seen),
                ("ok", A, 1, "ok"),
            )
        )


def test_an_unanswered_operation_may_or_may_not_have_taken_effect() -> None:
    pending = ("invoke", A, 1, ("push", "q", "1"))
    for length in (1, 2):
        linearizable_kv(
            _history(pending, ("invoke", B, 1, ("push", "q", "2")), ("ok", B, 1, length))
        )
    # Executing a push twice, as a client table that forgets retries does, is caught.
    with pytest.raises(AssertionError, match="in key 'q'"):
        linearizable_kv(_history(("invoke", A, 1, ("push", "q", "1")), ("ok", A, 1, 2)))


def test_keys_are_checked_apart_and_a_failure_names_its_key() -> None:
    history = _history(
        ("invoke", A, 1, ("put", "x", "a")),
        ("ok", A, 1, "ok"),
        ("invoke", B, 1, ("get", "y")),
        ("ok", B, 1, None),
        ("invoke", B, 2, ("get", "x")),
        ("ok", B, 2, None),  # stale: x was put before this read began
    )
    parts = KV_MODEL.partition(history_from_events(history))
    assert [[op.input for op in part.operations] for part in parts] == [
        [("put", "x", "a"), ("get", "x")],
        [("get", "y")],
    ]
    result = check_linearizability(KV_MODEL, history_from_events(history))
    assert result.explanation is not None and result.explanation.part.source.endswith("key 'x'")
