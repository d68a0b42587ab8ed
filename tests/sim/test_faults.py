"""The faults of time, disks and networks, driven directly with ``apply(event)``."""

from __future__ import annotations

from collections import Counter
from typing import Any

import networkx as nx
import pytest

from rabble_sim import (
    ConnectionLost,
    CorrelationId,
    Durable,
    Envelope,
    Faults,
    Link,
    Pid,
    RandomChooser,
    Timeout,
    persist,
    run,
    start_timer,
    watch,
)
from rabble_sim.core import InvalidDefinition
from rabble_sim.sim import (
    CorruptDisk,
    Crash,
    Deliver,
    Drift,
    Drop,
    EventNotEnabled,
    FireTimer,
    Heal,
    Jump,
    LoseDisk,
    Partition,
    Restart,
)
from tests.sim.cluster import A, Actor, B, C, Cluster, Note, nothing

TIMER = CorrelationId(A, 1)


def timer_of(ms: int) -> Any:
    return lambda actor: [start_timer(actor.pid, ms, TIMER)] if actor.pid == A else []


def cluster(init: Any = nothing, on_msg: Any = nothing, **kwargs: Any) -> Cluster:
    return Cluster(("a", "b", "c"), lambda node: [Actor(Pid("p", node), init, on_msg)], **kwargs)


# -- clocks -----------------------------------------------------------------------------------


def test_a_timer_is_measured_on_its_nodes_clock() -> None:
    c = cluster(timer_of(100))
    c.world.apply(Drift("a", 1.25))  # a's clock runs 25% fast
    (seq,) = c.world.timers
    c.world.apply(FireTimer(seq))
    assert c.world.now == 80, "100 ms of a's clock are 80 ms of true time"
    assert c.world.clock("a") == 100 and c.world.clock("b") == 80
    assert c[A].received == [(Timeout(), Pid("executor", "a", "rabble"), TIMER)]


def test_a_drift_keeps_what_is_left_of_a_pending_timer_on_the_nodes_clock() -> None:
    c = cluster(timer_of(90))
    c.world.apply(Drift("a", 0.9))  # slow: 90 ms of its clock take 100 ms
    (seq,) = c.world.timers
    assert c.world.timers[seq].due == 100


def test_a_jump_brings_the_nodes_timers_nearer_and_its_clock_ahead() -> None:
    c = cluster(timer_of(100))
    c.world.apply(Jump("a", 70))
    (seq,) = c.world.timers
    assert c.world.timers[seq].due == 30
    assert c.world.clock("a") == 70 and c.world.clock("b") == 0
    c.world.apply(Jump("a", 500))
    assert c.world.timers[seq].due == 0, "a timer within the jump is due at once"


def test_clocks_drift_only_before_anything_else_happens() -> None:
    c = cluster(lambda actor: [Envelope(B, actor.pid, Note("hi"))] if actor.pid == A else [])
    c.world.begin_step(1)
    c.world.apply(Drift("a", 1.1))
    c.world.begin_step(2)
    c.world.apply(Drift("b", 0.9))
    c.world.begin_step(3)
    c.world.apply(Deliver(0))
    c.world.begin_step(4)
    with pytest.raises(EventNotEnabled, match="clocks drift only when a run begins"):
        c.world.apply(Drift("c", 1.1))


def test_a_drift_outside_its_range_is_refused() -> None:
    with pytest.raises(EventNotEnabled, match="between 0 and 2"):
        cluster().world.apply(Drift("a", 2.5))


# -- disks ------------------------------------------------------------------------------------


def persisting(actor: Actor) -> list[Envelope]:
    return [persist(actor.pid, {"vote": actor.pid.node})]


def test_a_lost_disk_restarts_its_node_with_nothing_and_says_so() -> None:
    c = cluster(persisting)
    c.world.apply(Crash("a"))
    c.world.apply(LoseDisk("a"))
    assert A not in c.world.durable
    c.world.apply(Restart("a"))
    node, durable = c.starts[-1]
    assert node == "a" and isinstance(durable, Durable)
    assert durable.lost and dict(durable) == {} and durable.corrupted == ()


