"""Recovery and state transfer (VR Revisited, sections 4.3 and 5.2).

VR keeps no state on disk. A restarted replica has forgotten what it acknowledged, so it
must not take part until it knows at least as much as before its crash: it asks every
other replica (``Recovery`` with a fresh nonce) and waits for ``f + 1`` answers with that
nonce, one of them from the primary of the latest view among them, whose log it adopts.
The nonce is the replica's restart count, which it persists: unique to each recovery,
with no randomness.

A replica that lags behind (a gap in its prepares, or news of a view it has not joined)
asks for the ops it lacks with ``GetState`` and appends those of the ``NewState``; one
that missed a view change is ``TRANSFERRING`` until they come.
"""

from __future__ import annotations

from rabble_sim import Envelope, Pid, persist

from .messages import GetState, NewState, PrepareOk, Recovery, RecoveryResponse
from .state import NORMAL, RECOVERING, TRANSFERRING, ReplicaState


def start_recovery(r: ReplicaState, output: list[Envelope]) -> None:
    """Run at restart: persist the restart count (the nonce), then ask everyone."""
    output.append(persist(r.pid, r.restarts))
    r.broadcast(output, Recovery(r.restarts))


def on_tick(r: ReplicaState, output: list[Envelope]) -> None:
    """Ask again every ``patience`` ticks: the answers may have been lost, or no primary
    may have answered yet. Not at every tick: each copy costs an answer with the whole
    log, and copies held by a partition all arrive at its heal."""
    r.silent += 1
    if r.silent >= r.patience:
        r.silent = 0
        r.broadcast(output, Recovery(r.restarts))


def on_recovery(r: ReplicaState, msg: Recovery, sender: Pid, output: list[Envelope]) -> None:
    """Only a normal replica answers; only the primary sends its log.

    A recovery from the primary of this replica's view does not start a view change:
    it may be a copy sent in an earlier life of that replica, long since recovered and
    now a healthy primary (what a node sent survives its crash). The backups notice a
    primary that is really gone by its silence.
    """
    if r.status != NORMAL:
        return
    if r.is_primary:
        answer = RecoveryResponse(r.view, msg.nonce, tuple(r.log), r.op, r.commit)
    else:
        answer = RecoveryResponse(r.view, msg.nonce, None, 0, 0)
    r.send(output, sender, answer)


def on_recovery_response(
    r: ReplicaState, msg: RecoveryResponse, sender: Pid, output: list[Envelope]
) -> None:
    if r.status != RECOVERING:
        return
    if msg.nonce != r.restarts and not r.bugs.ignore_nonce:
        return  # an answer to an earlier recovery: it may predate what this one must learn
    r.responses[str(sender)] = msg
    if len(r.responses) < r.quorum:
        return
    latest = max(answer.view for answer in r.responses.values())
    primary = r.responses.get(str(r.primary_of(latest)))
    if primary is None or primary.view != latest or primary.log is None:
        return  # wait for the primary of the latest view (the replica retries every tick)
    r.store = {}
    r.table = {}
    r.commit = 0
    r.become_normal(latest, list(primary.log))
    r.execute_up_to(primary.commit, output, reply=False)


def catch_up(r: ReplicaState, view: int, output: list[Envelope]) -> None:
    """A replica hears from the primary of ``view``, which it has not joined normally.

    It keeps its committed ops, which every later view's log holds at the same places,
    drops the rest (they may have been replaced in the view change it missed) and asks
    the primary for the ops after its commit number, again at each message from the
    primary until they come. Meanwhile it is ``TRANSFERRING`` in ``view``: it
    acknowledges nothing, and ``last_normal`` stays the last view whose log it really
    holds. Were it to claim ``view`` before holding that view's log, its DoViewChange in
    a later view change would rank its short log above a longer one from an earlier
    view, and the new primary would drop committed ops (``regressions/vr/README.md``).
    """
    r.enter(view, TRANSFERRING, r.log[: r.commit])
    r.send(output, r.primary_of(view), GetState(view, r.op))


def on_get_state(r: ReplicaState, msg: GetState, sender: Pid, output: list[Envelope]) -> None:
    """A normal replica of the same view sends the ops after ``msg.op`` (none, to a
    replica that already has them all, so that it knows it is done)."""
    if r.status != NORMAL or msg.view != r.view or msg.op > r.op:
        return
    entries = tuple(r.log[msg.op :])
    r.send(output, sender, NewState(r.view, msg.op, entries, r.op, r.commit))


def on_new_state(r: ReplicaState, msg: NewState, sender: Pid, output: list[Envelope]) -> None:
    """Append the ops this replica still lacks, execute what is committed, and tell the
    primary which ops it now has. A transferring replica now holds the view's log as far
    as the sender had it: it becomes normal in the view."""
    if r.status not in (NORMAL, TRANSFERRING) or msg.view != r.view:
        return
    end = msg.start + len(msg.entries)
    if not msg.start <= r.op <= end or (r.status == NORMAL and r.op == end):
        return  # nothing new here, or a gap still (a NewState for an older GetState)
    log = r.log + list(msg.entries[r.op - msg.start :])
    if r.status == TRANSFERRING:
        r.become_normal(r.view, log)
    else:
        r.log, r.op = log, len(log)
    r.execute_up_to(msg.commit, output, reply=False)
    if r.op > r.commit and not r.is_primary:
        r.send(output, r.primary_of(r.view), PrepareOk(r.view, r.op))
