"""Raft over TCP: three key-value servers (n1, n2, n3) and two clients (c1, c2), whose
workloads are long, paced and over the same two keys, so that a server killed after their
first answers dies mid-run and the clients' operations collide."""

from __future__ import annotations

import random
from typing import Any

import attrs

from protocols.raft import Client, raft_scenario
from protocols.raft.messages import Op
from rabble_sim import CorrelationId, Envelope, Faults, Pid, Timeout, start_timer

CLIENTS = ("c1", "c2")
OPS = 60
"""Operations per client."""
THINK_MS = 15
"""A client's pause between an answer and its next request: it bounds how fast a client
goes, however fast the machine, so that the workload lasts at least ``OPS * THINK_MS``."""
KEYS = ("x", "y")
VALUES = (0, 1, 2)


def workload(client: str) -> tuple[Op, ...]:
    """``client``'s fixed operations: writes, reads and compare-and-sets of two keys with
    few values, so that a cas often expects what the other client wrote; the same for
    every run (a seeded generator of the client's own)."""
    rng = random.Random(f"raft-tcp/{client}")
    ops: list[Op] = [("write", key, 0) for key in KEYS]  # few reads of a missing key
    while len(ops) < OPS:
        key = rng.choice(KEYS)
        kind = rng.choice(("write", "read", "read", "cas", "cas"))
        if kind == "write":
            ops.append(("write", key, rng.choice(VALUES)))
        elif kind == "read":
            ops.append(("read", key))
        else:
            ops.append(("cas", key, rng.choice(VALUES), rng.choice(VALUES)))
    return tuple(ops)


@attrs.define
class PacedClient(Client):
    """A Raft client that waits ``think_ms`` after each answer before its next request."""

    think_ms: int = THINK_MS

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Timeout) and cid == self._think:
            super()._start_next(output)
        else:
            super().handle(msg, from_, cid, output)

    def init(self, output: list[Envelope]) -> None:
        super()._start_next(output)

    def _start_next(self, output: list[Envelope]) -> None:
        if self.pending is not None:
            output.append(start_timer(self.pid, self.think_ms, self._think))

    @property
    def _think(self) -> CorrelationId:
        return CorrelationId(self.pid, 0)  # requests are numbered from 1


_raft = raft_scenario(
    "raft-tcp",
    inputs=0,
    ops=workload(CLIENTS[0]),
    faults=Faults(),
    max_steps=100_000,
    within=100_000,
)


def _start(node: str, durable: dict[Pid, Any] | None) -> list[Any]:
    return [
        PacedClient(**{**attrs.asdict(proc, recurse=False), "ops": workload(node)})
        if isinstance(proc, Client)
        else proc
        for proc in _raft.start(node, durable)
    ]


scenario = attrs.evolve(_raft, start=_start)
