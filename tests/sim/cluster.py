"""Small protocols for the tests of the executor's cluster built-ins in the World.

``Actor`` sends what its scripts say and records what it gets; ``Cluster`` is a started
World of them (``scripted``: one on each of nodes a, b and c); ``Quiet`` delivers
everything before each scripted fault; ``everything`` is a scenario that uses every
cluster feature under every fault.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from rabble_sim import (
    CorrelationId,
    Envelope,
    Pid,
    RandomChooser,
    Scenario,
    Shutdown,
    Timeout,
    executor_pid,
    message,
    persist,
    run,
    start_timer,
)
from rabble_sim.core import ClusterStatus, Routes, SenderHash, call_service, spawn, watch_cluster
from rabble_sim.sim import Deliver, Event, RunResult, World
from tests.sim.conftest import ALL_FAULTS


@message("test.cluster.note")
@attrs.frozen
class Note:
    text: str


Script = Callable[["Actor", Any, Pid, CorrelationId | None], list[Envelope]]


def nothing(*args: Any) -> list[Envelope]:
    return []


class Actor:
    """Records what it receives; ``on_init`` and ``on_msg`` say what it sends."""

    def __init__(
        self,
        pid: Pid,
        on_init: Callable[[Actor], list[Envelope]] = nothing,
        on_msg: Script = nothing,
    ) -> None:
        self.pid = pid
        self.on_init = on_init
        self.on_msg = on_msg
        self.received: list[tuple[Any, Pid, CorrelationId | None]] = []
        self.volatile = 0
        """Messages handled in this life: never persisted, so a crash loses it."""

    def init(self, output: list[Envelope]) -> None:
        output.extend(self.on_init(self))

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        self.received.append((msg, from_, cid))
        self.volatile += 1
        output.extend(self.on_msg(self, msg, from_, cid))

    def notes(self) -> list[str]:
        return [msg.text for msg, _, _ in self.received if isinstance(msg, Note)]


class Cluster:
    """A World whose nodes run the Actors ``actors`` builds, started, with every
    ``start(node, durable)`` call logged; ``kwargs`` go to the Scenario."""

    def __init__(
        self,
        nodes: Sequence[str],
        actors: Callable[[str], list[Actor]],
        **kwargs: Any,
    ) -> None:
        self.starts: list[tuple[str, dict[Pid, Any] | None]] = []

        def start(node: str, durable: dict[Pid, Any] | None) -> list[Actor]:
            self.starts.append((node, durable))
            return actors(node)

        self.scenario = Scenario("cluster", nodes, start, **kwargs)
        self.world = World(self.scenario)
        self.init_output = self.world.start()

    def __getitem__(self, pid: Pid) -> Actor:
        actor: Actor = self.world.processes[pid]
        return actor

    def settle(self) -> None:
        """Deliver every message, oldest first, until none is in flight."""
        while len(self.world.network.deliverable):
            self.world.apply(Deliver(self.world.network.deliverable.oldest()))

    def in_flight(self) -> list[Envelope]:
        return [env for _, env in self.world.in_flight()]

    def seqs(self) -> list[int]:
        """The seqs of the messages in flight, oldest first."""
        return [seq for seq, _ in self.world.in_flight()]

    def seq_of(self, to: Pid, from_: Pid) -> int:
        """The seq of the one message in flight from ``from_`` to ``to``."""
        (seq,) = [s for s, env in self.world.in_flight() if env.to == to and env.from_ == from_]
        return seq

    def deliverable(self) -> list[int]:
        """The seqs of the messages that may be delivered now (not held by a partition)."""
        return list(self.world.network.deliverable)


def one_actor(
    on_init: Callable[[Actor], list[Envelope]] = nothing, on_msg: Script = nothing
) -> Any:
    """An Actor ``p`` on every node."""
    return lambda node: [Actor(Pid("p", node), on_init, on_msg)]


NODES = ("a", "b", "c")
Init = Callable[[Actor], list[Envelope]]


def scripted(
    inits: dict[Pid, Init] | None = None, on_msg: Script = nothing, nodes: Sequence[str] = NODES
) -> Cluster:
    """An Actor ``p`` on each of ``nodes``: its init sends what ``inits`` says for its
    pid (nothing if absent), and every Actor answers messages with ``on_msg``."""
    scripts = inits or {}

    def actors(node: str) -> list[Actor]:
        pid = Pid("p", node)
        return [Actor(pid, scripts.get(pid, nothing), on_msg)]

    return Cluster(nodes, actors)


class Quiet:
    """A chooser: delivers the oldest message while any is in flight, and plays the next
    of ``events`` only when none is; timers never fire."""

    def __init__(self, events: Iterable[Event]) -> None:
        self.events = list(events)

    def next_event(self, world: World) -> Event | None:
        if len(world.network.deliverable):
            return Deliver(world.network.deliverable.oldest())
        return self.events.pop(0) if self.events else None


A, B, C = Pid("p", "a"), Pid("p", "b"), Pid("p", "c")


def watchers(nodes: Sequence[str] = ("c", "a", "b"), *, stop_b: bool = False) -> Scenario:
    """A watcher ``p`` on every node. It stops when it gets ``Note("stop")``; with
    ``stop_b``, ``p::a`` sends that to ``p::b`` once it has its first ``ClusterStatus``."""

    def on_msg(actor: Actor, msg: Any, from_: Pid, cid: Any) -> list[Envelope]:
        if msg == Note("stop"):
            return [Envelope(executor_pid(actor.pid.node), actor.pid, Shutdown())]
        if stop_b and actor.pid == A and len(actor.received) == 1:
            return [Envelope(B, actor.pid, Note("stop"))]
        return []

    def start(node: str, durable: Any) -> list[Actor]:
        return [Actor(Pid("p", node), lambda a: [watch_cluster(a.pid)], on_msg)]

    return Scenario("watchers", nodes, start)


def statuses(result: RunResult) -> dict[Pid, list[tuple[str, ...]]]:
    """The members each pid was told, in the order it got them."""
    assert result.ok, result.violation
    told: dict[Pid, list[tuple[str, ...]]] = {}
    for event, env, _ in result.trace:
        if isinstance(event, Deliver) and env is not None and isinstance(env.msg, ClusterStatus):
            assert env.from_ == executor_pid(env.to.node)
            told.setdefault(env.to, []).append(env.msg.members)
    return told


ASK = CorrelationId(A, 1)


def spawner(
    *requests: tuple[str, str, str], factories: dict[str, Any] | None = None, **kwargs: Any
) -> Cluster:
    """Nodes a, b, c; ``p::a`` sends ``spawn`` requests ``(node, factory, name)`` at init."""

    def init(actor: Actor) -> list[Envelope]:
        return [spawn(actor.pid, node, f, name, len(name), ASK) for node, f, name in requests]

    def worker(pid: Pid, arg: Any) -> Actor:
        return Actor(pid, lambda w: [Envelope(A, w.pid, Note(f"{w.pid.name} up with {arg}"))])

    def raises(pid: Pid, arg: Any) -> Actor:
        raise ValueError(f"no worker for {arg}")

    factories = factories or {"worker": worker, "raises": raises, "junk": lambda pid, arg: 42}
    return Cluster(
        ("a", "b", "c"),
        lambda node: [Actor(Pid("p", node), init if node == "a" else nothing)],
        factories=factories,
        **kwargs,
    )


@message("test.cluster.tick")
@attrs.frozen
class Tick:
    round: int


@attrs.define
class Member:
    """Uses every cluster feature: watches, spawns a worker on each peer, calls a service,
    persists a tuple and sends to routed names on its peers on each of three timeouts."""

    pid: Pid
    peers: tuple[str, ...]
    round: int = 0
    seen: list[tuple[str, ...]] = attrs.Factory(list)
    log: list[str] = attrs.Factory(list)

    def init(self, output: list[Envelope]) -> None:
        me = self.pid
        output.append(watch_cluster(me))
        for i, peer in enumerate(self.peers):
            output.append(spawn(me, peer, "worker", f"workers/{me.node}", i, CorrelationId(me, i)))
        output.append(call_service(me, "double", self.round, cid=CorrelationId(me, 10)))
        output.append(start_timer(me, 10, CorrelationId(me)))

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        self.log.append(type(msg).__name__)
        if isinstance(msg, ClusterStatus):
            self.seen.append(msg.members)
        elif isinstance(msg, Timeout) and self.round < 3:
            self.round += 1
            output.append(persist(self.pid, (self.round, self.seen[-1:])))
            for peer in self.peers:
                output.append(Envelope(Pid("workers/*", peer), self.pid, Tick(self.round)))
                output.append(Envelope(Pid("workers/?", peer), self.pid, Tick(-self.round)))
            output.append(call_service(self.pid, "double", self.round))
            output.append(start_timer(self.pid, 10, CorrelationId(self.pid)))


@attrs.define
class Worker:
    pid: Pid
    arg: Any
    ticks: list[int] = attrs.Factory(list)

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Tick):
            self.ticks.append(msg.round)


def everything() -> Scenario:
    nodes = ("n1", "n2", "n3")

    def start(node: str, durable: dict[Pid, Any] | None) -> list[Member]:
        return [Member(Pid("member", node), tuple(n for n in nodes if n != node))]

    return Scenario(
        "everything",
        nodes,
        start,
        faults=ALL_FAULTS,
        max_steps=400,
        factories={"worker": Worker},
        services={"double": lambda n: 2 * n},
        routes=Routes({"workers": SenderHash()}),
    )


EVERYTHING = everything()
"""``everything()`` under a module-level name, for what takes ``MODULE:SCENARIO``."""


def digest_of(seed: int) -> str:
    result = run(everything(), RandomChooser(seed))
    assert result.ok, result.violation
    return result.trace.digest()
