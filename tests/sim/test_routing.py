"""Routing by named paths in the World: each node's executor resolves a routed name among
its own processes and passes the message on to them, within the node."""

from __future__ import annotations

import copy
import zlib
from collections.abc import Sequence
from typing import Any

import attrs

from rabble_sim import CorrelationId, Envelope, Pid, Scenario, run
from rabble_sim.core import Broadcast, Routes, SenderHash, watch_cluster
from rabble_sim.sim import Crash, Deliver, Duplicate, Partition, Restart
from tests.sim.cluster import A, Actor, Cluster, Note, Quiet

WORKERS = [Pid(f"workers/{i}", "b") for i in (1, 2, 3)]


def routed(*to: str, routes: Routes | None = None, senders: int = 1) -> Cluster:
    """Workers ``workers/1..3`` and ``other/1`` on b; clients ``c0``.. on a send a note to
    each name in ``to`` on b at init (``c0`` sends them all; the others only the last)."""

    def actors(node: str) -> list[Actor]:
        if node == "b":
            return [Actor(pid) for pid in [*WORKERS, Pid("other/1", "b")]]
        clients = []
        for i in range(senders):
            names = to if i == 0 else to[-1:]
            clients.append(
                Actor(
                    Pid(f"c{i}", "a"),
                    lambda a, names=names: [
                        Envelope(Pid(n, "b"), a.pid, Note(n), CorrelationId(a.pid, 9))
                        for n in names
                    ],
                )
            )
        return clients

    return Cluster(("a", "b"), actors, routes=routes or Routes())


def got(c: Cluster) -> dict[str, list[str]]:
    return {str(pid.name): c[pid].notes() for pid in WORKERS if c[pid].notes()}


def test_broadcast_reaches_every_process_under_the_path_from_the_sender() -> None:
    c = routed("workers/*")
    env, sent = c.world.apply(Deliver(0))
    assert env.to == Pid("workers/*", "b") and sent == []
    cid = CorrelationId(Pid("c0", "a"), 9)
    assert c.in_flight() == [Envelope(w, Pid("c0", "a"), Note("workers/*"), cid) for w in WORKERS]
    assert [seq for seq, _ in c.world.in_flight()] == [1, 2, 3]
    c.settle()
    assert got(c) == {f"workers/{i}": ["workers/*"] for i in (1, 2, 3)}
    assert c[Pid("other/1", "b")].received == []
    assert c.world.dead_letters == 0


def test_select_takes_each_process_in_turn() -> None:
    c = routed(*["workers/?"] * 4)
    c.settle()
    assert got(c) == {
        "workers/1": ["workers/?"] * 2,
        "workers/2": ["workers/?"],
        "workers/3": ["workers/?"],
    }


def test_a_routed_hop_is_local_no_partition_blocks_it() -> None:
    c = routed("workers/*")
    c.world.apply(Deliver(0))
    c.world.apply(Partition((("a",), ("b",))))
    assert len(c.world.network.deliverable) == 3
    c.world.apply(Duplicate(1))
    assert len(c.world.network.deliverable) == 4, "a copy of a hop is a hop too"
    c.settle()
    assert c[WORKERS[0]].notes() == ["workers/*"] * 2


def test_sender_hash_sends_each_sender_to_one_process() -> None:
    c = routed("workers", "workers", routes=Routes({"workers": SenderHash()}), senders=3)
    c.settle()
    targets = set()
    for i in range(3):
        sender = Pid(f"c{i}", "a")
        target = WORKERS[zlib.crc32(str(sender).encode()) % 3]
        targets.add(target)
        assert [f for _, f, _ in c[target].received].count(sender) == (2 if i == 0 else 1)
    assert sum(len(c[w].received) for w in WORKERS) == 4, "each note reached one worker"
    assert len(targets) == 2


@attrs.frozen
class Last:
    """A custom policy: the last target, and a pid that is not a target (ignored)."""

    def select(self, targets: Sequence[Pid], env: Envelope, turn: int) -> Sequence[Pid]:
        return [targets[-1], Pid("elsewhere", "zz")]


def test_a_custom_policy_registered_at_a_path_routes_the_path_and_its_select() -> None:
    c = routed("workers", "workers/?", "workers/*", routes=Routes({"workers": Last()}))
    c.settle()
    assert got(c) == {
        "workers/1": ["workers/*"],
        "workers/2": ["workers/*"],
        "workers/3": ["workers", "workers/?", "workers/*"],
    }


def test_without_implicit_routing_only_registered_paths_route() -> None:
    c = routed(
        "workers/*", "workers/?", "workers", routes=Routes({"workers": Broadcast()}, implicit=False)
    )
    c.settle()
    assert got(c) == {f"workers/{i}": ["workers"] for i in (1, 2, 3)}
    assert c.world.dead_letters == 2


def test_a_routed_name_without_targets_is_a_dead_letter() -> None:
    c = routed("nobody/*", "nobody/?", "workers/1/*")
    c.settle()
    assert got(c) == {}
    assert c.world.dead_letters == 3


def test_a_snapshot_copies_the_turns_of_each_nodes_router() -> None:
    c = routed(*["workers/?"] * 3)
    c.world.apply(Deliver(0))
    snapshot = copy.deepcopy(c.world)
    assert all(executor.host.world is snapshot for executor in snapshot.executors.values())  # type: ignore[attr-defined]
    c.settle()
    c.world = snapshot
    c.settle()
    assert got(c) == {f"workers/{i}": ["workers/?"] for i in (1, 2, 3)}


def test_a_crash_starts_the_nodes_turns_over() -> None:
    def ask(actor: Actor, msg: Any, from_: Pid, cid: Any) -> list[Envelope]:
        # A select on b each time a's members change: at start, b's crash and its restart.
        return [Envelope(Pid("workers/?", "b"), actor.pid, Note(str(msg.members)))]

    def actors(node: str) -> list[Actor]:
        if node == "b":
            return [Actor(pid) for pid in WORKERS]
        return [Actor(A, lambda a: [watch_cluster(a.pid)], ask)]

    scenario = Scenario("turns", ["a", "b"], lambda node, durable: actors(node))
    result = run(scenario, Quiet([Crash("b"), Restart("b")]))
    assert result.ok, result.violation
    delivered = [
        env.to
        for event, env, _ in result.trace
        if isinstance(env, Envelope) and isinstance(env.msg, Note)
    ]
    ab = Pid("workers/?", "b")
    # The note sent while b is down is lost; after the restart, workers/1 is first again.
    assert delivered == [ab, WORKERS[0], ab, WORKERS[0]]
    assert result.lost == 1


def test_the_hop_within_the_node_is_never_dropped_or_duplicated() -> None:
    from rabble_sim.sim import Drop, Faults, RandomChooser

    c = routed("workers/*")
    c.world.apply(Deliver(0))  # the broadcast reached b: three hops within b are in flight
    hops = [seq for seq, _ in c.world.in_flight()]
    chooser = RandomChooser(0, Faults(drop=1.0, duplicate=1.0))
    for _ in hops:
        event = chooser.next_event(c.world)
        assert isinstance(event, Deliver) and not isinstance(event, Drop | Duplicate)
        c.world.apply(event)
    assert got(c) == {f"workers/{i}": ["workers/*"] for i in (1, 2, 3)}
