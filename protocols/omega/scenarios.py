"""Omega scenarios: the correct detector and its known bugs, under crashes and partitions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from rabble_sim import Faults, Liveness, Pid, Scenario, View

from .processes import Omega, omega_pid, restored_round

NODES = ("a", "b", "c", "d")

# Fair steps allowed for agreement once faults stop. A heal first delivers every heartbeat
# that the partition held back (184 steps at worst over 4,000 seeds of `scenario`), then
# each node needs one full period in which it hears the smallest node.
CONVERGE_WITHIN = 300


def agree_on_smallest(nodes: Sequence[str]) -> Callable[[View], None]:
    """Liveness: every node is up, and all trust the smallest one.

    All nodes must be up, not just the live ones at this step: the liveness phase restarts
    the nodes that are down, and a check that skipped them could pass before the restart
    that the bug needs.
    """
    smallest = min(nodes)

    def agree_on_smallest(view: View) -> None:
        leaders: dict[str, str | None] = {}
        for node in nodes:
            proc = view.processes.get(omega_pid(node))
            assert proc is not None, f"node {node} is down"
            leaders[node] = proc.leader
        wrong = {node: leader for node, leader in leaders.items() if leader != smallest}
        assert not wrong, f"nodes trust {wrong} instead of {smallest!r}"

    return agree_on_smallest


def agree_on_smallest_live(nodes: Sequence[str]) -> Callable[[View], None]:
    """Liveness, crash-stop: every node that is up trusts the smallest node that is up (the
    nodes down when faults stop never come back)."""

    def agree_on_smallest_live(view: View) -> None:
        leaders = {
            node: proc.leader
            for node in nodes
            if (proc := view.processes.get(omega_pid(node))) is not None
        }
        smallest = min(leaders)
        wrong = {node: leader for node, leader in leaders.items() if leader != smallest}
        assert not wrong, f"nodes trust {wrong} instead of {smallest!r}, the smallest live one"

    return agree_on_smallest_live


def _omega(
    name: str,
    nodes: Sequence[str] = NODES,
    *,
    persist_round: bool = True,
    count_self: bool = True,
    faults: Faults,
    max_steps: int,
    within: int = CONVERGE_WITHIN,
    crash_stop: bool = False,
) -> Scenario:
    def start(node: str, durable: dict[Pid, Any] | None) -> list[Omega]:
        pid = omega_pid(node)
        # The period is not persisted: a restarted node starts from the shortest one,
        # which only makes it heard sooner.
        return [
            Omega(
                pid,
                peers=tuple(sorted(n for n in nodes if n != node)),
                round=restored_round(durable, pid) if persist_round else 0,
                persist_round=persist_round,
                count_self=count_self,
            )
        ]

    return Scenario(
        name=name,
        nodes=nodes,
        start=start,
        faults=faults,
        max_steps=max_steps,
        liveness=(
            Liveness(agree_on_smallest_live(nodes), within=within, restart=False)
            if crash_stop
            else Liveness(agree_on_smallest(nodes), within=within)
        ),
    )


# Crashes are frequent enough that the smallest node often goes down after it has sent
# many rounds: that is when forgetting the round hurts.
_FAULTS = Faults(drop=0.1, duplicate=0.1, crash=2, partition=True, crash_rate=0.01)

scenario = _omega("omega", faults=_FAULTS, max_steps=600)
"""Four nodes under drops, duplicates, partitions and up to two crashes at a time."""

scenario_crash_stop = _omega(
    "omega-crash-stop", faults=attrs.evolve(_FAULTS, crash=1), max_steps=600, crash_stop=True
)
"""The same, crash-stop: a node down when the faults stop stays down, and the others must
come to trust the smallest live one. It checks what ``scenario`` cannot: that a node which
never comes back is forgotten (``scenario``'s liveness phase restarts every node)."""

bug_round_not_persisted = _omega(
    "omega-round-not-persisted", persist_round=False, faults=_FAULTS, max_steps=600
)
"""Known bug: rounds restart from 0 after a crash, so the others ignore the restarted
node's heartbeats as stale. When that is the smallest node, the others keep trusting
someone else until its rounds catch up, which takes as many periods as it had run before
the crash. Needs a crash of the smallest node late enough in the run to outlast the
liveness bound; about one seed in eight has one."""

bug_no_self = _omega("omega-no-self", count_self=False, faults=Faults(), max_steps=200)
"""Known bug: a node leaves itself out of the election, so the smallest node trusts the
next one while the others trust it. Needs no fault at all."""
