"""Metrics, executor status and cluster watches on both hosts."""

from __future__ import annotations

from typing import Any

from rabble_sim import Envelope, Pid, Shutdown
from rabble_sim.core import ClusterStatus, GetExecutorStatus, GetMetrics, watch_cluster

from .case import Case, Host
from .hosts import on_hosts, same_everywhere
from .recorder import Go, Note, Recorder

A, B, C = Pid("p", "a"), Pid("q", "b"), Pid("r", "a")
EXECUTOR_A, EXECUTOR_B = "rabble::executor::a", "rabble::executor::b"


class AsksForMetrics(Recorder):
    """Sends a note to ``r::a`` and one to ``q::b``, then asks its own metrics, those of
    ``r::a``, of a pid that does not run, and (of b's executor) of ``q::b``, one at a
    time: each note has arrived before the question about its receiver (FIFO on one
    node, and on one link)."""

    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(self.send(C, Note("one")))
            output.append(self.send(B, Note("one")))
            output.append(self.to_executor(GetMetrics(), 1))
        elif cid is not None and cid.request == 1:
            output.append(self.to_executor(GetMetrics(C), 2))
        elif cid is not None and cid.request == 2:
            output.append(self.to_executor(GetMetrics(Pid("ghost", "a")), 3))
        elif cid is not None and cid.request == 3:
            output.append(self.to_executor(GetMetrics(B), 4, node="b"))


def metrics(pid: str, received: int, sent: int) -> str:
    timers = "timers_started=0, timers_cancelled=0"
    return f"Metrics(pid=<{pid}>, received={received}, sent={sent}, {timers})"


@on_hosts()
def test_get_metrics_answers_for_the_sender_or_the_pid_it_names(host: Host) -> None:
    case = Case({A: AsksForMetrics, B: Recorder, C: Recorder})
    out = host.run(case)
    # Go and each Metrics count as received (a process without a script gets no Go);
    # every envelope appended counts as sent, requests to the executor included.
    assert out.log(A) == [
        (metrics("p::a", 1, 3), EXECUTOR_A, 1),
        (metrics("r::a", 1, 0), EXECUTOR_A, 2),
        (metrics("ghost::a", 0, 0), EXECUTOR_A, 3),
        (metrics("q::b", 1, 0), EXECUTOR_B, 4),
    ]
    assert out.dead_letters == 0
    same_everywhere(host, case, out)


class AsksForStatus(Recorder):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(self.to_executor(GetExecutorStatus(), 1))
            output.append(self.to_executor(GetExecutorStatus(), 2, node="b"))


@on_hosts()
def test_get_executor_status_counts_the_processes_of_the_node_asked(host: Host) -> None:
    case = Case({A: AsksForStatus, C: Recorder, B: Recorder})
    out = host.run(case)
    # The nodes' starters stopped before any script began.
    assert sorted(out.log(A)) == [
        ("ExecutorStatus(node='a', processes=2)", EXECUTOR_A, 1),
        ("ExecutorStatus(node='b', processes=1)", EXECUTOR_B, 2),
    ]
    same_everywhere(host, case, out)


class Watches(Recorder):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(watch_cluster(self.pid))


def status(node: str, *members: str) -> tuple[str, str, None]:
    return (f"ClusterStatus(members={members!r})", f"rabble::executor::{node}", None)


@on_hosts()
def test_a_watcher_hears_the_members_now_and_when_a_node_fails_and_comes_back(
    host: Host,
) -> None:
    case = Case({A: Watches, B: Watches}, nodes=("a", "b", "c"), restarts=("c",))
    out = host.run(case)
    for pid in (A, B):
        node = pid.node
        assert out.log(pid) == [
            status(node, "a", "b", "c"),
            status(node, "a", "b"),
            status(node, "a", "b", "c"),
        ]
    assert out.dead_letters == 0
    same_everywhere(host, case, out)


class WatchesThenStops(Recorder):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(watch_cluster(self.pid))
        elif isinstance(msg, ClusterStatus):
            output.append(self.to_executor(Shutdown()))


@on_hosts()
def test_a_watcher_that_stopped_hears_nothing_more(host: Host) -> None:
    case = Case({A: WatchesThenStops}, nodes=("a", "b", "c"), restarts=("c",))
    out = host.run(case)
    assert out.running() == []
    # A ClusterStatus for it after the restart would be a dead letter.
    assert out.dead_letters == 0
    same_everywhere(host, case, out)


class StopsThenWatches(Recorder):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(self.to_executor(Shutdown()))
            output.append(watch_cluster(self.pid))


@on_hosts()
def test_a_process_that_stopped_cannot_watch(host: Host) -> None:
    case = Case({A: StopsThenWatches}, nodes=("a", "b", "c"), restarts=("c",))
    out = host.run(case)
    assert out.running() == []
    assert out.dead_letters == 0
    same_everywhere(host, case, out)
