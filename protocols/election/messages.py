"""The messages of the election: a candidate's request for votes, a vote, and the elected
leader's heartbeat."""

from __future__ import annotations

import attrs

from rabble_sim import message


@message("election.request_vote")
@attrs.frozen
class RequestVote:
    """A candidate asks for a vote in ``term``."""

    term: int


@message("election.vote")
@attrs.frozen
class Vote:
    """The sender votes for the receiver in ``term`` (one vote per term)."""

    term: int


@message("election.heartbeat")
@attrs.frozen
class Heartbeat:
    """The leader of ``term`` is alive: its followers reset their election timeout."""

    term: int
