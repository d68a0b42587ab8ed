"""What VR must guarantee, checked at every step: invariants over every live process,
conditions on the primary's handlers, and the liveness condition.

Every check reads the processes through the ``View`` and groups replicas by their pid's
group, so the same checks serve one group or several on the same nodes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rabble_sim import CorrelationId, Envelope, Pid, View

from . import kv
from .client import Client
from .messages import LogEntry, Prepare, PrepareOk, Reply, Request
from .state import NORMAL, RECOVERING, Cached, ReplicaState


def groups(view: View) -> dict[str, list[ReplicaState]]:
    """The live replicas of each group, in the order the view lists them."""
    found: dict[str, list[ReplicaState]] = {}
    for pid, proc in view.processes.items():
        if isinstance(proc, ReplicaState):
            found.setdefault(pid.group or "", []).append(proc)
    return found


def clients(view: View) -> list[Client]:
    """The live clients, in the order the view lists them."""
    return [proc for proc in view.processes.values() if isinstance(proc, Client)]


# -- invariants ----------------------------------------------------------------------------


def one_primary_per_view(view: View) -> None:
    """At most one replica of a group is a normal primary of any one view."""
    seen: dict[tuple[str | None, int], Pid] = {}
    for pid, proc in view.processes.items():
        if isinstance(proc, ReplicaState) and proc.status == NORMAL and proc.is_primary:
            first = seen.setdefault((pid.group, proc.view), pid)
            assert first == pid, f"{first} and {pid} are both primary of view {proc.view}"


def fewer_than_a_quorum_recovering(view: View) -> None:
    """Fewer than a quorum of each group's replicas are in recovery.

    This is VR's fault model rather than something a replica can ensure: VR tolerates
    ``f`` failed replicas, one in recovery counting as failed until its recovery ends.
    rabble-sim's ``Faults(crash=f)`` bounds only the nodes that are down, so a crash while
    another replica recovers can put a quorum in recovery: then no recovery can finish
    (each needs ``f + 1`` normal replicas to answer), and the group stops for good,
    safely. The scenarios therefore do not check this at every step; the liveness
    condition excuses such a group (``beyond_fault_model``), and requires every other
    group to finish its recoveries.
    """
    for group, replicas in groups(view).items():
        recovering = [str(r.pid) for r in replicas if r.status == RECOVERING]
        assert len(recovering) < replicas[0].quorum, (
            f"{recovering} of group {group} are all in recovery"
        )


def beyond_fault_model(replicas: Sequence[ReplicaState]) -> bool:
    """Whether a quorum of these replicas (one whole group) is in recovery."""
    recovering = sum(1 for r in replicas if r.status == RECOVERING)
    return bool(replicas) and recovering >= replicas[0].quorum


def commit_within_log(view: View) -> None:
    """Every replica's commit number is at most its op number, the length of its log."""
    for replicas in groups(view).values():
        for r in replicas:
            assert r.op == len(r.log), f"{r.pid} has op number {r.op} but {len(r.log)} ops"
            assert r.commit <= r.op, f"{r.pid} has commit number {r.commit} > op number {r.op}"


def committed_prefixes_agree(view: View) -> None:
    """The committed ops of any two replicas of a group agree, as far as both go."""
    for replicas in groups(view).values():
        known = [r for r in replicas if r.status != RECOVERING]
        if not known:
            continue
        most = max(known, key=lambda r: r.commit)
        for r in known:
            if r.log[: r.commit] != most.log[: r.commit]:
                at = next(
                    i for i, (a, b) in enumerate(zip(r.log, most.log, strict=False)) if a != b
                )
                raise AssertionError(
                    f"{r.pid} and {most.pid} committed different ops at {at + 1}: "
                    f"{_entry(r.log[at])} and {_entry(most.log[at])}"
                )


