"""Rebuilding the world at any step of a schedule, fast and checked against the first walk.

The first walk applies every event to a freshly started world and keeps a snapshot (a deep
copy) every ``every`` steps, and a fingerprint of each step: what it delivered and sent, as
encoded at that step, and the state of the process that handled it, hashed at that step
(a fingerprint holds no reference to anything a process may change later). Going back
restores the nearest snapshot and replays forward.

A copy is not always the same world, though: a copied set of numbers can iterate in another
order than the original, and a process that iterates one may then send in another order.
So every replayed step is checked against its fingerprint. At the first difference, the
snapshots are no longer trusted (a note says why) and every rebuild replays from a fresh
start, which is exact: the simulator is deterministic. A step that differs even then means
that the protocol is not, and that is reported.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
from collections.abc import Iterator, Mapping, Sequence

from ..codec import canonical_json, to_plain
from ..core import UsageError
from ..sim import (
    APPLIERS,
    DEFAULT_STEP_TIMEOUT,
    STEP_TIMEOUT,
    CheckFailed,
    Event,
    Scenario,
    World,
    replaying,
)
from ..sim._trace import encode_step
from ..sim._watchdog import watching

Fingerprint = bytes


class Rewinder:
    """Gives the world after any step of ``events`` (``events[0]`` is None: the start)."""

    def __init__(
        self,
        scenario: Scenario,
        events: Sequence[Event | None],
        every: int,
        step_timeout: float | None = DEFAULT_STEP_TIMEOUT,
        randoms: Mapping[int, Sequence[int]] | None = None,
    ) -> None:
        self._scenario = scenario
        self._events = events
        self._randoms = randoms or {}
        """The random numbers processes drew in each step, as recorded."""
        self._every = every
        self._step_timeout = step_timeout
        self._applied = 0
        """Steps applied so far, on any world: what the step watchdog sees move."""
        self._snapshots: dict[int, World] = {}
        self._prints: list[Fingerprint] = []
        self.trusts_copies = True
        self.notes: list[str] = []
        """Why the snapshots stopped being trusted, if they did."""

    def walk(self) -> Iterator[tuple[World, range]]:
        """Apply every event once, to one world: yield it after each step, with the seqs
        the step created. The snapshots and fingerprints are taken on the way."""
        world = self.start()
        self._prints.append(b"")
        self._snapshot(0, world)
        yield world, range(world.network.next_seq)
        for number in range(1, len(self._events)):
            first = world.network.next_seq
            with self._watched():
                self._prints.append(self._apply(world, number))
            if number % self._every == 0:
                self._snapshot(number, world)
            yield world, range(first, world.network.next_seq)

    def start(self) -> World:
        """A world freshly started: step 0, exactly as in the recorded run."""
        world = World(self._scenario)
        world.use_random(replaying(self._randoms.get(0, ())))
        with self._watched(), contextlib.suppress(CheckFailed):
            world.start()  # a violation at the start: keep its world
        return world

    def world_at(self, number: int) -> World:
        """A new world as it is after step ``number``."""
        if self.trusts_copies:
            base = number - number % self._every
            world = copy.deepcopy(self._snapshots[base])
            if self._replay(world, range(base + 1, number + 1)):
                return world
        world = self.start()
        self._replay(world, range(1, number + 1))
        return world

    def advance(self, world: World, number: int) -> World:
        """``world``, as it was after step ``number - 1``, after step ``number``: the same
        world, or a rebuilt one if it turns out to descend from an untrustworthy copy."""
        return world if self._replay(world, range(number, number + 1)) else self.world_at(number)

    def apply(self, world: World, number: int) -> None:
        """Step ``number`` on ``world``, unchecked: for a world that started fresh."""
        with self._watched():
            self._apply(world, number)

    # -- inside ---------------------------------------------------------------------------

    def _watched(self) -> contextlib.AbstractContextManager[None]:
        return watching(lambda: self._applied, self._step_timeout)

    def _apply(self, world: World, number: int) -> Fingerprint:
        event = self._events[number]
        assert event is not None, "step 0 is the start, not an event"
        world.begin_step(number)
        world.use_random(replaying(self._randoms.get(number, ())))
        self._applied += 1
        try:
            parcel, outputs = APPLIERS[type(event)](world, event)
        except CheckFailed as failure:  # the failing step: keep the world as it left it
            if failure.check == STEP_TIMEOUT:
                return b"step timeout"  # where the step was stopped is anyone's guess
            parcel, outputs = failure.parcel, []
        proc = world.processes.get(parcel[0].to) if parcel is not None else None
        state = b"" if proc is None else canonical_json(to_plain(proc)).encode()
        digest = hashlib.blake2b(encode_step(parcel, outputs), digest_size=16)
        digest.update(state)
        return digest.digest()

    def _replay(self, world: World, numbers: range) -> bool:
        """Apply the steps ``numbers``, checking each; False at the first that differs
        (the snapshots are no longer trusted), or a ``UsageError`` if the world started
        fresh and still differs."""
        for number in numbers:
            with self._watched():
                same = self._apply(world, number) == self._prints[number]
            if same:
                continue
            if not self.trusts_copies:
                raise UsageError(
                    f"step {number} does not happen the same way twice: the protocol is not "
                    "deterministic (rabble-sim determinism names where it parts)"
                )
            self._distrust(
                f"step {number} happened differently on a copy of the world (a process "
                "depends on the order of a set, say): going back now replays from the start"
            )
            return False
        return True

    def _snapshot(self, number: int, world: World) -> None:
        if not self.trusts_copies:
            return
        try:
            self._snapshots[number] = copy.deepcopy(world)
        except Exception as e:  # a process holds something that cannot be copied
            self._distrust(
                f"the world cannot be copied ({e!r}; process state should be plain data): "
                "going back replays from the start"
            )

    def _distrust(self, note: str) -> None:
        self.trusts_copies = False
        self._snapshots.clear()
        self.notes.append(note)
