"""Votes: a single-term election whose voters must not vote twice, across crashes and
damaged disks.

Three voters each grant one vote, persisted before it is granted; a candidate with a
majority wins, and at most one may (``one_winner``). ``scenario`` is correct: a voter
whose disk was replaced, or whose ballot fails its checksum, abstains.
``bug_forgets_vote_on_a_new_disk`` votes again on a replaced disk (only ``disk_loss``
shows it); ``bug_trusts_an_unreadable_vote`` votes again when its ballot is corrupted
(only ``disk_corruption`` shows it).
"""

from .messages import Ballot, RequestVote, Vote
from .processes import NO_AMNESIA, Amnesia, Candidate, Voter, restored_voter, winners
from .scenarios import (
    CANDIDATES,
    FAULTS,
    VOTERS,
    bug_forgets_vote_on_a_new_disk,
    bug_trusts_an_unreadable_vote,
    one_winner,
    scenario,
)

__all__ = [
    "CANDIDATES",
    "FAULTS",
    "NO_AMNESIA",
    "VOTERS",
    "Amnesia",
    "Ballot",
    "Candidate",
    "RequestVote",
    "Vote",
    "Voter",
    "bug_forgets_vote_on_a_new_disk",
    "bug_trusts_an_unreadable_vote",
    "one_winner",
    "restored_voter",
    "scenario",
    "winners",
]
