"""Choosers decide which of the enabled events happens next, each decision at one point.

A drawing chooser is a scheduling policy over the events the world says are enabled
(``World.enabled``), written once, and a source of draws (``Draws``: a seeded generator,
Hypothesis, or a recording). Every decision of a run, whatever kind, passes through its
``choose(n)`` ("one of n") or ``weighted(probabilities)``, which record it in
``decisions``: the same policy over ``RecordedDraws(decisions)`` makes the same run
again (``again``). In every draw 0 is the simplest outcome (deliver the oldest message,
inject no fault), which is what lets a shrinker that minimises draws (Hypothesis, or our
own delta debugging) head for short, FIFO-like, fault-free schedules.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, TypeVar

from ..core import RabbleError
from ._enabled import Enabled
from ._events import (
    CorruptDisk,
    Crash,
    Deliver,
    Drift,
    Drop,
    Duplicate,
    Event,
    Heal,
    Jump,
    LoseDisk,
    Partition,
    Restart,
)
from ._inputs import Draw, replaying
from ._scenario import Faults
from ._world import World

T = TypeVar("T")


class Chooser(Protocol):
    """Picks the next event; None ends the phase (nothing left to do, or nothing wanted).

    A chooser may also have ``random(n)``, "one of n" for the random numbers processes
    ask for (``GetRandom``); one without it (the fair liveness phase)
    leaves them to the run's chooser, and a run with none draws 0."""

    def next_event(self, world: World) -> Event | None: ...


class Draws(Protocol):
    """A source of decisions."""

    def choose(self, n: int) -> int:
        """An index in ``range(n)`` (``n`` at least 1); 0 is the simplest."""

    def weighted(self, probabilities: Sequence[float]) -> int:
        """0, or ``i`` (from 1) with ``probabilities[i - 1]``; 0 is the simplest. The
        probabilities are all above 0 and sum to less than 1; 0 takes the rest."""


class SeededDraws:
    """Draws from a ``random.Random`` of its own, seeded: never the global one."""

    def __init__(self, seed: int | str) -> None:
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


class RecordedDraws:
    """Gives back recorded decisions, in order: a run re-driven from its decisions."""

    def __init__(self, decisions: Iterable[int]) -> None:
        self._decisions = iter(decisions)

    def choose(self, n: int) -> int:
        return self._next(n)

    def weighted(self, probabilities: Sequence[float]) -> int:
        return self._next(len(probabilities) + 1)

    def _next(self, n: int) -> int:
        i = next(self._decisions, None)
        if i is None or not 0 <= i < n:
            what = "no decision is left" if i is None else f"the decision {i} is not below {n}"
            raise RabbleError(f"the recorded decisions do not fit this run: {what}")
        return i


