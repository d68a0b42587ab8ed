"""Sequential models: what a correct, one-at-a-time object would answer.

A model says, for a state and one operation (its input and the output a client saw),
whether that output is possible and what the state becomes. The checker calls ``step``
once for each operation and state it meets (it remembers the answers), so a model needs
no speed, only hashable states and no side effects.

Two models come with rabble-sim: ``RegisterModel`` (read, write, compare-and-swap on one
value, with the semantics of Jepsen's etcd test) and ``KvModel`` (get, put, append on many
keys, checked one key at a time).
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Sequence
from typing import Any, Protocol, TypeVar

import attrs

from ..core import UsageError
from ._history import UNKNOWN, History, Operation

State = TypeVar("State", bound=Hashable)


class Model(Protocol[State]):
    """A sequential specification, for the linearizability checker.

    ``init`` and ``step`` are required. Subclass ``Model`` to inherit the defaults of the
    others (or write them yourself: the checker looks them up by name):

    - ``partition(history)`` splits a history into independent sub-histories (one per key,
      say), which are checked apart: P-compositionality. A history is linearizable
      exactly when each part is. The default keeps it whole.
    - ``read_only(input, output)`` says that the operation leaves the state as it is
      wherever it is possible (a read, a failed compare-and-swap). The checker then
      linearizes it as early as it can and never tries it anywhere else, which prunes
      most of the search; one never completed it leaves out. The default says no.
    - ``describe_operation(input, output)`` and ``describe_state(state)`` word an
      operation and a state for explanations. The defaults use ``repr``.

    ``step`` must be a pure function: same state, input and output, same answer. Its
    ``output`` is ``UNKNOWN`` for an operation whose answer nobody saw (then any output
    the model could give is fine, and ``step`` returns ``(True, new_state)``).
    """

    def init(self) -> State:
        """The state before any operation."""
        ...

    def step(self, state: State, input: Any, output: Any) -> tuple[bool, State]:
        """Whether ``input`` could answer ``output`` in ``state``, and the state after it."""
        ...

    def partition(self, history: History) -> Sequence[History]:
        """Independent parts of ``history``; by default the whole of it."""
        return [history]

    def read_only(self, input: Any, output: Any) -> bool:
        """True when the operation never changes the state; by default False."""
        return False

    def describe_operation(self, input: Any, output: Any) -> str:
        """An operation in words, for explanations."""
        return f"{input!r} -> {output!r}"

    def describe_state(self, state: State) -> str:
        """A state in words, for explanations."""
        return repr(state)


def _bad(model: str, input: Any, expected: str) -> UsageError:
    return UsageError(f"{model} model: unknown operation {input!r} (expected {expected})")


_REGISTER_OPS = "('read',), ('write', value) or ('cas', from, to)"


@attrs.frozen
class RegisterModel(Model[Hashable]):
    """One register, holding ``initial`` (``None``: empty) at first.

    Inputs and outputs:

    - ``("read",)`` answers the value read (``None`` when empty), or ``UNKNOWN`` when
      the read timed out: such a read constrains nothing.
    - ``("write", value)`` sets the value; its output does not matter.
    - ``("cas", from_, to)`` answers ``True`` when the register held ``from_`` (and now
      holds ``to``), ``False`` when it did not (and is unchanged). A failed
      compare-and-swap is a completed operation: it says the value was not ``from_``.
    """

    initial: Hashable = None

    def init(self) -> Hashable:
        return self.initial

    def step(self, state: Hashable, input: Any, output: Any) -> tuple[bool, Hashable]:
        call = _call(input)
        f, n = call[0] if call else None, len(call)
        if f == "read" and n == 1:
            return (output is UNKNOWN or output == state), state
        if f == "write" and n == 2:
            return True, call[1]
        if f == "cas" and n == 3:
            matches = state == call[1]
            if output is UNKNOWN:
                return True, (call[2] if matches else state)
            if output is True:
                return matches, call[2]
            if output is False:
                return not matches, state
            raise UsageError(f"register model: cas answers True or False, not {output!r}")
        raise _bad("register", input, _REGISTER_OPS)

    def read_only(self, input: Any, output: Any) -> bool:
        call = _call(input)
        return call == ("read",) or (
            len(call) == 3 and call[0] == "cas" and (output is False or call[1] == call[2])
        )

    def describe_operation(self, input: Any, output: Any) -> str:
        call = _call(input)
        if call == ("read",):
            return "read -> ?" if output is UNKNOWN else f"read -> {_show(output)}"
        if len(call) == 2 and call[0] == "write":
            return f"write {_show(call[1])}"
        if len(call) == 3 and call[0] == "cas":
            outcome = {True: "ok", False: "failed"}.get(output, "?")
            return f"cas {_show(call[1])} -> {_show(call[2])}: {outcome}"
        return super().describe_operation(input, output)

    def describe_state(self, state: Hashable) -> str:
        return _show(state)


def _call(input: Any) -> tuple[Any, ...]:
    """An operation's input as a tuple: lists too (JSON gives tuples back as lists);
    anything else is no operation of these models."""
    if type(input) is tuple:
        return input
    return tuple(input) if isinstance(input, (tuple, list)) else ()


def _show(value: Any) -> str:
    return "nil" if value is None else repr(value) if isinstance(value, str) else str(value)


_KV_OPS = "('get', key), ('put', key, value) or ('append', key, value)"
KvState = tuple[tuple[Hashable, str], ...]
"""The keys that were written, with their values, sorted by key."""


@attrs.frozen
class KvModel(Model[KvState]):
    """Many keys, each holding a string, ``""`` at first.

    Inputs and outputs: ``("get", key)`` answers the value (or ``UNKNOWN``);
    ``("put", key, value)`` sets it; ``("append", key, value)`` adds ``value`` to its end
    (their outputs do not matter). Keys are independent, so ``partition`` checks each
    key's operations apart, which is much faster than the whole map at once.
    """

    def init(self) -> KvState:
        return ()

    def step(self, state: KvState, input: Any, output: Any) -> tuple[bool, KvState]:
        call = _call(input)
        f, n = call[0] if call else None, len(call)
        if f == "get" and n == 2:
            key = call[1]
            for k, v in state:
                if k == key:
                    return (output is UNKNOWN or output == v), state
            return (output is UNKNOWN or output == ""), state
        if f in ("put", "append") and n == 3:
            key, value = call[1], call[2]
            if not isinstance(value, str):
                raise UsageError(f"kv model: {f} takes a string, not {value!r}")
            if not state or (len(state) == 1 and state[0][0] == key):  # one key: fast
                return True, ((key, state[0][1] + value if state and f == "append" else value),)
            if f == "append":
                value = _get(state, key) + value
            return True, _set(state, key, value)
        raise _bad("kv", input, _KV_OPS)

    def read_only(self, input: Any, output: Any) -> bool:
        call = _call(input)
        return len(call) == 2 and call[0] == "get"

    def partition(self, history: History) -> list[History]:
        def key_of(op: Operation) -> Any:
            call = _call(op.input)
            if len(call) < 2:
                raise _bad("kv", op.input, _KV_OPS)
            try:
                hash(call[1])
            except TypeError:
                raise UsageError(f"kv model: a key must be hashable, not {call[1]!r}") from None
            return call[1]

        return history.by_key(key_of)

    def describe_operation(self, input: Any, output: Any) -> str:
        call = _call(input)
        if len(call) == 2 and call[0] == "get":
            shown = "?" if output is UNKNOWN else repr(output)
            return f"get {call[1]!r} -> {shown}"
        if len(call) == 3 and call[0] in ("put", "append"):
            return f"{call[0]} {call[1]!r} {call[2]!r}"
        return super().describe_operation(input, output)

    def describe_state(self, state: KvState) -> str:
        return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in state) + "}"


def _get(state: KvState, key: Hashable) -> str:
    for k, v in state:
        if k == key:
            return v
    return ""


def _set(state: KvState, key: Hashable, value: str) -> KvState:
    items = [kv for kv in state if kv[0] != key]
    keys = [_sort_key(k) for k, _ in items]
    items.insert(bisect.bisect(keys, _sort_key(key)), (key, value))
    return tuple(items)


def _sort_key(key: Hashable) -> tuple[str, str]:
    return (type(key).__name__, repr(key))
