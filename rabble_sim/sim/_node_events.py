"""The World's node-level events: crashes and restarts, cuts and heals, clocks and disks.

Each changes what a node is (up or down, its clock, its disk) or which nodes reach which,
never a message's content; ``World`` applies them through the appliers below, and every
one that changes the members a node sees tells that node's watchers
(``WatchCluster``, ``Watch``) afterwards.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..codec import decode_durable, encode_durable
from ..core import CodecError, Durable, Envelope, Pid, RabbleInternalError
from ._events import (
    CorruptDisk,
    Crash,
    Drift,
    Event,
    Heal,
    Jump,
    LoseDisk,
    Partition,
    Restart,
)
from ._failures import EventNotEnabled
from ._network import partition_problem

if TYPE_CHECKING:
    from ..executor import Executor
    from ._clocks import Clocks
    from ._network import Network
    from ._parcel import Parcel
    from ._scenario import Scenario

    Applied = tuple[Parcel | None, list[Envelope]]


class NodeEvents:
    """The appliers of node-level events, and what they share, for ``World``."""

    if TYPE_CHECKING:
        scenario: Scenario
        up: dict[str, bool]
        network: Network
        clocks: Clocks
        executors: dict[str, Executor]
        durable: dict[Pid, Any]
        disks: dict[str, tuple[bool, tuple[Pid, ...]]]
        drifts: int
        step: int

        def members(self, node: str) -> tuple[str, ...]: ...
        def executor(self, node: str) -> Executor: ...
        def _build(self, node: str, durable: dict[Pid, Any] | None) -> list[Any]: ...
        def _init(self, node: str, procs: list[Any]) -> list[Envelope]: ...

    def fault_problem(self, event: Event, *, begun: bool = False) -> str | None:
        """Why node-level ``event`` (a crash, restart, partition, heal, drift, jump or disk
        fault) cannot happen next, or None if it can (or if it is another kind); with
        ``begun``, as the event of the step under way (``begin_step`` numbered it)."""
        if isinstance(event, Heal):
            return None if self.network.partitioned else "the network is not partitioned"
        if isinstance(event, Partition):
            if self.network.partitioned:
                return "the network is already partitioned"
            return partition_problem(event.groups, self.scenario.nodes)
        node = event.pid.node if isinstance(event, CorruptDisk) else getattr(event, "node", None)
        if node is None:
            return None
        if node not in self.up:
            return f"there is no node {node!r}"
        if isinstance(event, Crash | Restart | LoseDisk | CorruptDisk):
            down = not isinstance(event, Crash)
            if self.up[node] == down:
                already = "already " if isinstance(event, Crash | Restart) else ""
                return f"node {node!r} is {already}{'up' if down else 'down'}"
        if isinstance(event, CorruptDisk):
            corrupted = self.disks.get(node, (False, ()))[1]
            if event.pid not in self.durable or event.pid in corrupted:
                return f"{event.pid} has no intact record on the disk of {node}"
        if isinstance(event, Drift):
            if self.drifts < self.step - begun:
                return "clocks drift only when a run begins, before any other event"
            if not 0 < event.rate < 2:
                return f"a clock's rate is between 0 and 2, not {event.rate}"
        if isinstance(event, Jump) and event.ms < 0:
            return f"a clock jumps ahead, not {event.ms} ms back"
        return None

    def _check(self, event: Event) -> None:
        problem = self.fault_problem(event, begun=True)
        if problem is not None:
            raise EventNotEnabled(problem)

    def _crash(self, event: Crash) -> Applied:
        self._check(event)
        node = event.node
        before = self._members_seen()
        self.up[node] = False
        self.executor(node).stop_all()
        self.network.node_down(node)
        self._members_changed(before)
        return None, []

    def _restart(self, event: Restart) -> Applied:
        self._check(event)
        node = event.node
        before = self._members_seen()
        procs = self._build(node, self._recovered(node))
        self.up[node] = True
        # The other nodes' watchers hear of the restart before the new processes run init.
        self._members_changed(before)
        return None, self._init(node, procs)

    def _recovered(self, node: str) -> Durable:
        """What ``node``'s disk gives back to its restart: the data its pids persisted,
        each record read through its checksum, and what befell the disk meanwhile. By pid,
        in their order as strings, not in the order they first persisted: ``start`` may
        build processes in the order it is given, and that order is no part of a state."""
        lost, corrupted = self.disks.pop(node, (False, ()))
        data: dict[Pid, Any] = {}
        bad: list[Pid] = []
        mine = [(str(pid), pid) for pid in self.durable if pid.node == node]
        for _, pid in sorted(mine):
            value = self.durable[pid]
            if pid not in corrupted:
                data[pid] = copy.deepcopy(value)
                continue
            record = bytearray(encode_durable(value))
            record[len(record) // 2] ^= 0xFF  # a flipped byte: the checksum must catch it
            try:
                decode_durable(bytes(record))
            except CodecError:
                bad.append(pid)
            else:  # pragma: no cover  (a checksum that missed it would be our bug)
                raise RabbleInternalError(f"a corrupted record of {pid} passed its checksum")
        for pid in bad:
            del self.durable[pid]  # unreadable: as good as never written
        return Durable(data, lost=lost, corrupted=tuple(bad))

    def _partition(self, event: Partition) -> Applied:
        self._check(event)
        before = self._members_seen()
        self.network.partition(event.groups, one_way=event.one_way)
        self._members_changed(before)
        return None, []

    def _heal(self, event: Heal) -> Applied:
        self._check(event)
        before = self._members_seen()
        self.network.heal()
        self._members_changed(before)
        return None, []

    def _drift(self, event: Drift) -> Applied:
        self._check(event)
        self.clocks.drift(event.node, event.rate)
        self.drifts += 1
        return None, []

    def _jump(self, event: Jump) -> Applied:
        self._check(event)
        self.clocks.jump(event.node, event.ms)
        return None, []

    def _lose_disk(self, event: LoseDisk) -> Applied:
        self._check(event)
        node = event.node
        for pid in [pid for pid in self.durable if pid.node == node]:
            del self.durable[pid]
        self.disks[node] = (True, ())
        return None, []

    def _corrupt_disk(self, event: CorruptDisk) -> Applied:
        self._check(event)
        node = event.pid.node
        lost, corrupted = self.disks.get(node, (False, ()))
        self.disks[node] = (lost, (*corrupted, event.pid))
        return None, []

    # -- membership -------------------------------------------------------------------------

    def _members_seen(self) -> dict[str, tuple[str, ...]]:
        """What each node with watchers sees now: taken before a crash, restart, partition
        or heal, and handed to ``_members_changed`` after it."""
        return {node: self.members(node) for node, e in self.executors.items() if e.watching}

    def _members_changed(self, before: dict[str, tuple[str, ...]]) -> None:
        """Tell the watchers of each node whose members changed since ``before`` (a node's
        watchers that died with it hear nothing)."""
        for node, executor in list(self.executors.items()):
            if executor.watching:
                members = self.members(node)
                if before.get(node) != members:
                    self.executor(node).members_changed(members)


NODE_APPLIERS: dict[type, Callable[[NodeEvents, Any], Applied]] = {
    Crash: NodeEvents._crash,
    Restart: NodeEvents._restart,
    Partition: NodeEvents._partition,
    Heal: NodeEvents._heal,
    Drift: NodeEvents._drift,
    Jump: NodeEvents._jump,
    LoseDisk: NodeEvents._lose_disk,
    CorruptDisk: NodeEvents._corrupt_disk,
}
"""What applies each kind of node-level event (``World.APPLIERS`` holds them too)."""
