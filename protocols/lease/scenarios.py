"""Lease scenarios: the correct one, whose clients leave a margin for drifting clocks, the
known bug that assumes clocks agree, and the margin undone by a clock that jumps."""

from __future__ import annotations

from typing import Any

from rabble_sim import Faults, Pid, Scenario, View

from .processes import LeaseClient, LeaseServer

SERVER = Pid("lease", "server")
CLIENTS = (Pid("client", "c1"), Pid("client", "c2"))

LEASE_MS = 1000
"""How long the server gives each lease, on its own clock."""
DRIFT = 0.2
"""The most any clock runs fast or slow in these scenarios."""
JUMP_MS = 500
"""A jump longer than the margin ``LEASE_MS - safe_hold(LEASE_MS, DRIFT)``."""


def safe_hold(lease_ms: int, drift: float) -> int:
    """How long a client may hold a lease of ``lease_ms`` on its own clock when every clock
    runs within ``drift`` of true time.

    The server's lease lasts at least ``lease_ms / (1 + drift)`` of true time and the
    client's hold at most ``hold / (1 - drift)``; ``lease_ms * (1 - 2 * drift)`` keeps the
    second below the first, since ``(1 - 2d)(1 + d) = 1 - d - 2d**2 <= 1 - d``.
    """
    return int(lease_ms * (1 - 2 * drift))


def one_holder(view: View) -> None:
    """Invariant: at most one client holds the lease."""
    holders = [
        str(pid)
        for pid in CLIENTS
        if (proc := view.processes.get(pid)) is not None and proc.state == "holding"
    ]
    assert len(holders) <= 1, f"{' and '.join(holders)} both hold the lease"


def _lease(name: str, hold_ms: int, faults: Faults) -> Scenario:
    def start(node: str, durable: dict[Pid, Any] | None) -> list[LeaseServer | LeaseClient]:
        if node == SERVER.node:
            return [LeaseServer(SERVER, LEASE_MS)]
        return [LeaseClient(Pid("client", node), SERVER, hold_ms)]

    return Scenario(
        name=name,
        nodes=(SERVER.node, *(pid.node for pid in CLIENTS)),
        start=start,
        invariants=[one_holder],
        faults=faults,
        # Each lease takes a handful of steps, whatever its length: 100 steps hold a dozen.
        max_steps=100,
        clients=[pid.node for pid in CLIENTS],
    )


# No crashes: the server keeps the holder in memory only (see LeaseServer).
_FAULTS = Faults(drop=0.1, duplicate=0.1, drift=DRIFT)

scenario = _lease("lease", safe_hold(LEASE_MS, DRIFT), _FAULTS)
"""Two clients contend for a lease under drops, duplicates and clocks that drift by up to
20%; each holds it for ``safe_hold`` (600 ms of its clock), well inside the server's 1000."""

bug_lease_assumes_clocks_agree = _lease("lease-assumes-clocks-agree", LEASE_MS, _FAULTS)
"""Known bug: a client holds the lease for the server's full ``LEASE_MS``, which is safe
only if its clock and the server's agree. A client whose clock runs slow, or a server
whose clock runs fast, leaves the client holding after the server has granted the lease
to the other one. Only a drift shows it."""

bug_clock_jumps = _lease(
    "lease-clock-jumps", safe_hold(LEASE_MS, DRIFT), Faults(drift=DRIFT, jump=JUMP_MS)
)
"""Known limit of ``scenario``: a margin covers clocks that drift, not a clock that jumps.
When the server's clock jumps ahead by more than the margin, its lease timer fires at
once and it grants the lease to the other client while the first still holds it. (A
client's jump only ends its own lease early.)"""
