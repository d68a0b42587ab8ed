"""Small protocols for the simulator's tests.

``Chatter`` is a ping-pong protocol with timers and persisted state: enough traffic
between nodes for every kind of event (deliver, drop, duplicate, timeout, crash, restart,
partition, heal) to be possible, while staying small enough to run hundreds of times.
"""

from __future__ import annotations

from typing import Any

import attrs

from rabble_sim import (
    CorrelationId,
    Envelope,
    Faults,
    Pid,
    Scenario,
    message,
    persist,
    start_timer,
)


@message("test.sim.ping")
@attrs.frozen
class Ping:
    round: int


@message("test.sim.pong")
@attrs.frozen
class Pong:
    round: int


class Chatter:
    """Pings every peer at start and on each timeout (up to ``rounds``); answers pings."""

    def __init__(self, pid: Pid, peers: tuple[Pid, ...], rounds: int, durable: Any) -> None:
        self.pid = pid
        self.peers = peers
        self.rounds = rounds
        self.round = durable if durable is not None else 0
        self.pongs: dict[Pid, int] = {}

    def init(self, output: list[Envelope]) -> None:
        self._ping(output)

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Ping):
            output.append(Envelope(from_, self.pid, Pong(msg.round), cid))
        elif isinstance(msg, Pong):
            self.pongs[from_] = self.pongs.get(from_, 0) + 1
        elif self.round < self.rounds:  # a Timeout
            self.round += 1
            output.append(persist(self.pid, self.round))
            self._ping(output)

    def _ping(self, output: list[Envelope]) -> None:
        cid = CorrelationId(self.pid, self.round)
        output.extend(Envelope(peer, self.pid, Ping(self.round), cid) for peer in self.peers)
        output.append(start_timer(self.pid, 10 + 5 * self.round, CorrelationId(self.pid)))


def chatter_pid(node: str) -> Pid:
    return Pid("chatter", node)


def chatter(
    nodes: tuple[str, ...] = ("n1", "n2", "n3"), rounds: int = 3, **kwargs: Any
) -> Scenario:
    """A Chatter on each node; ``kwargs`` go to ``Scenario`` (faults, invariants, ...)."""

    def start(node: str, durable: dict[Pid, Any] | None) -> list[Chatter]:
        pid = chatter_pid(node)
        peers = tuple(chatter_pid(other) for other in nodes if other != node)
        return [Chatter(pid, peers, rounds, (durable or {}).get(pid))]

    kwargs.setdefault("faults", Faults())
    return Scenario("chatter", nodes, start, **kwargs)


ALL_FAULTS = Faults(
    drop=0.2,
    duplicate=0.2,
    crash=1,
    partition=True,
    crash_rate=0.1,
    restart_rate=0.2,
    partition_rate=0.1,
    heal_rate=0.2,
    one_way=True,
    latency=(0, 20),
    disk_loss=0.2,
    disk_corruption=0.2,
    drift=0.2,
    jump=50,
    jump_rate=0.02,
)
