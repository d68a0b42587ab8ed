"""What a conformance case is (processes, factories, services, routes, restarts) and what a
run of it on a host gives back (``Outcome``), in terms both hosts can fill in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import attrs

from rabble_sim import Pid
from rabble_sim.codec import to_plain
from rabble_sim.core import HistoryEvent, Routes

from .recorder import Line, Recorder, lines

Factory = Callable[[Pid, Any], Any]


@attrs.frozen
class Case:
    """Processes (each a ``Recorder`` class, by pid) on ``nodes``, with what the scenario
    would name, and the nodes to crash and restart, one after the other, each once the
    cluster has settled. ``quiet`` is how long (s) a TCP cluster must be still to count as
    settled: longer than any timer of the case, so that a timer that should not fire has
    had the time to.

    On TCP the nodes' scripts start one node after the other: a case with scripted
    recorders on several nodes must not let the order between them decide what anyone
    logs (give each its own correspondents), or the hosts differ by an accident of the
    harness, not of the executors.
    """

    processes: Mapping[Pid, type[Recorder]]
    nodes: tuple[str, ...] = ("a", "b")
    factories: Mapping[str, Factory] = attrs.field(factory=dict)
    services: Mapping[str, Callable[..., Any]] = attrs.field(factory=dict)
    routes: Routes = attrs.field(factory=Routes)
    restarts: tuple[str, ...] = ()
    quiet: float = 0.05

    def __attrs_post_init__(self) -> None:
        strangers = sorted({pid.node for pid in self.processes} - set(self.nodes))
        assert not strangers, f"processes on nodes the case does not have: {strangers}"

    def scripted(self, node: str) -> tuple[str, ...]:
        """The recorders of ``node`` that have a script, in the order ``start`` builds
        them: those its starter sends ``Go``. The others get no ``Go``, so that what they
        receive never depends on when the harness started which node's scripts."""
        return tuple(
            pid.name
            for pid, kind in self.processes.items()
            if pid.node == node and kind.on is not Recorder.on
        )

    def start(self, node: str, durable: dict[Pid, Any] | None) -> list[Recorder]:
        """The scenario's ``start``: a node's recorders, given back what they persisted."""
        return [
            kind(pid, restored=None if durable is None else durable.get(pid))
            for pid, kind in self.processes.items()
            if pid.node == node
        ]


@attrs.frozen
class Outcome:
    """What a run left, as both hosts can tell it: each running process's state as plain
    data (a recorder's holds its log), the dead letters of all nodes, the durable data as
    a restart would hand it back, and each client's history in its own order (how the
    clients interleave is the scheduler's business, or the clock's)."""

    states: dict[str, Any]
    dead_letters: int
    durable: dict[str, Any]
    history: dict[str, list[tuple[str, int, Any]]]

    def log(self, pid: Pid) -> list[Line]:
        """What recorder ``pid`` received, in order; an AssertionError if it is not running."""
        state = self.states.get(str(pid))
        assert state is not None, f"{pid} is not running; running: {sorted(self.states)}"
        return lines(state["log"])

    def running(self) -> list[str]:
        return sorted(self.states)


def states_of(processes: Mapping[Pid, Any]) -> dict[str, Any]:
    return {str(pid): to_plain(proc) for pid, proc in sorted(processes.items())}


def histories(events: list[HistoryEvent]) -> dict[str, list[tuple[str, int, Any]]]:
    by_client: dict[str, list[tuple[str, int, Any]]] = {}
    for event in events:
        by_client.setdefault(str(event.client), []).append((event.kind, event.op, event.value))
    return by_client


class Host(Protocol):
    """Runs a case to the end on one kind of host."""

    name: str

    def run(self, case: Case) -> Outcome: ...
