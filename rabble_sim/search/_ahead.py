"""The events whose result exploration knows without a fork: the fingerprint a drop, a
duplicate, a crash or a heal leads to, taken from the fingerprint of the world it befalls
(a sum, less or more some elements), and a delivery or a timer firing like one applied
before (``KnownHandled``). Most lead to a state seen before, which the search then skips.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..sim import (
    Crash,
    Deliver,
    Drop,
    Duplicate,
    Event,
    EventNotEnabled,
    FireTimer,
    Heal,
    Parcel,
    World,
)
from ._handled import KnownHandled
from ._parts import Element, Parts, State, shifted


class KnownAhead(KnownHandled):
    """What ``Fingerprints`` knows of an event without applying it."""

    if TYPE_CHECKING:  # and what ``KnownHandled`` names

        def _message(self, parcel: Parcel, local: bool = False) -> Element: ...
        def _sum(self, elements: list[Element]) -> Element: ...
        def _small_sections(
            self, world: World, down: tuple[str, ...] | None = None, *, healed: bool = False
        ) -> Element: ...

    def ahead(self, parent: Parts, event: Event) -> bytes | None:
        """The fingerprint that ``event`` leads to from the world whose ``parent`` these
        are, known without applying it, or None: for a drop or a duplicate
        (``after_message_fault``), a crash (``after_crash``), a heal (``after_heal``), and
        a delivery or a timer firing like one before (``after_handled``)."""
        if type(event) is Deliver or type(event) is FireTimer:
            return self.after_handled(parent, event)
        if isinstance(event, Drop | Duplicate):
            return self.after_message_fault(parent.world, list(parent.total), event)
        if isinstance(event, Crash):
            return self.after_crash(parent, event)
        if isinstance(event, Heal):
            return self.after_heal(parent)
        return None

    def after_heal(self, parent: Parts) -> bytes | None:
        """The fingerprint of the world of ``parent`` after a heal, without applying it:
        nothing is cut, and the messages held are deliverable (in flight all the same).
        None when that may not be all a heal does (``_only_the_event``)."""
        if not self._only_the_event(parent.world):
            return None
        healed = self._small_sections(parent.world, healed=True)
        return self.digest(shifted(parent.total, healed, parent.small))

    def _only_the_event(self, world: World) -> bool:
        """Whether a node-level event in ``world`` does only what it does to the network
        and the nodes: no executor holds anything a fingerprint counts (a process that
        watches the members or a link would be told; a crash resets a node's routing turns),
        no message is in transit or held with its arrival, the ages do not count, and clocks
        may no longer drift (any event ends that)."""
        network = world.network
        if self._ages or network.transit or network.held_arrivals:
            return False
        if world.scenario.faults.drift and world.drifting:
            return False
        return all(executor.watches_and_turns() is None for executor in world.executors.values())

    def after_crash(self, parent: Parts, event: Crash) -> bytes | None:
        """The fingerprint of the world of ``parent`` after ``event``, without applying it:
        the node's processes go (its persisted data stays), and so do its timers and the
        messages in flight to it, and the node is down. None when that may not be all a
        crash does (``_only_the_event``)."""
        world = parent.world
        if not self._only_the_event(world):
            return None
        network, node = world.network, event.node
        minus = [parent.timers, parent.small]
        minus += [element for pid, (_, element) in parent.processes.items() if pid.node == node]
        flying = parent.flying
        minus += [flying[seq] for seq, parcel in network.flying() if parcel[0].to.node == node]
        pending = [(seq, t) for seq, t in world.timers.by_due() if t.pid.node != node]
        down = tuple([n for n in world.scenario.nodes if n == node or not world.up[n]])
        plus = [self._timers(world.now, pending), self._small_sections(world, down)]
        return self.digest(shifted(parent.total, self._sum(plus), self._sum(minus)))

    def after_message_fault(
        self, world: World, state: State, event: Drop | Duplicate
    ) -> bytes | None:
        """The fingerprint of ``world`` (whose ``state`` this is) after ``event``, without
        applying it: a drop or a duplicate of a deliverable message changes nothing but the
        messages in flight, one copy fewer or one more (a deliverable message goes to a node
        that is up and reachable, so its duplicate is deliverable too): its digest taken
        from the sum, or added. None when the ages count, when a duplicate may be delayed
        by latency, or while clocks may drift (any event ends that): then the event must
        be applied."""
        if self._ages or (world.network.latency is not None and isinstance(event, Duplicate)):
            return None
        if world.scenario.faults.drift and world.drifting:
            return None
        parcel = world.network.deliverable.get(event.seq)
        if parcel is None:
            raise EventNotEnabled(f"message #{event.seq} is not deliverable")
        element = self._message(parcel, world.network.is_local(event.seq))
        if isinstance(event, Drop):
            return self.digest(shifted(state, minus=element))
        return self.digest(shifted(state, element))
