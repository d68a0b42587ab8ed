"""Lease: a lock server grants a lease to one client at a time, each client counting it on
its own clock.

Clock drift and jumps are the faults this protocol is about. ``scenario`` is correct: its
clients hold a lease a margin shorter than the server gives it. ``bug_lease_assumes_clocks_agree``
holds for the server's full time, which only a drifting clock shows to be wrong, and
``bug_clock_jumps`` shows a jump defeating the margin of ``scenario``.
"""

from .messages import Acquire, Busy, Grant
from .processes import LeaseClient, LeaseServer
from .scenarios import (
    CLIENTS,
    DRIFT,
    JUMP_MS,
    LEASE_MS,
    SERVER,
    bug_clock_jumps,
    bug_lease_assumes_clocks_agree,
    one_holder,
    safe_hold,
    scenario,
)

__all__ = [
    "CLIENTS",
    "DRIFT",
    "JUMP_MS",
    "LEASE_MS",
    "SERVER",
    "Acquire",
    "Busy",
    "Grant",
    "LeaseClient",
    "LeaseServer",
    "bug_clock_jumps",
    "bug_lease_assumes_clocks_agree",
    "one_holder",
    "safe_hold",
    "scenario",
]
