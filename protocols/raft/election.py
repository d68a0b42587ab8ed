"""Raft's elections: terms, votes and the randomized election timeout (section 5.2), with
the election restriction (section 5.4.1).

A follower keeps an election timer, restarted whenever it hears from its term's leader
or grants a vote; when it fires, the follower stands in the next term. The timeout is
``election_ms`` plus a jitter below ``election_ms``, drawn by the executor
(``GetRandom``) for every term a server enters: in the simulator a choice of the run (the
liveness phase draws it fairly), on a real node the OS's. A candidate that gathers a
majority becomes leader and appends a no-op of its term (so that entries of earlier
terms commit as soon as it is replicated); one that does not stands again when its
timer fires. Leaders and candidates also tick every ``tick_ms``: a leader sends its
heartbeats, a candidate asks again the servers that have not granted their votes (a
request or an answer may have been lost).
"""

from __future__ import annotations

from collections.abc import Sequence

from rabble_sim import Envelope, Pid, cancel_timer, get_random, start_timer

from . import replication
from .messages import Entry, RequestVote, Vote
from .state import CANDIDATE, FOLLOWER, LEADER, RaftState


def on_tick(s: RaftState, output: list[Envelope]) -> None:
    """A leader sends its heartbeats, a candidate its missing requests; a follower has no
    tick."""
    if s.role == LEADER:
        replication.broadcast(s, output)
    elif s.role == CANDIDATE:
        _ask(s, [peer for peer in s.others if peer not in s.votes], output)
    else:
        return
    output.append(start_timer(s.pid, s.tick_ms, s.tick))


def on_election_timeout(s: RaftState, output: list[Envelope]) -> None:
    if s.role != LEADER:
        start_election(s, output)


def start_election(s: RaftState, output: list[Envelope]) -> None:
    """Stand in the next term: vote for itself (on disk first) and ask everyone else."""
    s.term += 1
    s.role = CANDIDATE
    s.leader = None
    s.voted_for = s.pid
    s.votes = [s.pid]
    new_term(s, output)
    s.save(output)
    if len(s.votes) >= s.majority:  # a cluster of one
        become_leader(s, output)
        return
    _ask(s, s.others, output)
    output.append(start_timer(s.pid, s.tick_ms, s.tick))


def _ask(s: RaftState, peers: Sequence[Pid], output: list[Envelope]) -> None:
    ask = RequestVote(s.term, s.last_index, s.last_term)
    output.extend(Envelope(peer, s.pid, ask) for peer in peers)


def step_down(s: RaftState, term: int, output: list[Envelope]) -> None:
    """A higher term is heard of: follow in it, with no vote yet (the caller saves)."""
    s.term = term
    s.voted_for = None
    follow(s, output)
    new_term(s, output)


def follow(s: RaftState, output: list[Envelope]) -> None:
    """Become a follower in the current term, its vote kept (a candidate that hears from
    the term's leader), with no leader known yet."""
    if s.role != FOLLOWER:
        output.append(cancel_timer(s.pid, s.tick))
    s.role = FOLLOWER
    s.leader = None
    s.votes = []


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
        restart_election_timer(s, output)  # so that elections settle
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
    output.append(cancel_timer(s.pid, s.election))
    s.next_index = {peer: s.last_index for peer in s.others}  # from the no-op on
    s.match_index = {peer: 0 for peer in s.others}
    replication.broadcast(s, output)
    replication.advance_commit(s)  # a cluster of one commits at once
    output.append(start_timer(s.pid, s.tick_ms, s.tick))


def new_term(s: RaftState, output: list[Envelope]) -> None:
    """Restart the election timer, and ask the executor for this term's jitter (the timer
    restarts with it when it comes)."""
    restart_election_timer(s, output)
    output.append(get_random(s.pid, s.election_ms, s.draw))


def restart_election_timer(s: RaftState, output: list[Envelope]) -> None:
    output.append(start_timer(s.pid, s.election_ms + s.jitter, s.election))
