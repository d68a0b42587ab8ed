"""User code of the public API, type-checked with ``mypy --strict`` by test_strict.py."""

from __future__ import annotations

from typing import Any

import attrs

from rabble_sim import (
    CorrelationId,
    Draw,
    Envelope,
    Inputs,
    Pid,
    RandomChooser,
    RunResult,
    Scenario,
    View,
    message,
    run,
)
from rabble_sim.search import CheckReport, ExploreReport, SweepReport, check, explore, sweep


@message("typed.ping")
@attrs.frozen
class Ping:
    n: int


@attrs.define
class Node:
    pid: Pid
    seen: int = 0

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        self.seen += 1


def start(node: str, durable: dict[Pid, Any] | None) -> list[Node]:
    return [Node(Pid("node", node))]


def make_ping(draw: Draw) -> Ping:
    return Ping(draw.integer(0, 3))


def few_pings(view: View) -> None:
    assert sum(p.seen for p in view.processes.values()) < 100


scenario = Scenario(
    "typed",
    ["a", "b"],
    start,
    invariants=[few_pings],
    clients=("a", "b"),
    inputs=Inputs(to=[Pid("node", "a")], make=make_ping, max=3),
)
result: RunResult = run(scenario, RandomChooser(0))
swept: SweepReport = sweep(scenario, range(3))
checked: CheckReport = check(scenario, examples=2)
explored: ExploreReport = explore(scenario, depth=3)
print(result.ok, swept.ok, checked.ok, explored.ok, explored.unique)
