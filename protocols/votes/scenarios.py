"""Votes scenarios: the correct election and the two disk bugs, each shown only by its own
disk fault (a replaced disk, a corrupted ballot)."""

from __future__ import annotations

from typing import Any

from rabble_sim import Faults, Pid, Scenario, View

from .processes import NO_AMNESIA, Amnesia, Candidate, Voter, restored_voter, winners

VOTERS = tuple(Pid("voter", f"v{i}") for i in range(1, 4))
CANDIDATES = tuple(Pid("candidate", f"c{i}") for i in range(1, 3))


def one_winner(view: View) -> None:
    """Invariant: at most one candidate has won the election."""
    won = winners(list(view.processes.values()))
    assert len(won) <= 1, f"{' and '.join(map(str, won))} both won"


def _votes(name: str, amnesia: Amnesia, faults: Faults) -> Scenario:
    """Three voters ``v1``..``v3`` and two candidates ``c1``, ``c2``, each on its own node.

    The candidates' nodes are the scenario's clients, which the search never crashes: a
    winner stays in the view, so that a second winner is seen next to the first.
    """

    def start(node: str, durable: dict[Pid, Any] | None) -> list[Voter | Candidate]:
        for pid in CANDIDATES:
            if pid.node == node:
                return [Candidate(pid, VOTERS)]
        return [restored_voter(Pid("voter", node), durable, amnesia)]

    return Scenario(
        name=name,
        nodes=(*(pid.node for pid in VOTERS), *(pid.node for pid in CANDIDATES)),
        start=start,
        invariants=[one_winner],
        faults=faults,
        max_steps=100,
        clients=[pid.node for pid in CANDIDATES],
    )


# One voter down at a time, often, and back soon; while it is down its disk may be
# replaced or its ballot corrupted. Light drops and duplicates besides.
FAULTS = Faults(
    drop=0.05, duplicate=0.05, crash=1, crash_rate=0.05, restart_rate=0.2,
    disk_loss=0.3, disk_corruption=0.3,
)  # fmt: skip

scenario = _votes("votes", NO_AMNESIA, FAULTS)
"""Three voters and two candidates under crashes, replaced disks and corrupted ballots: a
voter that cannot read its ballot abstains, so at most one candidate wins."""

bug_forgets_vote_on_a_new_disk = _votes(
    "votes-forgets-vote-on-a-new-disk", Amnesia(new_disk=True), FAULTS
)
"""Known bug: a voter whose disk was replaced votes again as if it had never voted, and
the candidate it denied before wins too. Only a replaced disk shows it: after a crash
alone the ballot is read back, and a corrupted ballot is handled (the voter abstains)."""

bug_trusts_an_unreadable_vote = _votes(
    "votes-trusts-an-unreadable-vote", Amnesia(unreadable=True), FAULTS
)
"""Known bug: a voter whose ballot fails its checksum takes it for no ballot and votes
again. Only a corrupted ballot shows it: a replaced disk is handled (the voter abstains)."""
