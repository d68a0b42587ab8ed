"""Small histories by hand, a brute-force oracle, and prefixes of histories."""

from __future__ import annotations

from typing import Any

from rabble_sim.checks import UNKNOWN, History, Operation


def op(process: Any, input: Any, output: Any, invoked: int, returned: int | None) -> Operation:
    return Operation(process, input, UNKNOWN if returned is None else output, invoked, returned)


def brute_force(model: Any, history: History) -> bool:
    """Linearizability by trying every order (small histories only)."""
    ops = history.operations
    n = len(ops)
    before = [
        frozenset(
            j
            for j in range(n)
            if ops[j].returned is not None and ops[j].returned < ops[i].invoked  # type: ignore[operator]
        )
        for i in range(n)
    ]
    completed = frozenset(i for i in range(n) if ops[i].returned is not None)
    failed: set[tuple[frozenset[int], Any]] = set()

    def go(done: frozenset[int], state: Any) -> bool:
        if completed <= done:
            return True
        if (done, state) in failed:
            return False
        for i in range(n):
            if i in done or not before[i] <= done:
                continue
            ok, new = model.step(state, ops[i].input, ops[i].output)
            if ok and go(done | {i}, new):
                return True
        failed.add((done, state))
        return False

    return go(frozenset(), model.init())


def prefix(history: History, k: int) -> History:
    """The first ``k`` events of ``history``: an operation whose completion is not among
    them is pending."""
    events = history.events()[:k]
    returned = {i for _, is_return, i in events if is_return}
    ops = history.operations
    return History(
        [
            ops[i]
            if i in returned
            else Operation(ops[i].process, ops[i].input, UNKNOWN, ops[i].invoked, None)
            for _, is_return, i in events
            if not is_return
        ],
        history.source,
    )
