"""The deliverable in-flight messages, with O(1) pick by index and the oldest in O(log n).

The scheduler must not scan all in-flight messages at every step: with thousands in
flight that would make each step slower. Messages sit in an array (removal swaps the last
one into the hole) for uniform picks, and a heap of seqs finds the oldest.
"""

from __future__ import annotations

import copy
import heapq
from collections.abc import Iterator, KeysView
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Pool(Generic[T]):
    """Items keyed by seq. ``at(0)`` is the oldest; ``at(i)`` for other i is arbitrary but
    deterministic, since it depends only on the order of adds and removes."""

    __slots__ = ("_heap", "_heap_limit", "_items", "_order", "_pos")

    def __init__(self) -> None:
        self._pos: dict[int, int] = {}  # seq -> its slot in _order and _items
        self._order: list[int] = []  # the seq in each slot
        self._items: list[T] = []  # the item in each slot
        self._heap: list[int] = []  # seqs, some of them gone; the smallest live is oldest
        self._heap_limit = 64  # compact the heap when it grows past this

    def __deepcopy__(self, memo: dict[int, Any]) -> Pool[T]:
        """A copy whose items are copied as ``memo`` says."""
        clone = self.copy()
        clone._items = [copy.deepcopy(item, memo) for item in self._items]
        return clone

    def copy(self) -> Pool[T]:
        """A copy that shares the items."""
        clone: Pool[T] = Pool()
        clone._pos = self._pos.copy()
        clone._order = self._order.copy()
        clone._items = self._items.copy()
        clone._heap = self._heap.copy()
        clone._heap_limit = self._heap_limit
        return clone

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, seq: int) -> bool:
        return seq in self._pos

    def __iter__(self) -> Iterator[int]:
        """Seqs in ascending order (sorts: for inspection, not for the hot loop)."""
        return iter(sorted(self._pos))

    def seqs(self) -> KeysView[int]:
        """The seqs of the items, as a set-like view (O(1) to make)."""
        return self._pos.keys()

    def items(self) -> Iterator[tuple[int, T]]:
        """(seq, item) pairs in slot order: deterministic, not sorted, O(n)."""
        return zip(self._order, self._items, strict=True)

    def get(self, seq: int) -> T | None:
        i = self._pos.get(seq)
        return None if i is None else self._items[i]

    def add(self, seq: int, item: T) -> None:
        self._pos[seq] = len(self._order)
        self._order.append(seq)
        self._items.append(item)
        heap = self._heap
        heapq.heappush(heap, seq)
        if len(heap) > self._heap_limit:
            # Drop the stale seqs of messages already gone, so the heap stays O(n).
            self._heap = sorted(self._order)
            self._heap_limit = 2 * len(self._heap) + 64

    def pop(self, seq: int) -> T | None:
        """Remove and return the item ``seq``, or None if there is none."""
        i = self._pos.pop(seq, None)
        if i is None:
            return None
        items = self._items
        item = items[i]
        last_item = items.pop()
        last = self._order.pop()
        if last != seq:
            self._order[i] = last
            items[i] = last_item
            self._pos[last] = i
        return item

    def oldest(self) -> int:
        heap, pos = self._heap, self._pos
        while heap[0] not in pos:
            heapq.heappop(heap)
        return heap[0]

    def at(self, index: int) -> int:
        """The seq at ``index``: 0 is the oldest message; the oldest and whatever sits in
        slot 0 trade places, so every message has exactly one index."""
        heap, pos = self._heap, self._pos
        while heap[0] not in pos:
            heapq.heappop(heap)
        oldest = heap[0]
        if index == 0:
            return oldest
        seq = self._order[index]
        return self._order[0] if seq == oldest else seq
