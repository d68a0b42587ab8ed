"""Fingerprints: a state's elements made into plain data exactly as ``to_plain`` makes them,
summed as a multiset (equal for equal multisets reached in any order, different for
different ones, a drop or a duplicate known without applying it), the same in any
interpreter."""

from __future__ import annotations

import array
import collections
import copy
import dataclasses
import datetime
import decimal
import enum
import fractions
import functools
import operator
import os
import random
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import attrs
import pytest
from hypothesis import given

from rabble_sim import (
    CorrelationId,
    Envelope,
    Faults,
    Pid,
    Scenario,
    executor_pid,
    message,
    persist,
    start_timer,
)
from rabble_sim.codec import canonical_json, to_plain
from rabble_sim.core import Broadcast, Routes, StartTimer, watch, watch_cluster
from rabble_sim.schedule import load_scenario
from rabble_sim.search import Fingerprints, explore
from rabble_sim.search._plain_data import plain_data
from rabble_sim.sim import (
    APPLIERS,
    Crash,
    Deliver,
    Drop,
    Duplicate,
    FireTimer,
    Restart,
    World,
    branches,
)
from tests.search import lock
from tests.sim.cluster import Actor, Cluster, Note, nothing
from tests.strategies import envelopes, replica_states

ROOT = Path(__file__).resolve().parents[2]

# -- plain data ---------------------------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    LOW = 1


@dataclasses.dataclass
class Box:
    items: list[Any]
    label: str


class Loose:
    """A plain object: its attributes, sorted."""

    def __init__(self) -> None:
        self.b = [1, (2, 3)]
        self.a = {"k": Pid("p", "n")}


class Slotted:
    __slots__ = ("x", "y")

    def __init__(self) -> None:
        self.x = 1  # y left unset


class Named(NamedTuple):
    first: int
    second: Any


class OwnPid(Pid):
    """A subclass of a type with a converter of its own: left to ``to_plain``."""


class Pair(tuple):  # type: ignore[type-arg]
    """A tuple subclass without fields."""


class Mapping(dict):  # type: ignore[type-arg]
    pass


@attrs.define
class Inner:
    values: dict[Any, Any]
    tags: set[str]


@attrs.define
class Single:
    only: Any


@attrs.define
class Empty:
    pass


@attrs.define
class Derived(Inner):
    extra: int = 0


@message("test.fingerprint.wrapped")
@attrs.frozen
class Wrapped:
    inner: Inner
    count: int


ODD: list[Any] = [
    None, True, 1, 1.0, -0.0, "text", b"\x00\xff", [None, True, 1, 1.0, "s"], (1, (2, [3])),
    {Pid("p", "a"): 1, "p::b": 2},
    {Pid("p", "a"): 1, "p::a": 2},  # two keys, one string: pairs
    {(1, "x"): 1, (0, "y"): 2}, {1: "a", "1": "b"}, {True: 1, 2: 3},
    {"b": 1, "a": {"d": 2, "c": 3}},
    {"z", "a", "é", '"'}, frozenset({("b", 1), ("a", 2)}), {3.5, -1, 2},
    Colour.RED, Level.LOW, Box([1, (2, 3)], "l"), Loose(), Slotted(), Named(1, {"x"}),
    OwnPid("p", "n"), Pair((1, 2)), Mapping(b=1, a=2), Pid("p", "n", "g"),
    CorrelationId(Pid("p", "a"), 1), CorrelationId(Pid("p", "a"), True, None),
    Inner({"k": {1, 2}, Pid("q", "b"): [Colour.RED]}, {"y", "x"}), Single([1]), Empty(),
    Derived({}, set(), 3), Wrapped(Inner({}, {"t"}), 2), nothing, Actor(Pid("p", "a")),
]  # fmt: skip


def same_data(value: Any) -> None:
    """``plain_data`` gives what ``to_plain`` does, to the type (``==`` takes 1 for True),
    each object's class named besides."""
    assert canonical_json(unnamed(plain_data(value))) == canonical_json(to_plain(value))


