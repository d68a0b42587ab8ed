"""One node of a leader election whose leader checks, every round, that a quorum still
follows it (etcd's CheckQuorum), and whose followers stay loyal while they hear it."""

from __future__ import annotations

from typing import Literal

import attrs

from rabble_sim import (
    ConnectionLost,
    CorrelationId,
    Envelope,
    Pid,
    Timeout,
    start_timer,
    unwatch,
    watch,
)

from .messages import Ack, Heartbeat, Ping, RequestVote, Stale, Vote

Role = Literal["follower", "candidate", "leader"]
NAME = "quorum"

_ROUND, _QUIET, _CAMPAIGN, _PING, _WATCH = range(5)
"""The request numbers of a node's cids: its timers, and its watch of its leader."""


def node_pid(node: str) -> Pid:
    """The pid of the check-quorum process on ``node``."""
    return Pid(NAME, node)


@attrs.frozen
class Timing:
    """How long each thing takes, in ms of the node's clock (the scenarios do not drift).

    A leader that keeps its role through a round's check leads for at most two rounds
    (``2 * round_ms``) after sending the heartbeat that was acknowledged, and the follower
    that acknowledged it neither votes nor campaigns for ``quiet_ms`` after hearing it:
    ``quiet_ms > 2 * round_ms`` keeps two leaders apart. A vote lends the same protection
    to a new leader's first round if the leader is elected within ``campaign_ms`` of
    asking, hence ``campaign_ms < quiet_ms - round_ms``.
    """

    round_ms: int = 100
    quiet_ms: int = 300
    stagger_ms: int = 50
    campaign_ms: int = 150
    ping_ms: int = 100

    def __attrs_post_init__(self) -> None:
        assert self.quiet_ms > 2 * self.round_ms, "a leader could outlive its follower's loyalty"
        assert self.campaign_ms < self.quiet_ms - self.round_ms, "a vote could come too late"


