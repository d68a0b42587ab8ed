"""The votes protocol: each disk bug is found by a sweep only when its own disk fault is
on, replays, and shrinks to a schedule that keeps that fault; the correct election
survives replaced disks and corrupted ballots; and the voter's rules hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from protocols import votes
from protocols.votes import (
    CANDIDATES,
    NO_AMNESIA,
    VOTERS,
    Amnesia,
    Ballot,
    Candidate,
    RequestVote,
    Vote,
    Voter,
    restored_voter,
    scenario,
)
from rabble_sim import (
    CancelTimer,
    CorrelationId,
    Durable,
    Envelope,
    Persist,
    Scenario,
    StartTimer,
    Timeout,
    run,
)
from rabble_sim.schedule import Schedule, load, replay, shrink
from rabble_sim.search import sweep
from rabble_sim.sim import ReplayChooser

SEEDS = 2000
VOTER, OTHER = VOTERS[0], VOTERS[1]
C1, C2 = CANDIDATES

# Each bug, the fault field that alone exposes it, and that fault's event kind.
BUGS = [
    ("bug_forgets_vote_on_a_new_disk", "disk_loss", "lose_disk"),
    ("bug_trusts_an_unreadable_vote", "disk_corruption", "corrupt_disk"),
]


def test_scenario_passes_a_sweep_with_replaced_disks_and_corrupted_ballots() -> None:
    report = sweep(scenario, range(300))
    assert report.ok, report.failure and report.failure.violation
    # Passing means something only if both disk faults really struck.
    assert report.events["lose_disk"] >= 100
    assert report.events["corrupt_disk"] >= 100


@pytest.mark.parametrize(("name", "fault", "kind"), BUGS)
def test_each_bug_is_found_replays_and_shrinks_keeping_its_disk_fault(
    name: str, fault: str, kind: str, tmp_path: Path
) -> None:
    bug: Scenario = getattr(votes, name)
    report = sweep(bug, range(SEEDS))
    found = report.failure
    assert found is not None and found.violation is not None
    assert found.violation.check == "one_winner"
    assert "both won" in found.violation.message

    events = found.events()
    again = run(bug, ReplayChooser(events), max_steps=len(events))
    assert again.violation is not None, f"seed {found.seed} did not replay"
    assert (again.violation.check, again.violation.step) == (
        found.violation.check,
        found.violation.step,
    )

    schedule = Schedule.from_run(found, f"protocols.votes:{name}")
    shrunk = shrink(schedule, bug)
    assert shrunk.reproduced
    kinds = [e["kind"] for e in shrunk.schedule.events]
    assert kind in kinds, kinds  # the bug cannot do without its fault
    assert len(kinds) <= 20, kinds
    replayed = replay(load(shrunk.schedule.save(tmp_path)), bug)
    assert replayed.violation is not None and replayed.violation.check == "one_winner"


@pytest.mark.parametrize(("name", "fault", "kind"), BUGS)
def test_each_bug_passes_a_sweep_without_its_disk_fault(name: str, fault: str, kind: str) -> None:
    bug: Scenario = getattr(votes, name)
    off: dict[str, Any] = {fault: 0.0}
    without = attrs.evolve(bug, faults=attrs.evolve(bug.faults, **off))
    report = sweep(without, range(SEEDS))
    assert report.ok, report.failure and report.failure.violation
    assert report.events[kind] == 0
    # The other disk fault, and plain crashes, still strike: the voter handles them.
    other = "corrupt_disk" if kind == "lose_disk" else "lose_disk"
    assert report.events[other] >= 500
    assert report.events["crash"] >= 1000


def test_a_voter_persists_its_ballot_before_it_grants_the_vote() -> None:
    voter = Voter(VOTER)
    out: list[Envelope] = []
    voter.handle(RequestVote(), C1, None, out)
    assert [env.msg for env in out] == [Persist(Ballot(C1)), Vote(True)]

    out.clear()
    voter.handle(RequestVote(), C2, None, out)
    voter.handle(RequestVote(), C1, None, out)  # asked again: the same answer
    assert [env.msg for env in out] == [Vote(False), Vote(True)]
    assert [env.to for env in out] == [C2, C1]


def test_an_abstaining_voter_persists_it_and_denies_everyone() -> None:
    voter = Voter(VOTER, abstaining=True)
    out: list[Envelope] = []
    voter.init(out)
    voter.handle(RequestVote(), C1, None, out)
    assert [env.msg for env in out] == [Persist(Ballot(None)), Vote(False)]
    assert voter.voted_for is None


def test_a_restarted_voter_keeps_its_ballot_and_abstains_without_one_it_can_trust() -> None:
    assert restored_voter(VOTER, None, NO_AMNESIA) == Voter(VOTER)
    assert restored_voter(VOTER, Durable(), NO_AMNESIA) == Voter(VOTER)  # never voted
    kept = restored_voter(VOTER, Durable({VOTER: Ballot(C1)}), NO_AMNESIA)
    assert kept == Voter(VOTER, voted_for=C1)
    abstained = restored_voter(VOTER, Durable({VOTER: Ballot(None)}), NO_AMNESIA)
    assert abstained.abstaining

    lost = Durable(lost=True)
    corrupted = Durable({OTHER: Ballot(C2)}, corrupted=(VOTER,))
    assert restored_voter(VOTER, lost, NO_AMNESIA).abstaining
    assert restored_voter(VOTER, corrupted, NO_AMNESIA).abstaining
    # Each known bug mistakes one kind of damage for a first start, and only that one.
    assert not restored_voter(VOTER, lost, Amnesia(new_disk=True)).abstaining
    assert restored_voter(VOTER, corrupted, Amnesia(new_disk=True)).abstaining
    assert not restored_voter(VOTER, corrupted, Amnesia(unreadable=True)).abstaining
    assert restored_voter(VOTER, lost, Amnesia(unreadable=True)).abstaining


def test_a_ballot_survives_the_disk_and_the_scenario_restores_it() -> None:
    (voter,) = scenario.start(VOTER.node, Durable({VOTER: Ballot(C2)}))
    assert voter == Voter(VOTER, voted_for=C2)


def test_a_candidate_asks_again_those_that_have_not_granted_and_wins_on_a_majority() -> None:
    candidate = Candidate(C1, VOTERS)
    cid = CorrelationId(C1)
    out: list[Envelope] = []
    candidate.init(out)
    assert [env.to for env in out[:3]] == list(VOTERS)
    assert out[3].msg == StartTimer(candidate.retry_ms)

    out.clear()
    candidate.handle(Vote(True), VOTERS[0], cid, out)
    candidate.handle(Vote(False), VOTERS[1], cid, out)
    candidate.handle(Timeout(), C1, cid, out)
    assert [env.to for env in out[:2]] == [VOTERS[1], VOTERS[2]]

    out.clear()
    candidate.handle(Vote(True), VOTERS[0], cid, out)  # a duplicate counts once
    assert candidate.granted == [VOTERS[0]]
    candidate.handle(Vote(True), VOTERS[2], cid, out)
    assert candidate.won
    assert [env.msg for env in out] == [CancelTimer(cid)]
