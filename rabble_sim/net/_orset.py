"""An observed-remove set of node names with dots: the cluster's membership as a CRDT.

Each add is tagged with a fresh dot ``(replica, counter)``; a remove deletes only the dots
it has seen, so an add concurrent with a remove wins. ``add`` and ``remove`` return
deltas, small states that ``merge`` joins like any other: they are gossiped until nothing
changes, and a whole state is merged when a link comes up. Merging is commutative,
associative and idempotent, so order and repetition of gossip do not matter.

The causal context (every dot seen) is kept as a version vector plus the dots above it;
a replica's counter must survive its restarts (``counter`` is persisted by the node), or
its new adds would reuse dots that others already saw removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs

Dot = tuple[str, int]
"""(replica, counter): names one add, uniquely across the cluster."""


@attrs.define
class ORSet:
    """Membership as seen by ``replica``. ``entries`` maps each member to its live dots;
    ``seen`` is the version vector of the causal context and ``cloud`` its other dots."""

    replica: str
    entries: dict[str, set[Dot]] = attrs.Factory(dict)
    seen: dict[str, int] = attrs.Factory(dict)
    cloud: set[Dot] = attrs.Factory(set)
    counter: int = 0

    # -- reading ------------------------------------------------------------------------

    def __contains__(self, element: str) -> bool:
        return bool(self.entries.get(element))

    def __iter__(self) -> Iterator[str]:
        return iter(self.members())

    def members(self) -> tuple[str, ...]:
        return tuple(sorted(e for e, dots in self.entries.items() if dots))

    def has_seen(self, dot: Dot) -> bool:
        replica, n = dot
        return n <= self.seen.get(replica, 0) or dot in self.cloud

    # -- changing: each returns the delta to gossip ----------------------------------------

    def add(self, element: str) -> ORSet:
        """Add ``element`` with a fresh dot, replacing the dots of it seen so far."""
        self.counter = max(self.counter, self.seen.get(self.replica, 0)) + 1
        dot = (self.replica, self.counter)
        delta = ORSet(self.replica, {element: {dot}}, cloud={dot, *self.entries.get(element, ())})
        self.merge(delta)
        return delta

    def remove(self, element: str) -> ORSet:
        """Remove ``element`` as far as this replica has seen it added."""
        delta = ORSet(self.replica, cloud=set(self.entries.get(element, ())))
        self.merge(delta)
        return delta

    def merge(self, other: ORSet) -> bool:
        """Join ``other`` (a delta or a whole state) into this one; True if it changed."""
        before = (self.entries, self.seen, self.cloud)
        entries: dict[str, set[Dot]] = {}
        for element in {*self.entries, *other.entries}:
            mine = self.entries.get(element, set())
            theirs = other.entries.get(element, set())
            dots = (
                (mine & theirs)
                | {d for d in mine if not other.has_seen(d)}
                | {d for d in theirs if not self.has_seen(d)}
            )
            if dots:
                entries[element] = dots
        self.entries = entries
        self._absorb(other.seen, other.cloud)
        self.counter = max(self.counter, self.seen.get(self.replica, 0))
        return (self.entries, self.seen, self.cloud) != before

    def state(self) -> ORSet:
        """A copy of the whole state, to send when a link comes up."""
        return ORSet(
            self.replica,
            {e: set(d) for e, d in self.entries.items()},
            dict(self.seen),
            set(self.cloud),
            self.counter,
        )

    def _absorb(self, seen: dict[str, int], cloud: Iterable[Dot]) -> None:
        """Add a context to ours, then move cloud dots into the vector while contiguous."""
        merged = dict(self.seen)
        for replica, n in seen.items():
            merged[replica] = max(merged.get(replica, 0), n)
        dots = {d for d in (*self.cloud, *cloud) if d[1] > merged.get(d[0], 0)}
        for replica, n in sorted(dots):
            if n == merged.get(replica, 0) + 1:
                merged[replica] = n
        self.seen = merged
        self.cloud = {d for d in dots if d[1] > merged.get(d[0], 0)}
