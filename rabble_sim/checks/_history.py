"""Operations and histories: what a linearizability checker reads.

A history is a set of operations, each with the process that ran it, its input (the call),
its output (the answer), the time it was invoked and the time it returned. Times are
only compared, never added: any increasing numbers do (a file's line numbers, the index of
an event in a recorded history). An operation that never returned (a client that timed
out, crashed or is still waiting) has ``returned=None``: it may have taken effect at any
moment after its invocation, or never.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, Final

import attrs

from ..core import HistoryEvent, UsageError


@attrs.frozen(repr=False)
class _Unknown:
    """The type of ``UNKNOWN``."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()
"""The output of an operation whose answer nobody saw: a pending operation, or a read
that timed out. A model's ``step`` must accept it as whatever the model would answer."""


@attrs.frozen
class Operation:
    """One call by one process: ``input`` at time ``invoked``, ``output`` at ``returned``.

    ``returned`` is ``None`` for an operation that never completed (its ``output`` is then
    ``UNKNOWN``). ``invoked < returned`` when both are known; equal times count as
    concurrent (the invocation comes first).
    """

    process: Any
    input: Any
    output: Any
    invoked: int
    returned: int | None

    @property
    def pending(self) -> bool:
        """True when the operation never completed."""
        return self.returned is None

    def __attrs_post_init__(self) -> None:
        if self.returned is not None and self.returned < self.invoked:
            raise UsageError(
                f"operation of process {self.process!r} returns at {self.returned}, "
                f"before it is invoked at {self.invoked}"
            )


def _operations(value: Iterable[Operation]) -> tuple[Operation, ...]:
    return tuple(value)


@attrs.frozen
class History:
    """The operations of a history, in the order they were invoked.

    ``source`` says where it came from (a file name), for messages.
    """

    operations: tuple[Operation, ...] = attrs.field(converter=_operations)
    source: str = "<history>"

    def __len__(self) -> int:
        return len(self.operations)

    def events(self) -> list[tuple[int, bool, int]]:
        """Every invocation and completion as ``(time, is_return, index)``, in time order.

        At equal times invocations come first (such operations overlap), then by index.
        """
        events = [(op.invoked, False, i) for i, op in enumerate(self.operations)]
        events += [
            (op.returned, True, i)
            for i, op in enumerate(self.operations)
            if op.returned is not None
        ]
        events.sort()
        return events

    def subhistory(self, indexes: Sequence[int], source: str) -> History:
        """The history of the operations at ``indexes``, named ``source``."""
        ops = self.operations
        return History(tuple(ops[i] for i in indexes), source)

    def by_key(self, key: Callable[[Operation], Hashable]) -> list[History]:
        """One sub-history per value of ``key`` (the key an operation touches), in the
        order the keys first appear, each named after this history and its key: what a
        model's ``partition`` returns when keys never interact."""
        indexes: dict[Hashable, list[int]] = {}
        for i, op in enumerate(self.operations):
            indexes.setdefault(key(op), []).append(i)
        prefix = f"{self.source}, " if self.source else ""
        return [self.subhistory(found, f"{prefix}key {k!r}") for k, found in indexes.items()]


def history_from_events(events: Sequence[HistoryEvent], source: str = "history") -> History:
    """The history recorded by a simulated run (``View.history``).

    Each event's time is its index in ``events``, so the order of recording is the
    real-time order. ``invoke`` starts an operation, ``ok`` completes it with its answer,
    ``fail`` says it did not happen (it is left out), ``info`` says its outcome is
    unknown (it stays pending, like an operation never answered).
    """
    started: dict[tuple[Any, int], tuple[Any, int]] = {}
    done: dict[tuple[Any, int], Operation | None] = {}  # None: failed, never happened
    order: list[tuple[Any, int]] = []
    for t, event in enumerate(events):
        key = (event.client, event.op)
        if event.kind == "invoke":
            if key in started or key in done:
                raise UsageError(
                    f"{source}: event {t}: {event.client} invokes operation {event.op} twice"
                )
            started[key] = (event.value, t)
            order.append(key)
        elif event.kind not in ("ok", "fail", "info"):
            raise UsageError(
                f"{source}: event {t}: unknown kind {event.kind!r} "
                "(expected invoke, ok, fail or info)"
            )
        elif key not in started:
            raise UsageError(
                f"{source}: event {t}: {event.client} completes operation {event.op}, "
                "which it never invoked"
            )
        elif event.kind == "ok":
            call, invoked = started.pop(key)
            done[key] = Operation(event.client, call, event.value, invoked, t)
        elif event.kind == "fail":
            del started[key]
            done[key] = None
        # info: the outcome is unknown, the operation stays pending
    ops = []
    for key in order:
        if key in started:
            call, invoked = started[key]
            ops.append(Operation(key[0], call, UNKNOWN, invoked, None))
        elif (op := done[key]) is not None:
            ops.append(op)
    return History(ops, source)
