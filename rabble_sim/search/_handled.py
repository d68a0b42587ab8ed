"""What a handler did, remembered so that exploration knows, without a fork, the state a
delivery or a timer firing leads to when it finds its process and its message as they
were in a state where it was applied before.

A handler is a function of its process's state and the message (exploration assumes as
much already when it takes two states with one fingerprint for one): run on equal plain
data, it makes the same process, sends the same messages, asks the same of its executor
and fails no check it did not fail there. What it changes in the world is then the same
too, as far as a fingerprint tells, given what the world decides around it:

- whether each node it sent to is up (a message to a down node is lost);
- when it started or cancelled timers, or when it is a timer firing (which moves the
  clock), its process's own timers, relative to now and in the order they fire: those
  decide which of them a cancel or a restart replaces. Its other timers are left as they
  were, and the others' are not touched; the timers are then made again, its new ones
  after every timer already due at the same time, as their seqs are larger.

So a remembered handler is kept by the digests of its process and its message, with what
it did by those two. Not remembered: a handler that asked its executor anything but a
timer (a persist, a history event, a random number, a spawn: what the sum does not
carry), and any where a sum cannot carry a change over (``carried``). Deliveries commute
(two messages to two processes, in either order) and repeat (a message sent again, a
process back in a state it had): most lead to a state seen before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ..core import CancelTimer, Envelope, Pid, StartTimer, executor_pid
from ..sim import Deliver, EventNotEnabled, FireTimer, Timer, World
from ._parts import Element, Parts, Recent, State, shifted

HANDLED = 1 << 16
"""How many handlers a ``KnownHandled`` remembers without symmetry: from this many to twice
as many (a ``Recent`` cache), those of the states about to be expanded; a few hundred bytes
each, and an outcome's digests are one per relabelling, so under symmetry it is this
divided by their number."""
OUTCOMES = 16
"""How many outcomes of one handler it remembers, at most: the first ones (a handler that
touches timers has one for each set of its process's timers it has found)."""

_TIMER_REQUESTS = (StartTimer, CancelTimer)

_Own = list[tuple[int, int, Timer]]
"""A process's own timers: due, seq and timer, in the order they fire."""
_Kept = tuple[tuple[int, Any, int], ...]
"""A process's own timers after its handler, in the order they fire: each one's due
relative to the clock before, its cid, and its place among the timers it had before (-1:
started by the handler)."""


class Handled(NamedTuple):
    """What one handler did: the nodes it sent to, whether it touched timers (a timer
    firing does), and what it changed (``Outcome``) by whether each of those nodes is up,
    and by its process's own timers when it touched them."""

    sent_to: tuple[str, ...]
    timed: bool
    outcomes: dict[Any, Outcome]


class Outcome(NamedTuple):
    """The difference a handler made to the fingerprint, its timers' element left out when
    it touched timers, and then its process's own timers after it (``_Kept``)."""

    difference: Element
    kept: _Kept | None


class KnownHandled:
    """The deliveries and timer firings ``Fingerprints`` knows from like ones before."""

    if TYPE_CHECKING:
        _ages: bool
        _handled: Recent

        def digest(self, state: State) -> bytes: ...
        def _timer(self, left: int, pid: Pid, cid: Any) -> Element: ...
        def _timers(self, now: int, timers: list[tuple[int, Timer]]) -> Element: ...

    def after_handled(self, parent: Parts, event: Deliver | FireTimer) -> bytes | None:
        """The fingerprint of the world of ``parent`` after ``event``, if a handler like
        it was remembered (``note_handled``) in a world alike where it matters, or None."""
        world = parent.world
        if not self.carried(world):
            return None
        found = self._handler(parent, event)
        if found is None:
            return None
        key, pid = found
        handled: Handled | None = self._handled.get(key)
        if handled is None:
            return None
        own = _own_timers(world, pid) if handled.timed else None
        outcome = handled.outcomes.get(self._situation(world, pid, handled, own))
        if outcome is None:
            return None
        difference = outcome.difference
        if own is not None:
            assert outcome.kept is not None
            timers = self._timers_after(world, event, pid, own, outcome.kept)
            difference = tuple(shifted(difference, timers, parent.timers))
        return self.digest(shifted(parent.total, difference))

    def note_handled(
        self,
        parent: Parts,
        event: Deliver | FireTimer,
        child: World,
        sent: list[Envelope],
        state: State,
    ) -> None:
        """Remember what ``event`` did in the world of ``parent``: ``child`` is the world it
        led to, ``sent`` what its handler appended, ``state`` the state of ``child``."""
        world = parent.world
        if not self.carried(world):
            return
        found = self._handler(parent, event)
        if found is None:
            return  # delivered to no process: routed, or a dead letter
        key, pid = found
        # Only its own node's executor serves a process's requests: an envelope to any other
        # pid, another node's executor included, goes out on the network.
        executor = executor_pid(pid.node)
        requests = [env.msg for env in sent if env.to == executor]
        if not all(type(request) in _TIMER_REQUESTS for request in requests):
            return  # asked something a sum does not carry over
        handled: Handled | None = self._handled.get(key)
        if handled is None:
            nodes = tuple(sorted({env.to.node for env in sent if env.to != executor}))
            handled = Handled(nodes, bool(requests) or type(event) is FireTimer, {})
            self._handled.put(key, handled)
        if len(handled.outcomes) >= OUTCOMES:
            return
        difference = tuple(shifted(state, minus=parent.total))
        own = kept = None
        if handled.timed:
            own = _own_timers(world, pid)
            kept = _kept(world.now, own, _own_timers(child, pid))
            timers = self._timers(child.now, child.timers.by_due())
            difference = tuple(shifted(difference, parent.timers, timers))
        situation = self._situation(world, pid, handled, own)
        handled.outcomes[situation] = Outcome(difference, kept)

    def carried(self, world: World) -> bool:
        """Whether what a handler changes is the same in every world where it finds its
        process and message alike: not when the ages count (the order things were made
        in), messages take time (their arrivals are a sequence), or clocks may drift or
        left true time (timers run at their node's rate)."""
        if self._ages or world.network.latency is not None:
            return False
        if world.scenario.faults.drift and world.drifting:
            return False
        return not (world.clocks.any_drifted() or world.timers.rates)

    def _handler(self, parent: Parts, event: Deliver | FireTimer) -> tuple[Any, Pid] | None:
        """What decides what ``event`` does, the digests of its process and its message,
        and its process's pid; None if it is delivered to no process."""
        world = parent.world
        if type(event) is FireTimer:
            timer = world.timers.pending.get(event.seq)
            if timer is None:
                raise EventNotEnabled(f"timer #{event.seq} is not pending")
            process = parent.processes[timer.pid]
            return (process[1][0], self._timer(0, timer.pid, timer.cid)[0]), timer.pid
        parcel = world.network.deliverable.get(event.seq)
        if parcel is None:
            raise EventNotEnabled(f"message #{event.seq} is not deliverable")
        pid = parcel[0].to
        receiver = parent.processes.get(pid)
        if receiver is None:
            return None
        return (receiver[1][0], parent.flying[event.seq][0]), pid

    def _situation(self, world: World, pid: Pid, handled: Handled, own: _Own | None) -> Any:
        """What a handler's outcome depends on in ``world`` besides its process and
        message: the nodes it sent to up or not, and its process's own timers relative to
        now when it touched timers."""
        up = world.up
        reached = tuple([up.get(node) for node in handled.sent_to])
        if own is None:
            return reached
        now, timer = world.now, self._timer
        return reached, tuple([timer(due - now, pid, t.cid)[0] for due, _, t in own])

    def _timers_after(
        self, world: World, event: Deliver | FireTimer, pid: Pid, own: _Own, kept: _Kept
    ) -> Element:
        """The element of ``world``'s timers after a handler of ``pid`` that left its own
        timers as ``kept`` says: its other timers gone, its new ones after all others
        (their seqs are larger), the clock at the fired timer's due for a firing."""
        now = world.now
        pending = world.timers.pending
        timers = [(t.due, seq, t) for seq, t in pending.items() if t.pid != pid]
        after = world.network.next_seq
        for i, (left, cid, place) in enumerate(kept):
            if place >= 0:
                timers.append(own[place])
            else:
                due = now + left
                timers.append((due, after + i, Timer(pid, cid, due)))
        timers.sort(key=lambda entry: entry[:2])
        if type(event) is FireTimer:
            now = max(now, pending[event.seq].due)
        return self._timers(now, [(seq, t) for _, seq, t in timers])


def _own_timers(world: World, pid: Pid) -> _Own:
    """``pid``'s timers in ``world``, in the order they fire."""
    return sorted([(t.due, seq, t) for seq, t in world.timers.pending.items() if t.pid == pid])


def _kept(now: int, before: _Own, after: _Own) -> _Kept:
    """``after``, a process's own timers after its handler where they were ``before`` at
    ``now``, as ``_Kept``: each due relative to ``now``, each kept one by its place in
    ``before``."""
    places = {seq: i for i, (_, seq, _) in enumerate(before)}
    return tuple([(due - now, t.cid, places.get(seq, -1)) for due, seq, t in after])
