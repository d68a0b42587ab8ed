"""The enabled events: one canonical sequence, simplest first, every one of them possible."""

from __future__ import annotations

import copy
import random

import pytest

from rabble_sim import CorrelationId, Envelope, Pid, start_timer
from rabble_sim.schedule import load_scenario
from rabble_sim.sim import (
    Crash,
    Deliver,
    Drop,
    Duplicate,
    FireTimer,
    Heal,
    InputOffer,
    Partition,
    Restart,
    World,
)
from rabble_sim.sim._scenario import Faults
from tests.sim.cluster import NODES, Actor, Cluster, Note

FAULTS = Faults(drop=0.1, duplicate=0.1, crash=2, partition=True)


def talkative(actor: Actor) -> list[Envelope]:
    """a's init: a note to b, one to c, one to itself, and a timer."""
    me = actor.pid
    return [
        Envelope(Pid("p", "b"), me, Note("to b")),
        Envelope(Pid("p", "c"), me, Note("to c")),
        Envelope(me, me, Note("to myself")),
        start_timer(me, 100, CorrelationId(me, 1)),
    ]


def cluster(faults: Faults = FAULTS) -> Cluster:
    """An Actor on each of a, b and c, in a scenario that allows ``faults``; a talks."""

    def actors(node: str) -> list[Actor]:
        pid = Pid("p", node)
        return [Actor(pid, talkative) if node == "a" else Actor(pid)]

    return Cluster(NODES, actors, faults=faults)


def test_the_enabled_events_come_in_canonical_order_simplest_first() -> None:
    c = cluster()
    world = c.world
    world.apply(Crash("c"))  # its message is gone with it; c may restart
    enabled = world.enabled(FAULTS)
    events = list(enabled)
    seqs = c.seqs()
    to_b = c.seq_of(Pid("p", "b"), Pid("p", "a"))
    assert events[0] == Deliver(min(seqs)), "index 0 is the oldest delivery"
    assert events[: len(seqs)] == [Deliver(enabled.delivery(i)) for i in range(len(seqs))]
    assert sorted(e.seq for e in events[: len(seqs)]) == seqs  # type: ignore[union-attr]
    assert events[len(seqs)] == FireTimer(world.timers.next())  # type: ignore[arg-type]
    # Only the message that crosses the network may be dropped or duplicated.
    assert events[len(seqs) + 1 : len(seqs) + 3] == [Drop(to_b), Duplicate(to_b)]
    rest = events[len(seqs) + 3 :]
    assert rest[:3] == [Restart("c"), Crash("a"), Crash("b")]
    assert rest[3:] == [
        Partition((("a",), ("b", "c"))),
        Partition((("b",), ("a", "c"))),
        Partition((("c",), ("a", "b"))),
    ]
    assert len(enabled) == len(events)
    assert enabled[-1] == events[-1] and enabled[1:3] == events[1:3]


def test_every_enabled_event_can_be_applied_and_a_partition_enables_the_heal() -> None:
    c = cluster()
    world = c.world
    for event in world.enabled(FAULTS):
        copy.deepcopy(world).apply(event)  # raises EventNotEnabled if it were not
    world.apply(Partition((("a",), ("b", "c"))))
    enabled = list(world.enabled(FAULTS))
    assert Heal() in enabled
    assert not any(isinstance(e, Partition) for e in enabled), "one partition at a time"
    held = {c.seq_of(Pid("p", n), Pid("p", "a")) for n in "bc"}
    assert not held & {e.seq for e in enabled if isinstance(e, Deliver)}


def test_the_view_is_live_and_a_run_without_faults_enables_only_deliveries_and_the_timer() -> None:
    quiet = cluster(Faults())
    world = quiet.world
    enabled = world.enabled(Faults())
    assert [type(e) for e in enabled] == [Deliver, Deliver, Deliver, FireTimer]
    quiet.settle()
    assert list(enabled) == [FireTimer(world.timers.next())]  # type: ignore[arg-type]
    world.apply(enabled[0])
    assert len(enabled) == 0 and list(enabled) == []


@pytest.mark.parametrize(
    "reference",
    ["protocols.echo:scenario", "protocols.omega:scenario", "protocols.sets:scenario"],
)
def test_iterating_gives_what_indexing_gives(reference: str) -> None:
    """Iteration is a fast path of its own: it must agree with indexing everywhere, with
    messages, timers, inputs, crashes, restarts, partitions and heals about."""
    scenario = load_scenario(reference)
    for seed in range(5):
        rng = random.Random(seed)
        world = World(scenario)
        world.start()
        for _ in range(60):
            enabled = world.enabled()
            listed = list(enabled)
            assert listed == [enabled[i] for i in range(len(enabled))]
            events = [e for e in listed if not isinstance(e, InputOffer)]
            if not events:
                break
            world.begin_step(world.step + 1)
            world.apply(rng.choice(events))
