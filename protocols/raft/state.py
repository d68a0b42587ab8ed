"""What one Raft server knows (Raft, figure 2), its known bugs, and the small questions
every part of the protocol asks of it.

The protocol is split by job: ``election`` (terms, votes, the randomized timeout) and
``replication`` (appending, matching, committing) are functions over this state, and
``raft.Raft`` adds the interface a host process embeds.
"""

from __future__ import annotations

import attrs

from rabble_sim import CorrelationId, Envelope, Pid, persist

from .messages import Entry, Persistent

FOLLOWER = "follower"
CANDIDATE = "candidate"
LEADER = "leader"

TICK_MS = 100
"""The tick: a leader's heartbeat period, and a candidate's to ask again for votes."""
ELECTION_MS = 300
"""The least election timeout; each term's adds a random ``0 .. ELECTION_MS - 1``."""
BATCH = 64
"""Entries an ``AppendEntries`` carries at most."""

TICK_HANDLE = -1
ELECTION_HANDLE = -2
DRAW_HANDLE = -3
"""The ``handle`` of Raft's own correlation ids, so that a host's cids never collide
with them (a host numbers its own from 0 up, or uses other pids)."""


@attrs.frozen
class Bugs:
    """Known bugs a server can be built with; all off is the correct protocol.

    - ``commit_by_counting``: a leader commits any entry stored on a majority, whatever its
      term (the paper's figure 8: an entry of an earlier term can be on a majority and still
      be overwritten by a later leader).
    - ``vote_not_persisted``: a server grants its vote (and takes the candidate's term)
      without first writing them to disk: after a crash it can vote again in that term.
    - ``skip_prev_check``: a follower appends what a leader sends without checking that
      its log holds the entry before them (``prev_index``, ``prev_term``).
    - ``stale_leader_reads``: a leader answers reads from its own state at once, without
      going through the log, so without knowing it is still the leader.
    - ``no_log_check``: a server votes for a candidate whose log is behind its own (the
      election restriction, section 5.4.1, left out).
    - ``truncate_on_append``: a follower cuts its log after ``prev_index`` before appending,
      even where its entries match: a late, reordered ``AppendEntries`` removes entries it
      had acknowledged.
    """

    commit_by_counting: bool = False
    vote_not_persisted: bool = False
    skip_prev_check: bool = False
    stale_leader_reads: bool = False
    no_log_check: bool = False
    truncate_on_append: bool = False


NO_BUGS = Bugs()


@attrs.define
class RaftState:
    """One server's Raft state (plain data).

    ``peers`` is every server of the cluster, this one included, in one order all share.
    ``term``, ``voted_for`` and ``log`` are persistent (written before any message that
    depends on them leaves); the rest is lost in a crash. Indexes count from 1: entry ``i``
    is ``log[i - 1]``. ``commit`` is the highest index known committed, ``applied`` the
    highest handed to the host; ``committed_in`` the term in which ``commit`` last rose
    (the checks use it). The election timeout is ``election_ms`` plus ``jitter``, a random
    value the executor draws anew for every term this server enters.
    """

    pid: Pid
    peers: tuple[Pid, ...]
    bugs: Bugs = NO_BUGS
    tick_ms: int = TICK_MS
    election_ms: int = ELECTION_MS
    batch: int = BATCH
    term: int = 0
    voted_for: Pid | None = None
    log: list[Entry] = attrs.Factory(list)
    role: str = FOLLOWER
    leader: Pid | None = None
    commit: int = 0
    committed_in: int = 0
    applied: int = 0
    votes: list[Pid] = attrs.Factory(list)
    next_index: dict[Pid, int] = attrs.Factory(dict)
    match_index: dict[Pid, int] = attrs.Factory(dict)
    jitter: int = 0

    @property
    def others(self) -> tuple[Pid, ...]:
        """Every peer but this server."""
        return tuple(p for p in self.peers if p != self.pid)

    @property
    def majority(self) -> int:
        return len(self.peers) // 2 + 1

    @property
    def last_index(self) -> int:
        return len(self.log)

    @property
    def last_term(self) -> int:
        return self.log[-1].term if self.log else 0

    @property
    def is_leader(self) -> bool:
        return self.role == LEADER

    @property
    def tick(self) -> CorrelationId:
        """The cid of this server's tick timer."""
        return CorrelationId(self.pid, None, TICK_HANDLE)

    @property
    def election(self) -> CorrelationId:
        """The cid of this server's election timer."""
        return CorrelationId(self.pid, None, ELECTION_HANDLE)

    @property
    def draw(self) -> CorrelationId:
        """The cid of this server's requests for a random jitter."""
        return CorrelationId(self.pid, None, DRAW_HANDLE)

    def term_at(self, index: int) -> int:
        """The term of entry ``index`` (0 for index 0, before the log)."""
        return self.log[index - 1].term if index > 0 else 0

    def persistent(self) -> Persistent:
        return Persistent(self.term, self.voted_for, tuple(self.log))

    def save(self, output: list[Envelope]) -> None:
        """Write the persistent state; before any message that depends on it (the executor
        serves a process's requests in its output's order)."""
        output.append(persist(self.pid, self.persistent()))