def acknowledged_writes_survive(view: View) -> None:
    """An update a client was answered for in view ``v`` is in the log of every normal
    primary of view ``v`` or later: a view change never loses a committed op.

    Reads are left out: one that was answered changed nothing, whether or not it is in
    the log (whether it read the right value is the history check's business).
    """
    by_group = groups(view)
    for client in clients(view):
        group = client.pid.group or ""
        primaries = [r for r in by_group.get(group, []) if r.status == NORMAL and r.is_primary]
        for answer in client.answers:
            call = client.call_of(answer.request)
            if call[0] in kv.READS:
                continue
            for r in primaries:
                if r.view < answer.view:
                    continue
                assert any(e.client == client.pid and e.request == answer.request for e in r.log), (
                    f"{client.pid} was answered {answer.result!r} for request {answer.request} "
                    f"{call!r} in view {answer.view}, but {r.pid}, primary of view {r.view}, "
                    "does not have it"
                )


def replies_match_the_model(view: View) -> None:
    """Each replica's store and client table are what replaying its committed ops on the
    kv model gives, and each client's answer is the model's result for its op."""
    for group, replicas in groups(view).items():
        known = [r for r in replicas if r.status != RECOVERING]
        for r in known:
            committed = tuple(e.call for e in r.log[: r.commit])
            state, results = _replay(committed)
            assert kv.freeze(r.store) == state, (
                f"{r.pid}'s store {dict(r.store)} is not the model's {dict(state)} "
                f"after its {r.commit} committed ops"
            )
            expected = {
                str(e.client): Cached(e.request, results[i])
                for i, e in enumerate(r.log[: r.commit])
            }
            assert r.table == expected, f"{r.pid}'s client table {r.table} is not {expected}"
        if known:
            _answers_match(group, max(known, key=lambda r: r.commit), clients(view))


def _answers_match(group: str, most: ReplicaState, everyone: Iterable[Client]) -> None:
    committed = most.log[: most.commit]
    _, results = _replay(tuple(e.call for e in committed))
    first: dict[tuple[Pid, int], int] = {}
    for i, e in enumerate(committed):
        first.setdefault((e.client, e.request), i)
    for client in everyone:
        if (client.pid.group or "") != group:
            continue
        for answer in client.answers:
            at = first.get((client.pid, answer.request))
            if at is not None:
                assert results[at] == answer.result, (
                    f"{client.pid} got {answer.result!r} for request {answer.request} "
                    f"{committed[at].call!r}, but it is op {at + 1} of {most.pid}'s log, "
                    f"where the model answers {results[at]!r}"
                )


@functools.lru_cache(maxsize=4096)
def _replay(calls: tuple[kv.Call, ...]) -> tuple[kv.KvState, list[kv.Result]]:
    return kv.replay(calls)


INVARIANTS = (
    one_primary_per_view,
    commit_within_log,
    committed_prefixes_agree,
    acknowledged_writes_survive,
    replies_match_the_model,
)


# -- conditions on the primary's handlers -------------------------------------------------


def requests_name_their_client(
    proc: Any, msg: Request, from_: Pid, cid: CorrelationId | None
) -> None:
    """Precondition on ``Request``: a request comes from the client it names, of the
    replica's own group."""
    if isinstance(proc, ReplicaState):
        assert msg.client == from_, f"{from_} sent a request in the name of {msg.client}"
        assert from_.group == proc.pid.group, f"{from_} sent a request to {proc.pid}"


def acks_within_the_log(proc: Any, msg: PrepareOk, from_: Pid, cid: CorrelationId | None) -> None:
    """Precondition on ``PrepareOk``: a backup never acknowledges an op of the primary's
    view that the primary does not have."""
    if isinstance(proc, ReplicaState) and _is_normal_primary(proc) and msg.view == proc.view:
        assert msg.op <= proc.op, f"{from_} acknowledged op {msg.op} of {proc.pid}'s {proc.op}"


