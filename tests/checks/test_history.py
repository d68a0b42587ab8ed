"""Simulated client histories: read into operations, and checked at the end of a run with
``linearizable(model)``."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from rabble_sim import CorrelationId, Envelope, Pid, Scenario, message, run
from rabble_sim.checks import (
    UNKNOWN,
    History,
    Operation,
    RegisterModel,
    history_from_events,
    linearizable,
)
from rabble_sim.core import HistoryEvent, UsageError, complete, invoke
from rabble_sim.sim import FairChooser

C1, C2 = Pid("client", "c1"), Pid("client", "c2")


def event(kind: str, client: Pid, op: int, value: Any) -> HistoryEvent:
    return HistoryEvent(kind, client, op, value, step=0, time=0)


def test_events_become_operations_timed_by_their_order() -> None:
    events = [
        event("invoke", C1, 1, ("write", 1)),
        event("invoke", C2, 1, ("read",)),
        event("ok", C1, 1, None),
        event("invoke", C1, 2, ("write", 2)),
        event("ok", C2, 1, 1),
        event("invoke", C2, 2, ("write", 3)),
        event("fail", C2, 2, None),
        event("invoke", C2, 3, ("read",)),
        event("info", C2, 3, None),
    ]
    assert history_from_events(events, "h") == History(
        [
            Operation(C1, ("write", 1), None, 0, 2),
            Operation(C2, ("read",), 1, 1, 4),
            Operation(C1, ("write", 2), UNKNOWN, 3, None),  # never answered
            Operation(C2, ("read",), UNKNOWN, 7, None),  # info: unknown outcome
        ],
        "h",
    )  # the failed write did not happen


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([event("ok", C1, 1, None)], "event 0: client::c1 completes operation 1, which it never"),
        (
            [event("invoke", C1, 1, ("read",)), event("invoke", C1, 1, ("read",))],
            "event 1: client::c1 invokes operation 1 twice",
        ),
        (
            [event("invoke", C1, 1, ("read",)), event("done", C1, 1, 1)],
            "event 1: unknown kind 'done'",
        ),
    ],
)
def test_malformed_histories(events: list[HistoryEvent], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        history_from_events(events)


def test_the_history_check_raises_with_the_explanation() -> None:
    check = linearizable(RegisterModel())
    assert check.__name__ == "linearizable(RegisterModel)"
    good = [
        event("invoke", C1, 1, ("write", 1)),
        event("ok", C1, 1, None),
        event("invoke", C1, 2, ("read",)),
        event("ok", C1, 2, 1),
    ]
    check(good)
    stale = [*good, event("invoke", C2, 1, ("read",)), event("ok", C2, 1, None)]
    with pytest.raises(AssertionError) as failure:
        check(stale)
    text = str(failure.value)
    assert text.startswith("the client history is not linearizable: ")
    assert "completion at event 5: process client::c2: read -> nil  (events 4-5)" in text


# A register server over the simulator, correct or reading from a cache never updated.


@message("test-lincheck.write")
@attrs.frozen
class Write:
    value: int


@message("test-lincheck.read")
@attrs.frozen
class Read:
    pass


@message("test-lincheck.reply")
@attrs.frozen
class Reply:
    value: int | None


SERVER = Pid("register", "s")


@attrs.define
class Server:
    pid: Pid
    stale: bool
    value: int | None = None
    cached: int | None = None

    def handle(self, msg: Any, from_: Pid, cid: CorrelationId | None, out: list[Envelope]) -> None:
        if isinstance(msg, Write):
            self.value = msg.value
            out.append(Envelope(from_, self.pid, Reply(None), cid))
        else:
            answer = self.cached if self.stale else self.value
            out.append(Envelope(from_, self.pid, Reply(answer), cid))


@attrs.define
class Client:
    """Writes its number, then reads, one operation at a time."""

    pid: Pid
    number: int
    op: int = 0

    def init(self, out: list[Envelope]) -> None:
        self.call(out, ("write", self.number), Write(self.number))

    def call(self, out: list[Envelope], call: Any, msg: Any) -> None:
        self.op += 1
        out += [
            invoke(self.pid, self.op, call),
            Envelope(SERVER, self.pid, msg, CorrelationId(self.pid, self.op)),
        ]

    def handle(self, msg: Any, from_: Pid, cid: CorrelationId | None, out: list[Envelope]) -> None:
        out.append(complete(self.pid, self.op, msg.value))
        if self.op == 1:
            self.call(out, ("read",), Read())


def scenario(stale: bool) -> Scenario:
    def start(node: str, durable: dict[Pid, Any] | None) -> list[Any]:
        if node == "s":
            return [Server(SERVER, stale)]
        return [Client(Pid("client", node), int(node[1:]))]

    return Scenario(
        "register",
        ["s", "c1", "c2"],
        start,
        clients=["c1", "c2"],
        history=linearizable(RegisterModel()),
    )


def test_a_correct_register_passes_the_check_at_the_end_of_a_run() -> None:
    result = run(scenario(stale=False), FairChooser(), check_liveness=False)
    assert result.ok, result.violation


def test_a_stale_register_is_a_violation_of_linearizability() -> None:
    result = run(scenario(stale=True), FairChooser(), check_liveness=False)
    assert result.violation is not None
    assert result.violation.check == "history linearizable(RegisterModel)"
    assert "not linearizable" in result.violation.message
    assert "read ->" in result.violation.message
