"""The World's event semantics, driven directly with ``start()`` and ``apply(event)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import networkx as nx
import pytest

from rabble_sim import (
    CancelTimer,
    CorrelationId,
    Envelope,
    ExecutorStatus,
    GetExecutorStatus,
    GetMetrics,
    Metrics,
    Pid,
    Scenario,
    Shutdown,
    Timeout,
    cancel_timer,
    executor_pid,
    persist,
    start_timer,
)
from rabble_sim.sim import (
    Crash,
    Deliver,
    Drop,
    Duplicate,
    EventNotEnabled,
    FireTimer,
    Heal,
    Partition,
    Restart,
    World,
)
from tests.sim.cluster import A, Actor, B, C, Cluster, Note, nothing, scripted


def send(to: Pid, text: str, cid: CorrelationId | None = None) -> Callable[[Actor], list[Envelope]]:
    return lambda actor: [Envelope(to, actor.pid, Note(text), cid)]


# -- start and delivery ---------------------------------------------------------------------


def test_what_init_sends_is_in_flight_after_start_in_creation_order() -> None:
    c = scripted({A: send(C, "a->c"), B: send(A, "b->a"), C: send(B, "c->b")})
    assert [(env.from_, env.to, env.msg) for _, env in c.world.in_flight()] == [
        (A, C, Note("a->c")),
        (B, A, Note("b->a")),
        (C, B, Note("c->b")),
    ]
    assert c.seqs() == [0, 1, 2]
    assert c.init_output == [env for _, env in c.world.in_flight()]


def test_deliver_hands_the_message_its_sender_and_cid_to_the_receiver() -> None:
    cid = CorrelationId(A, 1, 2)
    c = scripted({A: send(B, "hello", cid)})
    env, out = c.world.apply(Deliver(0))
    assert env == Envelope(B, A, Note("hello"), cid)
    assert out == []
    assert c[B].received == [(Note("hello"), A, cid)]
    assert c.seqs() == []


def test_what_a_handler_sends_gets_the_next_seqs() -> None:
    def reply(actor: Actor, msg: Any, from_: Pid, cid: Any) -> list[Envelope]:
        return [Envelope(from_, actor.pid, Note("re"), cid), Envelope(C, actor.pid, Note("cc"))]

    c = scripted({A: send(B, "hi")}, on_msg=reply)
    _, out = c.world.apply(Deliver(0))
    assert out == [Envelope(A, B, Note("re")), Envelope(C, B, Note("cc"))]
    assert [(seq, env.to) for seq, env in c.world.in_flight()] == [(1, A), (2, C)]


def test_any_in_flight_message_may_be_delivered_next() -> None:
    c = scripted({A: lambda a: [Envelope(B, a.pid, Note(str(i))) for i in range(3)]})
    c.world.apply(Deliver(2))
    c.world.apply(Deliver(0))
    c.world.apply(Deliver(1))
    assert [msg.text for msg, _, _ in c[B].received] == ["2", "0", "1"]


def test_a_dropped_message_is_never_delivered() -> None:
    c = scripted({A: lambda a: [Envelope(B, a.pid, Note("lost")), Envelope(B, a.pid, Note("ok"))]})
    env, out = c.world.apply(Drop(0))
    assert env == Envelope(B, A, Note("lost"))
    assert out == []
    assert c.seqs() == [1]
    with pytest.raises(EventNotEnabled, match="message #0 is not in flight"):
        c.world.apply(Deliver(0))
    c.world.apply(Deliver(1))
    assert c[B].received == [(Note("ok"), A, None)]


def test_a_duplicated_message_is_delivered_twice_under_both_seqs() -> None:
    cid = CorrelationId(A, 9)
    c = scripted({A: send(B, "twice", cid), C: send(A, "other")})
    env, out = c.world.apply(Duplicate(0))
    assert env == Envelope(B, A, Note("twice"), cid)
    assert out == []
    assert c.seqs() == [0, 1, 2]
    assert c.world.envelope(2) == env
    c.world.apply(Deliver(2))
    c.world.apply(Deliver(0))
    assert c[B].received == [(Note("twice"), A, cid)] * 2
    assert c.seqs() == [1]


# -- crash and restart ----------------------------------------------------------------------


def crash_setup() -> Cluster:
    """A and C each send B a note; B sent A one and has a timer pending."""
    cid = CorrelationId(B, 1)
    return scripted(
        {
            A: send(B, "to b"),
            B: lambda b: [Envelope(A, b.pid, Note("from b")), start_timer(b.pid, 10, cid)],
            C: send(B, "to b too"),
        }
    )


def test_a_crash_loses_volatile_state_timers_and_messages_to_the_node() -> None:
    c = crash_setup()
    to_b = [c.seq_of(B, A), c.seq_of(B, C)]
    from_b = c.seq_of(A, B)
    c.world.apply(Deliver(to_b[0]))
    assert c[B].volatile == 1
    assert c.world.timers.next() is not None

    assert c.world.apply(Crash("b")) == (None, [])
    assert B not in c.world.processes
    assert c.world.down_nodes() == ["b"]
    assert c.world.timers.next() is None
    assert c.seqs() == [from_b], "what b sent stays in flight; what was sent to b is gone"
    with pytest.raises(EventNotEnabled, match=f"message #{to_b[1]} is not in flight"):
        c.world.apply(Deliver(to_b[1]))

    c.world.apply(Deliver(from_b))
    assert c[A].received == [(Note("from b"), B, None)]


def test_messages_sent_to_a_down_node_are_lost_even_after_it_restarts() -> None:
    c = scripted({A: send(B, "early")}, on_msg=lambda a, m, f, cid: [Envelope(B, a.pid, Note("x"))])
    c.world.apply(Crash("b"))
    assert c.seqs() == []
    c.world.apply(Restart("b"))
    assert c.seqs() == []
    assert c[B].received == []


def test_restart_builds_fresh_processes_and_runs_init_again() -> None:
    inits: list[Pid] = []

    def init(actor: Actor) -> list[Envelope]:
        inits.append(actor.pid)
        return [Envelope(A, actor.pid, Note("hello again"))]

    c = scripted({B: init})
    c.world.apply(Deliver(0))
    old = c[B]
    old.volatile = 42
    c.world.apply(Crash("b"))
    env, out = c.world.apply(Restart("b"))
    assert env is None
    assert out == [Envelope(A, B, Note("hello again"))]
    assert inits == [B, B]
    assert c[B] is not old
    assert c[B].volatile == 0
    assert c.world.up_nodes() == ["a", "b", "c"]
    assert [env.msg for _, env in c.world.in_flight()] == [Note("hello again")]


def test_restart_hands_start_exactly_the_last_persisted_data_of_the_nodes_pids() -> None:
    def save(actor: Actor, msg: Any, from_: Pid, cid: Any) -> list[Envelope]:
        return [persist(actor.pid, {"count": actor.volatile, "log": [msg.text]})]

    c = scripted(
        {A: send(B, "first"), C: lambda ac: [persist(ac.pid, "c's data"), *send(B, "2nd")(ac)]},
        on_msg=save,
    )
    assert c.starts == [("a", None), ("b", None), ("c", None)]
    c.world.apply(Deliver(0))
    c.world.apply(Deliver(1))
    c.world.apply(Crash("b"))
    c.world.apply(Restart("b"))
    assert c.starts[-1] == ("b", {B: {"count": 2, "log": ["2nd"]}})


def test_persisted_data_is_a_snapshot_not_a_reference() -> None:
    log: list[str] = ["x"]
    c = scripted({A: send(B, "save")}, on_msg=lambda b, msg, f, cid: [persist(b.pid, log)])
    c.world.apply(Deliver(0))
    log.append("changed after persisting")
    c.world.apply(Crash("b"))
    c.world.apply(Restart("b"))
    durable = c.starts[-1][1]
    assert durable == {B: ["x"]}
    durable[B].append("changed by the new process")  # type: ignore[index]
    c.world.apply(Crash("b"))
    c.world.apply(Restart("b"))
    assert c.starts[-1] == ("b", {B: ["x"]})


def test_restart_of_a_node_that_never_persisted_gets_no_data() -> None:
    c = scripted()
    c.world.apply(Crash("a"))
    c.world.apply(Restart("a"))
    assert c.starts[-1] == ("a", {})


# -- partitions -----------------------------------------------------------------------------


def test_a_partition_blocks_exactly_the_cross_group_messages_until_heal() -> None:
    c = scripted(
        {
            A: lambda a: [Envelope(B, a.pid, Note("a->b")), Envelope(A, a.pid, Note("a->a"))],
            B: send(C, "b->c"),
            C: send(A, "c->a"),
        }
    )
    a_b, a_a, b_c, c_a = c.seq_of(B, A), c.seq_of(A, A), c.seq_of(C, B), c.seq_of(A, C)
    c.world.apply(Partition((("a",), ("b", "c"))))
    assert c.world.partitioned
    assert c.deliverable() == [a_a, b_c]
    assert c.seqs() == [a_b, a_a, b_c, c_a], "blocked messages are still in flight"
    for seq in (a_b, c_a):
        with pytest.raises(EventNotEnabled, match=f"message #{seq} is waiting for a heal"):
            c.world.apply(Deliver(seq))
    with pytest.raises(EventNotEnabled, match="waiting for a heal"):
        c.world.apply(Duplicate(a_b))

    c.world.apply(Heal())
    assert not c.world.partitioned
    assert c.deliverable() == [a_b, a_a, b_c, c_a]
    c.world.apply(Deliver(a_b))
    assert c[B].received == [(Note("a->b"), A, None)]


def test_the_network_graph_shows_the_partition() -> None:
    c = scripted()
    assert nx.is_strongly_connected(c.world.network_graph())
    c.world.apply(Partition((("a",), ("b", "c"))))
    graph = c.world.network_graph()
    components = sorted(sorted(group) for group in nx.strongly_connected_components(graph))
    assert components == [["a"], ["b", "c"]]
    c.world.apply(Heal())
    assert c.world.network_graph().number_of_edges() == 6  # three links, each both ways


def test_a_one_way_cut_leaves_the_first_group_heard_but_deaf() -> None:
    c = scripted()
    c.world.apply(Partition((("a",), ("b", "c")), one_way=True))
    graph = c.world.network_graph()
    assert sorted(graph.edges) == [("a", "b"), ("a", "c"), ("b", "c"), ("c", "b")]
    assert c.world.network.reaches("b", "a") and not c.world.network.reaches("a", "b")
    # A link that works one way only is lost: no member sees the other side.
    assert c.world.members("a") == ("a",)
    assert c.world.members("b") == ("b", "c")


def test_messages_sent_across_groups_during_a_partition_wait_for_the_heal() -> None:
    def forward(actor: Actor, msg: Any, from_: Pid, cid: Any) -> list[Envelope]:
        if msg.text == "go":
            return [Envelope(A, actor.pid, Note("across")), Envelope(C, actor.pid, Note("inside"))]
        return []

    c = scripted({B: send(B, "go")}, on_msg=forward)
    c.world.apply(Partition((("a",), ("b", "c"))))
    c.world.apply(Deliver(0))
    across, inside = c.seq_of(A, B), c.seq_of(C, B)
    assert c.deliverable() == [inside]
    c.world.apply(Heal())
    assert c.deliverable() == [across, inside]


@pytest.mark.parametrize(
    ("groups", "problem"),
    [
        ((("a", "b"), ("b", "c")), "does not name each node .* exactly once"),
        ((("a",), ("b",)), "does not name each node .* exactly once"),
        ((("a",), ("b", "c", "z")), "does not name each node .* exactly once"),
        (((), ("a", "b", "c")), "needs two or more groups, none of them empty"),
        ((("a", "b", "c"),), "needs two or more groups, none of them empty"),
    ],
)
def test_a_partition_must_split_the_nodes_into_non_empty_groups(groups: Any, problem: str) -> None:
    c = scripted()
    with pytest.raises(EventNotEnabled, match=problem):
        c.world.apply(Partition(groups))
    assert not c.world.partitioned


# -- timers ---------------------------------------------------------------------------------


def timer_cid(n: int) -> CorrelationId:
    return CorrelationId(A, n)


def test_timers_fire_in_due_order_and_move_the_clock() -> None:
    c = scripted({A: lambda a: [start_timer(a.pid, ms, timer_cid(ms)) for ms in (30, 10, 20)]})
    assert c.world.now == 0
    assert c.seqs() == [], "timers are not messages"
    fired = []
    while (seq := c.world.timers.next()) is not None:
        env, _ = c.world.apply(FireTimer(seq))
        assert env == Envelope(A, executor_pid("a"), Timeout(), env.cid)
        fired.append((c.world.now, env.cid))
    assert fired == [(10, timer_cid(10)), (20, timer_cid(20)), (30, timer_cid(30))]
    assert [(msg, cid) for msg, _, cid in c[A].received] == [
        (Timeout(), timer_cid(ms)) for ms in (10, 20, 30)
    ]


def test_only_the_next_timer_due_may_fire() -> None:
    c = scripted(
        {A: lambda a: [start_timer(a.pid, 50, timer_cid(1)), start_timer(a.pid, 5, timer_cid(2))]}
    )
    later = min(c.world.timers)
    with pytest.raises(EventNotEnabled, match=f"timer #{later} is not the next timer due"):
        c.world.apply(FireTimer(later))


def test_a_timer_is_due_relative_to_the_clock_when_it_starts() -> None:
    def again(actor: Actor, msg: Any, from_: Pid, cid: Any) -> list[Envelope]:
        return [start_timer(actor.pid, 5, timer_cid(2))] if cid == timer_cid(1) else []

    c = scripted({A: lambda a: [start_timer(a.pid, 10, timer_cid(1))]}, on_msg=again)
    c.world.apply(FireTimer(c.world.timers.next()))  # type: ignore[arg-type]
    assert c.world.now == 10
    c.world.apply(FireTimer(c.world.timers.next()))  # type: ignore[arg-type]
    assert c.world.now == 15


def test_a_cancelled_timer_never_fires() -> None:
    c = scripted(
        {
            A: lambda a: [
                start_timer(a.pid, 10, timer_cid(1)),
                start_timer(a.pid, 20, timer_cid(2)),
                start_timer(a.pid, 30, timer_cid(3)),
                cancel_timer(a.pid, timer_cid(1)),
                Envelope(executor_pid("a"), a.pid, CancelTimer(), timer_cid(3)),
            ]
        }
    )
    seq = c.world.timers.next()
    assert seq is not None
    c.world.apply(FireTimer(seq))
    assert c.world.timers.next() is None
    assert [cid for _, _, cid in c[A].received] == [timer_cid(2)]


def test_starting_a_timer_with_the_same_cid_replaces_it() -> None:
    c = scripted(
        {A: lambda a: [start_timer(a.pid, 10, timer_cid(1)), start_timer(a.pid, 40, timer_cid(1))]}
    )
    assert len(c.world.timers) == 1
    c.world.apply(FireTimer(c.world.timers.next()))  # type: ignore[arg-type]
    assert c.world.now == 40
    assert c.world.timers.next() is None
    assert [cid for _, _, cid in c[A].received] == [timer_cid(1)]


def test_timers_of_different_processes_with_equal_cids_are_distinct() -> None:
    cid = CorrelationId(Pid("shared", "x"))
    c = scripted(
        {A: lambda a: [start_timer(a.pid, 10, cid)], B: lambda b: [start_timer(b.pid, 20, cid)]}
    )
    assert len(c.world.timers) == 2


# -- the executor ---------------------------------------------------------------------------


def test_get_metrics_is_answered_with_what_the_executor_counted() -> None:
    ask = CorrelationId(A, 99)

    def on_msg(actor: Actor, msg: Any, from_: Pid, cid: Any) -> list[Envelope]:
        if isinstance(msg, Note):
            return [
                start_timer(actor.pid, 10, timer_cid(1)),
                start_timer(actor.pid, 10, timer_cid(2)),
                cancel_timer(actor.pid, timer_cid(1)),
                Envelope(executor_pid("a"), actor.pid, GetMetrics(), ask),
            ]
        return []

    c = scripted({B: lambda b: [Envelope(A, b.pid, Note(str(i))) for i in range(2)]}, on_msg=on_msg)
    c.world.apply(Deliver(0))
    (seq,) = [s for s, env in c.world.in_flight() if isinstance(env.msg, Metrics)]
    env = c.world.envelope(seq)
    # Every envelope the process appended to output counts as sent, executor requests too.
    assert env == Envelope(A, executor_pid("a"), Metrics(A, 1, 4, 2, 1), ask)
    c.world.apply(Deliver(seq))
    assert c[A].received[-1] == (Metrics(A, 1, 4, 2, 1), executor_pid("a"), ask)


def test_get_metrics_of_another_process() -> None:
    def ask(actor: Actor, msg: Any, from_: Pid, cid: Any) -> list[Envelope]:
        if isinstance(msg, Note):  # of its node's executor, and of its own
            return [Envelope(executor_pid(n), actor.pid, GetMetrics(A)) for n in ("a", "b")]
        return []

    c = scripted({A: send(B, "x")}, on_msg=ask)
    c.world.apply(Deliver(0))
    to_a = next(seq for seq, env in c.world.in_flight() if env.to == executor_pid("a"))
    c.world.apply(Deliver(to_a))
    replies = [env for _, env in c.world.in_flight()]
    assert Envelope(B, executor_pid("a"), Metrics(A, received=0, sent=1)) in replies
    # An executor counts only its own node's processes, as a TCP node does.
    assert Envelope(B, executor_pid("b"), Metrics(A)) in replies


def test_get_executor_status_is_answered_with_the_nodes_process_count() -> None:
    def start(node: str, durable: Any) -> list[Actor]:
        def init(actor: Actor) -> list[Envelope]:
            cid = CorrelationId(actor.pid, 1)
            return [Envelope(executor_pid(node), actor.pid, GetExecutorStatus(), cid)]

        return [Actor(Pid(name, node), init, nothing) for name in ("x", "y")]

    world = World(Scenario("status", ["n1"], start))
    world.start()
    replies = [(env.to, env.from_, env.msg, env.cid) for _, env in world.in_flight()]
    assert replies == [
        (pid, executor_pid("n1"), ExecutorStatus("n1", 2), CorrelationId(pid, 1))
        for pid in (Pid("x", "n1"), Pid("y", "n1"))
    ]


def test_shutdown_stops_the_process_and_its_timers() -> None:
    def stop(actor: Actor, msg: Any, from_: Pid, cid: Any) -> list[Envelope]:
        if isinstance(msg, Note) and msg.text == "stop":
            return [Envelope(executor_pid(actor.pid.node), actor.pid, Shutdown())]
        return []

    c = scripted(
        {
            A: lambda a: [Envelope(B, a.pid, Note("stop")), Envelope(B, a.pid, Note("late"))],
            B: lambda b: [start_timer(b.pid, 10, CorrelationId(b.pid))],
        },
        on_msg=stop,
    )
    stopped = c[B]
    c.world.apply(Deliver(0))
    assert B not in c.world.processes
    assert c.world.timers.next() is None
    assert c.world.dead_letters == 0
    c.world.apply(Deliver(1))
    assert c.world.dead_letters == 1
    assert [msg.text for msg, _, _ in stopped.received] == ["stop"]


def test_requests_after_shutdown_in_the_same_output_are_void() -> None:
    def stop(actor: Actor, msg: Any, from_: Pid, cid: Any) -> list[Envelope]:
        me, executor = actor.pid, executor_pid(actor.pid.node)
        return [
            Envelope(executor, me, Shutdown()),
            start_timer(me, 5, CorrelationId(me)),
            Envelope(executor, me, Shutdown()),
        ]

    c = scripted({A: send(B, "stop")}, on_msg=stop)
    c.world.apply(Deliver(0))
    assert B not in c.world.processes
    assert c.world.timers.next() is None
    c.world.apply(Crash("b"))
    c.world.apply(Restart("b"))
    assert B in c.world.processes


def test_messages_to_unknown_pids_are_dead_letters() -> None:
    c = scripted(
        {
            A: lambda a: [
                Envelope(Pid("nobody", "b"), a.pid, Note("?")),
                Envelope(Pid("p", "nowhere"), a.pid, Note("?")),
            ]
        }
    )
    assert c.world.dead_letters == 1, "a pid on a node that does not exist: at once"
    (seq,) = c.seqs()
    env, out = c.world.apply(Deliver(seq))
    assert env.to == Pid("nobody", "b")
    assert out == []
    assert c.world.dead_letters == 2


def test_a_forged_sender_on_an_unknown_node_waits_for_the_heal() -> None:
    ghost = Pid("ghost", "nowhere")
    c = scripted({A: lambda a: [Envelope(B, ghost, Note("boo"))]})
    c.world.apply(Partition((("a",), ("b", "c"))))
    assert c.deliverable() == []
    c.world.apply(Heal())
    c.world.apply(Deliver(0))
    assert c[B].received == [(Note("boo"), ghost, None)]


# -- events that are not enabled ------------------------------------------------------------


def test_events_that_are_not_enabled_say_why() -> None:
    c = scripted({A: send(B, "x")})
    cases: list[tuple[Any, str]] = [
        (Deliver(7), r"message #7 is not in flight"),
        (Drop(7), r"message #7 is not in flight"),
        (Duplicate(7), r"message #7 is not in flight"),
        (FireTimer(7), r"timer #7 is not the next timer due"),
        (Restart("a"), r"node 'a' is already up"),
        (Crash("zz"), r"there is no node 'zz'"),
        (Heal(), r"the network is not partitioned"),
    ]
    for event, reason in cases:
        with pytest.raises(EventNotEnabled, match=reason):
            c.world.apply(event)
    c.world.apply(Crash("a"))
    with pytest.raises(EventNotEnabled, match=r"node 'a' is already down"):
        c.world.apply(Crash("a"))
    c.world.apply(Partition((("a", "b"), ("c",))))
    with pytest.raises(EventNotEnabled, match="already partitioned"):
        c.world.apply(Partition((("a",), ("b", "c"))))
    assert c.seqs() == [0], "a refused event changes nothing"
