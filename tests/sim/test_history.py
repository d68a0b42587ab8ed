"""Client histories in the simulator: recorded through the executor, checked at the end of
a run, and the clients' nodes spared from crashes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import attrs
import pytest

from rabble_sim import CorrelationId, Envelope, Faults, Pid, Scenario, message, run
from rabble_sim.core import HistoryEvent, InvalidDefinition, complete, invoke
from rabble_sim.schedule import Schedule, replay
from rabble_sim.sim import FairChooser, RandomChooser


@message("test-history.add")
@attrs.frozen
class Add:
    n: int


@message("test-history.total")
@attrs.frozen
class Total:
    total: int


@attrs.define
class Adder:
    pid: Pid
    total: int = 0

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        self.total += msg.n
        output.append(Envelope(from_, self.pid, Total(self.total), cid))


@attrs.define
class Client:
    """Adds 1, 2, 3 in turn, one at a time, recording each call and its answer."""

    pid: Pid
    op: int = 0

    def init(self, output: list[Envelope]) -> None:
        self.call(output)

    def call(self, output: list[Envelope]) -> None:
        self.op += 1
        cid = CorrelationId(self.pid, self.op)
        output += [
            invoke(self.pid, self.op, ("add", self.op)),
            Envelope(SERVER, self.pid, Add(self.op), cid),
        ]

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        output.append(complete(self.pid, self.op, msg.total))
        if self.op < 3:
            self.call(output)


SERVER = Pid("adder", "s")


def start(node: str, durable: dict[Pid, Any] | None) -> list[Any]:
    return [Adder(SERVER)] if node == "s" else [Client(Pid("client", node))]


def totals_grow(history: Sequence[HistoryEvent]) -> None:
    """With one client, each answer is the sum of the calls so far."""
    answers = [e.value for e in history if e.kind == "ok"]
    assert answers == [1, 3, 6][: len(answers)], f"answers {answers}"


def test_the_history_is_recorded_in_order_with_steps_and_times() -> None:
    scenario = Scenario("adder", ["s", "c"], start, clients=["c"], history=totals_grow)
    result = run(scenario, FairChooser(), check_liveness=False)
    assert result.ok
    from rabble_sim.debug import DebugSession, LineDebugger

    session = DebugSession(Schedule.from_run(result, "unused:adder"), scenario)
    session.goto(session.last)
    history = session.view.history
    assert [(e.kind, e.op, e.value) for e in history] == [
        ("invoke", 1, ("add", 1)), ("ok", 1, 1),
        ("invoke", 2, ("add", 2)), ("ok", 2, 3),
        ("invoke", 3, ("add", 3)), ("ok", 3, 6),
    ]  # fmt: skip
    assert [e.step for e in history] == sorted(e.step for e in history)
    assert {e.client for e in history} == {Pid("client", "c")}
    out = io.StringIO()
    session.goto(3)
    LineDebugger(session, out).execute("history")
    assert out.getvalue().splitlines() == [
        '  step     0 client::c invoke #1 ["add",1]',
        "  step     2 client::c     ok #1 1",
        '  step     2 client::c invoke #2 ["add",2]',
    ]


def test_a_history_check_that_fails_is_a_violation_that_replays() -> None:
    def never(history: Sequence[HistoryEvent]) -> None:
        assert len(history) < 4, "too long"

    scenario = Scenario("adder", ["s", "c"], start, history=never)
    result = run(scenario, FairChooser(), check_liveness=False)
    assert result.violation is not None
    assert result.violation.check == "history never"
    assert result.violation.message.startswith("too long")
    schedule = Schedule.from_run(result, "unused:adder")
    assert replay(schedule, scenario).reproduces(schedule)


def test_clients_nodes_are_never_crashed() -> None:
    scenario = Scenario(
        "adder", ["s", "c"], start, clients=["c"], faults=Faults(crash=1, crash_rate=0.5)
    )
    crashed = set()
    for seed in range(30):
        result = run(scenario, RandomChooser(seed, scenario.faults), check_liveness=False)
        crashed |= {e.node for e in result.events() if e.kind == "crash"}  # type: ignore[attr-defined]
    assert crashed == {"s"}


def test_clients_must_be_nodes_of_the_scenario() -> None:
    with pytest.raises(InvalidDefinition, match="names clients on \\['x'\\]"):
        Scenario("adder", ["s", "c"], start, clients=["x"])
