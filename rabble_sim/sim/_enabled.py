"""What can happen next: the events enabled in a world, as one canonical sequence.

Every chooser picks among these, and nothing else decides what is possible. The order is
canonical, and index 0 is the simplest thing that can happen: deliver the oldest message.
Then the other deliveries, what time brings next (the next timer due, or the message in
transit that arrives first: its delivery), the inputs that may be given (offers: the
chooser draws an offered input's message), and the faults the ``Faults`` allow, last:
drops and duplicates of messages that cross the network, restarts of down nodes, crashes
within the crash budget (never of the scenario's client nodes), the heal of a cut, the
partitions into two groups (and, with ``one_way``, each of them cut one way, either
way), the drifts of each node's clock while the run has not begun (its slowest and its
fastest), jumps of each up node's clock, and the loss of a down node's disk and the
corruption of each record on it.

It is a live view, not a list: it reads the world when asked, so one view serves a whole
run, and ``len`` and indexing are O(1) in the messages in flight (the node-level faults
are computed from the handful of nodes when asked for).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, overload

from ._events import (
    CorruptDisk,
    Crash,
    Deliver,
    Drift,
    Drop,
    Duplicate,
    Event,
    FireTimer,
    Heal,
    Jump,
    LoseDisk,
    Partition,
    Restart,
)
from ._inputs import InputOffer
from ._scenario import Faults

if TYPE_CHECKING:
    from ._world import World


Possible = Event | InputOffer
"""An enabled event, or an input that may be given (an event once its message is drawn)."""


class Enabled(Sequence[Possible]):
    """The events enabled in ``world`` under ``faults``, simplest first, as they are
    whenever it is read."""

    __slots__ = ("_crossing", "_deliverable", "_network", "_timers", "faults", "world")

    def __init__(self, world: World, faults: Faults) -> None:
        network = world.network
        self.world = world
        self.faults = faults
        self._network = network
        self._deliverable = network.deliverable
        self._crossing = network.crossing
        self._timers = world.timers

    # -- the parts --------------------------------------------------------------------------

    @property
    def deliveries(self) -> int:
        """How many messages may be delivered: ``delivery(i)`` for ``i`` below it."""
        return len(self._deliverable)

    @property
    def timer(self) -> int | None:
        """The seq of what time brings next, if anything: the next timer due, or the
        message in transit that arrives first (``World.next_due``); ``due`` makes it an
        event."""
        if self._network.transit:
            due = self.world.next_due()
            return None if due is None else due[1]
        return self._timers.next()

    def due(self, seq: int) -> Event:
        """The event of ``timer``'s seq: the timer fires, or the message arrives and is
        delivered."""
        return FireTimer(seq) if seq in self._timers else Deliver(seq)

    def messages(self) -> tuple[int, int | None]:
        """``deliveries`` and ``timer`` at once (the question every step asks)."""
        if self._network.transit:
            return len(self._deliverable), self.timer
        return len(self._deliverable), self._timers.next()

    def delivery(self, index: int) -> int:
        """The seq of the ``index``-th deliverable message; 0 is the oldest."""
        return self._deliverable.at(index)

    @property
    def inputs(self) -> list[InputOffer]:
        """The inputs that may be given now (``World.input_offers``)."""
        return self.world.input_offers() if self.world.scenario.inputs else []

    def crosses(self, seq: int) -> bool:
        """Whether deliverable message ``seq`` crosses the network, where a drop or a
        duplicate may befall it (not a message within a node, nor a routed hop)."""
        return self._network.crosses(seq)

    @property
    def drops(self) -> int:
        """How many messages may be dropped (each crossing one, if ``Faults.drop`` or a
        link's own chance allows drops at all)."""
        return len(self._crossing) if self.faults.drops else 0

    @property
    def duplicates(self) -> int:
        """How many messages may be duplicated (each crossing one, if ``Faults.duplicate``)."""
        return len(self._crossing) if self.faults.duplicate > 0 else 0

    def faulted(self, index: int) -> int:
        """The seq of the ``index``-th message a drop or a duplicate may befall."""
        return self._crossing.at(index)

    @property
    def restarts(self) -> list[str]:
        """The nodes that are down, which may restart."""
        return self._node_faults()[0]

    @property
    def crashes(self) -> list[str]:
        """The up nodes that may crash: none of the clients' nodes, and none once
        ``Faults.crash`` nodes are down."""
        return self._node_faults()[1]

    @property
    def heal(self) -> bool:
        """Whether a partition may heal (whether there is one)."""
        return self._node_faults()[2]

    @property
    def partitions(self) -> Sequence[Partition]:
        """The partitions that may happen (``Faults.partition``, and no cut yet): into a
        minority of one to half of the nodes and the rest; with ``Faults.one_way``, each
        also cut one way, either way (the minority deaf, then the rest)."""
        return self._node_faults()[3]

    def clock_faults(self) -> list[Drift | Jump]:
        """The drifts of each node's clock not drifted yet, while the run has not begun
        (``Faults.drift``: its slowest, then its fastest), then a jump of each up node's
        clock (``Faults.jump``, by that many ms)."""
        world, faults = self.world, self.faults
        events: list[Drift | Jump] = []
        if faults.drift and world.drifting:
            slow, fast = round(1 - faults.drift, 3), round(1 + faults.drift, 3)
            for node in world.scenario.nodes:
                if not world.clocks.drifted(node):
                    events += (Drift(node, slow), Drift(node, fast))
        if faults.jump:
            events += (Jump(node, faults.jump) for node in world.up_nodes())
        return events

    def disk_faults(self) -> list[LoseDisk | CorruptDisk]:
        """The disks of down nodes that may be replaced (``Faults.disk_loss``), then the
        records on them that may be corrupted (``Faults.disk_corruption``)."""
        world, faults = self.world, self.faults
        if not (faults.disk_loss or faults.disk_corruption):
            return []
        down = world.down_nodes()
        events: list[LoseDisk | CorruptDisk] = []
        if faults.disk_loss:
            events += (LoseDisk(n) for n in down if not world.disks.get(n, (False,))[0])
        if faults.disk_corruption:
            events += (
                CorruptDisk(pid)
                for pid in world.durable
                if pid.node in down and world.fault_problem(CorruptDisk(pid)) is None
            )
        return events

    # -- as one sequence --------------------------------------------------------------------

    def __bool__(self) -> bool:
        """Whether anything can happen: asked of every state exploration reaches, and
        mostly answered by the messages and timers alone."""
        return bool(self._deliverable) or self.timer is not None or len(self) > 0

    def __len__(self) -> int:
        restarts, crashes, heal, partitions = self._node_faults()
        messages = self.deliveries + (self.timer is not None) + self.drops + self.duplicates
        nodes = len(restarts) + len(crashes) + heal + len(partitions)
        return messages + len(self.inputs) + nodes + len(self._rare())

    def __iter__(self) -> Iterator[Possible]:
        """Every enabled event in order, as indexing would give them one by one, at once."""
        deliverable, crossing = self._deliverable, self._crossing
        yield from (Deliver(deliverable.at(i)) for i in range(len(deliverable)))
        timer = self.timer
        if timer is not None:
            yield self.due(timer)
        yield from self.inputs
        yield from (Drop(crossing.at(i)) for i in range(self.drops))
        yield from (Duplicate(crossing.at(i)) for i in range(self.duplicates))
        restarts, crashes, heal, partitions = self._node_faults()
        yield from map(Restart, restarts)
        yield from map(Crash, crashes)
        if heal:
            yield Heal()
        yield from partitions
        yield from self._rare()

    @overload
    def __getitem__(self, index: int) -> Possible: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Possible]: ...
    def __getitem__(self, index: int | slice) -> Possible | Sequence[Possible]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        deliveries, timer = self.deliveries, self.timer
        if 0 <= index < deliveries:
            return Deliver(self.delivery(index))
        index -= deliveries
        if timer is not None:
            if index == 0:
                return self.due(timer)
            index -= 1
        inputs = self.inputs
        if 0 <= index < len(inputs):
            return inputs[index]
        index -= len(inputs)
        for count, kind in ((self.drops, Drop), (self.duplicates, Duplicate)):
            if 0 <= index < count:
                return kind(self.faulted(index))
            index -= count
        restarts, crashes, heal, partitions = self._node_faults()
        for nodes, node_kind in ((restarts, Restart), (crashes, Crash)):
            if 0 <= index < len(nodes):
                return node_kind(nodes[index])
            index -= len(nodes)
        if heal:
            if index == 0:
                return Heal()
            index -= 1
        if 0 <= index < len(partitions):
            return partitions[index]
        index -= len(partitions)
        rare = self._rare()
        if 0 <= index < len(rare):
            return rare[index]
        raise IndexError("no such enabled event")

    # -- inside -----------------------------------------------------------------------------

    def _node_faults(self) -> tuple[list[str], list[str], bool, Sequence[Partition]]:
        world, faults = self.world, self.faults
        nodes = world.scenario.nodes
        down = world.down_nodes()
        clients = world.scenario.clients
        crashes = (
            [n for n in nodes if world.up[n] and n not in clients]
            if len(down) < faults.crash
            else []
        )
        partitioned = self._network.partitioned
        may_split = faults.partition and not partitioned and len(nodes) > 1
        splits = _splits(nodes, one_way=faults.one_way) if may_split else ()
        return down, crashes, partitioned, splits

    def _rare(self) -> list[Event]:
        """The clock and disk faults, in their order (last of all)."""
        faults = self.faults
        if not (faults.drift or faults.jump or faults.disk_loss or faults.disk_corruption):
            return []
        return [*self.clock_faults(), *self.disk_faults()]


@functools.lru_cache(maxsize=64)
def _splits(nodes: tuple[str, ...], *, one_way: bool = False) -> tuple[Partition, ...]:
    """Every split of ``nodes`` into two groups, a minority (of one to half of them, in
    node order) and the rest; with an even count, a half holding the first node. With
    ``one_way``, each split is followed by its two one-way cuts (the minority deaf to the
    rest, then the rest deaf to the minority)."""
    if one_way:
        return tuple(
            cut
            for split in _splits(nodes)
            for cut in (
                split,
                Partition(split.groups, one_way=True),
                Partition(split.groups[::-1], one_way=True),
            )
        )
    splits = []
    for size in range(1, len(nodes) // 2 + 1):
        for minority in itertools.combinations(nodes, size):
            if 2 * size == len(nodes) and nodes[0] not in minority:
                continue  # the same split as the half that holds the first node
            rest = tuple(n for n in nodes if n not in minority)
            splits.append(Partition((minority, rest)))
    assert len(splits) == _split_count(len(nodes))
    return tuple(splits)


def _split_count(n: int) -> int:
    return sum(math.comb(n, k) for k in range(1, n // 2 + 1)) - (
        math.comb(n - 1, n // 2) if n % 2 == 0 and n else 0
    )
