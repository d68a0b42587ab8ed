"""Raft as a library: the object a host process embeds to replicate its commands.

In the spirit of Vortex's ``RaftService``: the host builds a ``Raft`` for its own pid and
the cluster's, calls ``start`` from its ``init``, passes every message to ``handle`` first
(Raft takes its own messages, timer and random draws, and says so), calls ``submit`` to
append a command when this server leads, and after each of these takes the entries newly
committed, in order, with ``committed``. Raft's messages go to the host's pid on the
other servers, so every server of a cluster must run the same host. Raft persists its
term, vote and log as the host pid's durable data (``Persistent``); a host that persists
data of its own would overwrite them, so it keeps none (the log is its durable state,
replayed into its state machine after a restart).

Snapshots and log compaction are not built: the log grows for as long as the cluster
lives, and a restarted server replays it whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs

from rabble_sim import CorrelationId, Envelope, Pid, RandomValue, Timeout

from . import election, replication
from .messages import Appended, AppendEntries, Command, Entry, Persistent, RequestVote, Vote
from .state import BATCH, ELECTION_MS, LEADER, NO_BUGS, TICK_MS, Bugs, RaftState

Handler = Callable[[RaftState, Any, Pid, list[Envelope]], None]
_FROM_PEERS: dict[type, Handler] = {
    RequestVote: election.on_request_vote,
    Vote: election.on_vote,
    AppendEntries: replication.on_append_entries,
    Appended: replication.on_appended,
}


@attrs.define
class Raft(RaftState):
    """One server's Raft (see ``RaftState`` for what it knows)."""

    @classmethod
    def restored(
        cls,
        pid: Pid,
        peers: tuple[Pid, ...],
        saved: Any,
        *,
        bugs: Bugs = NO_BUGS,
        tick_ms: int = TICK_MS,
        election_ms: int = ELECTION_MS,
        batch: int = BATCH,
    ) -> Raft:
        """A server at its start: fresh when ``saved`` is None (first start, or its disk
        was lost), else from what it persisted last (``Persistent``)."""
        if pid not in peers:
            raise ValueError(f"{pid} is not one of the cluster's peers {list(map(str, peers))}")
        raft = cls(pid, tuple(peers), bugs, tick_ms, election_ms, batch)
        if saved is not None:
            if not isinstance(saved, Persistent):
                raise ValueError(f"{pid}'s durable data is not Raft's: {saved!r}")
            raft.term, raft.voted_for, raft.log = saved.term, saved.voted_for, list(saved.log)
        return raft

    def start(self, output: list[Envelope]) -> None:
        """Start the election timer, and draw the first term's jitter."""
        election.new_term(self, output)

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> bool:
        """Take ``msg`` if it is Raft's (a peer's message, the tick, a random draw); say
        whether it was. A Raft message from anyone but a peer is taken and ignored."""
        handler = _FROM_PEERS.get(type(msg))
        if handler is not None:
            if from_ in self.peers and from_ != self.pid:
                handler(self, msg, from_, output)
            return True
        if isinstance(msg, Timeout) and cid == self.tick:
            election.on_tick(self, output)
            return True
        if isinstance(msg, Timeout) and cid == self.election:
            election.on_election_timeout(self, output)
            return True
        if isinstance(msg, RandomValue) and cid == self.draw:
            self.jitter = msg.value
            if self.role != LEADER:
                election.restart_election_timer(self, output)
            return True
        return False

    def submit(self, command: Command, output: list[Envelope]) -> int | None:
        """Append ``command`` to the log if this server leads: its index; else None (send
        it to ``leader``, if one is known)."""
        return replication.submit(self, command, output)

    def committed(self) -> Iterator[tuple[int, Entry]]:
        """The entries committed since the last call, with their indexes, in order."""
        while self.applied < self.commit:
            self.applied += 1
            yield self.applied, self.log[self.applied - 1]
