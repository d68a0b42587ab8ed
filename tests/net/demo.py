"""A small cluster protocol for the TCP executor's tests: counters under routed paths.

Each node runs three counters under each of the paths ``workers`` (round robin),
``hashed`` (by sender) and ``last`` (a custom policy): ``workers/1`` and so on. A counter
counts the pings it gets and answers each with a ``Pong`` naming itself. A ``sink`` never
answers. The ``counter`` factory spawns more counters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from rabble_sim import CorrelationId, Envelope, Pid, Scenario, message
from rabble_sim.core import RoundRobin, Routes, SenderHash


@message("demo.ping")
@attrs.frozen
class Ping:
    n: int = 0


@message("demo.pong")
@attrs.frozen
class Pong:
    by: str
    count: int


@attrs.define
class Counter:
    pid: Pid
    count: int = 0

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Ping):
            self.count += 1
            output.append(Envelope(from_, self.pid, Pong(str(self.pid), self.count), cid))


@attrs.define
class Sink:
    pid: Pid
    received: int = 0

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        self.received += 1


@attrs.frozen
class Last:
    """A custom policy: always the last target."""

    def select(self, targets: Sequence[Pid], env: Envelope, turn: int) -> Sequence[Pid]:
        return [targets[-1]]


NODES = ("a", "b", "c")


def start(node: str, durable: dict[Pid, Any] | None) -> list[Any]:
    counters = [Counter(Pid(f"{path}/{i}", node)) for path in ROUTES for i in (1, 2, 3)]
    return [*counters, Sink(Pid("sink", node))]


def counter(pid: Pid, arg: Any) -> Counter:
    return Counter(pid, int(arg or 0))


ROUTES = {"hashed": SenderHash(), "last": Last(), "workers": RoundRobin()}

scenario = Scenario(
    name="net-demo",
    nodes=list(NODES),
    start=start,
    routes=Routes(ROUTES),
    factories={"counter": counter},
)
no_implicit = Scenario(
    name="net-demo-explicit-only",
    nodes=list(NODES),
    start=start,
    routes=Routes(ROUTES, implicit=False),
)
