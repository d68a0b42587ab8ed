"""Check quorum: a leader keeps its role only while a quorum follows it (etcd's CheckQuorum).

One-way cuts are the fault this protocol is about. ``scenario`` is correct: its leader
counts a follower only when the follower acknowledges the leader's heartbeat, proof that
it hears the leader. ``bug_counts_any_message`` counts any message it hears, so that a
leader its followers no longer hear keeps its role while they elect another.
"""

from .messages import Ack, Heartbeat, Ping, RequestVote, Stale, Vote
from .processes import QuorumNode, Timing, node_pid
from .scenarios import FIRST_LEADER, NODES, bug_counts_any_message, one_leader, scenario

__all__ = [
    "FIRST_LEADER",
    "NODES",
    "Ack",
    "Heartbeat",
    "Ping",
    "QuorumNode",
    "RequestVote",
    "Stale",
    "Timing",
    "Vote",
    "bug_counts_any_message",
    "node_pid",
    "one_leader",
    "scenario",
]
