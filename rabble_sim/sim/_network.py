"""The simulated network: its links, every message in flight, and the seq counter.

Every message and timer gets a sequence id (seq) from one counter, in the order they are
created, so that a schedule names them stably. The network is a directed networkx graph
(``links``) that faults edit: a partition cuts the links between its groups (one way
only, if it says so), and a heal puts back the scenario's topology. A message reaches its
receiver's node if some path of links leads there (``reaches``).

A full topology (every pair linked, the default) is never built as a graph: a cut of it is
its partition's groups, and who reaches whom follows from them, so that a cluster of a
thousand nodes costs nothing per pair until a graph is asked for (``links``).

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
from collections.abc import Callable, Iterable, Iterator, Mapping, Set as AbstractSet
from typing import TYPE_CHECKING, Any

import networkx as nx

from ..codec import transit
from ..core import Envelope
from ._parcel import Parcel
from ._pool import Pool
from ._topology import reach_of

if TYPE_CHECKING:
    from ._timers import Timers

Latency = Callable[[str, str], tuple[int, int]]
"""The (least, most) ms a message takes from one node to another."""
Cut = tuple[tuple[tuple[str, ...], ...], bool]
"""A partition: its groups, and whether it cuts only the links into the first one."""


class Network:
    """The network of a World whose nodes are up or down as ``up`` says, linked as
    ``topology`` says (None: every pair); ``faults`` says whether messages may be dropped or
    duplicated, and ``latency`` how long they take, if they take time at all (``clock``'s
    ``now`` is the time, and a message's delay is drawn by ``delay(least, most)``)."""

    def __init__(
        self,
        up: Mapping[str, bool],
        topology: nx.DiGraph | None = None,
        *,
        faults: bool = False,
        latency: Latency | None = None,
    ) -> None:
        self.up = up
        self.next_seq = 0
        self.deliverable: Pool[Parcel] = Pool()
        self.crossing: Pool[Parcel] = Pool()
        """The deliverable messages that cross the network, kept only if ``faults``."""
        self._faults = faults
        self.held: dict[int, Parcel] = {}
        self.held_arrivals: dict[int, int] = {}
        """When each held message that was still in transit at the cut will arrive: after the
        heal it goes on waiting for that time."""
        self.topology = topology
        """The links when nothing is cut (the scenario's, shared: never changed); None for
        every pair."""
        self.partition_of: Cut | None = None
        """The partition that cut links now, if any."""
        self._group: dict[str, int] = {}
        """Each node's group in the partition (of a full topology)."""
        self._reach = None if topology is None else reach_of(topology)
        self.transit: dict[int, tuple[int, Parcel]] = {}
        """Messages a link's latency keeps, by seq: (arrival time, parcel)."""
        self._arrivals: list[tuple[int, int]] = []  # (arrival, seq), some of them gone
        self.latency = latency
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
        """A copy whose parcels are copied as ``memo`` says."""
        clone = self.fork(copy.deepcopy(self.up, memo))
        memo[id(self)] = clone  # a timer's seq counter is this network's bound method
        clone.deliverable = copy.deepcopy(self.deliverable, memo)
        clone.crossing = copy.deepcopy(self.crossing, memo)
        clone.held = {seq: copy.deepcopy(parcel, memo) for seq, parcel in self.held.items()}
        clone.transit = {
            seq: (arrival, copy.deepcopy(parcel, memo))
            for seq, (arrival, parcel) in self.transit.items()
        }
        clone.clock = copy.deepcopy(self.clock, memo)
        clone.delay = copy.deepcopy(self.delay, memo)  # a bound method: the clone's world's
        return clone

    def fork(self, up: Mapping[str, bool]) -> Network:
        """A copy over ``up`` (the copy of its world's) that shares the parcels (nobody
        changes one); its world gives it its clock (``keep_time``)."""
        clone = object.__new__(Network)
        clone.__dict__.update(self.__dict__)
        clone.up = up
        clone.deliverable = self.deliverable.copy()
        clone.crossing = self.crossing.copy()
        clone.held = self.held.copy()
        clone.held_arrivals = self.held_arrivals.copy()
        clone.transit = self.transit.copy()
        clone._arrivals = self._arrivals.copy()
        clone._local = self._local.copy()
        return clone  # the topology, groups and reach are replaced, never changed: shared

    def keep_time(
        self, clock: Timers | None, delay: Callable[[int, int], int] | None = None
    ) -> None:
        """Take the time from ``clock`` (its ``now``) and draw messages' delays with
        ``delay``: the World's, once it has made its timers (None, and no delay: the
        world is disposed)."""
        self.clock = clock
        self.delay = _least if delay is None else delay

    # -- reading ----------------------------------------------------------------------------

    @property
    def partitioned(self) -> bool:
        """Whether a partition cut links (a heal is then possible)."""
        return self.partition_of is not None

    @property
    def links(self) -> nx.DiGraph:
        """The links now, as a new graph: the topology less the links cut."""
        graph = self.topology.copy() if self.topology is not None else _complete(self.up)
        graph.remove_edges_from(self.cut)
        return graph

    @property
    def cut(self) -> list[tuple[str, str]]:
        """The links of the topology that the partition cut, sorted."""
        if self.partition_of is None:
            return []
        group, one_way = self._group, self.partition_of[1]
        edges = self.topology.edges if self.topology is not None else _complete(self.up).edges
        return sorted(
            (a, b)
            for a, b in edges
            if group.get(a) != group.get(b) and not (one_way and group.get(a) == 0)
        )

    def get(self, seq: int) -> Parcel | None:
        """The message ``seq`` in flight, deliverable, in transit or held, or None."""
        parcel = self.deliverable.get(seq) or self.held.get(seq)
        if parcel is None and seq in self.transit:
            parcel = self.transit[seq][1]
        return parcel

    def flying(self) -> Iterator[tuple[int, Parcel]]:
        """Every message in flight, deliverable, in transit or held, in no particular
        order (``in_flight`` sorts them by seq)."""
        yield from self.deliverable.items()
        yield from self.held.items()
        for seq, (_, parcel) in self.transit.items():
            yield seq, parcel

    def seqs(self) -> AbstractSet[int]:
        """The seqs of every message in flight, as a set (a view: made in O(1) when every
        message is deliverable)."""
        deliverable = self.deliverable.seqs()
        if not self.held and not self.transit:
            return deliverable
        return deliverable | self.held.keys() | self.transit.keys()

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
        if self.partition_of is None and self._reach is None:
            return True
        if to == from_:
            return True
        if self.topology is None and self.partition_of is not None:
            # Every pair linked: the groups say it all. (.get: a process may put any pid in
            # from_, even one on a node that does not exist.)
            source = self._group.get(from_)
            return self._group.get(to) == source or (self.partition_of[1] and source == 0)
        reach = self._reach
        return reach is None or to in reach.get(from_, ())

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
        if (
            self.partition_of is None
            and self._reach is None
            and self.latency is None
            and not self._faults
            and self.up.get(node)
        ):
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
        if self.latency is not None and node != source:
            least, most = self.latency(source, node)
            if most > 0 and self.clock is not None:
                delay = self.delay(least, most)
                if delay > 0:
                    self._fly(seq, self.clock.now + delay, parcel)
                    return
        self._arrive(seq, parcel)

    def _fly(self, seq: int, arrival: int, parcel: Parcel) -> None:
        """``parcel`` arrives at ``arrival``: in transit until then if a path leads to its
        node, else held with its arrival until the heal."""
        if self._reached(parcel):
            self.transit[seq] = (arrival, parcel)
            heapq.heappush(self._arrivals, (arrival, seq))
        else:
            self.held[seq] = parcel
            self.held_arrivals[seq] = arrival

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
            self.held_arrivals.pop(seq, None)
        for seq in [s for s, (_, p) in self.transit.items() if p[0].to.node == node]:
            del self.transit[seq]

    def partition(self, groups: Iterable[Iterable[str]], *, one_way: bool = False) -> None:
        """Cut every link between two of ``groups`` (with ``one_way``, only those into
        the first group: it is heard, but hears no one outside it). Messages that can no
        longer reach their node are held."""
        self._cut((tuple(map(tuple, groups)), one_way))
        deliverable, local = self.deliverable, self._local
        stranded = [
            seq
            for seq, parcel in deliverable.items()
            if seq not in local and not self._reached(parcel)
        ]
        for seq in stranded:
            self.held[seq] = self.take(seq)  # type: ignore[assignment]
        # A message in transit across a cut waits for the heal too, keeping its arrival:
        # what is left in transit always lands deliverable.
        for seq in [s for s, (_, p) in self.transit.items() if not self._reached(p)]:
            arrival, self.held[seq] = self.transit.pop(seq)
            self.held_arrivals[seq] = arrival

    def heal(self) -> None:
        """Put back every link: every held message is deliverable again, in seq order."""
        self._cut(None)
        held, self.held = self.held, {}
        arrivals, self.held_arrivals = self.held_arrivals, {}
        now = self.clock.now if self.clock is not None else 0
        for seq in sorted(held):
            arrival = arrivals.get(seq, now)
            if arrival > now:  # it still has its latency to spend
                self._fly(seq, arrival, held[seq])
            else:  # held again only if the topology has no path
                self._arrive(seq, held[seq])

    def _cut(self, partition: Cut | None) -> None:
        self.partition_of = partition
        self._group = (
            {} if partition is None
            else {node: i for i, members in enumerate(partition[0]) for node in members}
        )  # fmt: skip
        if self.topology is not None:
            self._reach = reach_of(self.links)

    def envelope(self, seq: int) -> Envelope | None:
        """The envelope of message ``seq`` as sent (its pids and cid only may be read)."""
        parcel = self.get(seq)
        return None if parcel is None else parcel[0]


def _least(least: int, most: int) -> int:
    return least


def _complete(nodes: Iterable[str]) -> nx.DiGraph:
    """Every pair of ``nodes`` linked, both ways."""
    return nx.complete_graph(list(nodes), create_using=nx.DiGraph)


def partition_problem(groups: tuple[tuple[str, ...], ...], nodes: tuple[str, ...]) -> str | None:
    """Why ``groups`` is not a partition of ``nodes`` (None if it is one): two or more
    non-empty groups that name every node exactly once."""
    named = sorted(node for group in groups for node in group)
    if named != sorted(nodes):
        return f"partition {groups} does not name each node of {nodes} exactly once"
    if len(groups) < 2 or not all(groups):
        return f"partition {groups} needs two or more groups, none of them empty"
    return None