def unnamed(plain: Any) -> Any:
    """``plain`` with the classes ``plain_data`` names taken out, and a function as
    ``to_plain`` has it (its attributes: none), not by its name."""
    if isinstance(plain, list):
        return [unnamed(item) for item in plain]
    if not isinstance(plain, dict):
        return plain
    if len(plain) == 1:
        ((key, value),) = plain.items()
        if key == "<builtins.function>":
            return {}
        if key.startswith("<") and key.endswith(">"):
            return unnamed(value)
    return {key: unnamed(value) for key, value in plain.items()}


@attrs.define
class Follower:
    term: int


@attrs.define
class Leader:
    term: int


@dataclasses.dataclass
class Vote:
    term: int


class Ballot(NamedTuple):
    term: int


class Shade(enum.Enum):
    LIGHT = 1


def test_plain_data_names_the_class_of_every_object() -> None:
    """Objects alike field for field but of other classes are other states: a process
    whose role is a ``Leader`` does not behave as one whose role is a ``Follower``."""
    kinds = [Follower(3), Leader(3), Vote(3), Ballot(3), {"term": 3}, Shade.LIGHT, 1]
    plains = [canonical_json(plain_data({"role": kind})) for kind in kinds]
    assert len(set(plains)) == len(kinds)
    assert len({canonical_json(to_plain({"role": kind})) for kind in kinds[:5]}) == 1
    assert plain_data(Follower(3)) == {f"<{__name__}.Follower>": {"term": 3}}


class Role:
    def lead(self) -> None:
        pass

    def follow(self) -> None:
        pass


@attrs.define(slots=False)
class Loosely:
    pid: str


class Log(list[int]):
    """A log that knows how much of it is committed."""

    commit = 0


def committed(commit: int) -> Log:
    log = Log([1, 2])
    log.commit = commit
    return log


def adder(amount: int) -> Callable[[int], int]:
    def add(x: int) -> int:
        return x + amount

    return add


def loosely(leader: str) -> Loosely:
    """A process with an attribute set outside its declared fields."""
    process = Loosely("p")
    process.leader = leader  # type: ignore[attr-defined]
    return process


def chain(kind: type, length: int) -> Any:
    """``kind`` holding ``kind`` holding... ``length`` deep."""
    value: Any = None
    for _ in range(length):
        value = kind(value)
    return value


APART = [
    (collections.deque([1]), collections.deque([2])),
    (collections.deque([1], maxlen=1), collections.deque([1])),
    (collections.OrderedDict(a=1, b=2), collections.OrderedDict(b=2, a=1)),
    (bytearray(b"a"), bytearray(b"b")),
    (decimal.Decimal(1), decimal.Decimal(2)),
    (fractions.Fraction(1, 2), fractions.Fraction(1, 3)),
    (range(3), range(5)),
    (array.array("i", [1]), array.array("i", [2])),
    (datetime.date(2020, 1, 1), datetime.date(2021, 1, 1)),
    (datetime.timedelta(seconds=1), datetime.timedelta(seconds=2)),
    (Role().lead, Role().follow),
    (same_data, unnamed),
    (loosely("n1"), loosely("n2")),
    (committed(0), committed(7)),
    (collections.defaultdict(int), collections.defaultdict(list)),
    (adder(1), adder(2)),
    (functools.partial(adder, 1), functools.partial(adder, 2)),
    (lambda: 1, lambda: 2),
    (Follower, Leader),
    ({1: "a"}, [[1, "a"]]),
    (lambda m: m.term, lambda m: m.index),  # the names they use
    (*[lambda m, i=i: m + i for i in range(2)],),  # the defaults they bind
    (functools.partial(Role().lead), functools.partial(Role().follow)),
    (random.Random(1), random.Random(2)),
    (operator.attrgetter("a"), operator.attrgetter("b")),
    (re.compile("a"), re.compile("b")),
    (slice(1, 2), slice(1, 3)),
]


@pytest.mark.parametrize(("one", "other"), APART, ids=lambda value: type(value).__name__)
def test_values_code_can_tell_apart_have_plain_data_apart(one: Any, other: Any) -> None:
    """What ``to_plain`` writes as a class name only, or without its order or its
    undeclared attributes, is told apart by what tells the values apart."""
    assert plain_data(one) != plain_data(other)
    assert plain_data(one) == plain_data(copy.deepcopy(one))


