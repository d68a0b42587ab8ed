"""The Wing-Gong/Lowe search for a linearization of one history, as Porcupine does it.

The history's invocations and completions ("entries") sit in a doubly linked list in time
order. The search walks the list from the front: at an invocation it tries to linearize
that operation next (the model accepts its output in the current state); if it can, it
lifts the operation's two entries out of the list and starts again from the front. At a
completion it is stuck (that operation had to be linearized before this point): it
backtracks, putting back the last operation it lifted and trying the next one. It
succeeds when no completion is left in the list.

Two configurations with the same set of linearized operations and the same model state
have the same future, so the search remembers every (set, state) it has tried (Lowe's
memoisation) and never tries one twice. Sets are bits of a Python int; model states are
numbered as they are met, and each operation remembers its step from each state number,
so the model is asked about each (operation, state) once.

Three refinements, each keeping the answer exact:

- Operations never completed sit in a second list and are tried after the completed
  ones invoked before the same point: the search first supposes they have not taken
  effect yet. They may take effect at any point after their invocation, or never, so
  nothing waits for them.
- A read-only operation (the model's ``read_only``: a read, a failed compare-and-swap)
  possible in the current state can be moved to the front of any linearization from
  here, so it is tried there only: when that fails, the configuration fails. One never
  completed is left out altogether.
- The search yields every ``SLICE`` backtracks, so that the parts of a partitioned
  history can take turns and the check ends with the first part that fails, as
  Porcupine's parallel search does.
"""

from __future__ import annotations

from collections.abc import Generator, Hashable, Sequence
from typing import Any

import attrs

from ..core import InvalidDefinition
from ._history import History, Operation


@attrs.frozen
class Outcome:
    """What a search found.

    When ``ok``, ``order`` is a linearization of the whole history (the indexes of the
    operations that take effect, in order), leaving the model in ``state``. When not, it
    is the furthest the search got: the first ``prefix`` events of the history
    (invocations and completions, in time order) can be linearized by ``order``, leaving
    the model in ``state``, and the next event, the completion of operation ``stuck``,
    cannot, in any order that keeps the answers that operations still running at that
    point give later.
    """

    ok: bool
    order: tuple[int, ...]
    state: Any
    prefix: int = 0
    stuck: int = -1


SLICE = 1000
"""Backtracks a search makes before it lets another run (see ``searching``)."""


def search(model: Any, history: History) -> Outcome:
    """Whether ``history`` is linearizable under ``model``: an order that shows it, or
    where the search got stuck."""
    running = searching(model, history)
    while True:
        try:
            next(running)
        except StopIteration as done:
            outcome: Outcome = done.value
            return outcome


@attrs.define
class _Entries:
    """The linked lists of a history's entries, and what the search needs of each.

    Entry k (1..m) is ``events[k - 1]``. Completed operations' invocations and
    completions are linked between ``head`` (0) and ``tail`` (m + 1); the invocations of
    those never completed between ``pending_head`` (m + 2) and ``pending_tail`` (m + 3),
    except the read-only ones, which need never be linearized. The other lists are by
    invocation entry: the operation's index, input, output, transitions (shared by
    operations with equal inputs and outputs), bit in the set of those linearized, and
    whether it is read-only.
    """

    nxt: list[int]
    prv: list[int]
    ret_of: list[int]
    """The entry of an invocation's completion (0: never completes); -1 on completions
    and on the tails."""
    op_of: list[int]
    inputs: list[Any]
    outputs: list[Any]
    trans: list[dict[int, int]]
    bits: list[int]
    read_only: list[bool]


def _entries(model: Any, history: History) -> _Entries:
    ops = history.operations
    events = history.events()
    m = len(events)
    read_only = getattr(model, "read_only", None)
    size = m + 4
    e = _Entries(
        nxt=[m + 1] * size,
        prv=[0] * size,
        ret_of=[-1] * size,
        op_of=[0] * size,
        inputs=[None] * size,
        outputs=[None] * size,
        trans=[{}] * size,
        bits=[0] * size,
        read_only=[False] * size,
    )
    nxt, prv, where_call = e.nxt, e.prv, [0] * len(ops)
    last, pending_last = 0, m + 2
    for k, (_, is_return, i) in enumerate(events, 1):
        e.op_of[k] = i
        if is_return:
            e.ret_of[where_call[i]] = k
            nxt[last], prv[k], last = k, last, k
            continue
        op = ops[i]
        where_call[i] = k
        e.ret_of[k] = 0
        e.inputs[k], e.outputs[k], e.bits[k] = op.input, op.output, 1 << i
        e.read_only[k] = bool(read_only and read_only(op.input, op.output))
        if op.returned is not None:
            nxt[last], prv[k], last = k, last, k
        elif not e.read_only[k]:
            nxt[pending_last], prv[k], pending_last = k, pending_last, k
    nxt[last], prv[m + 1] = m + 1, last
    nxt[pending_last], prv[m + 3] = m + 3, pending_last
    for i, after in enumerate(_transitions(ops)):
        e.trans[where_call[i]] = after
    return e


