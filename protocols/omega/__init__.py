"""Omega: Kompact's eventual leader detector, one heartbeating process per node.

Each node trusts the smallest node it heard from in its last period; periods grow on
every change of leader, so once faults stop all nodes come to trust the smallest live one.
``scenario`` is correct, and ``scenario_crash_stop`` checks it when crashed nodes never come
back; ``bug_round_not_persisted`` forgets its heartbeat round in a crash and ``bug_no_self``
leaves a node out of its own election.
"""

from .messages import Heartbeat
from .processes import Omega, omega_pid, restored_round
from .scenarios import (
    NODES,
    agree_on_smallest,
    agree_on_smallest_live,
    bug_no_self,
    bug_round_not_persisted,
    scenario,
    scenario_crash_stop,
)

__all__ = [
    "NODES",
    "Heartbeat",
    "Omega",
    "agree_on_smallest",
    "agree_on_smallest_live",
    "bug_no_self",
    "bug_round_not_persisted",
    "omega_pid",
    "restored_round",
    "scenario",
    "scenario_crash_stop",
]
