"""A state's fingerprint as exploration keeps it: digests, elements, and a world's state by
where its elements come from (``Parts``), for a fork's fingerprint and the faults whose
fingerprint is known without one; an element's canonical bytes and keyed digest; and the
bounded cache that keeps elements."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, NamedTuple

import msgspec

from ..core import Pid
from ..sim import World
from ._plain_data import CANONICAL_JSON

_MSGPACK = msgspec.msgpack.Encoder(order="deterministic").encode
"""Canonical MessagePack: a dict's keys sorted, ten times as fast as canonical JSON."""

DIGEST_BYTES = 16
MASK = (1 << 8 * DIGEST_BYTES) - 1
"""Digests are ints below 2**128; their sums are taken modulo 2**128."""

Element = tuple[int, ...]
"""One element of a state: its digest under each relabelling, the identity first."""
State = list[int]
"""A world's digest under each relabelling (the sum of its elements'), the identity first:
its fingerprint is the least."""


def shifted(total: Sequence[int], plus: Sequence[int] = (), minus: Sequence[int] = ()) -> State:
    """``total`` (a state, or a sum of elements) with ``plus`` added and ``minus`` taken,
    under each relabelling, modulo 2**128; either may be left out."""
    plus = plus or (0,) * len(total)
    minus = minus or (0,) * len(total)
    return [(t + p - m) & MASK for t, p, m in zip(total, plus, minus, strict=True)]


class Parts(NamedTuple):
    """A world's state by where its elements come from: each process and each datum
    persisted with the object it was made from, each message in flight by its seq, the
    timers, the small sections, the history, what the executors hold
    (``Executor.watches_and_turns``), the sum of those and the rest, and the total
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
    executors: Element | None
    rest: Element
    total: Element


class Recent:
    """A bounded cache: two generations of up to ``limit`` entries each, an entry used in
    the old one moved to the young one, the old one forgotten when the young one is full.
    Exploration forks one state after another: the entries of the state being expanded,
    used by each of its successors, stay."""

    __slots__ = ("_limit", "_old", "_young")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._young: dict[Any, Any] = {}
        self._old: dict[Any, Any] = {}

    def get(self, key: Any) -> Any:
        """The value of ``key``, or None."""
        value = self._young.get(key)
        if value is None:
            value = self._old.pop(key, None)
            if value is not None:
                self._young[key] = value
        return value

    def put(self, key: Any, value: Any) -> None:
        if len(self._young) >= self._limit:
            self._old, self._young = self._young, {}
        self._young[key] = value


def keyed_digest(section: str, data: bytes) -> int:
    """``data``'s 128-bit digest as an element of ``section``: BLAKE2b keyed by it, so that
    equal texts in two sections are two elements."""
    digest = hashlib.blake2b(data, digest_size=DIGEST_BYTES, key=section.encode()).digest()
    return int.from_bytes(digest, "little")


def canonical_bytes(section: str, plain: Any) -> bytes:
    """One element of a state's ``section`` in canonical bytes: MessagePack with sorted
    keys (plain data's dicts have string keys), or canonical JSON for a number too large
    for it, each marked; the targets of a kind of input and the corrupted records of a disk
    are sets, sorted first."""
    if section == "cut":
        heard_only, group = plain
        plain = [heard_only, sorted(group)]
    elif section == "disks":
        node, lost, corrupted = plain
        plain = [node, lost, sorted(corrupted)]
    elif section == "inputs":
        index, to, given = plain
        plain = [index, sorted(to), given]
    try:
        return b"m" + _MSGPACK(plain)
    except OverflowError:
        return b"j" + CANONICAL_JSON.encode(plain).encode()