def test_a_corrupted_record_is_named_and_never_handed_back() -> None:
    def two(node: str) -> list[Actor]:
        return [Actor(Pid("p", node), persisting), Actor(Pid("q", node), persisting)]

    c = Cluster(("a", "b"), two)
    c.world.apply(Crash("a"))
    c.world.apply(CorruptDisk(A))
    with pytest.raises(EventNotEnabled, match="no intact record"):
        c.world.apply(CorruptDisk(A))
    c.world.apply(Restart("a"))
    durable = c.starts[-1][1]
    assert isinstance(durable, Durable) and not durable.lost
    assert durable.corrupted == (A,)
    assert dict(durable) == {Pid("q", "a"): {"vote": "a"}}


def test_an_intact_restart_gets_everything_back() -> None:
    c = cluster(persisting)
    c.world.apply(Crash("b"))
    c.world.apply(Restart("b"))
    durable = c.starts[-1][1]
    assert isinstance(durable, Durable) and durable.intact and durable == {B: {"vote": "b"}}


@pytest.mark.parametrize("event", [LoseDisk("a"), CorruptDisk(A)])
def test_disk_faults_befall_only_nodes_that_are_down(event: Any) -> None:
    with pytest.raises(EventNotEnabled, match="node 'a' is up"):
        cluster(persisting).world.apply(event)


# -- links ------------------------------------------------------------------------------------


def test_in_a_line_a_cut_in_the_middle_separates_the_ends() -> None:
    c = cluster(topology="line")
    network = c.world.network
    assert network.reaches("c", "a"), "a message follows the path a-b-c"
    c.world.apply(Partition((("b",), ("a", "c"))))
    assert not network.reaches("c", "a") and not network.reaches("a", "c")
    c.world.apply(Heal())
    assert network.reaches("c", "a")


def test_in_a_ring_one_cut_link_leaves_a_way_round() -> None:
    c = Cluster(("a", "b", "c", "d"), lambda node: [], topology="ring")
    graph = c.world.network_graph()
    assert sorted(graph.edges) == sorted(
        [(x, y) for x, y in ("ab", "bc", "cd", "da")]
        + [(y, x) for x, y in ("ab", "bc", "cd", "da")]
    )
    c.world.apply(Partition((("a", "b"), ("c", "d"))))
    assert not c.world.network.reaches("c", "a")
    assert c.world.network.reaches("b", "a")


@pytest.mark.parametrize("shape", ["full", "line", "ring", "star", "tree", "grid"])
def test_every_topology_is_connected_both_ways(shape: str) -> None:
    c = Cluster(tuple("abcdefg"), lambda node: [], topology=shape)
    assert nx.is_strongly_connected(c.world.network_graph())


def test_a_topology_may_be_a_networkx_graph_of_the_nodes() -> None:
    c = Cluster(("a", "b", "c"), lambda node: [], topology=nx.path_graph(["b", "a", "c"]))
    assert sorted(c.world.network_graph().edges) == [("a", "b"), ("a", "c"), ("b", "a"), ("c", "a")]
    with pytest.raises(InvalidDefinition, match="topology"):
        Cluster(("a", "b"), lambda node: [], topology="hypercube")


def test_a_watcher_hears_connection_lost_when_a_cut_leaves_its_link_one_way() -> None:
    def watches(actor: Actor) -> list[Envelope]:
        return [watch(actor.pid, "c", TIMER)] if actor.pid == A else []

    c = cluster(watches)
    c.world.apply(Partition((("c",), ("a", "b")), one_way=True))  # c hears no one
    c.settle()
    lost = [msg for msg, _, _ in c[A].received if isinstance(msg, ConnectionLost)]
    assert lost == [ConnectionLost("c")]


def test_a_watcher_hears_connection_lost_when_the_node_crashes() -> None:
    def watches(actor: Actor) -> list[Envelope]:
        return [watch(actor.pid, C, TIMER)] if actor.pid == A else []

    c = cluster(watches)
    c.world.apply(Crash("c"))
    c.settle()
    assert c[A].received == [(ConnectionLost("c", C), Pid("executor", "a", "rabble"), TIMER)]
    c.world.apply(Restart("c"))
    c.world.apply(Crash("c"))
    c.settle()
    assert len(c[A].received) == 1, "a watch is told once"


