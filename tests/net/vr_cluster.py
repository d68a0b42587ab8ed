"""VR over TCP: three replicas (n1, n2, n3) and two clients (c1, c2), whose workload is
long and paced, so that a replica killed after their first answers dies mid-run."""

from __future__ import annotations

from typing import Any

import attrs

from protocols.vr import Client, vr_scenario
from rabble_sim import CorrelationId, Envelope, Faults, Pid, Timeout, start_timer

OPS = 150
"""Operations per client."""
THINK_MS = 15
"""A client's pause between an answer and its next request: it bounds how fast a client
goes, however fast the machine, so that the workload lasts at least ``OPS * THINK_MS``."""


@attrs.define
class PacedClient(Client):
    """A VR client that waits ``think_ms`` after each answer before its next request."""

    think_ms: int = THINK_MS

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Timeout) and cid == self._think:
            super()._send_next(output)
        else:
            super().handle(msg, from_, cid, output)

    def init(self, output: list[Envelope]) -> None:
        super()._send_next(output)

    def _send_next(self, output: list[Envelope]) -> None:
        if self.pending is not None:
            output.append(start_timer(self.pid, self.think_ms, self._think))

    @property
    def _think(self) -> CorrelationId:
        return CorrelationId(self.pid, 0)  # requests are numbered from 1


_vr = vr_scenario("vr-tcp", ops=OPS, faults=Faults(), max_steps=100_000, within=100_000)


def _start(node: str, durable: dict[Pid, Any] | None) -> list[Any]:
    return [
        PacedClient(**attrs.asdict(proc, recurse=False)) if isinstance(proc, Client) else proc
        for proc in _vr.start(node, durable)
    ]


scenario = attrs.evolve(_vr, start=_start)
