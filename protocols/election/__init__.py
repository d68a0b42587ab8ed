"""Election: a Raft-style leader election, its timeouts counted in ticks.

Latency is the fault this protocol is about. ``scenario`` is correct: its election timeout
is well above the network's round trip. ``bug_timeout_below_latency`` breaks Raft's
requirement that the round trip be much shorter than the timeout: candidates start over
before their votes come back, and no one is ever elected.
"""

from .messages import Heartbeat, RequestVote, Vote
from .processes import ElectionNode, node_pid
from .scenarios import (
    LATENCY,
    NODES,
    bug_timeout_below_latency,
    leader_elected,
    one_leader_per_term,
    scenario,
)

__all__ = [
    "LATENCY",
    "NODES",
    "ElectionNode",
    "Heartbeat",
    "RequestVote",
    "Vote",
    "bug_timeout_below_latency",
    "leader_elected",
    "node_pid",
    "one_leader_per_term",
    "scenario",
]
