"""Raft's elections: terms, votes and the randomized election timeout (section 5.2), with
the election restriction (section 5.4.1).

A server ticks every ``tick_ms``. A follower or candidate that hears from no leader for
``timeout`` ticks starts an election in the next term; a candidate that gathers a
majority becomes leader, appends a no-op of its term (so that entries of earlier terms
commit as soon as it is replicated) and starts replicating. The timeout is the least
``election_ticks`` plus a jitter drawn by the executor (``GetRandom``) for every term a
server enters: in the simulator a recorded choice of the run, on a real node the OS's.
"""

from __future__ import annotations

from rabble_sim import Envelope, Pid, get_random

from . import replication
from .messages import Entry, RequestVote, Vote
from .state import CANDIDATE, FOLLOWER, LEADER, RaftState


def on_tick(s: RaftState, output: list[Envelope]) -> None:
    """A leader sends its heartbeats; anyone else counts, and starts an election when the
    leader has been silent too long."""
    if s.role == LEADER:
        replication.broadcast(s, output)
        return
    s.elapsed += 1
    if s.elapsed >= s.timeout:
        start_election(s, output)


def start_election(s: RaftState, output: list[Envelope]) -> None:
    """Stand in the next term: vote for itself (on disk first) and ask everyone else."""
    s.term += 1
    s.role = CANDIDATE
    s.leader = None
    s.voted_for = s.pid
    s.votes = [s.pid]
    new_timeout(s, output)
    s.save(output)
    if len(s.votes) >= s.majority:  # a cluster of one
        become_leader(s, output)
        return
    ask = RequestVote(s.term, s.last_index, s.last_term)
    output.extend(Envelope(peer, s.pid, ask) for peer in s.others)


def step_down(s: RaftState, term: int, output: list[Envelope]) -> None:
    """A higher term is heard of: follow in it, with no vote yet (the caller saves)."""
    s.term = term
    s.role = FOLLOWER
    s.leader = None
    s.voted_for = None
    s.votes = []
    new_timeout(s, output)


def on_request_vote(s: RaftState, msg: RequestVote, from_: Pid, output: list[Envelope]) -> None:
    """Vote for ``from_`` if its term is current, this server has not voted for another in
    it, and its log is at least as up to date as this one's."""
    changed = msg.term > s.term
    if changed:
        step_down(s, msg.term, output)
    granted = (
        msg.term == s.term
        and s.voted_for in (None, from_)
        and (s.bugs.no_log_check or _up_to_date(s, msg))
    )
    if granted:
        changed = changed or s.voted_for != from_
        s.voted_for = from_
        s.elapsed = 0  # a vote granted restarts the timeout, so elections settle
    if changed and not (granted and s.bugs.vote_not_persisted):
        s.save(output)
    output.append(Envelope(from_, s.pid, Vote(s.term, granted)))


def _up_to_date(s: RaftState, msg: RequestVote) -> bool:
    if msg.last_term != s.last_term:
        return msg.last_term > s.last_term
    return msg.last_index >= s.last_index


def on_vote(s: RaftState, msg: Vote, from_: Pid, output: list[Envelope]) -> None:
    if msg.term > s.term:
        step_down(s, msg.term, output)
        s.save(output)
        return
    if s.role != CANDIDATE or msg.term != s.term or not msg.granted or from_ in s.votes:
        return
    s.votes.append(from_)
    if len(s.votes) >= s.majority:
        become_leader(s, output)


def become_leader(s: RaftState, output: list[Envelope]) -> None:
    """Lead this term: a no-op of the term at the log's end, then replicate."""
    s.role = LEADER
    s.leader = s.pid
    s.votes = []
    s.log.append(Entry(s.term, s.pid))
    s.save(output)
    s.next_index = {peer: s.last_index for peer in s.others}  # from the no-op on
    s.match_index = {peer: 0 for peer in s.others}
    replication.broadcast(s, output)
    replication.advance_commit(s)  # a cluster of one commits at once


def new_timeout(s: RaftState, output: list[Envelope]) -> None:
    """Restart the count, and ask the executor for the next term's jitter."""
    s.elapsed = 0
    output.append(get_random(s.pid, s.election_ticks, s.draw))