def test_a_message_on_a_slow_link_arrives_when_its_time_comes() -> None:
    hello = lambda actor: [Envelope(B, actor.pid, Note("hi"))] if actor.pid == A else []  # noqa: E731
    faults = Faults(latency=(50, 50))
    c = cluster(lambda actor: [*hello(actor), *(timer_of(20)(actor))], faults=faults)
    world = c.world
    (seq,) = world.network.transit
    assert len(world.network.deliverable) == 0
    (timer,) = world.timers
    with pytest.raises(EventNotEnabled, match="does not arrive next"):
        world.apply(Deliver(seq))  # the timer, due at 20, comes first
    world.apply(FireTimer(timer))
    world.apply(Deliver(seq))
    assert world.now == 50 and c[B].notes() == ["hi"]


def test_a_link_of_its_own_overrides_the_latency_and_drop_chance() -> None:
    faults = Faults(latency=(5, 5), drop=0.0, links={("a", "b"): Link(drop=1.0, latency=(0, 0))})
    assert faults.latency_of("a", "b") == (0, 0) and faults.latency_of("b", "a") == (5, 5)
    assert faults.drop_of("a", "b") == 1.0 and faults.drop_of("a", "c") == 0.0

    def chatter(actor: Actor) -> list[Envelope]:
        return [Envelope(Pid("p", n), actor.pid, Note("x")) for n in "abc" if n != actor.pid.node]

    def again(actor: Actor, msg: Any, from_: Pid, cid: Any) -> list[Envelope]:
        return [Envelope(from_, actor.pid, msg)] if len(actor.received) < 5 else []

    scenario = cluster(chatter, again, faults=faults, max_steps=200).scenario
    dropped: Counter[tuple[str, str]] = Counter()
    for seed in range(5):
        result = run(scenario, RandomChooser(seed))
        for event, env, _ in result.trace:
            if isinstance(event, Drop) and env is not None:
                dropped[(env.from_.node, env.to.node)] += 1
    assert set(dropped) == {("a", "b")}


def test_a_link_naming_an_unknown_node_is_an_error_of_definition() -> None:
    with pytest.raises(InvalidDefinition, match=r"Faults\.links"):
        cluster(faults=Faults(links={("a", "zz"): Link(drop=0.5)}))


def test_a_message_sent_across_a_cut_still_spends_its_latency_after_the_heal() -> None:
    def hello(actor: Actor, msg: Any, from_: Pid, cid: Any) -> list[Envelope]:
        return [Envelope(B, actor.pid, Note("late"))] if actor.pid == A else []

    c = cluster(timer_of(10), hello, faults=Faults(latency=(50, 50)))
    world = c.world
    world.apply(Partition((("a",), ("b", "c"))))
    (timer,) = world.timers
    world.apply(FireTimer(timer))  # at 10, a sends to b across the cut
    (seq,) = world.network.held
    world.apply(Heal())
    assert seq in world.network.transit and world.network.transit[seq][0] == 60
    world.apply(Deliver(seq))
    assert world.now == 60 and c[B].notes() == ["late"]


def test_a_replay_past_its_recorded_delays_gives_each_message_its_links_least() -> None:
    c = cluster(
        lambda actor: [Envelope(B, actor.pid, Note("hi"))] if actor.pid == A else [],
        faults=Faults(latency=(30, 60)),
    )
    ((arrival, _),) = c.world.network.transit.values()
    assert arrival == 30, "nothing drawn yet: the least"


def test_a_drop_only_one_link_allows_is_an_enabled_event() -> None:
    faults = Faults(links={("a", "b"): Link(drop=0.5)})
    c = cluster(lambda actor: [Envelope(B, actor.pid, Note("hi"))] if actor.pid == A else [],
                faults=faults)  # fmt: skip
    (seq,) = c.world.network.deliverable
    assert Drop(seq) in list(c.world.enabled())
