"""The messages of the check-quorum protocol: the leader's heartbeats and their acks, the
election's requests and votes, and the pings every node sends to every other."""

from __future__ import annotations

import attrs

from rabble_sim import message


@message("checkquorum.heartbeat")
@attrs.frozen
class Heartbeat:
    """Round ``round`` of the leader of ``term``; a follower answers with ``Ack``."""

    term: int
    round: int


@message("checkquorum.ack")
@attrs.frozen
class Ack:
    """The sender heard round ``round`` of the leader of ``term``, and follows it."""

    term: int
    round: int


@message("checkquorum.stale")
@attrs.frozen
class Stale:
    """The answer to a heartbeat of an earlier term: the sender has seen ``term``, so the
    leader's term is over."""

    term: int


@message("checkquorum.request_vote")
@attrs.frozen
class RequestVote:
    """A candidate asks for a vote in ``term``."""

    term: int


@message("checkquorum.vote")
@attrs.frozen
class Vote:
    """The sender votes for the receiver in ``term``."""

    term: int


@message("checkquorum.ping")
@attrs.frozen
class Ping:
    """I am alive: sent by every node to every other, whatever its role. It says nothing
    about whom the sender follows, nor whether it hears the receiver."""
