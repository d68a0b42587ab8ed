"""Timers on both hosts: a timer fires ``Timeout`` with its cid, the same cid replaces it,
a cancelled one never fires, nor does one of a process that stopped."""

from __future__ import annotations

from typing import Any

from rabble_sim import Envelope, Pid, Shutdown, Timeout, cancel_timer, start_timer
from rabble_sim.core import GetMetrics

from .case import Case, Host
from .hosts import on_hosts, same_everywhere
from .recorder import Go, Recorder

A = Pid("p", "a")
EXECUTOR_A = "rabble::executor::a"


class FiresTwoTimers(Recorder):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(start_timer(self.pid, 6, self.cid(1)))
            output.append(start_timer(self.pid, 2, self.cid(2)))


@on_hosts()
def test_a_timer_fires_timeout_with_its_cid_in_due_order(host: Host) -> None:
    case = Case({A: FiresTwoTimers})
    out = host.run(case)
    assert out.log(A) == [("Timeout()", EXECUTOR_A, 2), ("Timeout()", EXECUTOR_A, 1)]
    assert out.dead_letters == 0
    same_everywhere(host, case, out)


class ReplacesTimer(Recorder):
    """Starts cid 1 twice (the second replaces the first) and asks for its metrics on the
    one Timeout."""

    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(start_timer(self.pid, 2, self.cid(1)))
            output.append(start_timer(self.pid, 8, self.cid(1)))
        elif isinstance(msg, Timeout):
            output.append(self.to_executor(GetMetrics(), 2))


@on_hosts()
def test_starting_a_timer_with_the_same_cid_replaces_it(host: Host) -> None:
    case = Case({A: ReplacesTimer})
    out = host.run(case)
    # Received: Go and the one Timeout; sent: two StartTimers and a GetMetrics.
    metrics = "Metrics(pid=<p::a>, received=2, sent=3, timers_started=2, timers_cancelled=0)"
    assert out.log(A) == [("Timeout()", EXECUTOR_A, 1), (metrics, EXECUTOR_A, 2)]
    assert out.dead_letters == 0
    same_everywhere(host, case, out)


class CancelsTimers(Recorder):
    """Cid 1 is started and cancelled in one output (it never exists), cid 2 is cancelled
    by a later message (the Timeout of cid 3, due well before it), and cid 3 fires."""

    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(start_timer(self.pid, 1, self.cid(1)))
            output.append(cancel_timer(self.pid, self.cid(1)))
            output.append(start_timer(self.pid, 20, self.cid(2)))
            output.append(start_timer(self.pid, 1, self.cid(3)))
        elif isinstance(msg, Timeout):
            output.append(cancel_timer(self.pid, self.cid(2)))
            output.append(cancel_timer(self.pid, self.cid(9)))  # no such timer: no count
            output.append(self.to_executor(GetMetrics(), 4))


@on_hosts()
def test_a_cancelled_timer_never_fires(host: Host) -> None:
    case = Case({A: CancelsTimers}, quiet=0.06)
    out = host.run(case)
    metrics = "Metrics(pid=<p::a>, received=2, sent=7, timers_started=3, timers_cancelled=2)"
    assert out.log(A) == [("Timeout()", EXECUTOR_A, 3), (metrics, EXECUTOR_A, 4)]
    assert out.dead_letters == 0
    same_everywhere(host, case, out)


class StopsWithTimers(Recorder):
    """Starts a timer, stops, and starts another after its Shutdown in the same output."""

    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(start_timer(self.pid, 1, self.cid(1)))
            output.append(self.to_executor(Shutdown()))
            output.append(start_timer(self.pid, 1, self.cid(2)))


class AsksLater(Recorder):
    """Asks for the metrics of ``p::a`` after the timers of ``p::a`` would have fired."""

    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(start_timer(self.pid, 10, self.cid(1)))
        elif isinstance(msg, Timeout):
            output.append(self.to_executor(GetMetrics(A), 2))


@on_hosts()
def test_the_timers_of_a_process_that_stopped_never_fire(host: Host) -> None:
    watcher = Pid("q", "a")
    case = Case({A: StopsWithTimers, watcher: AsksLater})
    out = host.run(case)
    # A timer that fired for a stopped process would be a dead letter (or worse).
    assert out.dead_letters == 0
    assert out.running() == ["q::a"]
    stopped = "Metrics(pid=<p::a>, received=0, sent=0, timers_started=0, timers_cancelled=0)"
    assert out.log(watcher) == [("Timeout()", EXECUTOR_A, 1), (stopped, EXECUTOR_A, 2)]
    same_everywhere(host, case, out)
