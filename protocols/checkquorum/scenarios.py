"""Check-quorum scenarios: the leader that counts only acknowledgements of its heartbeats,
and the known bug of one that counts any message it hears."""

from __future__ import annotations

from typing import Any

from rabble_sim import Faults, Pid, Scenario, View

from .processes import QuorumNode, Role, node_pid

NODES = ("a", "b", "c")
FIRST_LEADER = "a"


def one_leader(view: View) -> None:
    """Invariant: at most one node believes it leads, whatever their terms."""
    leaders = sorted(
        f"{pid.node} (term {proc.term})"
        for pid, proc in view.processes.items()
        if proc.role == "leader"
    )
    assert len(leaders) <= 1, f"{' and '.join(leaders)} both lead"


def _checkquorum(name: str, *, acks_only: bool, faults: Faults) -> Scenario:
    ranks = {node: i for i, node in enumerate(NODES)}

    def start(node: str, durable: dict[Pid, Any] | None) -> list[QuorumNode]:
        # Node a leads term 1 from the start, and the others follow it: every election
        # in a run is caused by a fault.
        peers = tuple(node_pid(n) for n in NODES if n != node)
        role: Role = "leader" if node == FIRST_LEADER else "follower"
        return [
            QuorumNode(
                node_pid(node), peers, ranks[node], acks_only=acks_only, term=1, role=role,
                leader=FIRST_LEADER,
            )
        ]  # fmt: skip

    return Scenario(
        name=name,
        nodes=NODES,
        start=start,
        invariants=[one_leader],
        faults=faults,
        max_steps=100,
    )


# Partitions last long enough for an election (heal_rate: about 1 step in 100), and may
# cut one way. No crashes: a restarted node forgets whom it followed.
_FAULTS = Faults(
    drop=0.05, duplicate=0.05, partition=True, one_way=True, partition_rate=0.02, heal_rate=0.01
)

scenario = _checkquorum("checkquorum", acks_only=True, faults=_FAULTS)
"""Three nodes under drops, duplicates and partitions, symmetric or one way; the leader
counts only acknowledgements of its own heartbeats."""

bug_counts_any_message = _checkquorum(
    "checkquorum-counts-any-message", acks_only=False, faults=_FAULTS
)
"""Known bug: the leader counts any message from a peer as proof that it follows. Cut one
way so that the others cannot hear the leader while it hears them, they elect another
leader, and the old one, hearing their pings, keeps its role.

Only a one-way cut shows it. Cut off both ways, the old leader hears nothing and steps
down within two rounds (200 ms), while the others wait ``quiet_ms`` and a stagger (350 ms
or more) from losing it before they campaign. Followers never give up a leader they are
still linked to, and one of a later term answers its heartbeats ``Stale``. What remains
is a scheduler that, after a cut heals, holds back every heartbeat to the followers for
hundreds of ms while it delivers their pings: a one-way link in all but name. The
default (swarm) sweeps do not; the ``pct`` strategy, made to hold messages back, finds it
within a few dozen seeds."""