class DrawingChooser:
    """The scheduling policy, written once over the enabled events and one source of draws.

    When a run begins, with ``Faults.drift``, one ``choose`` per node: its clock keeps true
    time, runs slow or runs fast (each a ``Drift`` event before any other). Then per
    step: first a ``weighted`` draw for a node-level fault (none, restart a down node,
    crash an up one, partition or heal, a clock's jump: whichever ``faults`` and the
    state allow; a restart may instead find the node's disk replaced or a record on it
    corrupted, a second ``weighted`` draw), then one
    ``choose`` among the deliverable messages, the next timer and the inputs that may be
    given (messages first, the oldest at 0, then the timer, the inputs last; an input's
    message is drawn by its ``make`` through the same ``choose``), then, for a message
    that crosses the network, a ``weighted`` draw: deliver it, drop it or duplicate it.
    Few draws per step keep Hypothesis-driven runs cheap. ``faults`` (default: the
    scenario's) may be a lighter mix than the scenario's, never a heavier one.
    """

    def __init__(self, draws: Draws, faults: Faults | None = None) -> None:
        self.draws = draws
        self.faults = faults
        self.decisions: array[int] = array("q")
        """Every decision so far, in order: what ``again`` needs to make the run again."""
        self._choose = draws.choose
        self._weighted = draws.weighted
        self._enabled: Enabled | None = None  # a live view: one serves a whole run
        # The default pick is inlined in next_event, the simulator's hot path; a policy
        # that overrides it (PCT) is called.
        self._own_pick = type(self).pick is not DrawingChooser.pick
        self._node_faults = self._message_faults = self._has_inputs = False
        self._drifts: list[Event] = []  # drawn when the run begins, handed out one a step
        self._latency = faults is None or faults.slow

    def again(self, draws: Draws) -> DrawingChooser:
        """A fresh chooser of the same policy over ``draws``; over the decisions this one
        recorded, it makes the same run."""
        return DrawingChooser(draws, self.faults)

    # -- the choke point ----------------------------------------------------------------

    def choose(self, n: int) -> int:
        i = self._choose(n)
        self.decisions.append(i)
        return i

    def weighted(self, probabilities: Sequence[float]) -> int:
        if not probabilities:
            return 0
        total = sum(probabilities)
        if total >= 1.0:  # more than certain: scale down, leaving "nothing" a sliver
            probabilities = [p * 0.999 / total for p in probabilities]
        i = self._weighted(probabilities)
        self.decisions.append(i)
        return i

    def random(self, n: int) -> int:
        """A random number below ``n`` for a process (``GetRandom``): one
        more decision of the run."""
        return self.choose(n)

    def spread(self, n: int) -> int:
        """How many ms beyond its link's least a message takes, below ``n``: one more
        decision, 0 the simplest; always 0 if this chooser's faults have no latency (a
        swarm mix that turned its spread off: each message takes its link's least)."""
        return self.choose(n) if self._latency else 0

    # -- the policy ---------------------------------------------------------------------

    def next_event(self, world: World) -> Event | None:
        enabled = self._enabled
        if enabled is None or enabled.world is not world:
            enabled = self._view(world)
        if self._drifts:
            return self._drifts.pop()
        faults = enabled.faults
        if self._node_faults:
            fault = self._node_fault(enabled, faults, world)
            if fault is not None:
                return fault
        n, timer = enabled.messages()
        total = n + (timer is not None)
        offers = enabled.inputs if self._has_inputs else ()
        if total == 0 and not offers:
            # Nothing in flight: undo a fault the faults allow undoing, so the run goes on.
            return settle(enabled, heal=faults.heal_rate > 0, restart=faults.restart_rate > 0)
        if offers:
            # One decision among the messages, the timer and the inputs, inputs last.
            i = self.choose(total + len(offers))
            if i >= total:
                return world.make_input(offers[i - total], Draw(self.choose))
            if self._own_pick:
                seq = self.pick(world, enabled)
            else:
                seq = None if i == n else enabled.delivery(i)
        elif self._own_pick:
            seq = self.pick(world, enabled)
        else:  # pick(), inlined
            i = 0
            if total > 1:
                i = self._choose(total)
                self.decisions.append(i)
            seq = None if i == n else enabled.delivery(i)
        if seq is None:
            return enabled.due(timer)  # type: ignore[arg-type]
        if self._message_faults and enabled.crosses(seq):
            return self._message_fault(seq, faults, world)
        return Deliver(seq)

    def _view(self, world: World) -> Enabled:
        """The live view of ``world``'s enabled events this chooser picks from, and what
        its faults allow at all, looked up once a run rather than at every step."""
        enabled = self._enabled = world.enabled(self.faults)
        faults = enabled.faults
        self._node_faults = bool(faults.crash or faults.partition or faults.jump)
        self._message_faults = bool(faults.drops or faults.duplicate)
        self._has_inputs = bool(world.scenario.inputs)
        if faults.drift and world.drifting:
            self._drifts = self._draw_drifts(enabled)
        return enabled

    def _draw_drifts(self, enabled: Enabled) -> list[Event]:
        """Each node's clock: true (0, the simplest), slow or fast, one decision a node;
        the drifts in reverse, to be popped."""
        drifts: dict[str, list[Drift]] = {}
        for event in enabled.clock_faults():
            if isinstance(event, Drift):
                drifts.setdefault(event.node, []).append(event)
        drawn: list[Event] = [
            rates[i - 1] for rates in drifts.values() for i in [self.choose(len(rates) + 1)] if i
        ]
        return drawn[::-1]

    def pick(self, world: World, enabled: Enabled) -> int | None:
        """The seq of the message to act on, or None for the next timer.

        One ``choose`` over the deliverable messages and the timer: the oldest message at
        0, the timer last. Other policies (PCT) override this alone.
        """
        n = enabled.deliveries
        total = n + (enabled.timer is not None)
        i = self.choose(total) if total > 1 else 0
        return None if i == n else enabled.delivery(i)

    def _message_fault(self, seq: int, faults: Faults, world: World) -> Event:
        drop = faults.drop
        if faults.links:
            env = world.network.envelope(seq)
            assert env is not None
            drop = faults.drop_of(env.from_.node, env.to.node)
        options = [(p, kind) for p, kind in ((drop, Drop), (faults.duplicate, Duplicate)) if p]
        i = self.weighted([p for p, _ in options])
        return Deliver(seq) if i == 0 else options[i - 1][1](seq)

    def _node_fault(self, enabled: Enabled, faults: Faults, world: World) -> Event | None:
        options: list[tuple[float, str]] = []
        if enabled.restarts and faults.restart_rate:
            options.append((faults.restart_rate, "restart"))
        if enabled.crashes and faults.crash_rate:
            options.append((faults.crash_rate, "crash"))
        if enabled.heal and faults.heal_rate:
            options.append((faults.heal_rate, "heal"))
        elif enabled.partitions and faults.partition_rate:
            options.append((faults.partition_rate, "partition"))
        if faults.jump and faults.jump_rate:
            options.append((faults.jump_rate, "jump"))
        i = self.weighted([p for p, _ in options])
        if i == 0:
            return None
        kind = options[i - 1][1]
        if kind == "restart":
            return self._restart(enabled, faults)
        if kind == "crash":
            return Crash(self._pick(enabled.crashes))
        if kind == "heal":
            return Heal()
        if kind == "jump":
            return Jump(self._pick(world.up_nodes()), faults.jump)
        groups = self._split(world.scenario.nodes)
        if faults.one_way:
            way = self.choose(3)  # both ways, the minority deaf, the rest deaf
            if way:
                return Partition(groups if way == 1 else groups[::-1], one_way=True)
        return Partition(groups)

    def _restart(self, enabled: Enabled, faults: Faults) -> Event:
        """Restart a down node, or, first, find its disk replaced or a record on it
        corrupted (where the faults allow it and there is something to lose)."""
        node = self._pick(enabled.restarts)
        if faults.disk_loss or faults.disk_corruption:
            disk = [e for e in enabled.disk_faults() if _node_of(e) == node]
            losses: list[Event] = [e for e in disk if isinstance(e, LoseDisk)]
            corruptions: list[Event] = [e for e in disk if isinstance(e, CorruptDisk)]
            options = [
                (p, events)
                for p, events in ((faults.disk_loss, losses), (faults.disk_corruption, corruptions))
                if p and events
            ]
            i = self.weighted([p for p, _ in options])
            if i:
                return self._pick(options[i - 1][1])
        return Restart(node)

    def _pick(self, items: Sequence[T]) -> T:
        return items[self.choose(len(items)) if len(items) > 1 else 0]

    def _split(self, nodes: Sequence[str]) -> tuple[tuple[str, ...], ...]:
        """One of the enabled partitions: a minority of 1 to len/2 nodes picked one by one,
        and the rest."""
        rest = list(nodes)
        size = 1 + self.choose(len(nodes) // 2) if len(nodes) > 3 else 1
        minority = [rest.pop(self.choose(len(rest))) for _ in range(size)]
        return (tuple(sorted(minority, key=nodes.index)), tuple(rest))


def _node_of(event: LoseDisk | CorruptDisk) -> str:
    return event.node if isinstance(event, LoseDisk) else event.pid.node


class RandomChooser(DrawingChooser):
    """The policy over draws from a ``random.Random`` of its own, seeded with ``seed``."""

    def __init__(self, seed: int, faults: Faults | None = None) -> None:
        super().__init__(SeededDraws(seed), faults)
        self.seed = seed


def settle(enabled: Enabled, *, heal: bool = True, restart: bool = True) -> Event | None:
    """Heal, or restart the first down node: the first steps of undoing faults."""
    if heal and enabled.heal:
        return Heal()
    down = enabled.restarts
    return Restart(down[0]) if restart and down else None


class FairChooser:
    """The liveness phase: heal, restart every down node (unless the scenario's liveness
    is crash-stop, ``Liveness(restart=False)``), then deliver fairly.

    Fair means in time order, first in first out: the oldest message that has arrived,
    until none is left; then what time brings next (the timer due first, or the first
    message in transit to arrive). Time passes only once the messages that arrived
    before it are delivered, as on a network faster than any timer: a vote sent before
    another server's election timeout is due arrives before that timeout fires. A timer
    due now (0 ms) takes its turn among the messages, by creation. No message waits
    forever, nor does a timer unless messages keep arriving without time passing (a
    protocol that sends for ever in zero time), and no fault is injected.

    The random numbers processes ask for are fair too: uniform, from a generator of its
    own seeded with the run's ``seed``, never the search's choices. A randomized protocol
    is live with probability 1 under fair randomness, not against an adversary (or a
    shrinker) that draws every election timeout the same.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._draws = SeededDraws(f"rabble-sim fair randomness {seed}")

    def random(self, n: int) -> int:
        return self._draws.choose(n)

    def next_event(self, world: World) -> Event | None:
        enabled = world.enabled()
        fix = settle(enabled, restart=world.scenario.restarts_when_faults_stop)
        if fix is not None:
            return fix
        if enabled.deliveries:
            oldest = enabled.delivery(0)
            due = world.next_due()
            if due is None or due[0] > world.now or oldest < due[1]:
                return Deliver(oldest)
            return enabled.due(due[1])
        timer = enabled.timer
        return enabled.due(timer) if timer is not None else None


class ReplayChooser:
    """Replays a recorded list of events, then ends; the random numbers processes draw in
    each step are the recorded ones (``randoms``, by step; the first event is step
    ``first``), then 0."""

    def __init__(
        self,
        events: Iterable[Event],
        randoms: Mapping[int, Sequence[int]] | None = None,
        *,
        first: int = 1,
    ) -> None:
        self._events = iter(events)
        self._randoms = randoms or {}
        self._step = first - 1
        self._random = replaying(self._randoms.get(self._step, ()))

    def next_event(self, world: World) -> Event | None:
        self._step += 1
        self._random = replaying(self._randoms.get(self._step, ()))
        return next(self._events, None)

    def random(self, n: int) -> int:
        return self._random(n)
