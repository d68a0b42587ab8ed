"""The replicated state machine: a key-value store with typed values and compare-and-swap.

Each key holds one typed value: a ``blob`` (a string), a ``queue`` (a tuple of strings,
oldest first) or a ``set`` (a sorted tuple of distinct strings). Values are immutable, so
a whole store is plain data, and the same per-key function ``apply_call`` serves both the
replicas (``execute`` on a dict) and the sequential model the history checker replays
(``step`` on a hashable, sorted tuple of items).

A call is a tuple of strings, its operation first and its key second:

=============================  ===================================================
call                           result
=============================  ===================================================
``("get", k)``                 the value: a string, a tuple, or None if absent
``("put", k, v)``              ``"ok"``; ``k`` becomes the blob ``v``
``("append", k, s)``           the blob's new length (an absent key starts empty)
``("push", k, item)``          the queue's new length (an absent key starts empty)
``("pop", k)``                 the queue's oldest item, or None if it is empty
``("add", k, member)``         True if ``member`` was not in the set already
``("cas", k, expected, new)``  True, and ``k`` becomes ``new``, if the blob is
                               ``expected``; False otherwise (also if absent)
=============================  ===================================================

An operation on a key of another type answers ``WRONG_TYPE`` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from rabble_sim.checks import UNKNOWN, History, Model

Call = tuple[str, ...]
"""An operation: its name, its key, then its arguments, all strings."""
Result = str | int | bool | None | tuple[str, ...]
"""What an operation answers: plain data, so that it travels in a message."""
Value = tuple[str, str | tuple[str, ...]]
"""A typed value: ``("blob", text)``, ``("queue", items)`` or ``("set", members)``."""
KvState = tuple[tuple[str, Value], ...]
"""A whole store as the model sees it: its items, sorted by key (hashable)."""

WRONG_TYPE = "error: wrong type"
READS = frozenset({"get"})
"""Operations that change nothing."""
_ARITY = {"get": 2, "put": 3, "append": 3, "push": 3, "pop": 2, "add": 3, "cas": 4}


def apply_call(value: Value | None, call: Call) -> tuple[Value | None, Result]:
    """The value of ``call``'s key after it, and its result: a pure function.

    ``value`` is the key's value before (None if absent). Raises ``ValueError`` for a
    call that is not one of the operations above, with the wrong number of arguments.
    """
    op = call[0] if call else ""
    if _ARITY.get(op) != len(call):
        raise ValueError(f"not a kv call: {call!r} (operations: {', '.join(sorted(_ARITY))})")
    kind = value[0] if value is not None else None
    if op == "get":
        return value, None if value is None else value[1]
    if op == "put":
        return ("blob", call[2]), "ok"
    if op in ("append", "cas"):
        if kind not in (None, "blob"):
            return value, WRONG_TYPE
        text = value[1] if value is not None else None
        if op == "append":
            grown = (text if isinstance(text, str) else "") + call[2]
            return ("blob", grown), len(grown)
        if text != call[2]:
            return value, False
        return ("blob", call[3]), True
    items = value[1] if value is not None else ()
    if kind not in (None, "queue" if op in ("push", "pop") else "set") or isinstance(items, str):
        return value, WRONG_TYPE
    if op == "push":
        return ("queue", (*items, call[2])), len(items) + 1
    if op == "pop":
        if not items:
            return value, None
        return ("queue", items[1:]), items[0]
    if call[2] in items:  # add
        return value, False
    return ("set", tuple(sorted((*items, call[2])))), True


def validate(call: Call) -> None:
    """Raise ``ValueError`` unless ``call`` is one of the operations above, all strings."""
    if not isinstance(call, tuple) or not all(isinstance(part, str) for part in call):
        raise ValueError(f"not a kv call: {call!r} (a tuple of strings)")
    apply_call(None, call)


def execute(store: dict[str, Value], call: Call) -> Result:
    """Apply ``call`` to a replica's ``store`` in place; return its result."""
    key = call[1]
    value, result = apply_call(store.get(key), call)
    if value is None:
        store.pop(key, None)
    else:
        store[key] = value
    return result


def step(state: KvState, call: Call) -> tuple[KvState, Result]:
    """The model: the store after ``call`` and its result, on hashable states."""
    store = dict(state)
    result = execute(store, call)
    return freeze(store), result


def freeze(store: dict[str, Value]) -> KvState:
    """A store as the model's hashable state."""
    return tuple(sorted(store.items()))


def replay(calls: Iterable[Call]) -> tuple[KvState, list[Result]]:
    """The state after ``calls`` from an empty store, and each call's result."""
    store: dict[str, Value] = {}
    results = [execute(store, call) for call in calls]
    return freeze(store), results


@attrs.frozen
class TypedKvModel(Model[KvState]):
    """The store's sequential specification, for ``rabble_sim.checks.linearizable``.

    An operation's input is its call and its output the result a client saw; the model
    replays the call with ``step`` and accepts the output if it is the one the store
    gives (any output, for an operation never answered). Keys never interact, so
    ``partition`` checks each key's operations apart (P-compositionality), and
    operations that change nothing (a get, a compare-and-swap that failed, a pop of an
    empty queue, an add of a member already there) are ``read_only``.
    """

    name: str = "vr-kv"

    def init(self) -> KvState:
        return ()

    def step(self, state: KvState, input: Any, output: Any) -> tuple[bool, KvState]:
        after, result = step(state, _call(input))
        return (output is UNKNOWN or output == result), after

    def partition(self, history: History) -> list[History]:
        return history.by_key(lambda operation: _call(operation.input)[1])

    def read_only(self, input: Any, output: Any) -> bool:
        op = input[0]
        return (
            op in READS
            or output == WRONG_TYPE
            or ((op, output) in (("cas", False), ("pop", None), ("add", False)))
        )

    def describe_operation(self, input: Any, output: Any) -> str:
        answer = "?" if output is UNKNOWN else repr(output)
        return f"{' '.join(map(repr, input))} -> {answer}"

    def describe_state(self, state: KvState) -> str:
        return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in state) + "}"


def _call(input: Any) -> Call:
    """An operation's input as a call, or a ``ValueError`` saying why it is not one."""
    if not isinstance(input, tuple | list) or len(input) < 2:
        raise ValueError(f"not a kv call: {input!r} (a list: operation, key, arguments)")
    return tuple(input)


KV_MODEL = TypedKvModel()
