"""Lock scenarios: the correct lease lock, and the server that trusts ``ConnectionLost``,
which only a partition shows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rabble_sim import Faults, Liveness, Pid, Scenario, View

from .processes import LockClient, LockServer, holders, restored_n, restored_server

SERVER = Pid("lock", "server")
CLIENTS = (Pid("client", "c1"), Pid("client", "c2"))


def one_holder(view: View) -> None:
    """Invariant: at most one client believes it holds the lock."""
    holding = holders(view.processes.values())
    assert len(holding) <= 1, f"{' and '.join(map(str, holding))} both hold the lock"


def every_client_done(clients: Sequence[Pid]) -> Callable[[View], None]:
    """Liveness: every client is up and has held the lock as many times as it wanted."""

    def every_client_done(view: View) -> None:
        for pid in clients:
            proc = view.processes.get(pid)
            assert proc is not None, f"{pid} is down"
            assert proc.done, f"{pid} held the lock {proc.held} of {proc.rounds} times"

    return every_client_done


def _lock(name: str, *, trust_connection_lost: bool, faults: Faults) -> Scenario:
    """A lock server on node ``server`` and two clients ``c1`` and ``c2`` of two rounds
    each (per life: a restarted client takes its turns again)."""

    def start(node: str, durable: dict[Pid, Any] | None) -> list[LockServer | LockClient]:
        if node == SERVER.node:
            return [restored_server(SERVER, durable, trust_connection_lost=trust_connection_lost)]
        pid = Pid("client", node)
        return [LockClient(pid, SERVER, rounds=2, n=restored_n(durable, pid))]

    return Scenario(
        name=name,
        nodes=(SERVER.node, *(pid.node for pid in CLIENTS)),
        start=start,
        invariants=[one_holder],
        faults=faults,
        max_steps=100,
        liveness=Liveness(every_client_done(CLIENTS), within=800),
    )


# Any one node down at a time (the server too), cuts between groups of nodes, and light
# drops and duplicates.
FAULTS = Faults(
    drop=0.05, duplicate=0.05, crash=1, partition=True,
    crash_rate=0.03, restart_rate=0.1, partition_rate=0.03, heal_rate=0.1,
)  # fmt: skip

scenario = _lock("lock", trust_connection_lost=False, faults=FAULTS)
"""A server and two clients under crashes, partitions, drops and duplicates: the server
frees the lock on a release or when the lease runs out, never on ``ConnectionLost``."""

bug_regrants_on_connection_lost = _lock(
    "lock-regrants-on-connection-lost", trust_connection_lost=True, faults=FAULTS
)
"""Known bug: the server frees the lock as soon as it hears ``ConnectionLost`` for the
holder, and grants it to the next client while the holder, cut off but alive, still
holds its lease. Only a partition shows it: when the holder's node crashes instead, the
holder is gone with it."""
