"""Shutdown, dead letters, and which requests another node's process may make: the
built-in requests about the sender itself are for its own node's executor only."""

from __future__ import annotations

from typing import Any

from rabble_sim import Envelope, Persist, Pid, Shutdown, StartTimer
from rabble_sim.core import (
    CallService,
    CancelTimer,
    Complete,
    GetExecutorStatus,
    GetMetrics,
    GetRandom,
    Invoke,
    Spawn,
    WatchCluster,
)

from .case import Case, Host
from .hosts import on_hosts, same_everywhere
from .recorder import Go, Note, Recorder

A, B, C = Pid("p", "a"), Pid("q", "b"), Pid("r", "a")
EXECUTOR_A = "rabble::executor::a"


class Stops(Recorder):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(self.to_executor(Shutdown()))
            # Sent all the same: Shutdown stops what the process handles, not what it sent.
            output.append(self.send(B, Note("down")))
            output.append(self.send(C, Note("down")))


class CallsTheStopped(Recorder):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if msg == Note("down"):
            output.append(self.send(A, Note("are you there?")))
            output.append(self.to_executor(GetExecutorStatus(), 1, node="a"))


@on_hosts()
def test_a_process_that_shuts_down_stops_and_later_messages_to_it_are_dead_letters(
    host: Host,
) -> None:
    case = Case({A: Stops, B: CallsTheStopped, C: CallsTheStopped})
    out = host.run(case)
    assert out.running() == ["q::b", "r::a"]
    for pid in (B, C):
        assert out.log(pid) == [
            ("Note(text='down')", "p::a", None),
            ("ExecutorStatus(node='a', processes=1)", EXECUTOR_A, 1),
        ]
    assert out.dead_letters == 2, "one note from each node"
    same_everywhere(host, case, out)


LOCAL_ONLY = (
    StartTimer(1),
    CancelTimer(),
    Persist("state"),
    Shutdown(),
    WatchCluster(),
    CallService("double", (1,)),
    Invoke(1, "x"),
    Complete(1, "y"),
    GetRandom(5),
    Note("not a request"),
)


class AsksAnotherNode(Recorder):
    """Makes every built-in request of node a's executor, from node b."""

    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.extend(self.to_executor(req, 1, node="a") for req in LOCAL_ONLY)
            output.append(self.to_executor(Spawn("worker", "w", 5), 2, node="a"))
            output.append(self.to_executor(GetMetrics(A), 3, node="a"))
            output.append(self.to_executor(GetExecutorStatus(), 4, node="a"))


def worker(pid: Pid, arg: Any) -> Recorder:
    return Recorder(pid, arg=arg)


@on_hosts()
def test_another_nodes_process_may_spawn_and_ask_for_status_and_nothing_else(
    host: Host,
) -> None:
    case = Case(
        {A: Recorder, B: AsksAnotherNode},
        factories={"worker": worker},
        services={"double": lambda n: 2 * n},
    )
    out = host.run(case)
    assert out.log(B) == [
        ("Spawned(pid=<w::a>)", EXECUTOR_A, 2),
        ("Metrics(pid=<p::a>, received=0, sent=0, timers_started=0, timers_cancelled=0)",
         EXECUTOR_A, 3),
        ("ExecutorStatus(node='a', processes=2)", EXECUTOR_A, 4),
    ]  # fmt: skip
    assert out.dead_letters == len(LOCAL_ONLY)
    # None of them acted: nothing persisted or recorded, no timer, nothing stopped.
    assert out.running() == ["p::a", "q::b", "w::a"]
    assert out.durable == {}
    assert out.history == {}
    same_everywhere(host, case, out)


class SendsNowhere(Recorder):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(self.send(Pid("ghost", "a"), Note("1")))
            output.append(self.send(Pid("ghost", "b"), Note("2")))
            output.append(self.to_executor(Note("3")))  # not a request


@on_hosts()
def test_a_message_for_a_pid_that_is_not_running_is_a_dead_letter(host: Host) -> None:
    case = Case({A: SendsNowhere})
    out = host.run(case)
    assert out.dead_letters == 3
    same_everywhere(host, case, out)


class SendsToNoNode(Recorder):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(self.send(Pid("ghost", "nowhere"), Note("lost")))


@on_hosts()
def test_a_message_for_a_node_that_does_not_exist_is_a_dead_letter(host: Host) -> None:
    case = Case({A: SendsToNoNode})
    out = host.run(case)
    assert out.dead_letters == 1
    same_everywhere(host, case, out)


class Rolls(Recorder):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(self.to_executor(GetRandom(1), 1))
            output.extend(self.to_executor(GetRandom(6), 2) for _ in range(20))


@on_hosts()
def test_a_random_number_is_answered_below_its_bound_with_the_request_s_cid(host: Host) -> None:
    case = Case({A: Rolls})
    out = host.run(case)
    log = out.log(A)
    assert log[0] == ("RandomValue(value=0)", EXECUTOR_A, 1), "below 1 there is only 0"
    assert {line[0] for line in log[1:]} <= {f"RandomValue(value={v})" for v in range(6)}
    assert [line[1:] for line in log[1:]] == [(EXECUTOR_A, 2)] * 20
    if host.name == "tcp":  # the OS's randomness: twenty rolls of a die are not all alike
        assert len({line[0] for line in log[1:]}) > 1