def test_data_deeper_than_the_recursion_limit_keeps_its_class_names() -> None:
    deep = [chain(kind, 400) for kind in (Follower, Leader)]
    assert plain_data(deep[0]) != plain_data(deep[1])
    assert plain_data(deep[0]) == plain_data(chain(Follower, 400))


def test_plain_data_of_odd_callables_and_times_holds_no_address() -> None:
    """A partial of an object, a closure whose cell is not filled yet, a time zone of one's
    own: plain data without a crash, and the same for equal values."""

    class Scale:
        def __call__(self, x: int) -> int:
            return 2 * x

    class Zone(datetime.tzinfo):
        def utcoffset(self, dt: datetime.datetime | None) -> datetime.timedelta:
            return datetime.timedelta(hours=1)

    def unfilled() -> Callable[[], int]:
        def early() -> int:
            return late

        assert plain_data(early)  # while ``late`` is not bound yet
        late = 1
        return early

    for make in (
        lambda: functools.partial(Scale(), 1),
        lambda: datetime.time(1, tzinfo=Zone()),
        unfilled,
    ):
        assert plain_data(make()) == plain_data(make())


@pytest.mark.parametrize("value", ODD, ids=lambda value: type(value).__name__)
def test_plain_data_is_to_plain_for_every_kind_of_value(value: Any) -> None:
    same_data(value)
    same_data([value, {"nested": value}])


def test_plain_data_refuses_what_refers_to_itself_as_to_plain_does() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(Exception, match="refers to itself") as raised:
        plain_data(loop)
    with pytest.raises(type(raised.value)):
        to_plain(loop)


@given(replica_states)
def test_plain_data_is_to_plain_for_generated_states(state: Any) -> None:
    same_data(state)


@given(envelopes)
def test_plain_data_is_to_plain_for_generated_messages(env: Envelope) -> None:
    same_data(env)


@pytest.mark.parametrize(
    "reference",
    [
        "protocols.echo:scenario",
        "protocols.omega:scenario",
        "protocols.sets:scenario",
        "protocols.vr:scenario",
        "protocols.raft:scenario",
        "tests.sim.cluster:EVERYTHING",
    ],
)
def test_plain_data_is_to_plain_for_the_bundled_protocols(reference: str) -> None:
    scenario = load_scenario(reference)
    for seed in range(4):
        rng = random.Random(seed)
        world = World(scenario)
        world.start()
        for _ in range(30):
            for value in [*world.processes.values(), *world.durable.values()]:
                same_data(value)
            for _, parcel in world.network.in_flight():
                same_data(parcel[2])
            for event in world.history:
                same_data(event.value)
            events = list(branches(world))
            if not events:
                break
            world.apply(rng.choice(events))


# -- multisets ------------------------------------------------------------------------------


def two_notes(actor: Actor) -> list[Envelope]:
    """a's init: one note to b, one to c."""
    return [Envelope(Pid("p", node), actor.pid, Note(f"to {node}")) for node in ("b", "c")]


def notes_world() -> World:
    cluster = Cluster(
        ("a", "b", "c"),
        lambda node: [Actor(Pid("p", node), two_notes if node == "a" else nothing)],
    )
    return cluster.world


def seq_to(world: World, node: str) -> int:
    """The seq of the newest message in flight to ``node``."""
    return max(seq for seq, env in world.in_flight() if env.to.node == node)


def after(world: World, *faults: tuple[type[Drop] | type[Duplicate], str]) -> World:
    """A copy of ``world`` after each (fault, the node its newest message goes to)."""
    world = copy.deepcopy(world)
    for fault, node in faults:
        world.apply(fault(seq_to(world, node)))
    return world


WORKER = Pid("w/1", "b")


@attrs.define
class Ignoring:
    """A process whose state nothing it receives changes."""

    pid: Pid

    def handle(self, *args: Any) -> None:
        pass


