"""A small Wing-Gong linearizability check of client histories against ``kv.KV_MODEL``.

A stand-in until ``rabble_sim.checks.linearizable`` exists: VR's histories are short (a
few clients of a few operations each), so a depth-first search over the orders the
history allows, memoised on (operations linearized, model state), one key at a time, is
plenty. An operation never answered may take effect at any point after its invocation,
or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from rabble_sim import HistoryEvent

from .kv import KV_MODEL, Call, KvState


@attrs.frozen
class Operation:
    """One operation of a history: who asked what, what came back, and when (the index
    of its invocation and of its answer in the history; ``returned`` None if never)."""

    client: str
    op: int
    call: Call
    result: Any
    invoked: int
    returned: int | None


def operations(history: Sequence[HistoryEvent]) -> list[Operation]:
    """The history's operations, in the order they were invoked."""
    started: dict[tuple[str, int], tuple[int, Call]] = {}
    answers: dict[tuple[str, int], tuple[int, Any]] = {}
    for i, event in enumerate(history):
        key = (str(event.client), event.op)
        if event.kind == "invoke":
            started[key] = (i, tuple(event.value))
        elif key not in answers:
            answers[key] = (i, event.value)
    ops = []
    for key, (invoked, call) in started.items():
        returned, result = answers.get(key, (None, None))
        ops.append(Operation(key[0], key[1], call, result, invoked, returned))
    return ops


def linearizable_kv(history: Sequence[HistoryEvent]) -> None:
    """The history check: raises ``AssertionError`` naming the key whose operations no
    sequential order of the kv store explains."""
    by_key: dict[str, list[Operation]] = {}
    for operation in operations(history):
        by_key.setdefault(KV_MODEL.partition(operation.call), []).append(operation)
    for key in sorted(by_key):
        ops = by_key[key]
        if not _linearizable(ops):
            lines = "; ".join(_describe(o) for o in ops)
            raise AssertionError(f"the operations on {key!r} are not linearizable: {lines}")


def _describe(o: Operation) -> str:
    answer = "no answer" if o.returned is None else repr(o.result)
    return f"{o.client} #{o.op} {o.call!r} -> {answer}"


def _linearizable(ops: list[Operation]) -> bool:
    answered = sum(1 << i for i, o in enumerate(ops) if o.returned is not None)
    failed: set[tuple[int, KvState]] = set()

    def search(done: int, state: KvState) -> bool:
        if done & answered == answered:
            return True
        if (done, state) in failed:
            return False
        # The next operation must have been invoked before the first answer still due.
        horizon = min(
            o.returned for i, o in enumerate(ops) if o.returned is not None and not done >> i & 1
        )
        for i, o in enumerate(ops):
            if done >> i & 1 or o.invoked > horizon:
                continue
            after, result = KV_MODEL.step(state, o.call)
            if o.returned is not None and result != o.result:
                continue
            if search(done | 1 << i, after):
                return True
        failed.add((done, state))
        return False

    return search(0, KV_MODEL.init)
