"""The simulated network: its links, every message in flight, and the seq counter.

Every message and timer gets a sequence id (seq) from one counter, in the order they are
created, so that a schedule names them stably. The network is a directed networkx graph
(``links``) that faults edit: a partition cuts the links between its groups (one way
only, if it says so), and a heal puts back the scenario's topology. A message reaches its
receiver's node if some path of links leads there (``reaches``).

A message in flight is a ``Parcel``. It is deliverable (in ``deliverable``, where any may
be delivered next), in transit (``transit``, where a link's latency keeps it until the
clock reaches its arrival), or held by a cut (``held``) until a heal. A message that hops
within a node (a routed name resolved there) has already crossed the network: no cut
holds it, no latency delays it and no network fault may touch it. A message sent to a
node that is down is lost; one sent to a node that does not exist is a dead letter.
Where the scenario allows message faults, the network also keeps the deliverable
messages that cross it (``crossing``) apart: those a drop or a duplicate may befall,
indexable in O(1) like the rest.
"""

from __future__ import annotations

import copy
import heapq
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import networkx as nx

from ..codec import transit
from ..core import Envelope
from ._parcel import Parcel
from ._pool import Pool
from ._topology import reach_of

if TYPE_CHECKING:
    from ._timers import Timers

Latencies = Mapping[tuple[str, str], tuple[int, int]]
"""The (least, most) ms a message takes from one node to another, for the slow pairs."""