def searching(  # noqa: PLR0915 (one loop, kept whole: it is the hot path)
    model: Any, history: History
) -> Generator[None, None, Outcome]:
    """``search`` in slices: yields after every ``SLICE`` backtracks, returns its result.

    Several searches can so take turns, and stop as soon as one fails.
    """
    e = _entries(model, history)
    nxt, prv, ret_of, op_of = e.nxt, e.prv, e.ret_of, e.op_of
    inputs, outputs, trans, bits, read_only = e.inputs, e.outputs, e.trans, e.bits, e.read_only
    m = len(nxt) - 4
    head, pending_head = 0, m + 2
    remaining = m - len(history.operations)  # completions left in the list
    step = model.step
    states: list[Hashable] = [model.init()]
    try:
        number: dict[Hashable, int] = {states[0]: 0}
    except TypeError:
        raise _unhashable(model, states[0]) from None

    cache: set[tuple[int, int]] = set()
    calls: list[int] = []  # the lifted invocations, in the order linearized
    saved: list[int] = []  # the state before each
    bounds: list[int] = []  # the bound when each pending one was lifted
    state = 0
    linearized = 0
    best = -1
    best_at: tuple[tuple[int, ...], int, int] = ((), 0, 0)
    countdown = SLICE
    # The scan goes through the completed operations' invocations up to the first
    # completion in the list (``bound``), then through the pending ones invoked before it.
    bound = 0  # 0: not yet found
    if not remaining:
        return Outcome(ok=True, order=(), state=states[0])
    entry = nxt[head]
    while True:
        ret = ret_of[entry]
        if ret <= 0 and (ret < 0 or entry > bound):
            if not bound:  # the first completion: on to the pending invocations
                bound = entry
                entry = nxt[pending_head]
                continue
            # Stuck: the operation completed at ``bound`` should be linearized by now. The
            # furthest point is kept, by the shortest order that reaches it (the fewest
            # pending operations taking effect: the plainest story).
            if bound >= best and (bound > best or len(calls) < len(best_at[0])):
                best = bound
                best_at = (tuple(calls), state, bound)
        else:  # an invocation: try to linearize its operation now
            after = trans[entry]
            new = after.get(state)
            if new is None:
                ok, value = step(states[state], inputs[entry], outputs[entry])
                if ok:
                    try:
                        new = number.get(value)
                    except TypeError:
                        raise _unhashable(model, value) from None
                    if new is None:
                        new = number[value] = len(states)
                        states.append(value)
                else:
                    new = -1
                after[state] = new
            if new < 0:
                entry = nxt[entry]
                continue
            lin = linearized | bits[entry]
            key = (lin, new)
            if key not in cache:
                cache.add(key)
                calls.append(entry)
                saved.append(state)
                state = new
                linearized = lin
                before, behind = prv[entry], nxt[entry]
                nxt[before] = behind
                prv[behind] = before
                if ret:
                    before, behind = prv[ret], nxt[ret]
                    nxt[before] = behind
                    prv[behind] = before
                    remaining -= 1
                    if not remaining:  # every completed operation is linearized
                        break
                else:
                    bounds.append(bound)
                bound = 0
                entry = nxt[head]
                continue
            if not read_only[entry]:
                entry = nxt[entry]
                continue
            # A read-only operation possible now can go first in any way on from here; that
            # way failed before, so every way does: backtrack.
        countdown -= 1
        if not countdown:
            yield
            countdown = SLICE
        while True:  # put back the last operation linearized, and try the next after it
            if not calls:
                order, at_state, at = best_at
                return Outcome(
                    ok=False,
                    order=tuple(op_of[k] for k in order),
                    state=states[at_state],
                    prefix=at - 1,
                    stuck=op_of[at],
                )
            entry = calls.pop()
            state = saved.pop()
            linearized ^= bits[entry]
            ret = ret_of[entry]
            if ret:
                nxt[prv[ret]] = ret
                prv[nxt[ret]] = ret
                remaining += 1
                bound = 0
            else:
                bound = bounds.pop()
            nxt[prv[entry]] = entry
            prv[nxt[entry]] = entry
            if not read_only[entry]:
                break
            # A read-only operation went first from here: the other ways fail as well.
        entry = nxt[entry]
    return Outcome(ok=True, order=tuple(op_of[k] for k in calls), state=states[state])


def _unhashable(model: Any, state: Any) -> InvalidDefinition:
    return InvalidDefinition(
        f"{type(model).__name__}: a state must be hashable (a tuple, a frozenset, a frozen "
        f"attrs class), not {type(state).__name__}: {state!r}"
    )


def _transitions(ops: Sequence[Operation]) -> list[dict[int, int]]:
    """For each operation, where it leads from each state number (-1: it cannot happen
    there), filled in as the search goes. Operations with equal inputs and outputs share
    theirs: the model is asked once for all of them."""
    shared: dict[tuple[Any, Any], dict[int, int]] = {}
    trans = []
    for op in ops:
        try:
            trans.append(shared.setdefault((op.input, op.output), {}))
        except TypeError:  # not hashable: its own
            trans.append({})
    return trans