def requests_execute_at_most_once(
    before: Any, after: Any, msg: Request, outputs: Sequence[Envelope]
) -> None:
    """Postcondition on ``Request`` at a primary: a retry of the last executed request is
    answered from the client table, an older one or one in progress is ignored, and a new
    one becomes one new op, prepared at every backup."""
    if not (isinstance(before, ReplicaState) and _is_normal_primary(before)):
        return
    client, n = msg.client, msg.request
    cached = before.table.get(str(client))
    appended = after.log[before.op :]
    prepares = [env for env in outputs if isinstance(env.msg, Prepare)]
    if cached is not None and n <= cached.request:
        assert not appended, f"{after.pid} executes {client}'s request {n} again: {appended}"
        if n == cached.request:
            replies = [env.msg for env in outputs if isinstance(env.msg, Reply)]
            assert replies == [Reply(before.view, n, cached.result)], (
                f"{after.pid} answered the retry of {client}'s request {n} with {replies}, "
                f"not with its cached {cached.result!r}"
            )
    elif before.in_progress(client, n):
        assert not appended, f"{after.pid} appends {client}'s request {n}, in progress, again"
    elif appended:
        assert appended == [LogEntry(client, n, msg.call)], f"{after.pid} appended {appended}"
        assert sorted(env.to for env in prepares) == sorted(after.others), (
            f"{after.pid} prepared op {after.op} at {[str(env.to) for env in prepares]}"
        )


def commits_have_a_quorum(
    before: Any, after: Any, msg: object, outputs: Sequence[Envelope]
) -> None:
    """Postcondition on ``Request`` and ``PrepareOk`` at a primary: every op it commits
    has been acknowledged by ``f`` backups, which with the primary make a quorum."""
    if not (isinstance(before, ReplicaState) and _is_normal_primary(before)):
        return
    if not _is_normal_primary(after) or after.view != before.view:
        return
    for n in range(before.commit + 1, after.commit + 1):
        acks = [str(pid) for pid in after.others if after.acked.get(str(pid), 0) >= n]
        assert len(acks) >= after.f, (
            f"{after.pid} committed op {n} with acknowledgements from {acks} only "
            f"(it needs {after.f})"
        )


def _is_normal_primary(r: ReplicaState) -> bool:
    return r.status == NORMAL and r.is_primary


PRECONDITIONS: dict[type, list[Callable[..., None]]] = {
    Request: [requests_name_their_client],
    PrepareOk: [acks_within_the_log],
}
POSTCONDITIONS: dict[type, list[Callable[..., None]]] = {
    Request: [requests_execute_at_most_once, commits_have_a_quorum],
    PrepareOk: [commits_have_a_quorum],
}


# -- liveness ------------------------------------------------------------------------------


def every_request_completes(pids: Sequence[Pid]) -> Callable[[View], None]:
    """Liveness: every recovery has finished and every client has all its answers: it
    is done, with no call pending (a call given as an input counts from when it is
    given; the liveness phase gives none).

    A group with a quorum in recovery is beyond VR's fault model and is excused (see
    ``fewer_than_a_quorum_recovering``): its clients may wait for ever.
    """

    def every_request_completes(view: View) -> None:
        stuck = set()
        for group, replicas in groups(view).items():
            if beyond_fault_model(replicas):
                stuck.add(group)
                continue
            recovering = [str(r.pid) for r in replicas if r.status == RECOVERING]
            assert not recovering, f"{recovering} still in recovery"
        for pid in pids:
            proc = view.processes.get(pid)
            assert proc is not None, f"{pid} is down"
            if (pid.group or "") not in stuck:
                assert proc.done, (
                    f"{pid} has {len(proc.answers)} of {proc.total} answers "
                    f"(request {proc.pending} unanswered after {proc.waiting} retries)"
                )

    return every_request_completes


def _entry(e: LogEntry) -> str:
    return f"{e.client} #{e.request} {e.call!r}"
