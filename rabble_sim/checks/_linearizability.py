"""Linearizability: whether some order of a history's operations explains every answer.

A history is linearizable under a model when its operations can be put in one order such
that each takes effect at some instant between its invocation and its completion, and the
model, running them in that order, gives every answer the clients saw. An operation never
completed may take effect at any instant after its invocation, or never.

``check_linearizability(model, history)`` answers with a ``LinearizabilityResult``; for a
history that is not linearizable it carries an ``Explanation``: the operation whose
completion no order explains, the operations around it, and the longest prefix of the
history that can be linearized, with an order that does it. ``linearizable(model)`` is
the same check as a scenario's history check (``Scenario(history=...)``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from ..core import HistoryEvent, RabbleInternalError
from ._history import UNKNOWN, History, Operation, history_from_events
from ._wgl import Outcome, search, searching


@attrs.frozen
class Explanation:
    """Why a history is not linearizable: the furthest any order of it gets.

    ``part`` is the history checked, or its part that failed (one key's operations, for
    a model that partitions). Its first ``prefix`` of ``events`` events (invocations and
    completions, in time order) can be linearized, by the operations of ``linearization``
    in that order, which leave the model in ``state``. The next event is the completion
    of ``stuck``, which no order explains. ``involved`` are the operations to look at:
    ``stuck``, those concurrent with it, and the last one linearized before it.
    """

    part: History
    stuck: Operation
    involved: tuple[Operation, ...]
    prefix: int
    events: int
    linearization: tuple[Operation, ...]
    state: Any

    def describe(self, model: Any, unit: str = "time", shown: int = 8) -> str:
        """The explanation in words, with times called ``unit`` ("line", "event").

        At most ``shown`` operations of the linearization (its last ones) are listed.
        It does not say which part failed: ``part.source`` does.
        """
        op_text, state_text = _describer(model), getattr(model, "describe_state", repr)
        answered = self._answered()

        def show(op: Operation, *, in_prefix: bool = False) -> str:
            if op.returned is None:
                return f"{op_text(op)}  ({unit} {op.invoked}, never completed)"
            if in_prefix and op not in answered:
                unanswered = attrs.evolve(op, output=UNKNOWN)
                when = f"{unit} {op.invoked}, answered only at {unit} {op.returned}"
                return f"{op_text(unanswered)}  ({when})"
            return f"{op_text(op)}  ({unit}s {op.invoked}-{op.returned})"

        def who(op: Operation) -> str:
            return f"process {op.process}: "

        stuck, order = self.stuck, self.linearization
        lines = [
            f"no order of the operations explains the completion at {unit} "
            f"{stuck.returned}: {who(stuck)}{show(stuck)}",
            "operations involved (it, those concurrent with it, the last one "
            "linearized before it):",
        ]
        lines += [f"  {'*' if op == stuck else ' '} {who(op)}{show(op)}" for op in self.involved]
        lines.append(
            f"longest prefix that can be linearized: the first {self.prefix} of "
            f"{self.events} events (everything before that completion), "
            f"by {len(order)} operations in this order"
            + (f" (the last {shown} shown)" if len(order) > shown else "")
            + ":"
        )
        start = max(0, len(order) - shown)
        lines += [
            f"  {i}. {who(op)}{show(op, in_prefix=True)}"
            for i, op in enumerate(order[start:], start + 1)
        ]
        lines.append(f"state after it: {state_text(self.state)}")
        return "\n".join(lines)

    def _answered(self) -> list[Operation]:
        """The operations whose completion is in the prefix."""
        ops = self.part.operations
        return [ops[i] for _, is_return, i in self.part.events()[: self.prefix] if is_return]

    def to_json(self, model: Any) -> dict[str, Any]:
        """The explanation as plain JSON data (operations described by the model).

        Operations of the linearization still running at the cut have ``"answered":
        false`` and are described without their answer (they are pending in the prefix).
        """
        op_text, state_text = _describer(model), getattr(model, "describe_state", repr)
        answered = self._answered()

        def op_json(op: Operation) -> dict[str, Any]:
            return {
                "process": _plain(op.process),
                "operation": op_text(op),
                "invoked": op.invoked,
                "returned": op.returned,
            }

        def in_prefix(op: Operation) -> dict[str, Any]:
            if op in answered:
                return {**op_json(op), "answered": True}
            unanswered = op_json(attrs.evolve(op, output=UNKNOWN))
            return {**unanswered, "returned": op.returned, "answered": False}

        return {
            "part": self.part.source,
            "stuck": op_json(self.stuck),
            "involved": [op_json(op) for op in self.involved],
            "prefix_events": self.prefix,
            "events": self.events,
            "linearization": [in_prefix(op) for op in self.linearization],
            "state": state_text(self.state),
        }


def _describer(model: Any) -> Callable[[Operation], str]:
    describe = getattr(model, "describe_operation", None)
    if describe is None:
        return lambda op: f"{op.input!r} -> {op.output!r}"
    return lambda op: str(describe(op.input, op.output))


def _plain(value: Any) -> Any:
    return value if isinstance(value, (int, str, float, bool)) or value is None else str(value)


@attrs.frozen
class LinearizabilityResult:
    """The answer: ``linearizable``, and when it is not, an ``explanation`` (unless the
    check was asked not to explain). ``linearizable`` is None when the check ran out of
    time before it knew; the result is then false."""

    linearizable: bool | None
    explanation: Explanation | None = None

    def __bool__(self) -> bool:
        return self.linearizable is True


def check_linearizability(
    model: Any,
    history: History,
    *,
    partition: bool = True,
    explain: bool = True,
    timeout: float | None = None,
) -> LinearizabilityResult:
    """Whether ``history`` is linearizable under ``model`` (see ``Model``).

    With ``partition`` (the default) and a model that has ``partition``, each part is
    checked on its own (P-compositionality); the parts take turns, and the check ends as
    soon as one of them fails. With ``explain=False`` a history that is not linearizable
    gets no explanation, which saves the search for the longest prefix (a second search,
    as long as the first one, or a few). Deterministic: the same history and model give
    the same result and explanation, unless ``timeout`` (seconds of search, explanation
    not included) runs out first: then ``linearizable`` is None. The search is
    exponential in the worst case; a timeout bounds it, at the price of an answer that
    depends on the machine, so a simulated run's check never sets one.
    """
    split = getattr(model, "partition", None) if partition else None
    parts = list(split(history)) if split is not None else [history]
    running = [(part, searching(model, part)) for part in parts if part.operations]
    deadline = None if timeout is None else time.monotonic() + timeout
    while running:
        if deadline is not None and time.monotonic() > deadline:
            return LinearizabilityResult(None)
        still = []
        for part, searcher in running:
            try:
                next(searcher)
            except StopIteration as done:
                outcome: Outcome = done.value
                if not outcome.ok:
                    why = _explain(model, part, outcome) if explain else None
                    return LinearizabilityResult(False, why)
            else:
                still.append((part, searcher))
        running = still
    return LinearizabilityResult(True)


def _explain(model: Any, part: History, outcome: Outcome) -> Explanation:
    """The explanation of a failed search: the longest prefix, found exactly.

    The search's furthest point is a linearizable prefix, but a longer one may be too:
    an operation still running at a cut may take effect there with any answer, while the
    search holds it to the answer it gave later. Linearizable prefixes only shrink, so
    the longest is found by galloping on from the search's, then bisecting.
    """
    events = part.events()
    good, order, state = outcome.prefix, outcome.order, outcome.state
    bad = len(events)  # the whole part is not linearizable
    gap = 1
    while good + 1 < bad:
        probe = min(good + gap, bad - 1) if gap else (good + bad) // 2
        cut, back = _prefix(part, events, probe)
        found = search(model, cut)
        if found.ok:
            good, order, state = probe, tuple(back[i] for i in found.order), found.state
            if gap:
                gap *= 2
        else:
            bad, gap = probe, 0
    _, is_return, index = events[good]
    if not is_return:  # a prefix ending in an invocation is as linearizable as without it
        raise RabbleInternalError(f"the longest prefix of {part.source} ends before a call")
    ops = part.operations
    culprit = ops[index]
    assert culprit.returned is not None
    involved = {
        i
        for i, op in enumerate(ops)
        if op.invoked <= culprit.returned
        and (op.returned is None or op.returned >= culprit.invoked)
    }
    before = [i for i in order if i not in involved]
    if before:
        involved.add(before[-1])
    return Explanation(
        part=part,
        stuck=culprit,
        involved=tuple(ops[i] for i in sorted(involved, key=lambda i: (ops[i].invoked, i))),
        prefix=good,
        events=len(events),
        linearization=tuple(ops[i] for i in order),
        state=state,
    )


def _prefix(
    history: History, events: list[tuple[int, bool, int]], k: int
) -> tuple[History, list[int]]:
    """The first ``k`` events of ``history`` as a history, in which the operations whose
    completion is not among them are pending; and the index in ``history`` of each of
    its operations."""
    ops = history.operations
    returned = {i for _, is_return, i in events[:k] if is_return}
    back = [i for _, is_return, i in events[:k] if not is_return]
    cut = [
        ops[i] if i in returned else attrs.evolve(ops[i], output=UNKNOWN, returned=None)
        for i in back
    ]
    return History(cut, history.source), back


HistoryCheck = Callable[[Sequence[HistoryEvent]], None]


def linearizable(model: Any) -> HistoryCheck:
    """A history check for ``Scenario(history=...)``: the run's client history must be
    linearizable under ``model``.

    The history's calls and results are the operations' inputs and outputs; its order
    gives the times (an explanation numbers events from 0). An ``AssertionError`` with
    the explanation says that it is not.
    """

    def check(events: Sequence[HistoryEvent]) -> None:
        history = history_from_events(events, source="")
        result = check_linearizability(model, history)
        explanation = result.explanation
        if explanation is not None:
            where = f" (in {explanation.part.source})" if explanation.part.source else ""
            text = explanation.describe(model, unit="event")
            raise AssertionError(f"the client history is not linearizable{where}: {text}")

    check.__name__ = check.__qualname__ = f"linearizable({_model_name(model)})"
    return check


def _model_name(model: Any) -> str:
    name = getattr(model, "name", None)
    return name if isinstance(name, str) else type(model).__name__
