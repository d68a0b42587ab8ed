"""Voters, each with one vote that it persists before granting it, and candidates that
ask every voter until a majority has granted theirs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from rabble_sim import (
    CorrelationId,
    Durable,
    Envelope,
    Pid,
    Timeout,
    cancel_timer,
    persist,
    start_timer,
)

from .messages import Ballot, RequestVote, Vote


@attrs.frozen
class Amnesia:
    """What a restarted voter wrongly makes of a damaged disk (the known bugs; each False
    in the correct protocol, which abstains whenever it cannot read its ballot).

    ``new_disk``: a disk that was replaced (``Durable.lost``) is taken for a first start,
    so the voter votes again. ``unreadable``: a ballot that failed its checksum (the pid
    in ``Durable.corrupted``) is taken for no ballot, so the voter votes again.
    """

    new_disk: bool = False
    unreadable: bool = False


NO_AMNESIA = Amnesia()


@attrs.define
class Voter:
    """One vote in a single-term election.

    The first candidate to ask gets the vote; the ballot is persisted in the same step,
    before the grant leaves, so no restart can take it back. Asked again, the voter
    repeats its answer: granted to the candidate it voted for, denied to the others.

    ``abstaining``: the voter restarted without a ballot it can trust (its disk was
    replaced, or its ballot failed its checksum). It may have voted in an earlier life,
    so it denies every candidate, and persists that it abstains.
    """

    pid: Pid
    voted_for: Pid | None = None
    abstaining: bool = False

    def init(self, output: list[Envelope]) -> None:
        if self.abstaining:  # on disk at once: a later restart must abstain as well
            output.append(persist(self.pid, Ballot(None)))

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if not isinstance(msg, RequestVote):
            return
        if self.voted_for is None and not self.abstaining:
            self.voted_for = from_
            output.append(persist(self.pid, Ballot(from_)))  # before the grant leaves
        output.append(Envelope(from_, self.pid, Vote(self.voted_for == from_), cid))


def restored_voter(pid: Pid, durable: dict[Pid, Any] | None, amnesia: Amnesia) -> Voter:
    """Voter ``pid`` as ``start`` builds it from what its disk gave back: fresh on a first
    start, with its ballot after a crash, and abstaining when the ballot is unreadable or
    the disk was replaced (unless ``amnesia`` says otherwise)."""
    if durable is None:
        return Voter(pid)
    ballot = durable.get(pid)
    if isinstance(ballot, Ballot):
        return Voter(pid, ballot.voted_for, abstaining=ballot.voted_for is None)
    lost = isinstance(durable, Durable) and durable.lost
    corrupted = isinstance(durable, Durable) and pid in durable.corrupted
    doubt = (lost and not amnesia.new_disk) or (corrupted and not amnesia.unreadable)
    return Voter(pid, abstaining=doubt)


@attrs.define
class Candidate:
    """Asks every voter for its vote, again every ``retry_ms`` ms those that have not
    granted it, until a majority of ``voters`` has (``won``).

    A denial is not final to the candidate: the request is resent with the others, so
    that a voter that wrongly forgets its vote is asked again.
    """

    pid: Pid
    voters: tuple[Pid, ...]
    retry_ms: int = 50
    granted: list[Pid] = attrs.Factory(list)
    won: bool = False

    @property
    def majority(self) -> int:
        return len(self.voters) // 2 + 1

    def init(self, output: list[Envelope]) -> None:
        self._ask(output)

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if self.won:
            return
        if isinstance(msg, Vote) and msg.granted and from_ not in self.granted:
            self.granted.append(from_)
            if len(self.granted) >= self.majority:
                self.won = True
                output.append(cancel_timer(self.pid, self._cid))
        elif isinstance(msg, Timeout) and cid == self._cid:
            self._ask(output)

    def _ask(self, output: list[Envelope]) -> None:
        for voter in self.voters:
            if voter not in self.granted:
                output.append(Envelope(voter, self.pid, RequestVote(), self._cid))
        output.append(start_timer(self.pid, self.retry_ms, self._cid))

    @property
    def _cid(self) -> CorrelationId:
        return CorrelationId(self.pid)


def winners(processes: Sequence[object]) -> list[Pid]:
    """The pids of the candidates among ``processes`` that have won."""
    return [p.pid for p in processes if isinstance(p, Candidate) and p.won]