class Network:
    """The network of a World whose nodes are up or down as ``up`` says, linked as
    ``topology`` says; ``faults`` says whether messages may be dropped or duplicated, and
    ``latencies`` how long they take (``clock``'s ``now`` is the time, and a message's
    delay is drawn by ``delay(least, most)``)."""

    def __init__(
        self,
        up: Mapping[str, bool],
        topology: nx.DiGraph,
        *,
        faults: bool = False,
        latencies: Latencies | None = None,
    ) -> None:
        self.up = up
        self.next_seq = 0
        self.deliverable: Pool[Parcel] = Pool()
        self.crossing: Pool[Parcel] = Pool()
        """The deliverable messages that cross the network, kept only if ``faults``."""
        self._faults = faults
        self.held: dict[int, Parcel] = {}
        self.topology = topology
        """The links when nothing is cut (the scenario's, shared: never changed)."""
        self.links: nx.DiGraph = topology
        """The links now: the topology, or a copy of it with links cut."""
        self.cut: tuple[tuple[str, str], ...] = ()
        """The links of the topology cut now, sorted."""
        self._reach = reach_of(topology)
        self.transit: dict[int, tuple[int, Parcel]] = {}
        """Messages a link's latency keeps, by seq: (arrival time, parcel)."""
        self._arrivals: list[tuple[int, int]] = []  # (arrival, seq), some of them gone
        self.latencies: Latencies = latencies or {}
        self.clock: Timers | None = None
        """The clock and timers of the world (set by it): their ``now`` is the time."""
        self.delay: Callable[[int, int], int] = _least
        """Draws a message's delay from (least, most) ms: a decision of the run."""
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
        clone.transit = {
            seq: (arrival, copy.deepcopy(parcel, memo))
            for seq, (arrival, parcel) in self.transit.items()
        }
        clone._arrivals = self._arrivals.copy()
        clone.clock = copy.deepcopy(self.clock, memo)
        clone.delay = copy.deepcopy(self.delay, memo)  # a bound method: the clone's world's
        clone._local = self._local.copy()
        return clone  # links, topology and reach are replaced, never changed: shared

    def keep_time(self, clock: Timers, delay: Callable[[int, int], int]) -> None:
        """Take the time from ``clock`` (its ``now``) and draw messages' delays with
        ``delay``: the World's, once it has made its timers."""
        self.clock = clock
        self.delay = delay

    # -- reading ----------------------------------------------------------------------------

    @property
    def partitioned(self) -> bool:
        """Whether a link is cut (a heal is then possible)."""
        return bool(self.cut)

    def get(self, seq: int) -> Parcel | None:
        """The message ``seq`` in flight, deliverable, in transit or held, or None."""
        parcel = self.deliverable.get(seq) or self.held.get(seq)
        if parcel is None and seq in self.transit:
            parcel = self.transit[seq][1]
        return parcel

    def in_flight(self) -> list[tuple[int, Parcel]]:
        """Every message in flight, deliverable, in transit or held, by seq."""
        pairs = [*self.deliverable.items(), *self.held.items()]
        pairs += [(seq, parcel) for seq, (_, parcel) in self.transit.items()]
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
        reach = self._reach
        # .get: a process may put any pid in from_, even one on a node that does not exist.
        return reach is None or to == from_ or to in reach.get(from_, ())

    def next_arrival(self) -> tuple[int, int] | None:
        """(arrival, seq) of the message in transit due first (ties: sent first), or None."""
        arrivals, transit = self._arrivals, self.transit
        while arrivals:
            arrival, seq = arrivals[0]
            if seq in transit:
                return arrival, seq
            heapq.heappop(arrivals)
        return None

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
        if self._reach is None and self.up.get(node) and not self._faults and not self.latencies:
            # The common case, inlined (the simulator's hot path): a live node, a whole
            # network, no message fault to keep track of, no latency.
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
        node, source = env.to.node, env.from_.node
        up = self.up.get(node)
        if up is None:
            self.dead_letters += 1  # no such node: no such pid
            return
        if not up:
            self.lost += 1
            return
        if self.latencies and node != source and self.reaches(node, source):
            latency = self.latencies.get((source, node))
            if latency is not None and self.clock is not None:
                delay = self.delay(*latency)
                if delay > 0:
                    arrival = self.clock.now + delay
                    self.transit[seq] = (arrival, parcel)
                    heapq.heappush(self._arrivals, (arrival, seq))
                    return
        self._arrive(seq, parcel)

    def _reached(self, parcel: Parcel) -> bool:
        env = parcel[0]
        return self.reaches(env.to.node, env.from_.node)

    def _arrive(self, seq: int, parcel: Parcel) -> None:
        """``parcel`` reached its receiver's node: deliverable if a path leads there."""
        env = parcel[0]
        node, source = env.to.node, env.from_.node
        if not self.reaches(node, source):
            self.held[seq] = parcel
        else:
            self.deliverable.add(seq, parcel)
            if self._faults and node != source:
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

    def land(self, now: int) -> None:
        """The clock reached ``now``: every message in transit due by then arrives (is
        deliverable, or held by a cut), in the order of its arrival."""
        arrivals, transit = self._arrivals, self.transit
        while arrivals and arrivals[0][0] <= now:
            _, seq = heapq.heappop(arrivals)
            flying = transit.pop(seq, None)
            if flying is not None:
                self._arrive(seq, flying[1])

    def node_down(self, node: str) -> None:
        """``node`` crashed: every message in flight to it is gone."""
        for seq in [s for s, p in self.deliverable.items() if p[0].to.node == node]:
            self.take(seq)
        for seq in [s for s, p in self.held.items() if p[0].to.node == node]:
            del self.held[seq]
        for seq in [s for s, (_, p) in self.transit.items() if p[0].to.node == node]:
            del self.transit[seq]

    def partition(self, groups: Iterable[Iterable[str]], *, one_way: bool = False) -> None:
        """Cut every link between two of ``groups`` (with ``one_way``, only those into
        the first group: it is heard, but hears no one outside it). Messages that can no
        longer reach their node are held."""
        group = {node: i for i, members in enumerate(groups) for node in members}
        cut = [
            (a, b)
            for a, b in self.topology.edges
            if group.get(a) != group.get(b) and not (one_way and group.get(a) == 0)
        ]
        self._set_links(cut)
        deliverable, local = self.deliverable, self._local
        stranded = [
            seq
            for seq, parcel in deliverable.items()
            if seq not in local and not self.reaches(parcel[0].to.node, parcel[0].from_.node)
        ]
        for seq in stranded:
            self.held[seq] = self.take(seq)  # type: ignore[assignment]
        # A message in transit across a cut waits for the heal too (its latency is then
        # spent): what is left in transit always lands deliverable.
        for seq in [s for s, (_, p) in self.transit.items() if not self._reached(p)]:
            self.held[seq] = self.transit.pop(seq)[1]

    def heal(self) -> None:
        """Put back every link: every held message is deliverable again, in seq order."""
        self._set_links([])
        held, self.held = self.held, {}
        for seq in sorted(held):
            self._arrive(seq, held[seq])  # held again only if the topology has no path

    def _set_links(self, cut: list[tuple[str, str]]) -> None:
        self.cut = tuple(sorted(cut))
        if cut:
            links = self.topology.copy()
            links.remove_edges_from(cut)
        else:
            links = self.topology
        self.links = links
        self._reach = reach_of(links)

    def envelope(self, seq: int) -> Envelope | None:
        """The envelope of message ``seq`` as sent (its pids and cid only may be read)."""
        parcel = self.get(seq)
        return None if parcel is None else parcel[0]


def _least(least: int, most: int) -> int:
    return least


def partition_problem(groups: tuple[tuple[str, ...], ...], nodes: tuple[str, ...]) -> str | None:
    """Why ``groups`` is not a partition of ``nodes`` (None if it is one): two or more
    non-empty groups that name every node exactly once."""
    named = sorted(node for group in groups for node in group)
    if named != sorted(nodes):
        return f"partition {groups} does not name each node of {nodes} exactly once"
    if len(groups) < 2 or not all(groups):
        return f"partition {groups} needs two or more groups, none of them empty"
    return None
