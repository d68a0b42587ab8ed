"""The register and key-value models, step by step."""

from __future__ import annotations

from rabble_sim.checks import UNKNOWN, History, KvModel, Model, RegisterModel

from .helpers import op

R = RegisterModel()
KV = KvModel()


def test_the_register_starts_empty_or_at_its_initial_value() -> None:
    assert R.init() is None
    assert RegisterModel(initial=5).init() == 5


def test_register_read() -> None:
    assert R.step(3, ("read",), 3) == (True, 3)
    assert R.step(3, ("read",), 4) == (False, 3)
    assert R.step(None, ("read",), None) == (True, None)
    assert R.step(None, ("read",), 0) == (False, None)
    assert R.step(3, ("read",), UNKNOWN) == (True, 3)  # timed out: constrains nothing


def test_register_write_ignores_its_output() -> None:
    assert R.step(None, ("write", 4), None) == (True, 4)
    assert R.step(2, ("write", 4), UNKNOWN) == (True, 4)


def test_register_cas() -> None:
    assert R.step(1, ("cas", 1, 2), True) == (True, 2)
    assert R.step(3, ("cas", 1, 2), True)[0] is False
    assert R.step(3, ("cas", 1, 2), False) == (True, 3)  # the value was not 1
    assert R.step(1, ("cas", 1, 2), False)[0] is False
    assert R.step(1, ("cas", 1, 2), UNKNOWN) == (True, 2)
    assert R.step(3, ("cas", 1, 2), UNKNOWN) == (True, 3)


def test_register_read_only_operations() -> None:
    assert R.read_only(("read",), 3)
    assert R.read_only(("cas", 1, 2), False)
    assert R.read_only(("cas", 1, 1), True)
    assert not R.read_only(("cas", 1, 2), True)
    assert not R.read_only(("cas", 1, 2), UNKNOWN)
    assert not R.read_only(("write", 1), None)


def test_register_descriptions() -> None:
    assert R.describe_operation(("read",), None) == "read -> nil"
    assert R.describe_operation(("read",), UNKNOWN) == "read -> ?"
    assert R.describe_operation(("write", 3), None) == "write 3"
    assert R.describe_operation(("cas", 1, 2), True) == "cas 1 -> 2: ok"
    assert R.describe_operation(("cas", 1, 2), False) == "cas 1 -> 2: failed"
    assert R.describe_operation(("cas", 1, 2), UNKNOWN) == "cas 1 -> 2: ?"
    assert R.describe_state(None) == "nil"
    assert R.describe_state("a") == "'a'"


def test_kv_get_put_append() -> None:
    state = KV.init()
    assert KV.step(state, ("get", "k"), "") == (True, ())
    ok, state = KV.step(state, ("put", "k", "x"), None)
    assert ok and state == (("k", "x"),)
    ok, state = KV.step(state, ("append", "k", "y"), None)
    assert ok and state == (("k", "xy"),)
    ok, state = KV.step(state, ("append", "j", "z"), None)
    assert ok and state == (("j", "z"), ("k", "xy"))  # sorted by key
    ok, state = KV.step(state, ("put", "k", "w"), None)
    assert state == (("j", "z"), ("k", "w"))
    assert KV.step(state, ("get", "k"), "w") == (True, state)
    assert KV.step(state, ("get", "k"), "xy") == (False, state)
    assert KV.step(state, ("get", "other"), "") == (True, state)
    assert KV.step(state, ("get", "k"), UNKNOWN) == (True, state)
    assert KV.read_only(("get", "k"), "w")
    assert not KV.read_only(("append", "k", "w"), None)


def test_kv_states_are_hashable_and_equal_by_content() -> None:
    _, a = KV.step(KV.step((), ("put", "x", "1"), None)[1], ("put", "y", "2"), None)
    _, b = KV.step(KV.step((), ("put", "y", "2"), None)[1], ("put", "x", "1"), None)
    assert a == b and hash(a) == hash(b)


def test_kv_partitions_by_key_in_order_of_first_use() -> None:
    ops = [
        op(1, ("put", "b", "x"), None, 1, 2),
        op(2, ("get", "a"), "", 1, 3),
        op(1, ("get", "b"), "x", 3, 4),
    ]
    parts = KV.partition(History(ops, "f"))
    assert [p.source for p in parts] == ["f, key 'b'", "f, key 'a'"]
    assert [p.operations for p in parts] == [(ops[0], ops[2]), (ops[1],)]


def test_kv_descriptions() -> None:
    assert KV.describe_operation(("get", "k"), "v") == "get 'k' -> 'v'"
    assert KV.describe_operation(("get", "k"), UNKNOWN) == "get 'k' -> ?"
    assert KV.describe_operation(("append", "k", "v"), None) == "append 'k' 'v'"
    assert KV.describe_state((("k", "v"),)) == "{'k': 'v'}"


def test_model_defaults() -> None:
    class Mine(Model[int]):
        def init(self) -> int:
            return 0

        def step(self, state: int, input: object, output: object) -> tuple[bool, int]:
            return True, state

    mine = Mine()
    history = History([op(1, "x", 1, 1, 2)])
    assert mine.partition(history) == [history]
    assert not mine.read_only("x", 1)
    assert mine.describe_operation("x", 1) == "'x' -> 1"
    assert mine.describe_state(0) == "0"


def test_inputs_may_be_lists_as_json_gives_them_back() -> None:
    assert R.step(1, ["cas", 1, 2], True) == (True, 2)
    assert R.read_only(["read"], 1)
    assert R.describe_operation(["write", 3], None) == "write 3"
    assert KV.step((), ["append", "k", "x"], None) == (True, (("k", "x"),))
    history = History([op(1, ["put", "k", "x"], None, 1, 2), op(2, ["get", "k"], "x", 3, 4)])
    assert [p.source for p in KV.partition(history)] == ["<history>, key 'k'"]
