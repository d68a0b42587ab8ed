"""VR over TCP with a client node that is killed and restarted: three replicas (n1, n2,
n3) and one paced client (c1), whose workload is long enough to be cut in the middle."""

from __future__ import annotations

from typing import Any

import attrs

from protocols.vr import Client, vr_scenario
from rabble_sim import Faults, Pid
from tests.net.vr_cluster import PacedClient

OPS = 60
"""Operations per life of the client: at least 0.9 s of the paced client's 15 ms pauses, so
that the test has time to kill its first life in the middle."""

_vr = vr_scenario(
    "vr-tcp-client-restart", clients=1, ops=OPS, faults=Faults(), max_steps=100_000,
    within=100_000,
)  # fmt: skip


def _start(node: str, durable: dict[Pid, Any] | None) -> list[Any]:
    return [
        PacedClient(**attrs.asdict(proc, recurse=False)) if isinstance(proc, Client) else proc
        for proc in _vr.start(node, durable)
    ]


scenario = attrs.evolve(_vr, start=_start)
