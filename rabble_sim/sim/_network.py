"""The simulated network: every message in flight, who can reach whom, and the seq counter.

Every message and timer gets a sequence id (seq) from one counter, in the order they are
created, so that a schedule names them stably. A message in flight is a ``Parcel``. It is
deliverable (in ``deliverable``, where any may be delivered next), or held by a partition
(in ``held``) until a heal. A message that hops within a node (a routed name resolved
there) has already crossed the network: no partition holds it and no network fault may
touch it. A message sent to a node that is down is lost; one sent to a node that does not
exist is a dead letter. Where the scenario allows message faults, the network also keeps
the deliverable messages that cross it (``crossing``) apart: those a drop or a duplicate
may befall, indexable in O(1) like the rest.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from ..codec import transit
from ..core import Envelope
from ._parcel import Parcel
from ._pool import Pool


class Network:
    """The network of a World whose nodes are up or down as ``up`` says; ``faults`` says
    whether messages may be dropped or duplicated."""

    def __init__(self, up: Mapping[str, bool], *, faults: bool = False) -> None:
        self.up = up
        self.next_seq = 0
        self.deliverable: Pool[Parcel] = Pool()
        self.crossing: Pool[Parcel] = Pool()
        """The deliverable messages that cross the network, kept only if ``faults``."""
        self._faults = faults
        self.held: dict[int, Parcel] = {}
        self.groups: dict[str, int] | None = None
        """Each node's partition group while the network is partitioned."""
        self.lost = 0
        """Messages sent to a node while it was down."""
        self.dead_letters = 0
        """Messages sent to a node that does not exist."""
        self._local: set[int] = set()
        """Seqs of messages that hop within a node. Some may be gone already: it is pruned
        as it grows, not at every delivery."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Network:
        """A copy whose parcels are copied as ``memo`` says (a fork shares them)."""
        clone = object.__new__(Network)
        memo[id(self)] = clone  # a timer's seq counter is this network's bound method
        clone.__dict__.update(self.__dict__)
        clone.up = copy.deepcopy(self.up, memo)
        clone.deliverable = copy.deepcopy(self.deliverable, memo)
        clone.crossing = copy.deepcopy(self.crossing, memo)
        clone.held = {seq: copy.deepcopy(parcel, memo) for seq, parcel in self.held.items()}
        clone.groups = None if self.groups is None else self.groups.copy()
        clone._local = self._local.copy()
        return clone

    # -- reading ----------------------------------------------------------------------------

    @property
    def partitioned(self) -> bool:
        return self.groups is not None

    def get(self, seq: int) -> Parcel | None:
        """The message ``seq`` in flight, deliverable or held, or None."""
        return self.deliverable.get(seq) or self.held.get(seq)

    def in_flight(self) -> list[tuple[int, Parcel]]:
        """Every message in flight, deliverable or held, by seq."""
        pairs = [*self.deliverable.items(), *self.held.items()]
        return sorted(pairs, key=lambda pair: pair[0])

    def is_local(self, seq: int) -> bool:
        """Whether message ``seq`` hops within a node (no network fault can touch it)."""
        return seq in self._local

    def crosses(self, seq: int) -> bool:
        """Whether deliverable message ``seq`` crosses the network: between two nodes, and
        not a routed hop."""
        parcel = self.deliverable.get(seq)
        if parcel is None:
            return False
        env = parcel[0]
        return env.to.node != env.from_.node and seq not in self._local

    def reaches(self, to: str, from_: str) -> bool:
        """Whether a message from node ``from_`` to node ``to`` can be delivered now."""
        groups = self.groups
        # .get: a process may put any pid in from_, even one on a node that does not exist.
        return groups is None or groups.get(to) == groups.get(from_)

    # -- changing ---------------------------------------------------------------------------

    def new_seq(self) -> int:
        """The next seq, for a message or a timer."""
        seq = self.next_seq
        self.next_seq = seq + 1
        return seq

    def post(self, env: Envelope) -> None:
        """Put ``env`` in flight to its receiver's node, encoded now (``transit``): a
        ``CodecError`` if it cannot travel."""
        body, copy = transit(env.msg)
        node = env.to.node
        if self.groups is None and self.up.get(node) and not self._faults:
            # The common case, inlined (the simulator's hot path): a live node, no
            # partition, no message fault to keep track of.
            seq = self.next_seq
            self.next_seq = seq + 1
            self.deliverable.add(seq, (env, body, copy))
        else:
            self.send((env, body, copy))

    def send(self, parcel: Parcel) -> None:
        """Put ``parcel`` in flight to its receiver's node."""
        seq = self.next_seq
        self.next_seq = seq + 1
        env = parcel[0]
        node = env.to.node
        up = self.up.get(node)
        if up is None:
            self.dead_letters += 1  # no such node: no such pid
        elif not up:
            self.lost += 1
        elif self.groups is not None and not self.reaches(node, env.from_.node):
            self.held[seq] = parcel
        else:
            self.deliverable.add(seq, parcel)
            if self._faults and node != env.from_.node:
                self.crossing.add(seq, parcel)

    def send_local(self, parcel: Parcel) -> None:
        """Put ``parcel`` in flight within its node (a routed hop)."""
        seq = self.next_seq
        self.next_seq = seq + 1
        deliverable, local = self.deliverable, self._local
        deliverable.add(seq, parcel)
        local.add(seq)
        if len(local) > 2 * len(deliverable) + 64:
            self._local = {s for s in local if s in deliverable}

    def take(self, seq: int) -> Parcel | None:
        """Remove deliverable message ``seq`` (delivered or dropped) and return it."""
        if self._faults:
            self.crossing.pop(seq)
        return self.deliverable.pop(seq)

    def node_down(self, node: str) -> None:
        """``node`` crashed: every message in flight to it is gone."""
        for seq in [s for s, p in self.deliverable.items() if p[0].to.node == node]:
            self.take(seq)
        for seq in [s for s, p in self.held.items() if p[0].to.node == node]:
            del self.held[seq]

    def partition(self, groups: Iterable[Iterable[str]]) -> None:
        """Split the nodes into ``groups``: messages between groups are held."""
        self.groups = {node: i for i, group in enumerate(groups) for node in group}
        deliverable, local = self.deliverable, self._local
        cut = [
            seq
            for seq, parcel in deliverable.items()
            if seq not in local and not self.reaches(parcel[0].to.node, parcel[0].from_.node)
        ]
        for seq in cut:
            self.held[seq] = self.take(seq)  # type: ignore[assignment]

    def heal(self) -> None:
        """End the partition: every held message is deliverable again, in seq order."""
        self.groups = None
        for seq in sorted(self.held):
            parcel = self.held.pop(seq)
            self.deliverable.add(seq, parcel)
            if self._faults:  # only messages between nodes are ever held
                self.crossing.add(seq, parcel)

    def envelope(self, seq: int) -> Envelope | None:
        """The envelope of message ``seq`` as sent (its pids and cid only may be read)."""
        parcel = self.get(seq)
        return None if parcel is None else parcel[0]


def partition_problem(groups: tuple[tuple[str, ...], ...], nodes: tuple[str, ...]) -> str | None:
    """Why ``groups`` is not a partition of ``nodes`` (None if it is one): two or more
    non-empty groups that name every node exactly once."""
    named = sorted(node for group in groups for node in group)
    if named != sorted(nodes):
        return f"partition {groups} does not name each node of {nodes} exactly once"
    if len(groups) < 2 or not all(groups):
        return f"partition {groups} needs two or more groups, none of them empty"
    return None
