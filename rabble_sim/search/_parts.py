"""A state's fingerprint as exploration keeps it: digests, elements, and a world's state by
where its elements come from (``Parts``), for a fork's fingerprint and the faults whose
fingerprint is known without one."""

from __future__ import annotations

from typing import Any, NamedTuple

from ..core import Pid
from ..sim import World

DIGEST_BYTES = 16
MASK = (1 << 8 * DIGEST_BYTES) - 1
"""Digests are ints below 2**128; their sums are taken modulo 2**128."""

Element = tuple[int, ...]
"""One element of a state: its digest under each relabelling, the identity first."""
State = list[int]
"""A world's digest under each relabelling (the sum of its elements'), the identity first:
its fingerprint is the least."""


class Parts(NamedTuple):
    """A world's state by where its elements come from: each process and each datum
    persisted with the object it was made from, each message in flight by its seq, the
    timers, the small sections, the history, the sum of those and the rest, and the total
    (its ``State``). A fork of the world that went on differs from it only where it holds
    another object, or where its timers, small sections or history changed
    (``Fingerprints.child``); the world is kept to tell."""

    world: World
    processes: dict[Pid, tuple[Any, Element]]
    durable: dict[Pid, tuple[Any, Element]]
    flying: dict[int, Element]
    seqs: frozenset[int]
    timers: Element
    small: Element
    history: Element | None
    rest: Element
    total: Element
