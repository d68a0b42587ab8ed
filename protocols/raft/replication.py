"""Raft's log replication (section 5.3) and its commit rule (section 5.4.2).

The leader sends each follower the entries from its ``next_index`` on (at most ``batch``
at a time), after the entry before them, which the follower must hold for it to accept
(the log-matching check). On success the leader records the follower's match and sends
the rest at once; on a failure it steps back to where the follower's log ends. An entry
is committed when it is stored on a majority and is of the leader's own term; the
entries before it follow.
"""

from __future__ import annotations

from rabble_sim import Envelope, Pid

from . import election
from .messages import Appended, AppendEntries, Command, Entry
from .state import FOLLOWER, LEADER, RaftState


def submit(s: RaftState, command: Command, output: list[Envelope]) -> int | None:
    """Append ``command`` if this server leads (its index), or say None."""
    if s.role != LEADER:
        return None
    s.log.append(Entry(s.term, s.pid, command))
    s.save(output)
    broadcast(s, output)
    advance_commit(s)
    return s.last_index


def broadcast(s: RaftState, output: list[Envelope]) -> None:
    """Send every follower what it lacks (a heartbeat to one that lacks nothing)."""
    for peer in s.others:
        send_to(s, peer, output)


def send_to(s: RaftState, peer: Pid, output: list[Envelope]) -> None:
    prev = s.next_index[peer] - 1
    entries = tuple(s.log[prev : prev + s.batch])
    append = AppendEntries(s.term, prev, s.term_at(prev), entries, s.commit)
    output.append(Envelope(peer, s.pid, append))


def on_append_entries(s: RaftState, msg: AppendEntries, from_: Pid, output: list[Envelope]) -> None:
    if msg.term < s.term:
        output.append(Envelope(from_, s.pid, Appended(s.term, False, s.last_index)))
        return
    if msg.term > s.term:
        election.step_down(s, msg.term, output)
        s.save(output)
    elif s.role != FOLLOWER:  # a candidate hears of this term's leader
        election.follow(s, output)
    s.leader = from_
    election.restart_election_timer(s, output)
    if not s.bugs.skip_prev_check and (
        msg.prev_index > s.last_index or s.term_at(msg.prev_index) != msg.prev_term
    ):
        output.append(Envelope(from_, s.pid, Appended(s.term, False, s.last_index)))
        return
    start = min(msg.prev_index, s.last_index)  # prev_index itself, but for the bug
    if _merge(s, start, msg.entries):
        s.save(output)
    last_new = start + len(msg.entries)
    if msg.commit > s.commit:
        s.commit = max(s.commit, min(msg.commit, last_new))
        s.committed_in = s.term
    output.append(Envelope(from_, s.pid, Appended(s.term, True, last_new)))


def _merge(s: RaftState, start: int, entries: tuple[Entry, ...]) -> bool:
    """Put ``entries`` after index ``start``: an entry that conflicts with one already
    there (same index, another term) cuts the log from there; matching ones stay, and so
    do entries after the last sent (a late message must not remove what a later one
    added). Whether the log changed."""
    if s.bugs.truncate_on_append:
        before = s.log
        s.log = [*s.log[:start], *entries]
        return s.log != before
    changed = False
    for i, entry in enumerate(entries, start + 1):
        if i <= s.last_index:
            if s.log[i - 1].term == entry.term:
                continue
            del s.log[i - 1 :]
        s.log.append(entry)
        changed = True
    return changed


def on_appended(s: RaftState, msg: Appended, from_: Pid, output: list[Envelope]) -> None:
    if msg.term > s.term:
        election.step_down(s, msg.term, output)
        s.save(output)
        return
    if s.role != LEADER or msg.term != s.term:
        return
    if msg.success:
        progress = msg.match + 1 > s.next_index[from_]
        s.match_index[from_] = max(s.match_index[from_], msg.match)
        s.next_index[from_] = max(s.next_index[from_], msg.match + 1)
        advance_commit(s)
        if progress and s.next_index[from_] <= s.last_index:
            # The rest, without waiting for the tick; only on progress, so that the
            # answers to heartbeats and duplicates do not each start another stream.
            send_to(s, from_, output)
        return
    # The follower's log is shorter, or differs at next_index - 1: step back and retry.
    s.next_index[from_] = max(1, min(s.next_index[from_] - 1, msg.match + 1))
    send_to(s, from_, output)


def advance_commit(s: RaftState) -> None:
    """Commit the highest entry of this term stored on a majority (with the bug: of any
    term); every entry before it is committed with it."""
    for n in range(s.last_index, s.commit, -1):
        if s.log[n - 1].term != s.term and not s.bugs.commit_by_counting:
            break  # earlier entries are of earlier terms too
        stored = 1 + sum(1 for peer in s.others if s.match_index[peer] >= n)
        if stored >= s.majority:
            s.commit = n
            s.committed_in = s.term
            return
