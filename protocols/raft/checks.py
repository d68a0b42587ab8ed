"""What Raft must guarantee (section 5.4's properties, figure 3), checked at every step, and
its liveness condition.

The invariants read every server's log: a live server's from its process, a down one's
from its disk (``View.durable``), so that what a crashed server wrote still counts.
Postconditions check the rules of single steps that no state shows afterwards: a term
never goes back, committed entries are never removed, a leader commits by counting
replicas only an entry of its own term.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rabble_sim import Pid, View

from .client import Client
from .kv import is_update, outcome
from .messages import Appended, AppendEntries, Entry, Forward, Persistent, RequestVote, Vote
from .server import Server


def servers(view: View) -> list[Server]:
    """The live servers, in the order the view lists them."""
    return [proc for proc in view.processes.values() if isinstance(proc, Server)]


def logs(view: View) -> dict[Pid, Sequence[Entry]]:
    """Every server's log: a live one's as it is, a down one's as its disk holds it."""
    found: dict[Pid, Sequence[Entry]] = {}
    for pid, saved in view.durable.items():
        if isinstance(saved, Persistent):
            found[pid] = saved.log
    for server in servers(view):
        found[server.pid] = server.raft.log
    return found


# -- invariants ----------------------------------------------------------------------------


def election_safety(view: View) -> None:
    """At most one leader per term: among the live servers, and among the leaders that
    appended the entries of any log (a leader of a term that crashed still left them)."""
    leaders: dict[int, Pid] = {}
    for server in servers(view):
        if server.raft.is_leader:
            first = leaders.setdefault(server.raft.term, server.pid)
            assert first == server.pid, (
                f"{first} and {server.pid} both lead term {server.raft.term}"
            )
    for pid, log in logs(view).items():
        for index, entry in enumerate(log, 1):
            first = leaders.setdefault(entry.term, entry.by)
            assert first == entry.by, (
                f"{first} and {entry.by} both led term {entry.term} "
                f"(entry {index} of {pid}'s log was appended by {entry.by})"
            )


def log_matching(view: View) -> None:
    """Two logs with an entry of the same index and term are identical up to it."""
    every = sorted(logs(view).items())
    for i, (a, log_a) in enumerate(every):
        for b, log_b in every[i + 1 :]:
            for n in range(min(len(log_a), len(log_b)), 0, -1):
                if log_a[n - 1].term == log_b[n - 1].term:
                    first = _first_difference(log_a, log_b, n)
                    assert first is None, (
                        f"{a} and {b} both hold an entry of term {log_a[n - 1].term} at "
                        f"index {n}, but differ at index {first}: "
                        f"{_show(log_a, first)} against {_show(log_b, first)}"
                    )
                    break


def state_machine_safety(view: View) -> None:
    """Live servers agree on every entry both have committed (so apply the same ones)."""
    every = servers(view)
    for i, a in enumerate(every):
        for b in every[i + 1 :]:
            n = min(a.raft.commit, b.raft.commit)
            first = _first_difference(a.raft.log, b.raft.log, n)
            assert first is None, (
                f"{a.pid} and {b.pid} both committed index {first}, but differ there: "
                f"{_show(a.raft.log, first)} against {_show(b.raft.log, first)}"
            )


def leader_completeness(view: View) -> None:
    """A leader holds every entry committed in an earlier term: each live server's
    committed entries, if it learned of their commit in a term before the leader's."""
    every = servers(view)
    for leader in every:
        if not leader.raft.is_leader:
            continue
        for other in every:
            if other is leader or other.raft.committed_in >= leader.raft.term:
                continue
            first = _first_difference(leader.raft.log, other.raft.log, other.raft.commit)
            assert first is None, (
                f"{leader.pid}, leader of term {leader.raft.term}, lacks entry {first} that "
                f"{other.pid} knew committed in term {other.raft.committed_in}: it holds "
                f"{_show(leader.raft.log, first)}, not {_show(other.raft.log, first)}"
            )


