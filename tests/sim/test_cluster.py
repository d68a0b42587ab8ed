"""The executor's cluster built-ins in the World: watches, spawn, services, durable data.

Each behaves as in the TCP executor, so that a protocol that uses them can be tested here
deterministically. Routing is in ``test_routing.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from rabble_sim import (
    CorrelationId,
    Envelope,
    Pid,
    Scenario,
    Shutdown,
    View,
    executor_pid,
    persist,
    run,
    start_timer,
)
from rabble_sim.core import (
    Broadcast,
    CallService,
    ClusterStatus,
    ExecutorStatus,
    GetExecutorStatus,
    GetMetrics,
    InvalidDefinition,
    Metrics,
    ServiceFailed,
    ServiceResult,
    Spawned,
    SpawnFailed,
    call_service,
    spawn,
    watch_cluster,
)
from rabble_sim.search import check_determinism
from rabble_sim.sim import (
    Crash,
    Deliver,
    FairChooser,
    Heal,
    Partition,
    RandomChooser,
    Restart,
)
from tests.sim.cluster import (
    ASK,
    A,
    Actor,
    B,
    C,
    Cluster,
    Note,
    Quiet,
    digest_of,
    everything,
    one_actor,
    spawner,
    statuses,
    watchers,
)

# -- WatchCluster and ClusterStatus ----------------------------------------------------------


def test_a_watcher_hears_of_every_crash_restart_partition_and_heal() -> None:
    split = Partition((("a",), ("c", "b")))
    result = run(watchers(), Quiet([Crash("c"), Restart("c"), split, Heal()]))
    abc, ab = ("a", "b", "c"), ("a", "b")
    assert statuses(result) == {
        A: [abc, ab, abc, ("a",), abc],
        B: [abc, ab, abc, ("b", "c"), abc],
        # The watcher dies with its node; the new one subscribes in its init.
        C: [abc, abc, ("b", "c"), abc],
    }


def test_a_watcher_hears_nothing_when_what_its_node_sees_stays_the_same() -> None:
    split = Partition((("a", "b"), ("c",)))
    result = run(watchers(), Quiet([split, Crash("c"), Restart("c"), Heal()]))
    abc = ("a", "b", "c")
    assert statuses(result) == {
        A: [abc, ("a", "b"), abc],
        B: [abc, ("a", "b"), abc],
        C: [abc, ("c",), ("c",), abc],
    }


def test_the_status_is_a_message_in_flight_with_the_watch_requests_cid() -> None:
    cid = CorrelationId(A, 7)
    watch = Envelope(executor_pid("a"), A, watch_cluster(A).msg, cid)
    c = Cluster(
        ("a", "b"), lambda node: [Actor(Pid("p", node), lambda a: [watch] if a.pid == A else [])]
    )
    assert c.in_flight() == [Envelope(A, executor_pid("a"), ClusterStatus(("a", "b")), cid)]
    c.world.apply(Crash("b"))
    assert c.in_flight()[-1] == Envelope(A, executor_pid("a"), ClusterStatus(("a",)))
    assert c[A].received == [], "nothing is delivered until the scheduler says so"


def test_a_watcher_that_shut_down_hears_nothing_more() -> None:
    result = run(watchers(stop_b=True), Quiet([Crash("c"), Restart("c")]))
    abc = ("a", "b", "c")
    assert statuses(result) == {A: [abc, ("a", "b"), abc], B: [abc], C: [abc, abc]}
    assert result.dead_letters == 0, "no status is sent to the stopped watcher"


# -- spawn ------------------------------------------------------------------------------------


def test_a_local_spawn_runs_the_process_and_its_init_and_replies_at_once() -> None:
    c = spawner(("a", "worker", "w1"))
    w1 = Pid("w1", "a")
    assert c[w1].pid == w1
    assert c.world.pids_on("a") == [A, w1]
    assert c.in_flight() == [
        Envelope(A, executor_pid("a"), Spawned(w1), ASK),
        Envelope(A, w1, Note("w1 up with 2")),
    ]
    c.settle()
    assert c[A].received[0] == (Spawned(w1), executor_pid("a"), ASK)


def test_a_remote_spawn_travels_and_runs_when_it_is_delivered() -> None:
    c = spawner(("b", "worker", "w1"))
    (request,) = c.in_flight()
    assert request == spawn(A, "b", "worker", "w1", 2, ASK)
    c.world.apply(Partition((("a",), ("b", "c"))))
    assert len(c.world.network.deliverable) == 0, "the request crosses the network"
    c.world.apply(Heal())
    env, sent = c.world.apply(Deliver(c.world.network.deliverable.oldest()))
    w1 = Pid("w1", "b")
    assert env == request
    assert sent == [Envelope(A, w1, Note("w1 up with 2"))], "the step sent the init's output"
    assert c.in_flight() == [Envelope(A, executor_pid("b"), Spawned(w1), ASK), *sent]
    assert c.world.metrics[w1] == [0, 1, 0, 0]


@pytest.mark.parametrize("node", ["a", "b"])
def test_spawn_fails_for_an_unknown_factory_a_taken_name_or_a_bad_factory(node: str) -> None:
    c = spawner(
        (node, "nope", "w1"),
        (node, "worker", "w1"),
        (node, "worker", "w1"),
        (node, "raises", "w2"),
        (node, "junk", "w3"),
    )
    c.settle()
    executor = executor_pid(node)
    not_a_process = "which is not a process (it needs a pid and a handle method)"
    assert [(msg, cid) for msg, from_, cid in c[A].received if from_ == executor] == [
        (SpawnFailed("nope", "w1", f"no factory named 'nope' on {node}"), ASK),
        (Spawned(Pid("w1", node)), ASK),
        (SpawnFailed("worker", "w1", f"w1::{node} is already running"), ASK),
        (SpawnFailed("raises", "w2", "the factory raised ValueError('no worker for 2')"), ASK),
        (SpawnFailed("junk", "w3", f"the factory returned 42, {not_a_process}"), ASK),
    ]
    assert sorted(c.world.processes) == sorted([A, B, C, Pid("w1", node)])


def test_a_spawn_request_to_a_down_node_is_lost_like_any_message() -> None:
    c = spawner(("b", "worker", "w1"))
    c.world.apply(Crash("b"))
    c.settle()
    assert Pid("w1", "b") not in c.world.processes
    assert c[A].received == [], "the request in flight to b was lost in the crash"

    def ask(actor: Actor, msg: Any, from_: Pid, cid: Any) -> list[Envelope]:
        # A spawn on b each time a's members change: at start, and when b is down.
        if isinstance(msg, ClusterStatus):
            return [spawn(A, "b", "worker", f"w{len(msg.members)}", cid=ASK)]
        return []

    def start(node: str, durable: Any) -> list[Actor]:
        return [Actor(Pid("p", node), lambda a: [watch_cluster(a.pid)] if node == "a" else [], ask)]

    factories = {"worker": lambda pid, arg: Actor(pid)}
    result = run(Scenario("lost", ["a", "b"], start, factories=factories), Quiet([Crash("b")]))
    to_a = [env.msg for e, env, _ in result.trace if isinstance(e, Deliver) and env and env.to == A]
    assert to_a == [ClusterStatus(("a", "b")), Spawned(Pid("w2", "b")), ClusterStatus(("a",))]
    assert result.lost == 1


def test_spawned_processes_are_not_rebuilt_after_a_crash_but_their_data_is_handed_back() -> None:
    def worker(pid: Pid, arg: Any) -> Actor:
        return Actor(pid, lambda w: [persist(w.pid, ["saved", arg])])

    c = spawner(("b", "worker", "w1"), factories={"worker": worker})
    c.settle()
    assert Pid("w1", "b") in c.world.processes
    c.world.apply(Crash("b"))
    c.world.apply(Restart("b"))
    assert Pid("w1", "b") not in c.world.processes
    assert c.starts[-1] == ("b", {Pid("w1", "b"): ["saved", 2]})


def test_an_exception_in_a_spawned_init_is_a_violation_at_the_delivery() -> None:
    def worker(pid: Pid, arg: Any) -> Actor:
        return Actor(pid, lambda w: [Envelope(A, w.pid, Note(str(1 // arg)))])

    request = spawn(A, "b", "worker", "w1", 0)

    def start(node: str, durable: Any) -> list[Actor]:
        return [Actor(Pid("p", node), lambda a: [request] if node == "a" else [])]

    scenario = Scenario("bad-worker", ["a", "b"], start, factories={"worker": worker})
    result = run(scenario, FairChooser())
    assert result.violation is not None
    assert result.violation.check == "exception in init of w1::b"
    assert result.violation.step == 1
    assert result.trace.step(result.steps) == (Deliver(0), request, ())


def test_only_spawn_metrics_and_status_may_come_from_another_node() -> None:
    requests = [start_timer(A, 5, ASK).msg, Shutdown(), watch_cluster(A).msg, CallService("x")]
    requests += [GetExecutorStatus(), GetMetrics(B)]

    def init(actor: Actor) -> list[Envelope]:
        return [Envelope(executor_pid("b"), actor.pid, msg, ASK) for msg in requests]

    c = Cluster(("a", "b"), one_actor(lambda a: init(a) if a.pid == A else []))
    c.settle()
    assert c.world.dead_letters == 4
    assert B in c.world.processes and not c.world.timers
    assert c[A].received == [
        (ExecutorStatus("b", 1), executor_pid("b"), ASK),
        (Metrics(B), executor_pid("b"), ASK),
    ]


# -- services ---------------------------------------------------------------------------------


def test_a_service_is_called_at_once_and_answers_in_flight() -> None:
    calls = [("add", (2, 3)), ("divide", (1, 0)), ("nope", ())]
    services = {"add": lambda x, y: x + y, "divide": lambda x, y: x // y}

    def init(actor: Actor) -> list[Envelope]:
        cids = [CorrelationId(actor.pid, i) for i in range(len(calls))]
        return [
            call_service(actor.pid, s, *args, cid=cid)
            for (s, args), cid in zip(calls, cids, strict=True)
        ]

    c = Cluster(("a",), one_actor(init), services=services)
    ex = executor_pid("a")
    assert c.in_flight() == [
        Envelope(A, ex, ServiceResult("add", 5), CorrelationId(A, 0)),
        Envelope(
            A,
            ex,
            ServiceFailed("divide", "ZeroDivisionError('integer division or modulo by zero')"),
            CorrelationId(A, 1),
        ),
        Envelope(A, ex, ServiceFailed("nope", "no service named 'nope' on a"), CorrelationId(A, 2)),
    ]


# -- durable data -----------------------------------------------------------------------------


def test_persisted_data_comes_back_as_the_tcp_executor_hands_it_back() -> None:
    data = {"pair": (1, 2), "tags": {"b", "a"}, "by": A, "note": Note("nested")}
    c = Cluster(
        ("a", "b"),
        lambda node: [
            Actor(Pid("p", node), lambda a: [persist(a.pid, data if node == "a" else Note("kept"))])
        ],
    )
    back = {
        "pair": [1, 2],
        "tags": ["a", "b"],
        "by": "p::a",
        "note": {"test.cluster.note": {"text": "nested"}},
    }
    assert dict(View(c.world).durable) == {A: back, B: Note("kept")}
    c.world.apply(Crash("a"))
    c.world.apply(Restart("a"))
    c.world.apply(Crash("b"))
    c.world.apply(Restart("b"))
    assert c.starts[-2:] == [("a", {A: back}), ("b", {B: Note("kept")})]
    assert type(c.starts[-1][1][B]) is Note  # type: ignore[index]


def test_data_that_cannot_be_stored_is_a_bad_request() -> None:
    def start(node: str, durable: Any) -> list[Actor]:
        return [Actor(A, lambda a: [persist(a.pid, 2**70)])]

    result = run(Scenario("too-big", ["a"], start), FairChooser())
    assert result.violation is not None
    assert result.violation.check == "bad request of p::a to its executor"
    assert "2**64" in result.violation.message


# -- the scenario -----------------------------------------------------------------------------


def start_nothing(node: str, durable: Any) -> list[Any]:
    return []


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("routes", {"workers": Broadcast()}, "Scenario.routes must be a Routes"),
        ("factories", {"worker": "Worker"}, "Scenario.factories maps names to functions"),
        ("factories", [print], "Scenario.factories maps names to functions"),
        ("services", {"": print}, "Scenario.services maps names to functions"),
        ("services", {1: print}, "Scenario.services maps names to functions"),
    ],
)
def test_a_bad_cluster_field_is_an_error_of_definition(field: str, value: Any, error: str) -> None:
    with pytest.raises(InvalidDefinition, match=error):
        Scenario("bad", ["a"], start_nothing, **{field: value})


def test_the_scenario_keeps_its_own_copy_of_factories_and_services() -> None:
    services = {"add": print}
    scenario = Scenario("ok", ["a"], start_nothing, services=services)
    services["sub"] = print
    assert list(scenario.services) == ["add"]


# -- determinism ------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_trace_with_every_cluster_feature() -> None:
    kinds: set[str] = set()
    events: set[str] = set()
    for seed in range(5):  # between them, every feature and every fault
        result = run(everything(), RandomChooser(seed))
        kinds |= {
            type(env.msg).__name__
            for event, env, _ in result.trace
            if isinstance(event, Deliver) and env
        }
        events |= set(result.trace.counts())
        assert digest_of(seed) == digest_of(seed) == result.trace.digest()
    assert {"ClusterStatus", "Spawned", "SpawnFailed", "ServiceResult", "Tick"} <= kinds
    assert {"crash", "restart", "partition", "heal", "drift", "jump", "lose_disk"} <= events
    assert digest_of(1) != digest_of(0)


def test_the_trace_does_not_depend_on_the_hash_seed() -> None:
    report = check_determinism("tests.sim.cluster:EVERYTHING", [5], strategy="random")
    assert report.ok, report.difference
    assert report.digests == {5: digest_of(5)}, "and it is this interpreter's trace"
