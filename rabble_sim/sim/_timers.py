"""The simulator's virtual clock and pending timers, across every node, in due order.

The virtual clock is the cluster's true time. A node's own clock may run at another rate
(``Clocks``): a timer is measured on its node's clock, so a 100 ms timer on a node whose
clock runs fast fires before 100 ms of true time have passed.
"""

from __future__ import annotations

import copy
import heapq
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from ..core import CorrelationId, Pid


class Timer(NamedTuple):
    """A pending timer: ``pid`` receives ``Timeout()`` with ``cid`` at virtual time ``due``."""

    pid: Pid
    cid: CorrelationId | None
    due: int


_timer = tuple.__new__
"""Builds a ``Timer`` as a named tuple's own constructor would, without its Python call."""


class Timers:
    """The virtual clock (``now``, in ms) and the pending timers by seq: at most one per
    (pid, cid), the next due found in O(log n). Firing a timer moves the clock to its due
    time; nothing else moves it.

    A timer takes its seq from ``new_seq`` (the network's counter), like a message, so
    that a schedule names both stably. Cancelled timers linger in the heap until they
    reach its top, or until the heap grows to twice the timers and is rebuilt.
    """

    __slots__ = ("_heap", "_keys", "_new_seq", "now", "pending", "rates")

    def __init__(self, new_seq: Callable[[], int]) -> None:
        self.now = 0
        self.rates: dict[str, int] = {}
        """The rate of each node whose clock does not keep true time, in ms of its clock
        per 1000 ms of true time (``Clocks`` keeps it)."""
        self.pending: dict[int, Timer] = {}
        """The pending timers by seq."""
        self._new_seq = new_seq
        self._heap: list[tuple[int, int]] = []  # (due, seq)
        self._keys: dict[tuple[Pid, CorrelationId | None], int] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> Timers:
        """A copy that takes its seqs from the copy of its counter's owner (``memo``);
        timers are immutable, and shared."""
        return self.fork(copy.deepcopy(self._new_seq, memo))

    def fork(self, new_seq: Callable[[], int]) -> Timers:
        """A copy that takes its seqs from ``new_seq`` (the copy of its network's counter);
        timers are immutable, and shared."""
        clone = Timers(new_seq)
        clone.now = self.now
        clone.rates = self.rates.copy()
        clone.pending = self.pending.copy()
        clone._heap = self._heap.copy()
        clone._keys = self._keys.copy()
        return clone

    def __len__(self) -> int:
        return len(self.pending)

    def __iter__(self) -> Iterator[int]:
        """The seqs of the pending timers, in the order they were started."""
        return iter(self.pending)

    def __contains__(self, seq: int) -> bool:
        return seq in self.pending

    def __getitem__(self, seq: int) -> Timer:
        return self.pending[seq]

    def start(self, pid: Pid, cid: CorrelationId | None, ms: int) -> None:
        """Deliver ``Timeout()`` with ``cid`` to ``pid`` in ``ms``, replacing ``pid``'s
        timer with the same ``cid``."""
        key = (pid, cid)
        old = self._keys.get(key)
        if old is not None:
            self.take(old)
        seq = self._new_seq()
        rate = self.rates.get(pid.node) if self.rates else None
        due = self.now + (ms if rate is None else -(-ms * 1000 // rate))
        self.pending[seq] = _timer(Timer, (pid, cid, due))
        self._keys[key] = seq
        heap = self._heap
        heapq.heappush(heap, (due, seq))
        if len(heap) > 2 * len(self.pending) + 64:
            self._heap = sorted((t.due, s) for s, t in self.pending.items())

    def cancel(self, pid: Pid, cid: CorrelationId | None) -> bool:
        """Cancel ``pid``'s timer with ``cid``; whether there was one."""
        seq = self._keys.get((pid, cid))
        if seq is None:
            return False
        self.take(seq)
        return True

    def cancel_all(self, pids: Iterable[Pid]) -> None:
        """Cancel every timer of these processes."""
        gone = set(pids)
        for seq in [s for s, t in self.pending.items() if t.pid in gone]:
            self.take(seq)

    def retime(self, node: str, local_ms: Callable[[int], int], rate: int) -> None:
        """The clock of ``node`` changed: each of its timers, ``remaining`` ms of its clock
        away before, is ``local_ms(remaining)`` away now, at ``rate``."""
        now = self.now
        for seq, timer in list(self.pending.items()):
            if timer.pid.node == node:
                left = local_ms(timer.due - now)
                due = now + max(0, -(-left * 1000 // rate))
                self.pending[seq] = _timer(Timer, (timer.pid, timer.cid, due))
        self._heap = sorted((t.due, s) for s, t in self.pending.items())

    def take(self, seq: int) -> Timer:
        """Remove pending timer ``seq`` (it is cancelled) and return it."""
        timer = self.pending.pop(seq)
        del self._keys[(timer.pid, timer.cid)]
        return timer

    def fire(self, seq: int) -> Timer:
        """Remove pending timer ``seq``, which fires: the clock moves to its due time."""
        timer = self.take(seq)
        self.now = max(self.now, timer.due)  # advance(), inlined: every timer fires here
        return timer

    def advance(self, now: int) -> None:
        """The clock moves to ``now``, unless it is there already (it never goes back)."""
        self.now = max(self.now, now)

    def next(self) -> int | None:
        """The seq of the timer due first (ties: created first), or None."""
        heap, pending = self._heap, self.pending
        while heap:
            seq = heap[0][1]
            if seq in pending:
                return seq
            heapq.heappop(heap)
        return None

    def by_due(self) -> list[tuple[int, Timer]]:
        """Every pending timer, due first (ties: created first)."""
        return sorted(self.pending.items(), key=lambda item: (item[1].due, item[0]))
