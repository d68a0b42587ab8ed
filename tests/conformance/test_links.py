"""Link watches (``Watch``, ``ConnectionLost``) and a node's clock (``ReadClock``) on both hosts."""

from __future__ import annotations

from typing import Any

from rabble_sim import ClockReading, Envelope, Pid, read_clock, unwatch, watch

from .case import Case, Host
from .hosts import on_hosts, same_everywhere
from .recorder import Go, Recorder

A, B, R = Pid("p", "a"), Pid("q", "b"), Pid("r", "c")
EXECUTOR_A, EXECUTOR_B = "rabble::executor::a", "rabble::executor::b"


class WatchesC(Recorder):
    """Watches node c (cid 1) and the pid r::c on it (cid 2)."""

    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(watch(self.pid, "c", self.cid(1)))
            output.append(watch(self.pid, R, self.cid(2)))


@on_hosts()
def test_a_watcher_hears_once_that_the_node_it_watches_is_lost(host: Host) -> None:
    case = Case({A: WatchesC, B: WatchesC, R: Recorder}, nodes=("a", "b", "c"), restarts=("c",))
    out = host.run(case)
    for pid, executor in ((A, EXECUTOR_A), (B, EXECUTOR_B)):
        # Each watch is told once, by the watcher's own executor; the restart that follows
        # is not a loss, and the watches are over.
        assert out.log(pid) == [
            ("ConnectionLost(node='c', pid=None)", executor, 1),
            ("ConnectionLost(node='c', pid=<r::c>)", executor, 2),
        ]
    assert out.dead_letters == 0
    same_everywhere(host, case, out)


class WatchesThenUnwatches(Recorder):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(watch(self.pid, "c", self.cid(1)))
            output.append(unwatch(self.pid, "c"))


@on_hosts()
def test_a_watch_taken_back_hears_nothing(host: Host) -> None:
    case = Case({A: WatchesThenUnwatches}, nodes=("a", "b", "c"), restarts=("c",))
    out = host.run(case)
    assert out.log(A) == []
    same_everywhere(host, case, out)


class WatchesNowhere(Recorder):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(watch(self.pid, "nowhere", self.cid(1)))


@on_hosts()
def test_watching_a_node_that_is_not_a_member_is_answered_at_once(host: Host) -> None:
    case = Case({A: WatchesNowhere})
    out = host.run(case)
    assert out.log(A) == [("ConnectionLost(node='nowhere', pid=None)", EXECUTOR_A, 1)]
    same_everywhere(host, case, out)


class ReadsTheClockTwice(Recorder):
    """Reads its node's clock, then again once answered (the readings differ between the
    hosts, so the test reads them rather than comparing the hosts' states)."""

    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(read_clock(self.pid, self.cid(1)))
        elif isinstance(msg, ClockReading) and cid.request == 1:
            output.append(read_clock(self.pid, self.cid(2)))


@on_hosts()
def test_a_process_reads_its_nodes_clock_which_never_goes_back(host: Host) -> None:
    case = Case({A: ReadsTheClockTwice})
    out = host.run(case)
    log = out.log(A)
    assert [(sender, cid) for _, sender, cid in log] == [(EXECUTOR_A, 1), (EXECUTOR_A, 2)]
    first, second = (int(text.removeprefix("ClockReading(ms=")[:-1]) for text, _, _ in log)
    assert 0 <= first <= second
