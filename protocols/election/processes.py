"""One node of a Raft-style leader election, driven by a logical clock of ticks."""

from __future__ import annotations

from typing import Literal

import attrs

from rabble_sim import CorrelationId, Envelope, Pid, Timeout, start_timer

from .messages import Heartbeat, RequestVote, Vote

Role = Literal["follower", "candidate", "leader"]
NAME = "election"


def node_pid(node: str) -> Pid:
    """The pid of the election process on ``node``."""
    return Pid(NAME, node)


@attrs.define
class ElectionNode:
    """A Raft-style election, counted in ticks as etcd's raft counts it.

    Every ``tick_ms`` the node ticks. A follower or candidate that has not heard from a
    leader, nor voted, for ``timeout()`` ticks starts an election: a new term, its own
    vote, and a ``RequestVote`` to every peer. A candidate whose votes (with its own, a
    majority) come back in that term leads; votes for any other term are ignored, so a
    candidate that times out again before its votes arrive starts over and they are wasted.
    A leader sends a ``Heartbeat`` to every peer on every tick. A higher term seen in any
    message makes a node a follower of that term; its timeout runs on, as only a heartbeat
    of its term or a vote it grants starts it over.

    ``timeout()`` is ``base_ticks`` plus a jitter below ``spread_ticks`` that depends on the
    node's ``rank`` and the term, so that nodes do not time out together twice in a row.
    Raft asks that the network's round trip be far shorter than the election timeout: with
    ``base_ticks`` too small for the network, every vote arrives after its candidate has
    moved on, and no one is ever elected.

    The tick is one timer, started again at each tick after what the tick sent. A fair
    run (the simulator's liveness phase) serves messages and timers in the order they were
    made, so without latency the answers to a tick's messages come before the tick after
    next, and a timeout of two ticks or more leaves room for the votes. (A single timer
    of the whole timeout, started with the requests, would always fire before the votes,
    which are made after it.)
    """

    pid: Pid
    peers: tuple[Pid, ...]
    rank: int
    base_ticks: int
    spread_ticks: int
    tick_ms: int = 10
    term: int = 0
    role: Role = "follower"
    voted_for: str | None = None
    votes: set[str] = attrs.Factory(set)
    leader: str | None = None
    elapsed: int = 0

    def init(self, output: list[Envelope]) -> None:
        output.append(start_timer(self.pid, self.tick_ms, self._tick))

    def timeout(self) -> int:
        """This node's election timeout in the current term, in ticks."""
        return self.base_ticks + (5 * self.rank + 2 * self.term) % self.spread_ticks

    @property
    def majority(self) -> int:
        return (len(self.peers) + 1) // 2 + 1

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Timeout):
            if cid == self._tick:
                self._on_tick(output)
            return
        if not isinstance(msg, RequestVote | Vote | Heartbeat):
            return
        if msg.term > self.term:
            self._step_down(msg.term)
        if isinstance(msg, RequestVote):
            self._on_request_vote(msg, from_, output)
        elif isinstance(msg, Vote):
            self._on_vote(msg, from_, output)
        elif msg.term == self.term and self.role != "leader":
            self._step_down(msg.term)
            self.leader = from_.node
            self.elapsed = 0

    def _on_tick(self, output: list[Envelope]) -> None:
        if self.role == "leader":
            self._broadcast(Heartbeat(self.term), output)
        else:
            self.elapsed += 1
            if self.elapsed >= self.timeout():
                self._campaign(output)
        # Restarted after what the tick sent: see the class docstring.
        output.append(start_timer(self.pid, self.tick_ms, self._tick))

    def _campaign(self, output: list[Envelope]) -> None:
        self.term += 1
        self.role = "candidate"
        self.voted_for = self.pid.node
        self.votes = {self.pid.node}
        self.leader = None
        self.elapsed = 0
        self._broadcast(RequestVote(self.term), output)

    def _on_request_vote(self, msg: RequestVote, from_: Pid, output: list[Envelope]) -> None:
        if msg.term != self.term or self.role != "follower":
            return  # stale, or this node is a candidate (it voted for itself) or the leader
        if self.voted_for not in (None, from_.node):
            return
        self.voted_for = from_.node
        self.elapsed = 0
        output.append(Envelope(from_, self.pid, Vote(msg.term)))

    def _on_vote(self, msg: Vote, from_: Pid, output: list[Envelope]) -> None:
        if self.role != "candidate" or msg.term != self.term:
            return  # a vote for a term this node has left: wasted
        self.votes.add(from_.node)
        if len(self.votes) >= self.majority:
            self.role = "leader"
            self.leader = self.pid.node
            self.elapsed = 0
            self._broadcast(Heartbeat(self.term), output)

    def _step_down(self, term: int) -> None:
        """Become a follower in ``term``, of no leader yet; the timeout runs on."""
        if term > self.term:
            self.term = term
            self.voted_for = None
        self.role = "follower"
        self.votes = set()
        self.leader = None

    def _broadcast(self, msg: object, output: list[Envelope]) -> None:
        output.extend(Envelope(peer, self.pid, msg) for peer in self.peers)

    @property
    def _tick(self) -> CorrelationId:
        return CorrelationId(self.pid)