def test_a_routed_hop_is_not_the_same_message_sent_directly() -> None:
    """a sends one note to the workers' name on b (routed there to w/1, a hop within b)
    and the same note to w/1 directly, which ignores both. Delivering the routed one, then
    its hop, leaves the direct note; delivering the direct one and the routed one leaves
    the hop. The same processes and envelope, but a drop can befall only the note that
    crosses the network: two states."""

    def notes(actor: Actor) -> list[Envelope]:
        return [Envelope(to, actor.pid, Note("x")) for to in (Pid("w/*", "b"), WORKER)]

    def start(node: str) -> list[Any]:
        return [Actor(Pid("p", "a"), notes)] if node == "a" else [Ignoring(WORKER)]

    routes = Routes({"w": Broadcast()})
    world = Cluster(("a", "b"), start, routes=routes, faults=Faults(drop=0.1)).world
    routed, direct = sorted(world.network.deliverable)

    def delivered(*seqs: int) -> World:
        copied = copy.deepcopy(world)
        for seq in seqs:
            copied.apply(Deliver(seq))
        return copied

    hop_left = delivered(direct, routed)
    direct_left = delivered(routed)
    direct_left.apply(Deliver(max(direct_left.network.deliverable)))  # the hop
    assert [env for _, env in hop_left.in_flight()] == [env for _, env in direct_left.in_flight()]
    drops = [[e for e in w.enabled() if isinstance(e, Drop)] for w in (hop_left, direct_left)]
    assert [len(d) for d in drops] == [0, 1]
    fingerprints = Fingerprints()
    assert fingerprints(hop_left) != fingerprints(direct_left)


ASKS: dict[str, Callable[[Pid], list[Envelope]]] = {
    "members": lambda pid: [watch_cluster(pid)],  # told when the members change
    "link": lambda pid: [watch(pid, "b")],  # told when b is lost
    "turn": lambda pid: [Envelope(Pid("w/?", "b"), pid, Note("x"))],  # b's next turn: w/2
    "nothing": lambda pid: [],
}
ASKED = ["nothing"]
"""What ``Asking`` asks: not its state but the test's, so that a process that asked and one
that did not are alike."""


