"""The deliverable in-flight messages, with O(1) pick by index and the oldest in O(log n).

The scheduler must not scan all in-flight messages at every step: with thousands in
flight that would make each step slower. Messages sit in an array (removal swaps the last
one into the hole) for uniform picks, and a heap of seqs finds the oldest.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Pool(Generic[T]):
    """Items keyed by seq. ``at(0)`` is the oldest; ``at(i)`` for other i is arbitrary but
    deterministic, since it depends only on the order of adds and removes."""

    __slots__ = ("_heap", "_items", "_order", "_pos")

    def __init__(self) -> None:
        self._items: dict[int, T] = {}
        self._order: list[int] = []
        self._pos: dict[int, int] = {}
        self._heap: list[int] = []

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, seq: int) -> bool:
        return seq in self._items

    def __iter__(self) -> Iterator[int]:
        """Seqs in ascending order (sorts: for inspection, not for the hot loop)."""
        return iter(sorted(self._items))

    def get(self, seq: int) -> T | None:
        return self._items.get(seq)

    def add(self, seq: int, item: T) -> None:
        self._items[seq] = item
        self._pos[seq] = len(self._order)
        self._order.append(seq)
        heapq.heappush(self._heap, seq)
        if len(self._heap) > 2 * len(self._order) + 64:
            # Drop the stale seqs of messages already gone, so the heap stays O(n).
            self._heap = sorted(self._items)

    def pop(self, seq: int) -> T:
        item = self._items.pop(seq)
        i = self._pos.pop(seq)
        last = self._order.pop()
        if last != seq:
            self._order[i] = last
            self._pos[last] = i
        return item

    def oldest(self) -> int:
        heap, items = self._heap, self._items
        while heap[0] not in items:
            heapq.heappop(heap)
        return heap[0]

    def at(self, index: int) -> int:
        """The seq at ``index``: 0 is the oldest message; the oldest and whatever sits in
        slot 0 trade places, so every message has exactly one index."""
        oldest = self.oldest()
        if index == 0:
            return oldest
        seq = self._order[index]
        return self._order[0] if seq == oldest else seq
