"""Choosers decide which enabled event happens next.

Every decision goes through two draws, ``choose(n)`` and ``weighted(probabilities)``,
and 0 is always the simplest outcome: deliver the oldest message, inject no fault.
That is what lets a shrinker that minimises draws (Hypothesis, or our own delta
debugging) head for short, FIFO-like, fault-free schedules.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Protocol

from ._events import Crash, Deliver, Drop, Duplicate, Event, FireTimer, Heal, Partition, Restart
from ._scenario import Faults
from ._world import World


class Chooser(Protocol):
    """Picks the next event; None ends the phase (nothing left to do, or nothing wanted)."""

    def next_event(self, world: World) -> Event | None: ...


class DrawingChooser(ABC):
    """The scheduling policy, written once over the draws that subclasses supply.

    Per step: first one ``weighted`` draw for a node-level fault (none, restart a down
    node, crash an up one, partition or heal), then one ``choose`` over the deliverable
    messages and the next timer (messages first, the oldest at 0, the timer last), then,
    for a message between two nodes, one ``weighted`` draw: deliver it, drop it or
    duplicate it. Few draws per step keep Hypothesis-driven runs cheap.
    """

    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults

    @abstractmethod
    def choose(self, n: int) -> int:
        """An index in ``range(n)``; 0 is the simplest. Deterministic given the seed."""

    @abstractmethod
    def weighted(self, probabilities: Sequence[float]) -> int:
        """0, or ``i`` (from 1) with ``probabilities[i - 1]``; 0 is the simplest.

        The probabilities are all above 0 and sum to less than 1; 0 takes the rest.
        """

    def next_event(self, world: World) -> Event | None:
        faults = self.faults or world.scenario.faults
        if faults.crash or faults.partition:
            fault = self._node_fault(world, faults)
            if fault is not None:
                return fault
        messages = world.messages
        n = len(messages)
        timer = world.next_timer() if world.timers else None
        total = n + (timer is not None)
        if total == 0:
            # Nothing in flight: undo a fault the faults allow undoing, so the run goes on.
            return _settle(world, heal=faults.heal_rate > 0, restart=faults.restart_rate > 0)
        seq = self.pick(world, n, timer)
        if seq is None:
            return FireTimer(timer)  # type: ignore[arg-type]
        if faults.drop or faults.duplicate:
            env = messages.get(seq)[0]  # type: ignore[index]
            # Within a node (a routed hop) nothing crosses the network: no fault applies.
            if env.to.node != env.from_.node and seq not in world.local:
                return self._message_fault(seq, faults)
        return Deliver(seq)

    def pick(self, world: World, n: int, timer: int | None) -> int | None:
        """The seq of the message to act on, or None for the next timer.

        One ``choose`` over the ``n`` deliverable messages and the timer: the oldest
        message at 0, the timer last. Other policies (PCT) override this alone.
        """
        total = n + (timer is not None)
        i = self.choose(total) if total > 1 else 0
        return None if i == n else world.messages.at(i)

    def _message_fault(self, seq: int, faults: Faults) -> Event:
        options = [
            (p, kind) for p, kind in ((faults.drop, Drop), (faults.duplicate, Duplicate)) if p
        ]
        i = self._weighted([p for p, _ in options])
        return Deliver(seq) if i == 0 else options[i - 1][1](seq)

    def _node_fault(self, world: World, faults: Faults) -> Event | None:
        down = world.down_nodes()
        clients = world.scenario.clients
        # Empty when every node is down; clients' nodes are never crashed.
        up = [node for node in world.up_nodes() if node not in clients]
        options: list[tuple[float, str]] = []
        if down and faults.restart_rate:
            options.append((faults.restart_rate, "restart"))
        if up and len(down) < faults.crash and faults.crash_rate:
            options.append((faults.crash_rate, "crash"))
        if faults.partition and len(world.scenario.nodes) > 1:
            if world.partitioned and faults.heal_rate:
                options.append((faults.heal_rate, "heal"))
            elif not world.partitioned and faults.partition_rate:
                options.append((faults.partition_rate, "partition"))
        i = self._weighted([p for p, _ in options])
        if i == 0:
            return None
        kind = options[i - 1][1]
        if kind == "restart":
            return Restart(self._pick(down))
        if kind == "crash":
            return Crash(self._pick(up))
        if kind == "heal":
            return Heal()
        return Partition(self._split(world.scenario.nodes))

    def _weighted(self, probabilities: list[float]) -> int:
        if not probabilities:
            return 0
        total = sum(probabilities)
        if total >= 1.0:  # more than certain: scale down, leaving "nothing" a sliver
            probabilities = [p * 0.999 / total for p in probabilities]
        return self.weighted(probabilities)

    def _pick(self, items: Sequence[str]) -> str:
        return items[self.choose(len(items)) if len(items) > 1 else 0]

    def _split(self, nodes: Sequence[str]) -> tuple[tuple[str, ...], ...]:
        """Two groups: a minority of 1 to len/2 nodes picked one by one, and the rest."""
        rest = list(nodes)
        size = 1 + self.choose(len(nodes) // 2) if len(nodes) > 3 else 1
        minority = [rest.pop(self.choose(len(rest))) for _ in range(size)]
        return (tuple(sorted(minority, key=nodes.index)), tuple(rest))


class RandomChooser(DrawingChooser):
    """Draws from a ``random.Random`` of its own, seeded with ``seed``: never the global one."""

    def __init__(self, seed: int, faults: Faults | None = None) -> None:
        super().__init__(faults)
        self.seed = seed
        self._random = random.Random(seed).random

    def choose(self, n: int) -> int:
        return int(self._random() * n)

    def weighted(self, probabilities: Sequence[float]) -> int:
        r = self._random()
        for i, p in enumerate(probabilities, 1):
            if r < p:
                return i
            r -= p
        return 0


def _settle(world: World, *, heal: bool = True, restart: bool = True) -> Event | None:
    """Heal, or restart the first down node: the first steps of undoing faults."""
    if heal and world.partitioned:
        return Heal()
    down = world.down_nodes()
    return Restart(down[0]) if restart and down else None


class FairChooser:
    """The liveness phase: heal, restart every down node, then deliver fairly.

    Fair means first in, first out across messages and timers: the oldest message, unless
    the next timer due was started before it. No message and no timer waits forever, and
    no fault is injected.
    """

    def next_event(self, world: World) -> Event | None:
        settle = _settle(world)
        if settle is not None:
            return settle
        timer = world.next_timer() if world.timers else None
        if len(world.messages):
            oldest = world.messages.oldest()
            if timer is None or oldest < timer:
                return Deliver(oldest)
        return FireTimer(timer) if timer is not None else None


class ReplayChooser:
    """Replays a recorded list of events, then ends."""

    def __init__(self, events: Iterable[Event]) -> None:
        self._events = iter(events)

    def next_event(self, world: World) -> Event | None:
        return next(self._events, None)