@attrs.define
class Asking:
    """Sends its first note to itself, and on it what ``ASKED`` says (its state unchanged)."""

    pid: Pid

    def init(self, output: list[Envelope]) -> None:
        output.append(Envelope(self.pid, self.pid, Note("ask")))

    def handle(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if msg == Note("ask"):
            output.extend(ASKS[ASKED[0]](self.pid))


def settled(what: str) -> World:
    """a asks, b and c hold workers w/1 and w/2 that ignore all; everything delivered."""

    def start(node: str) -> list[Any]:
        if node == "a":
            return [Asking(Pid("p", "a"))]
        return [Ignoring(Pid("w/1", node)), Ignoring(Pid("w/2", node))]

    ASKED[0] = what
    try:
        cluster = Cluster(("a", "b", "c"), start)
        cluster.settle()
    finally:
        ASKED[0] = "nothing"
    return cluster.world


@pytest.mark.parametrize("what", ["members", "link", "turn"])
def test_what_an_executor_holds_counts(what: str) -> None:
    """After a watch, or a routed message that moved b's turn, the processes and what is in
    flight are as if a had asked nothing; but what happens next differs, and so must the
    fingerprints. A crash forgets it all (no turn, no watch of the node's processes)."""
    asked, idle = settled(what), settled("nothing")
    assert not asked.in_flight() and not idle.in_flight()
    fingerprints = Fingerprints()
    assert plain_data(list(asked.processes.values())) == plain_data(list(idle.processes.values()))
    assert fingerprints(asked) != fingerprints(idle)
    node = "b" if asked.executors["b"].watches_and_turns() else "a"
    for world in (asked, idle):
        world.apply(Crash(node))
    assert fingerprints(asked) == fingerprints(idle)


@attrs.define
class Worker:
    """Starts a timer when it starts; persists something when told to."""

    pid: Pid

    def init(self, output: list[Envelope]) -> None:
        output.append(start_timer(self.pid, 10, CorrelationId(self.pid)))

    def handle(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Note):
            output.append(persist(self.pid, 1))


def test_a_restart_is_given_its_data_in_an_order_that_is_no_part_of_the_state() -> None:
    """Two workers on a persist in either order: one state. ``start`` builds them again in
    the order it is given their data, and the first built fires first of two timers due
    at once: the same crash and restart must lead to one state again."""
    workers = (Pid("w1", "a"), Pid("w2", "a"))

    def start(node: str, durable: dict[Pid, Any] | None) -> list[Any]:
        if node == "b":
            return [Actor(Pid("q", "b"), lambda actor: [
                Envelope(worker, actor.pid, Note("x")) for worker in workers
            ])]  # fmt: skip
        return [Worker(pid) for pid in (list(durable) if durable else workers)]

    scenario = Scenario("disk", ["a", "b"], start, faults=Faults(crash=1))

    def persisted(*order: Pid) -> World:
        world = World(scenario)
        world.start()
        to = {env.to: seq for seq, env in world.in_flight()}
        for pid in order:
            world.apply(Deliver(to[pid]))
        return world

    fingerprints = Fingerprints()
    one, other = persisted(*workers), persisted(*reversed(workers))
    assert fingerprints(one) == fingerprints(other)
    for world in (one, other):
        world.apply(Crash("a"))
        world.apply(Restart("a"))
    assert fingerprints(one) == fingerprints(other)


@dataclasses.dataclass(frozen=True)
class Election:
    term: int


@dataclasses.dataclass(frozen=True)
class Beat:
    term: int


def test_a_timers_cid_is_told_apart_by_its_class() -> None:
    def timed(cid: Any) -> World:
        def start(node: str, durable: Any) -> list[Any]:
            return [Actor(Pid("p", node), lambda actor: [
                Envelope(executor_pid(node), actor.pid, StartTimer(10), cid)
            ])]  # fmt: skip

        world = World(Scenario("timed", ["a"], start))
        world.start()
        return world

    assert Fingerprints()(timed(Election(1))) != Fingerprints()(timed(Beat(1)))


def test_equal_multisets_in_flight_fingerprint_alike_however_they_were_made() -> None:
    start = notes_world()
    fingerprint = Fingerprints()
    one_each = fingerprint(start)
    # b's note copied, then c's, or the other way round: one multiset.
    both = fingerprint(after(start, (Duplicate, "b"), (Duplicate, "c")))
    assert fingerprint(after(start, (Duplicate, "c"), (Duplicate, "b"))) == both
    # A copy made and the original dropped: the multiset of the start.
    assert fingerprint(after(start, (Duplicate, "b"), (Drop, "b"))) == one_each


def test_different_multisets_in_flight_fingerprint_apart() -> None:
    start = notes_world()
    fingerprint = Fingerprints()
    prints = [
        fingerprint(start),
        fingerprint(after(start, (Duplicate, "b"))),  # two to b, one to c
        fingerprint(after(start, (Duplicate, "c"))),  # one to b, two to c
        fingerprint(after(start, (Duplicate, "b"), (Duplicate, "b"))),  # three to b
        fingerprint(after(start, (Drop, "b"))),  # none to b
        fingerprint(after(start, (Drop, "b"), (Drop, "c"))),  # nothing in flight
    ]
    assert len(set(prints)) == len(prints)


def test_a_drop_or_a_duplicate_is_known_without_applying_it() -> None:
    start = notes_world()
    fingerprint = Fingerprints()
    state = fingerprint.state(start)
    for fault in (Drop, Duplicate):
        for node in ("b", "c"):
            event = fault(seq_to(start, node))
            assert fingerprint.after_message_fault(start, state, event) == fingerprint(
                after(start, (fault, node))
            )


def test_fingerprints_made_apart_agree() -> None:
    """Elements are cached by identity or content: a fresh ``Fingerprints`` and one that has
    seen many states give the same fingerprints."""
    scenario = load_scenario("protocols.echo:scenario")
    seasoned = Fingerprints()
    rng = random.Random(7)
    world = World(scenario)
    world.start()
    for _ in range(40):
        assert seasoned(world) == Fingerprints()(world)
        events = list(branches(world))
        if not events:
            break
        child = world.fork()
        child.begin_step(world.step + 1)
        child.apply(rng.choice(events))
        world = child


def test_fingerprints_of_a_world_changed_in_place_follow_its_changes() -> None:
    """A run changes its processes in place: one ``Fingerprints`` called after each step
    gives what a fresh one gives."""
    world = World(load_scenario("protocols.echo:scenario"))
    world.start()
    kept = Fingerprints()
    prints = []
    for _ in range(12):
        prints.append(kept(world))
        assert prints[-1] == Fingerprints()(world)
        world.apply(next(iter(branches(world))))
    assert len(set(prints)) == len(prints)


@pytest.mark.parametrize(
    "reference",
    [
        "protocols.echo:scenario",
        "protocols.omega:scenario",
        "protocols.sets:scenario",  # inputs, durable data
        "protocols.vr:scenario",  # a history
        "tests.sim.cluster:EVERYTHING",  # spawn, routing, watches, every fault
        "protocols.election:scenario",  # latency: messages in transit
        "protocols.lease:scenario",  # clocks that drift
        "protocols.lease:bug_clock_jumps",  # clocks that jump: timers retimed
        "tests.search.lock:scenario",  # symmetry
    ],
)
def test_a_forks_fingerprint_made_from_its_parents_is_its_own(reference: str) -> None:
    """``child`` makes again only what a fork holds that its parent does not, and
    ``ahead`` knows some events' results without applying them (a delivery or a timer
    firing, from one like it applied in an earlier state): both must agree with the whole
    state, for every event from every state of random walks."""
    scenario = load_scenario(reference)
    known = 0
    for ages in (False, True):
        fingerprints = Fingerprints(scenario.symmetry, ages=ages)
        for seed in range(3):
            rng = random.Random(seed)
            world = World(scenario)
            world.start()
            for _ in range(30):
                parent = fingerprints.parts(world)
                children = []
                for event in branches(world):
                    # Asked first: what is known ahead was learnt in other states.
                    ahead = fingerprints.ahead(parent, event)
                    child = world.fork()
                    child.begin_step(world.step + 1)
                    _, sent = APPLIERS[type(event)](child, event)
                    state = fingerprints.state(child)
                    assert fingerprints.child(parent, child) == state, event
                    assert ahead in (None, fingerprints.digest(state)), event
                    known += ahead is not None
                    if isinstance(event, Deliver | FireTimer):
                        fingerprints.note_handled(parent, event, child, sent, state)
                    children.append(child)
                if not children:
                    break
                world = rng.choice(children)
    assert known, "no event's result was known ahead: the test tests nothing"


def test_a_handler_known_ahead_keeps_its_timers_places_among_the_others() -> None:
    """a and b each start a timer due at 100, a's first; a note to a starts a second one.
    Known from the state where it was applied first, the same delivery after b took a note
    leaves a's first timer before b's (it fires first), the new one by its own due."""

    def init(actor: Actor) -> list[Envelope]:
        sent = [start_timer(actor.pid, 100, CorrelationId(actor.pid, 1))]
        if actor.pid.node == "c":
            sent = [Envelope(Pid("p", node), actor.pid, Note("go")) for node in ("a", "b")]
        return sent

    def on_note(actor: Actor, msg: Any, from_: Pid, cid: CorrelationId | None) -> list[Envelope]:
        if actor.pid.node == "a":
            return [start_timer(actor.pid, 50, CorrelationId(actor.pid, 2))]
        return []

    world = Cluster(("a", "b", "c"), lambda node: [Actor(Pid("p", node), init, on_note)]).world
    to_a, to_b = (Deliver(seq_to(world, node)) for node in ("a", "b"))
    fingerprints = Fingerprints()

    def apply(world: World, event: Deliver) -> World:
        parent = fingerprints.parts(world)
        child = world.fork()
        child.begin_step(world.step + 1)
        _, sent = APPLIERS[Deliver](child, event)
        fingerprints.note_handled(parent, event, child, sent, fingerprints.state(child))
        return child

    apply(world, to_a)  # remembered here
    later = apply(world, to_b)
    known = fingerprints.ahead(fingerprints.parts(later), to_a)
    assert known is not None
    assert known == fingerprints(apply(later, to_a))


def test_a_timer_request_to_another_nodes_executor_is_a_message_to_that_node() -> None:
    """Only a process's own executor serves its requests: a ``StartTimer`` sent to b's
    executor (a protocol bug) travels to b, and is lost once b is down. Known ahead from a
    state where b was up, the same delivery must not count it in flight."""

    def init(actor: Actor) -> list[Envelope]:
        return [Envelope(Pid("p", "a"), actor.pid, Note("go"))] if actor.pid.node == "c" else []

    def on_note(actor: Actor, msg: Any, from_: Pid, cid: CorrelationId | None) -> list[Envelope]:
        request = StartTimer(10)
        return [Envelope(executor_pid("b"), actor.pid, request, CorrelationId(actor.pid, 1))]

    world = Cluster(("a", "b", "c"), lambda node: [Actor(Pid("p", node), init, on_note)]).world
    to_a = Deliver(seq_to(world, "a"))
    fingerprints = Fingerprints()

    def apply(world: World, event: Deliver | Crash) -> World:
        parent = fingerprints.parts(world)
        child = world.fork()
        child.begin_step(world.step + 1)
        _, sent = APPLIERS[type(event)](child, event)
        if isinstance(event, Deliver):
            fingerprints.note_handled(parent, event, child, sent, fingerprints.state(child))
        return child

    assert fingerprints(apply(world, to_a)) != fingerprints(world)  # remembered, b up
    b_down = apply(world, Crash("b"))
    known = fingerprints.ahead(fingerprints.parts(b_down), to_a)
    assert known in (None, fingerprints(apply(b_down, to_a)))


def test_the_symmetric_fingerprint_is_the_least_over_relabellings() -> None:
    """Under symmetry, the unique states of the lock server are those the relabelled
    fingerprints counted before they were sums (12, 22, 35 for 2 to 4 clients)."""
    counts = [explore(lock.lock_scenario(clients)).unique for clients in (2, 3, 4)]
    assert counts == [12, 22, 35]
    assert explore(lock.lock_scenario(4), symmetry=()).unique == 472


# -- stability ------------------------------------------------------------------------------


SCRIPT = textwrap.dedent(
    """
    import random, sys
    from rabble_sim.schedule import load_scenario
    from rabble_sim.search import Fingerprints
    from rabble_sim.sim import World, branches
    from tests.search import lock

    prints = []
    for scenario in (load_scenario("protocols.vr:scenario"), lock.lock_scenario(3)):
        fingerprints = Fingerprints(scenario.symmetry)
        rng = random.Random(3)
        world = World(scenario)
        world.start()
        for _ in range(25):
            prints.append(fingerprints(world).hex())
            events = list(branches(world))
            if not events:
                break
            world.apply(rng.choice(events))
    print(" ".join(prints))
    """
)


def fingerprints_under_hash_seed(seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_fingerprints_are_the_same_in_any_interpreter() -> None:
    first, second = fingerprints_under_hash_seed("1"), fingerprints_under_hash_seed("2")
    assert len(first) > 25 and first == second


@attrs.define
class Hoard:
    """Holds one number, whatever size."""

    pid: Pid
    amount: int

    def handle(self, msg: Any, from_: Pid, cid: CorrelationId | None, out: list[Any]) -> None:
        pass


def hoarding(amount: int) -> World:
    scenario = Scenario("hoard", ["n"], lambda node, durable: [Hoard(Pid("h", node), amount)])
    world = World(scenario)
    world.start()
    return world


def test_numbers_too_large_for_messagepack_still_fingerprint_by_value() -> None:
    fingerprint = Fingerprints()
    huge = 2**70
    assert fingerprint(hoarding(huge)) == fingerprint(hoarding(huge))
    assert len({fingerprint(hoarding(n)) for n in (huge, huge + 1, -huge, 1)}) == 4