@attrs.define
class QuorumNode:
    """A node that follows, campaigns for or holds the leadership.

    Leader: every ``round_ms`` it checks that at least a majority (itself included)
    followed it in the round just ended; if so it starts the next round with a
    ``Heartbeat(term, round)`` to every peer, else it steps down. With ``acks_only`` a
    follower counts only by acknowledging that round's heartbeat of the leader's term, so
    the leader knows the follower hears it. Without it (the known bug) any message from a
    peer counts, pings included: a leader that its followers no longer hear, though it
    still hears them, keeps its role.

    Follower: it acknowledges its leader's heartbeats, and watches the leader's node. It
    gives up on the leader only when the executor says the link is lost (``ConnectionLost``,
    sent when the leader's node crashes or cannot be reached both ways) or when the leader
    itself asks for votes (it stepped down), never because heartbeats are slow to come.
    Without a leader, and once ``quiet_ms`` have passed since it last heard a leader, voted
    or lost its leader, it votes for the first candidate of a newer term that asks;
    ``stagger_ms * (rank + 1)`` later it campaigns itself, giving up after ``campaign_ms``
    without a majority. A node with a leader (a leader too) ignores requests for votes, as
    etcd does under CheckQuorum. A heartbeat of an earlier term than the follower's is
    answered ``Stale``, and its leader steps down: a follower that campaigned while cut off
    would otherwise, once the cut heals, be heard by the leader without ever following it
    again, the bug's situation reached without a one-way cut.

    Every node pings every other every ``ping_ms``, whatever its role.
    """

    pid: Pid
    peers: tuple[Pid, ...]
    rank: int
    timing: Timing = Timing()
    acks_only: bool = True
    term: int = 0
    role: Role = "follower"
    leader: str | None = None
    watching: str | None = None
    voted_for: str | None = None
    votes: set[str] = attrs.Factory(set)
    quiet: bool = False
    round: int = 0
    followed: set[str] = attrs.Factory(set)
    """The peers that count as following this leader in its current round."""

    def init(self, output: list[Envelope]) -> None:
        output.append(self._start(_PING, self.timing.ping_ms))
        if self.role == "leader":
            self._begin_round(0, output)
        else:
            if self.leader is not None:
                self._watch(self.leader, output)
            self._wait(output)

    @property
    def majority(self) -> int:
        return (len(self.peers) + 1) // 2 + 1

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Timeout):
            self._on_timeout(cid, output)
        elif isinstance(msg, ConnectionLost):
            self._on_connection_lost(msg.node, output)
        elif from_ in self.peers:
            if self.role == "leader" and not self.acks_only:
                self.followed.add(from_.node)  # the bug: hearing a peer is not being heard
            if isinstance(msg, Heartbeat):
                self._on_heartbeat(msg, from_, output)
            elif isinstance(msg, Ack):
                self._on_ack(msg, from_)
            elif isinstance(msg, Stale):
                self._on_stale(msg, output)
            elif isinstance(msg, RequestVote):
                self._on_request_vote(msg, from_, output)
            elif isinstance(msg, Vote):
                self._on_vote(msg, from_, output)

    # -- timers -------------------------------------------------------------------------------

    def _on_timeout(self, cid: CorrelationId | None, output: list[Envelope]) -> None:
        which = cid.request if cid is not None and cid.pid == self.pid else None
        if which == _PING:
            self._broadcast(Ping(), output)
            output.append(self._start(_PING, self.timing.ping_ms))
        elif which == _ROUND and self.role == "leader":
            if len(self.followed) + 1 >= self.majority:
                self._begin_round(self.round + 1, output)
            else:
                self.role = "follower"
                self.leader = None
                self._wait(output)
        elif which == _QUIET:
            self.quiet = True
        elif which == _CAMPAIGN:
            if self.role == "candidate":  # no majority in time: give up, wait, try again
                self.role = "follower"
                self.votes = set()
                output.append(self._start(_CAMPAIGN, self._patience))
            elif self.role == "follower" and self.leader is None:
                self._campaign(output)

    def _begin_round(self, round_: int, output: list[Envelope]) -> None:
        self.round = round_
        self.followed = set()
        self._broadcast(Heartbeat(self.term, round_), output)
        output.append(self._start(_ROUND, self.timing.round_ms))

    def _campaign(self, output: list[Envelope]) -> None:
        self.term += 1
        self.role = "candidate"
        self.voted_for = self.pid.node
        self.votes = {self.pid.node}
        self._broadcast(RequestVote(self.term), output)
        output.append(self._start(_CAMPAIGN, self.timing.campaign_ms))

    def _wait(self, output: list[Envelope]) -> None:
        """Neither vote nor campaign for a while: ``quiet_ms``, and a stagger more."""
        self.quiet = False
        output.append(self._start(_QUIET, self.timing.quiet_ms))
        output.append(self._start(_CAMPAIGN, self._patience))

    @property
    def _patience(self) -> int:
        return self.timing.quiet_ms + self.timing.stagger_ms * (self.rank + 1)

    # -- messages -----------------------------------------------------------------------------

    def _on_heartbeat(self, msg: Heartbeat, from_: Pid, output: list[Envelope]) -> None:
        if msg.term < self.term:
            # From a leader whose term is over: tell it, or it would lead on unfollowed.
            output.append(Envelope(from_, self.pid, Stale(self.term)))
            return
        if msg.term > self.term:
            self.term = msg.term
            self.voted_for = None
        self.role = "follower"
        self.votes = set()
        self.leader = from_.node
        if self.watching != from_.node:
            self._watch(from_.node, output)
        self._wait(output)
        output.append(Envelope(from_, self.pid, Ack(msg.term, msg.round)))

    def _on_stale(self, msg: Stale, output: list[Envelope]) -> None:
        if msg.term > self.term:
            self.term = msg.term
            self.voted_for = None
            if self.role != "follower":
                self.role = "follower"
                self.leader = None
                self.votes = set()
                self._wait(output)

    def _on_ack(self, msg: Ack, from_: Pid) -> None:
        if self.role == "leader" and msg.term == self.term and msg.round == self.round:
            self.followed.add(from_.node)

    def _on_request_vote(self, msg: RequestVote, from_: Pid, output: list[Envelope]) -> None:
        if self.leader == from_.node and self.role == "follower":
            # The leader itself campaigns: it stepped down. Loyalty ends, quiet or not.
            self.leader = None
            output.append(self._start(_CAMPAIGN, self._patience))
        if self.leader is not None or not self.quiet or msg.term < self.term:
            return  # loyal to a leader, or heard one too lately, or a stale request
        if msg.term > self.term:
            self.term = msg.term
            self.role = "follower"
            self.voted_for = None
            self.votes = set()
        if self.role != "follower" or self.voted_for not in (None, from_.node):
            return
        self.voted_for = from_.node
        self._wait(output)
        output.append(Envelope(from_, self.pid, Vote(msg.term)))

    def _on_vote(self, msg: Vote, from_: Pid, output: list[Envelope]) -> None:
        if self.role != "candidate" or msg.term != self.term:
            return
        self.votes.add(from_.node)
        if len(self.votes) >= self.majority:
            self.role = "leader"
            self.leader = self.pid.node
            self.votes = set()
            self._begin_round(0, output)

    def _on_connection_lost(self, node: str, output: list[Envelope]) -> None:
        if node != self.watching:
            return
        self.watching = None
        if self.role == "follower" and self.leader == node:
            self.leader = None
            self._wait(output)

    # -- helpers ------------------------------------------------------------------------------

    def _watch(self, node: str, output: list[Envelope]) -> None:
        if self.watching is not None:
            output.append(unwatch(self.pid, self.watching))
        self.watching = node
        output.append(watch(self.pid, node, CorrelationId(self.pid, _WATCH)))

    def _broadcast(self, msg: object, output: list[Envelope]) -> None:
        output.extend(Envelope(peer, self.pid, msg) for peer in self.peers)

    def _start(self, which: int, ms: int) -> Envelope:
        return start_timer(self.pid, ms, CorrelationId(self.pid, which))
