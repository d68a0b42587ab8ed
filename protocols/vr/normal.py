"""Normal operation (VR Revisited, section 4.1): requests, prepares, commits, heartbeats.

The primary orders requests in its log and sends each to the backups in a ``Prepare``;
a backup appends prepares strictly in order and answers ``PrepareOk``; once ``f``
backups have an op, the primary executes it (and every earlier op), answers the client
and tells the backups through the commit number of its next message. The client table
makes execution at most once: a retry of an executed request gets the cached reply, a
retry of one in progress gets nothing (its reply comes when it commits).
"""

from __future__ import annotations

from rabble_sim import CorrelationId, Envelope, Pid

from . import kv, recovery
from .messages import Commit, GetState, LogEntry, Prepare, PrepareOk, Reply, Request
from .state import NORMAL, ReplicaState


def on_request(r: ReplicaState, msg: Request, output: list[Envelope]) -> None:
    """A client's request: only the primary of a normal view takes it; backups drop it
    (the client retries to every replica and learns the view from the reply)."""
    client = msg.client
    cid = CorrelationId(client, msg.request)
    if r.bugs.local_reads and r.status == NORMAL and msg.call[0] in kv.READS:
        _, result = kv.apply_call(r.store.get(msg.call[1]), msg.call)
        output.append(Envelope(client, r.pid, Reply(r.view, msg.request, result), cid))
        return
    if r.status != NORMAL or not r.is_primary:
        return
    if not r.bugs.no_dedup:
        cached = r.table.get(str(client))
        if cached is not None and msg.request <= cached.request:
            if msg.request == cached.request:  # a retry of the last executed request
                reply = Reply(r.view, msg.request, cached.result)
                output.append(Envelope(client, r.pid, reply, cid))
            return
        if r.in_progress(client, msg.request):
            return
    entry = LogEntry(client, msg.request, msg.call)
    r.log.append(entry)
    r.op += 1
    for backup in r.others:
        r.send(output, backup, Prepare(r.view, entry, r.op, r.commit))
    try_commit(r, output)


def on_prepare(r: ReplicaState, msg: Prepare, sender: Pid, output: list[Envelope]) -> None:
    """A backup appends the op if it is the next one; it re-acknowledges one it has, and
    asks for the ops it misses (state transfer) when the op leaves a gap."""
    if not _heard_from_primary(r, msg.view, sender, output):
        return
    if msg.op <= r.op:
        r.send(output, sender, PrepareOk(r.view, r.op))
    elif msg.op == r.op + 1:
        r.log.append(msg.entry)
        r.op += 1
        r.send(output, sender, PrepareOk(r.view, r.op))
    else:
        r.send(output, sender, GetState(r.view, r.op))
    r.execute_up_to(msg.commit, output, reply=False)


def on_prepare_ok(r: ReplicaState, msg: PrepareOk, backup: Pid, output: list[Envelope]) -> None:
    """The primary records that ``backup`` has every op up to ``msg.op``, and commits
    what a quorum now has."""
    if r.status != NORMAL or not r.is_primary or msg.view != r.view:
        return
    key = str(backup)
    if msg.op > r.acked.get(key, 0):
        r.acked[key] = msg.op
    try_commit(r, output)


def try_commit(r: ReplicaState, output: list[Envelope]) -> None:
    """Commit, in order, every op that ``f`` backups have acknowledged (the primary
    itself makes ``f + 1``: a quorum)."""
    needed = r.f - 1 if r.bugs.commit_without_quorum else r.f
    while r.commit < r.op:
        n = r.commit + 1
        acks = sum(1 for pid in r.others if r.acked.get(str(pid), 0) >= n)
        if acks < needed:
            return
        r.execute_up_to(n, output, reply=True)


def on_commit(r: ReplicaState, msg: Commit, sender: Pid, output: list[Envelope]) -> None:
    """A backup executes what the primary has committed, asking for any op it lacks."""
    if not _heard_from_primary(r, msg.view, sender, output):
        return
    if msg.commit > r.op:
        r.send(output, sender, GetState(r.view, r.op))
    r.execute_up_to(msg.commit, output, reply=False)


def heartbeat(r: ReplicaState, output: list[Envelope]) -> None:
    """The primary's tick: each backup gets the next op it has not acknowledged (so lost
    prepares and acknowledgements are made good), or a ``Commit`` if it has them all."""
    for backup in r.others:
        acked = max(r.acked.get(str(backup), 0), r.commit)
        if acked < r.op:
            r.send(output, backup, Prepare(r.view, r.log[acked], acked + 1, r.commit))
        else:
            r.send(output, backup, Commit(r.view, r.commit))


def _heard_from_primary(r: ReplicaState, view: int, sender: Pid, output: list[Envelope]) -> bool:
    """Whether a backup handles the message of ``sender`` for ``view``: only one from
    the primary of its own view, while normal. One from the primary of a view it has
    not joined normally starts a state transfer instead; any other is ignored."""
    if view < r.view or sender != r.primary_of(view):
        return False
    if view > r.view or r.status != NORMAL:
        recovery.catch_up(r, view, output)
        return False
    r.silent = 0
    return True
