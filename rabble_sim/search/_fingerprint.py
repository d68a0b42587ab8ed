"""State fingerprints for exploration: 128 bits for what decides a world's future, the same
for equal states however they were reached, and optionally the same for states that are
images of each other under a relabelling of interchangeable nodes (symmetry).

What counts: every process's state and the data it persisted (as ``to_plain`` sees them),
the messages in flight as a multiset (without their seqs), those in transit with their
arrivals relative to now, in order, the pending timers relative to now in the order they
will fire (of two due at once, the one started first), the nodes down, the links cut,
each node's clock that left true time (its rate, and its reading relative to now), what
befell the disks of down nodes, whether clocks may still drift, how many inputs of each
kind were given, and, when the
scenario checks its history, the history in order (without steps and times); with
``ages``, the order in which the messages in flight and the timers were made. What does
not: seqs themselves, absolute time, the step number and the metrics. Stable across interpreters:
canonical JSON, hashed with BLAKE2b, no ``hash()`` of strings and no ``id()``.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Sequence
from typing import Any

from ..codec import Plain, canonical_json, to_plain
from ..core import InvalidDefinition, Pid
from ..sim import Drop, Duplicate, EventNotEnabled, Parcel, World

MAX_RELABELLINGS = 5040
"""The most relabellings a symmetry may have (the product of its groups' factorials):
each state is rendered under every one of them."""


class _Item:
    """One element of a state: its plain data, and its canonical JSON under each of the
    relabellings (the identity first), each made when first asked for."""

    __slots__ = ("plain", "texts")

    def __init__(
        self, section: str, plain: Plain, relabellings: int, text: bytes | None = None
    ) -> None:
        self.plain = plain
        self.texts: list[bytes | None] = [text or _text(section, plain)]
        self.texts += [None] * (relabellings - 1)

    def text(self, section: str, index: int, names: dict[str, str]) -> bytes:
        text = self.texts[index]
        if text is None:
            text = self.texts[index] = _text(section, relabelled(self.plain, names))
        return text


State = dict[str, list[_Item]]
"""A world as the sections of its fingerprint (processes, messages in flight, timers...),
each a multiset of elements."""


class Fingerprints:
    """Fingerprints of the worlds of one exploration. A fork shares its parent's process
    objects, durable data and parcels until it changes them, so each of those is turned
    into plain data and text once, and again only when the world holds another object."""

    def __init__(self, symmetry: Sequence[Sequence[str]] = (), *, ages: bool = False) -> None:
        self._relabellings = relabellings(symmetry)
        self._ages = ages
        """Whether the order in which the messages in flight and the timers were made counts
        too: it decides a fair liveness phase, which serves the oldest first."""
        self._processes: dict[Pid, tuple[Any, _Item]] = {}
        self._durable: dict[Pid, tuple[Any, _Item]] = {}
        self._parcels: dict[int, tuple[Parcel, _Item]] = {}
        self._small: dict[tuple[str, Any], _Item] = {}

    def __call__(self, world: World) -> bytes:
        return self.digest(self.state(world))

    def after_message_fault(
        self, world: World, state: State, event: Drop | Duplicate
    ) -> bytes | None:
        """The fingerprint of ``world`` (whose ``state`` this is) after ``event``, without
        applying it: a drop or a duplicate of a deliverable message changes nothing but the
        messages in flight, one copy fewer or one more (a deliverable message goes to a node
        that is up and reachable, so its duplicate is deliverable too). None when the ages
        count, when a duplicate may be delayed by latency, or while clocks may drift (any
        event ends that): then the event must be applied."""
        if self._ages or (world.network.latency is not None and isinstance(event, Duplicate)):
            return None
        if state["drifting"]:
            return None
        parcel = world.network.deliverable.get(event.seq)
        if parcel is None:
            raise EventNotEnabled(f"message #{event.seq} is not deliverable")
        item = self._message(event.seq, parcel)
        flying = list(state["in_flight"])
        if isinstance(event, Drop):
            flying.remove(item)  # this very item: an _Item is equal only to itself
        else:
            flying.append(item)
        return self.digest({**state, "in_flight": flying})

    def digest(self, state: State) -> bytes:
        """The fingerprint of a ``state``: the least digest under the relabellings."""
        return min(
            _digest(
                {
                    name: [item.text(name, index, names) for item in items]
                    for name, items in state.items()
                }
            )
            for index, names in enumerate(self._relabellings)
        )

    def state(self, world: World) -> State:
        """``world`` as the sections of a fingerprint, each a multiset of elements."""
        now, timers, item = world.now, world.timers, self._item
        scenario = world.scenario
        state: dict[str, list[_Item]] = {
            # One element, in the order the timers fire: of two due at once, the one started
            # first fires first, and which one that is changes what can happen next.
            "timers": [
                self._sequence(
                    [item("timer", (t.due - now, t.pid, t.cid)) for _, t in timers.by_due()]
                )
            ],
            "down": [item("down", node) for node in world.down_nodes()],
            "cut": _cut(world, item),
            "clocks": [
                item("clocks", (node, *world.clocks.skew(node)))
                for node in scenario.nodes
                if world.clocks.drifted(node)
            ],
            "disks": [
                item("disks", (node, lost, tuple(sorted(map(str, corrupted)))))
                for node, (lost, corrupted) in world.disks.items()
            ],
            "drifting": [item("drifting", True)]
            if scenario.faults.drift and world.drifting
            else [],
            "inputs": [
                item("inputs", (tuple(inputs.to), given))
                for inputs, given in zip(scenario.inputs, world.inputs_given, strict=True)
            ],
        }
        if scenario.history is not None:
            # The history check reads the order of invocations and completions: two paths
            # to the same processes with different histories are different states.
            history: Plain = [
                [e.kind, str(e.client), e.op, to_plain(e.value)] for e in world.history
            ]
            state["history"] = [_Item("history", [history], len(self._relabellings))]
        cached = self._cached
        state["processes"] = [cached("processes", pid, p) for pid, p in world.processes.items()]
        state["durable"] = [cached("durable", pid, d) for pid, d in world.durable.items()]
        flying = world.network.in_flight()
        state["in_flight"] = [self._message(seq, parcel) for seq, parcel in flying]
        network = world.network
        if network.transit or network.held_arrivals:
            # In the order they will arrive (ties: sent first); a held one marked as such.
            order = sorted(
                [(arrival, seq, False) for seq, (arrival, _) in network.transit.items()]
                + [(arrival, seq, True) for seq, arrival in network.held_arrivals.items()]
            )
            state["arrivals"] = [
                self._sequence(
                    [
                        part
                        for arrival, seq, held in order
                        for part in (
                            item("arrival", (arrival - now, held)),
                            self._message(seq, network.get(seq)),  # type: ignore[arg-type]
                        )
                    ]
                )
            ]
        if self._ages:
            made = [(seq, self._message(seq, parcel)) for seq, parcel in flying]
            made += [
                (seq, item("timer", (t.due - now, t.pid, t.cid))) for seq, t in timers.by_due()
            ]
            made.sort(key=lambda pair: pair[0])  # by seq: in the order they were made
            state["ages"] = [self._sequence([element for _, element in made])]
        return state

    def _item(self, section: str, key: Any) -> _Item:
        """The element ``key`` of a small section (a timer, a node down, a partition group,
        a count of inputs), made once for each value: ``key`` is its plain data's source."""
        cached = self._small.get((section, key))
        if cached is None:
            cached = self._small[(section, key)] = _Item(
                section, to_plain(key), len(self._relabellings)
            )
        return cached

    def _sequence(self, items: list[_Item]) -> _Item:
        """One element made of ``items`` in order: its text is theirs, joined as a JSON
        list is (a relabelling renders it whole, from their plain data)."""
        text = b"[" + b",".join(item.text("", 0, {}) for item in items) + b"]"
        return _Item("", [item.plain for item in items], len(self._relabellings), text)

    def _cached(self, section: str, pid: Pid, value: Any) -> _Item:
        """``pid`` with ``value``'s plain data, made again only if ``pid`` holds another
        object than when it was cached (a fork changes a process only after copying it)."""
        cache = self._processes if section == "processes" else self._durable
        cached = cache.get(pid)
        if cached is not None and cached[0] is value:
            return cached[1]
        item = _Item(section, [str(pid), to_plain(value)], len(self._relabellings))
        cache[pid] = (value, item)
        return item

    def _message(self, seq: int, parcel: Parcel) -> _Item:
        cached = self._parcels.get(seq)
        if cached is not None and cached[0] is parcel:
            return cached[1]
        env = parcel[0]
        # The parcel's decoded copy is the message as sent: no receiver has had it yet.
        plain: Plain = [str(env.to), str(env.from_), to_plain(env.cid), to_plain(parcel[2])]
        item = _Item("in_flight", plain, len(self._relabellings))
        self._parcels[seq] = (parcel, item)
        return item


def _text(section: str, plain: Any) -> bytes:
    """One element of a state's ``section`` as canonical JSON; the targets of a kind of
    input and the corrupted records of a disk are sets, sorted first."""
    if section == "cut":
        heard_only, group = plain
        plain = [heard_only, sorted(group)]
    elif section == "disks":
        node, lost, corrupted = plain
        plain = [node, lost, sorted(corrupted)]
    elif section == "inputs":
        to, given = plain
        plain = [sorted(to), given]
    return canonical_json(plain).encode()


def _cut(world: World, item: Callable[[str, Any], _Item]) -> list[_Item]:
    """The partition's groups, a set of sets of nodes (the first marked, when only the
    links into it are cut)."""
    partition = world.network.partition_of
    if partition is None:
        return []
    groups, one_way = partition
    return [item("cut", (one_way and i == 0, tuple(group))) for i, group in enumerate(groups)]


def _digest(state: dict[str, list[bytes]]) -> bytes:
    """The state's sections, each a multiset of canonical JSON texts, sorted and hashed.
    JSON text holds no raw control character: the separators cannot be confused."""
    digest = hashlib.blake2b(digest_size=16)
    for name, texts in state.items():
        digest.update(name.encode())
        digest.update(b"\0".join(sorted(texts)))
        digest.update(b"\1")
    return digest.digest()


# -- symmetry ---------------------------------------------------------------------------------


def relabellings(symmetry: Sequence[Sequence[str]]) -> list[dict[str, str]]:
    """Every relabelling of nodes that ``symmetry`` allows: each group's nodes permuted
    among themselves, the identity first. ``[{}]`` when there is no symmetry."""
    groups = [tuple(group) for group in symmetry if len(group) > 1]
    count = 1
    for group in groups:
        for n in range(2, len(group) + 1):
            count *= n
    if count > MAX_RELABELLINGS:
        raise InvalidDefinition(
            f"the symmetry {[list(g) for g in groups]} has {count} relabellings; at most "
            f"{MAX_RELABELLINGS} are tried per state: declare smaller groups"
        )
    result: list[dict[str, str]] = []
    for images in itertools.product(*(itertools.permutations(group) for group in groups)):
        names = {
            node: image
            for group, permuted in zip(groups, images, strict=True)
            for node, image in zip(group, permuted, strict=True)
            if node != image
        }
        result.append(names)
    return result


def relabelled(state: Any, names: dict[str, str]) -> Any:
    """``state`` with every node name in ``names`` replaced by its image, wherever it is a
    whole string: a node's name, or a pid's string form (``[group::]name::node``)."""
    return _map_strings(state, lambda text: _relabel(text, names))


def _relabel(text: str, names: dict[str, str]) -> str:
    image = names.get(text)
    if image is not None:
        return image
    head, sep, node = text.rpartition("::")
    if sep and node in names:
        return f"{head}::{names[node]}"
    return text


def _map_strings(plain: Any, change: Callable[[str], str]) -> Any:
    if isinstance(plain, str):
        return change(plain)
    if isinstance(plain, list):
        return [_map_strings(item, change) for item in plain]
    if isinstance(plain, dict):
        return {change(key): _map_strings(item, change) for key, item in plain.items()}
    return plain