def acknowledged_writes_survive(view: View) -> None:
    """Every write and cas a client was answered for is on a majority of servers' logs."""
    every = logs(view)
    if not every:
        return
    held = {pid: _requests(log) for pid, log in every.items()}
    peers = next((server.raft.peers for server in servers(view)), tuple(every))
    majority = len(peers) // 2 + 1
    for client in _clients(view):
        for answer in client.answers:
            if not is_update(answer.op) or outcome(answer.op, answer.reply) is not True:
                continue
            key = (client.pid, answer.request)
            on = [str(pid) for pid, requests in held.items() if key in requests]
            assert len(on) >= majority, (
                f"{client.pid}'s request {answer.request} {answer.op!r} was acknowledged, "
                f"but only {on or 'no server'} hold it"
            )


INVARIANTS = (
    election_safety,
    log_matching,
    state_machine_safety,
    leader_completeness,
    acknowledged_writes_survive,
)


# -- postconditions ------------------------------------------------------------------------


def terms_never_go_back(before: Any, after: Any, msg: object, outputs: Sequence[Any]) -> None:
    """A server's term never decreases, and it never changes its vote within a term."""
    if not isinstance(before, Server):
        return
    was, now = before.raft, after.raft
    assert now.term >= was.term, f"{after.pid}'s term went back from {was.term} to {now.term}"
    if now.term == was.term and was.voted_for is not None:
        assert now.voted_for == was.voted_for, (
            f"{after.pid} voted for {was.voted_for}, then for {now.voted_for}, in term {now.term}"
        )


def committed_entries_stay(before: Any, after: Any, msg: object, outputs: Sequence[Any]) -> None:
    """No entry a server knows committed is ever removed or replaced in its log."""
    if not isinstance(before, Server):
        return
    first = _first_difference(before.raft.log, after.raft.log, before.raft.commit)
    assert first is None, (
        f"{after.pid} replaced entry {first}, which it knew committed: "
        f"{_show(before.raft.log, first)} became {_show(after.raft.log, first)}"
    )


def commits_by_counting_only_its_term(
    before: Any, after: Any, msg: object, outputs: Sequence[Any]
) -> None:
    """A leader that commits by counting replicas commits an entry of its own term (the
    entries before it follow); never one of an earlier term (figure 8)."""
    if not (isinstance(before, Server) and before.raft.is_leader and after.raft.is_leader):
        return
    raft = after.raft
    if raft.commit > before.raft.commit and raft.term == before.raft.term:
        term = raft.log[raft.commit - 1].term
        assert term == raft.term, (
            f"{after.pid}, leader of term {raft.term}, committed index {raft.commit} by "
            f"counting replicas, but its entry is of term {term}"
        )


_EVERY_STEP = [terms_never_go_back, committed_entries_stay]
POSTCONDITIONS: dict[type, list[Callable[..., None]]] = {
    RequestVote: _EVERY_STEP,
    Vote: _EVERY_STEP,
    AppendEntries: _EVERY_STEP,
    Appended: [*_EVERY_STEP, commits_by_counting_only_its_term],
    Forward: [commits_by_counting_only_its_term],
}


# -- liveness ------------------------------------------------------------------------------


def every_request_completes(view: View) -> None:
    """Liveness: every client has the answers to all its requests."""
    for client in _clients(view):
        assert client.done, (
            f"{client.pid} has {len(client.answers)} of {client.calls} answers "
            f"(request {client.pending} unanswered after {client.retries} retries in all)"
        )


# -- shared ------------------------------------------------------------------------------


def _clients(view: View) -> list[Client]:
    return [proc for proc in view.processes.values() if isinstance(proc, Client)]


def _requests(log: Sequence[Entry]) -> set[tuple[Pid, int]]:
    return {(e.command.client, e.command.request) for e in log if e.command is not None}


def _first_difference(a: Sequence[Entry], b: Sequence[Entry], upto: int) -> int | None:
    """The first index up to ``upto`` where ``a`` and ``b`` differ (or one ends), if any."""
    if len(a) >= upto and len(b) >= upto and a[:upto] == b[:upto]:
        return None  # the common case, compared in C
    for n in range(1, upto + 1):
        if n > len(a) or n > len(b) or a[n - 1] != b[n - 1]:
            return n
    return None


def _show(log: Sequence[Entry], index: int | None) -> str:
    if index is None or index > len(log):
        return "nothing"
    entry = log[index - 1]
    what = "a no-op" if entry.command is None else repr(entry.command.op)
    return f"{what} of term {entry.term} by {entry.by}"
