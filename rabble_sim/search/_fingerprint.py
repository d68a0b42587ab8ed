"""State fingerprints for exploration: 128 bits for what decides a world's future, the same
for equal states however they were reached, and optionally the same for states that are
images of each other under a relabelling of interchangeable nodes (symmetry).

What counts: every process's state and the data it persisted (as ``to_plain`` sees them,
each object's class named: ``plain_data``), the messages in flight as a multiset (without
their seqs; a routed hop within its node marked as one), those in transit with their
arrivals relative to now, in order, the pending timers relative to now in the order they
will fire (of two due at once, the one started first), the nodes down, the links cut, each
node's clock that left true time (its rate, and its reading relative to now), what befell
the disks of down nodes, whether clocks may still drift, how many inputs of each kind were
given, what the executors hold (who watches the members or a node, routing turns), and
the history in order (without steps and times); with
``ages``, the order in which the messages in flight and the timers were made. What does
not: seqs themselves, absolute time, the step number and the metrics.

How: a state is a multiset of elements, each in a section (a process, a message in flight,
a node down...; what must stay in order, the timers, the arrivals, the history, the ages,
is one element of its own section). An element's digest is its plain data in canonical
bytes (MessagePack with sorted keys) hashed with BLAKE2b keyed by its section, as a
128-bit int, made once when the element is first seen; a sequence's is the BLAKE2b of its
elements' digests in order. The fingerprint is the sum of the elements' digests modulo
2**128: a standard multiset hash (equal multisets give equal sums; different ones collide
with a chance of about 2**-128 each, the digests being independent and uniform), cheap to
make from cached digests and to change by a few elements: a message dropped or
duplicated, and a fork's state from its parent's (``Fingerprints.child``). Stable across
interpreters: no ``hash()`` of strings, no ``id()`` in a result (object identity only
tells a cache, or a fork's fingerprint, that an object is unchanged).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..codec import Plain
from ..core import CorrelationId, HistoryEvent, Pid
from ..sim import Parcel, Timer, World
from ._ahead import KnownAhead
from ._handled import HANDLED
from ._parts import (
    DIGEST_BYTES,
    MASK,
    Element,
    Parts,
    Recent,
    State,
    canonical_bytes,
    keyed_digest,
    shifted,
)
from ._plain_data import plain_data
from ._symmetry import nodes_named, relabelled, relabellings

RECENT = 1024
"""How many objects' elements each of a ``Fingerprints``' caches keeps, at least: those of
the processes, durable data, messages and history of the states being expanded."""

_Small = tuple[Any, ...]
"""The key of the small sections of a state together: nodes down, cut, clocks, disks,
drifting, inputs given."""


class Fingerprints(KnownAhead):
    """Fingerprints of the worlds of one exploration. A fork shares its parent's process
    objects, durable data, parcels, timers and history events until it changes them, so
    each process, durable datum and event is turned into a digest once, and again only
    when the world holds another object; a message, and the pending timers at a time,
    once for what they are made of. A state then costs a sum of cached ints, and the
    plain data of what its event changed. Calling one (``state``) makes the processes'
    plain data anew: a world ``apply`` changed in place has the same objects, changed."""

    def __init__(self, symmetry: Sequence[Sequence[str]] = (), *, ages: bool = False) -> None:
        self._relabellings = relabellings(symmetry)
        self._single = len(self._relabellings) == 1
        self._moved = frozenset(node for names in self._relabellings for node in names)
        """The nodes some relabelling moves: an element that names none is its own image."""
        self._ages = ages
        """Whether the order in which the messages in flight and the timers were made counts
        too: it decides a fair liveness phase, which serves the oldest first."""
        # Processes, durable data and events of the history, by identity: each entry holds
        # its object, so that its id is not reused while the entry lasts (and a result never
        # depends on an id: a miss only makes the element again). Messages by content.
        self._processes = Recent(RECENT)
        self._durable = Recent(RECENT)
        self._events = Recent(RECENT)
        self._messages = Recent(RECENT)
        self._timer_sequences = Recent(RECENT)
        self._small: dict[tuple[str, Any], Element] = {}
        self._smalls: dict[_Small, Element] = {}
        self._sequences = Recent(RECENT)
        # An outcome holds a digest per relabelling: fewer of them under a larger symmetry.
        self._handled = Recent(max(1024, HANDLED // len(self._relabellings)))

    def __call__(self, world: World) -> bytes:
        return self.digest(self.state(world))

    def digest(self, state: State) -> bytes:
        """The fingerprint of a ``state``: the least digest under the relabellings."""
        return min(state).to_bytes(DIGEST_BYTES, "big")

    def state(self, world: World) -> State:
        """``world``'s digest under each relabelling: the sum of its elements', each
        process and datum persisted made into plain data anew (``world`` may have been
        changed in place since)."""
        return list(self.parts(world, fresh=True).total)

    def parts(self, world: World, *, fresh: bool = False) -> Parts:
        """``world``'s state by where its elements come from, for its forks (``child``).
        Its processes and data persisted are taken from the caches by identity, unless
        ``fresh``: they must not have changed in place since they were cached."""
        processes, durable = self._processes, self._durable
        cached = self._anew if fresh else self._cached
        procs = {
            pid: (v, cached(processes, "processes", pid, v)) for pid, v in world.processes.items()
        }
        data = {pid: (v, cached(durable, "durable", pid, v)) for pid, v in world.durable.items()}
        message, local = self._message, world.network.is_local
        flying = {seq: message(parcel, local(seq)) for seq, parcel in world.network.flying()}
        timers, small, history, executors, rest = self._rest(world, None)
        elements = [rest, *[e for _, e in procs.values()], *[e for _, e in data.values()]]
        total = self._sum([*elements, *flying.values()])
        seqs = frozenset(flying)
        return Parts(
            world, procs, data, flying, seqs, timers, small, history, executors, rest, total
        )

    def child(self, parent: Parts, world: World) -> State:
        """The state of ``world``, a fork of the world whose ``parent`` these are that went
        on: only what it holds that is not its parent's object (a process, a datum
        persisted, a message in flight by its seq; a fork shares the others) is made
        again, and the timers, small sections and history if they changed."""
        plus: list[Element] = [self._rest(world, parent)[-1]]
        minus: list[Element] = [parent.rest]
        self._changed(parent.processes, world.processes, self._processes, "processes", plus, minus)
        self._changed(parent.durable, world.durable, self._durable, "durable", plus, minus)
        network, seqs = world.network, world.network.seqs()
        plus += [
            self._message(network.get(seq), network.is_local(seq))  # type: ignore[arg-type]
            for seq in seqs - parent.seqs
        ]
        minus += [parent.flying[seq] for seq in parent.seqs - seqs]
        if self._single:
            total = parent.total[0] + sum([e[0] for e in plus]) - sum([e[0] for e in minus])
            return [total & MASK]
        added, taken = self._sum(plus), self._sum(minus)
        return shifted(parent.total, added, taken)

    def _changed(
        self,
        before: dict[Pid, tuple[Any, Element]],
        now: dict[Pid, Any],
        cache: Recent,
        section: str,
        plus: list[Element],
        minus: list[Element],
    ) -> None:
        """The elements of ``section`` (processes or durable data by pid) that went
        (``minus``) and came (``plus``) from ``before`` to ``now``: a pid that holds
        another object is both."""
        kept = 0
        for pid, value in now.items():
            old = before.get(pid)
            if old is not None:
                kept += 1
                if old[0] is value:
                    continue
                minus.append(old[1])
            plus.append(self._cached(cache, section, pid, value))
        if kept != len(before):  # some pid is gone
            minus += [element for pid, (_, element) in before.items() if pid not in now]

    def _rest(
        self, world: World, parent: Parts | None
    ) -> tuple[Element, Element, Element | None, Element | None, Element]:
        """The elements of ``world`` that are not a process, a datum persisted or a message
        in flight: the timers, the small sections, the history, what the executors hold,
        and the sum of those, the arrivals and the ages; each of the first four taken from
        ``parent``, the world ``world`` was forked from, where it did not change."""
        now, timers = world.now, world.timers
        was = None if parent is None else parent.world
        if parent and was and now == was.now and timers.pending == was.timers.pending:
            # The same seqs hold the same timers (retimed ones compare unequal).
            pending = parent.timers
        else:
            # One element, in the order the timers fire: of two due at once, the one
            # started first fires first, and which one that is changes what can happen.
            pending = self._timers(now, timers.by_due())
        if parent and was and _same_small_sections(world, was):
            small = parent.small
        else:
            small = self._small_sections(world)
        elements = [pending, small]
        # Checks read the order of invocations and completions (the history check, and any
        # invariant that reads ``view.history``): two paths to the same processes with
        # different histories are different states.
        history = None
        if world.history:
            same = parent and was and len(world.history) == len(was.history)
            history = parent.history if parent and same else None  # a fork's only grows
            if history is None:
                history = self._sequence("history", [self._event(e) for e in world.history])
            elements.append(history)
        if parent and was and _same_executors(world, was):
            executors = parent.executors
        else:
            executors = self._executors(world)
        if executors is not None:
            elements.append(executors)
        network = world.network
        if network.transit or network.held_arrivals:
            elements.append(self._arrivals(world))
        if self._ages:
            message, timer = self._message, self._timer
            made = [
                (seq, message(parcel, network.is_local(seq))) for seq, parcel in network.flying()
            ]
            made += [(seq, timer(t.due - now, t.pid, t.cid)) for seq, t in timers.by_due()]
            made.sort(key=lambda pair: pair[0])  # by seq: in the order they were made
            elements.append(self._sequence("ages", [element for _, element in made]))
        return pending, small, history, executors, self._sum(elements)

    # -- elements -----------------------------------------------------------------------------

    def _element(self, section: str, plain: Plain) -> Element:
        """The element ``plain`` of ``section``: its digest under each relabelling. Those
        that map the nodes it names alike give it the same image, rendered once."""
        first = keyed_digest(section, canonical_bytes(section, plain))
        if self._single:
            return (first,)
        named = sorted(nodes_named(plain, self._moved))
        if not named:
            return (first,) * len(self._relabellings)
        images = {tuple(named): first}
        digests = []
        for names in self._relabellings:
            image = tuple([names.get(node, node) for node in named])
            digest = images.get(image)
            if digest is None:
                digest = keyed_digest(section, canonical_bytes(section, relabelled(plain, names)))
                images[image] = digest
            digests.append(digest)
        return tuple(digests)

    def _sequence(self, section: str, elements: list[Element]) -> Element:
        """One element of ``section`` made of ``elements`` in order: under a relabelling,
        the hash of their images' digests. Under symmetry, kept by its identity digests
        (equal elements have equal images)."""
        if self._single:
            joined = b"".join([element[0].to_bytes(DIGEST_BYTES, "little") for element in elements])
            return (keyed_digest(section, joined),)
        key = (section, tuple([element[0] for element in elements]))
        cached: Element | None = self._sequences.get(key)
        if cached is None:
            columns = zip(*elements, strict=True) if elements else [()] * len(self._relabellings)
            cached = tuple(
                keyed_digest(
                    section, b"".join([d.to_bytes(DIGEST_BYTES, "little") for d in column])
                )
                for column in columns
            )
            self._sequences.put(key, cached)
        return cached

    def _item(self, section: str, key: Any) -> Element:
        """The element ``key`` of a small section (a timer, a node down, a partition group,
        a count of inputs), made once for each value: ``key`` is its plain data's source."""
        cached = self._small.get((section, key))
        if cached is None:
            cached = self._small[(section, key)] = self._element(section, plain_data(key))
        return cached

    def _timers(self, now: int, timers: list[tuple[int, Timer]]) -> Element:
        """The pending timers in the order they fire, relative to ``now``: timers are
        shared by forks, and so is the element of the same timers at the same time."""
        due = tuple([timer for _, timer in timers])
        exact = all([_exact(timer.cid) for timer in due])  # else 1 and True are one key
        element = self._timer_sequences.get((now, due)) if exact else None
        if element is None:
            timer = self._timer
            element = self._sequence("timers", [timer(t.due - now, t.pid, t.cid) for t in due])
            if exact:
                self._timer_sequences.put((now, due), element)
        return element

    def _timer(self, left: int, pid: Pid, cid: Any) -> Element:
        if _exact(cid):
            return self._item("timer", (left, pid, cid))
        return self._element("timer", plain_data((left, pid, cid)))

    def _executors(self, world: World) -> Element | None:
        """What the nodes' executors hold that decides what they will do (who watches the
        members or a node, the turns of routing policies: ``Executor.watches_and_turns``),
        one element per node that holds any; None when none does, as in most scenarios."""
        held = [(node, e.watches_and_turns()) for node, e in world.executors.items()]
        elements = [
            self._element("executor", [node, plain_data(h)]) for node, h in held if h is not None
        ]
        return self._sum(elements) if elements else None

    def _small_sections(
        self, world: World, down: tuple[str, ...] | None = None, *, healed: bool = False
    ) -> Element:
        """The nodes down (``down``, or ``world``'s), the partition's groups (a set of sets
        of nodes, the first marked when only the links into it are cut; none if
        ``healed``), the clocks that left true time, the disks of down nodes, whether clocks
        may still drift, and how many inputs of each kind were given: one element, their
        sum, made once for each combination."""
        scenario, clocks = world.scenario, world.clocks
        key: _Small = (
            tuple(world.down_nodes()) if down is None else down,
            None if healed else world.network.partition_of,
            tuple([(node, *clocks.skew(node)) for node in scenario.nodes if clocks.drifted(node)]),
            tuple(world.disks.items()),
            bool(scenario.faults.drift and world.drifting),
            tuple(world.inputs_given),
        )
        cached = self._smalls.get(key)
        if cached is None:
            cached = self._smalls[key] = self._sum(self._small_elements(world, key))
        return cached

    def _small_elements(self, world: World, key: _Small) -> list[Element]:
        down, partition, skews, disks, drifting, given = key
        item = self._item
        elements = [item("down", node) for node in down]
        if partition is not None:
            groups, one_way = partition
            elements += [item("cut", (one_way and i == 0, tuple(g))) for i, g in enumerate(groups)]
        elements += [item("clocks", skew) for skew in skews]
        elements += [
            item("disks", (node, lost, tuple(sorted(map(str, corrupted)))))
            for node, (lost, corrupted) in disks
        ]
        elements += [item("drifting", True)] if drifting else []
        elements += [
            item("inputs", (index, tuple(inputs.to), count))
            for index, (inputs, count) in enumerate(zip(world.scenario.inputs, given, strict=True))
        ]
        return elements

    def _sum(self, elements: list[Element]) -> Element:
        if self._single:
            return (sum([element[0] for element in elements]) & MASK,)
        if not elements:
            return (0,) * len(self._relabellings)
        return tuple(sum(column) & MASK for column in zip(*elements, strict=True))

    def _anew(self, cache: Recent, section: str, pid: Pid, value: Any) -> Element:
        """``pid`` with ``value``'s plain data, made anew (and not kept in ``cache``)."""
        return self._element(section, [str(pid), plain_data(value)])

    def _cached(self, cache: Recent, section: str, pid: Pid, value: Any) -> Element:
        """``pid`` with ``value``'s plain data, made again only for an object not seen
        lately (a fork changes a process only after copying it, and replaces durable data)."""
        key = (pid, id(value))
        entry = cache.get(key)
        if entry is not None and entry[0] is value:
            return entry[1]  # type: ignore[no-any-return]
        element = self._element(section, [str(pid), plain_data(value)])
        cache.put(key, (value, element))
        return element

    def _message(self, parcel: Parcel, local: bool = False) -> Element:
        """A message in flight, without its seq; ``local``: a routed hop within its node
        (from a sender elsewhere, yet no cut holds it and no fault befalls it, as one sent
        to it directly would be). The same message is sent again and again on the paths to
        different states: kept by what it is made of, its envelope's pids and cid, and its
        encoding, from which the receiver's copy was decoded."""
        env, body, copy = parcel
        key = (env.to, env.from_, env.cid, type(env.msg), body, local)
        exact = _exact(env.cid)  # else 1 and True would be one key
        element = self._messages.get(key) if exact else None
        if element is None:
            # The parcel's decoded copy is the message as sent: no receiver has had it yet.
            plain: list[Plain] = [
                str(env.to), str(env.from_), plain_data(env.cid), plain_data(copy)
            ]  # fmt: skip
            if local:
                plain.append(True)  # not a string: no relabelling renames it
            element = self._element("in_flight", plain)
            if exact:
                self._messages.put(key, element)
        return element

    def _event(self, event: HistoryEvent) -> Element:
        """One event of the history, without its step and time: events are shared by forks
        and never changed."""
        entry = self._events.get(id(event))
        if entry is not None and entry[0] is event:
            return entry[1]  # type: ignore[no-any-return]
        plain: Plain = [event.kind, str(event.client), event.op, plain_data(event.value)]
        element = self._element("history", plain)
        self._events.put(id(event), (event, element))
        return element

    def _arrivals(self, world: World) -> Element:
        """The messages in transit or held, in the order they will arrive, each with its
        arrival relative to now (a held one marked as such), and among them the pending
        timers: of a message and a timer due at once, the one made first comes first
        (``World.next_due``), and which one that is changes what can happen."""
        network, now = world.network, world.now
        order = sorted(
            [(arrival, seq, False) for seq, (arrival, _) in network.transit.items()]
            + [(arrival, seq, True) for seq, arrival in network.held_arrivals.items()]
            + [(timer.due, seq, None) for seq, timer in world.timers.pending.items()]
        )
        parts: list[Element] = []
        for arrival, seq, held in order:
            if held is None:
                timer = world.timers.pending[seq]
                parts.append(self._timer(timer.due - now, timer.pid, timer.cid))
            else:
                parts.append(self._item("arrival", (arrival - now, held)))
                parts.append(self._message(network.get(seq)))  # type: ignore[arg-type]
        return self._sequence("arrivals", parts)


def _same_executors(world: World, was: World) -> bool:
    """Whether ``world`` has every executor of ``was``, the world it was forked from: a
    fork shares them until it is about to change one (``World.lent``)."""
    before = was.executors
    return all([executor is before.get(node) for node, executor in world.executors.items()])


def _same_small_sections(world: World, was: World) -> bool:
    """Whether ``world`` has the small sections of ``was`` (``_small_sections``): the same
    nodes up, cut, disks, inputs given and drifting, and no clock off true time."""
    drift = world.scenario.faults.drift
    return (
        world.up == was.up
        and world.network.partition_of == was.network.partition_of
        and world.disks == was.disks
        and world.inputs_given == was.inputs_given
        and not world.clocks.any_drifted()
        and not was.clocks.any_drifted()
        and bool(drift and world.drifting) == bool(drift and was.drifting)
    )


_WHOLE = frozenset({int, type(None)})


def _exact(cid: Any) -> bool:
    """Whether keying by ``cid`` keeps apart what its plain data does: a correlation id of
    whole numbers (1 and True are one key, but not one text), or none."""
    return cid is None or (
        type(cid) is CorrelationId
        and type(cid.pid) is Pid
        and type(cid.request) in _WHOLE
        and type(cid.handle) in _WHOLE
    )
