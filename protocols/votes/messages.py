"""The messages of the votes protocol: a candidate's request for a vote, a voter's answer,
and the ballot a voter keeps on disk."""

from __future__ import annotations

import attrs

from rabble_sim import Pid, message


@message("votes.request_vote")
@attrs.frozen
class RequestVote:
    """A candidate asks a voter for its vote (the election has a single term)."""


@message("votes.vote")
@attrs.frozen
class Vote:
    """A voter's answer: ``granted`` if the vote goes to the candidate that asked."""

    granted: bool


@message("votes.ballot")
@attrs.frozen
class Ballot:
    """What a voter persists: the candidate it voted for, or that it abstains
    (``voted_for`` None) because it cannot know whom it voted for before."""

    voted_for: Pid | None
