"""View change (VR Revisited, section 4.2): StartViewChange, DoViewChange, StartView.

A replica that suspects the primary moves to the next view and says so to everyone
(``StartViewChange``). Once ``f`` others have said the same, it sends its log to the new
primary (``DoViewChange``). The new primary waits for ``f + 1`` of those, its own among
them, adopts the log of the one that was normal in the latest view (the most ops breaking
a tie), takes the highest commit number, and announces the result (``StartView``). Any
``f + 1`` replicas include one that acknowledged each committed op, so no committed op is
lost.
"""

from __future__ import annotations

from rabble_sim import Envelope, Pid

from .messages import DoViewChange, PrepareOk, StartView, StartViewChange
from .state import NORMAL, VIEW_CHANGE, ReplicaState


def start_view_change(r: ReplicaState, view: int, output: list[Envelope]) -> None:
    """Move to ``view`` in view-change status and tell every other replica."""
    r.changes = r.changes + 1 if r.status == VIEW_CHANGE else 1
    r.view = view
    r.status = VIEW_CHANGE
    r.votes = []
    r.dvcs = {}
    r.dvc_sent = False
    r.acked = {}
    r.silent = 0
    r.broadcast(output, StartViewChange(view))


def on_tick(r: ReplicaState, output: list[Envelope]) -> None:
    """A view change that has not finished in time moves on to the next view (its primary
    may be down); meanwhile its messages are sent again, in case they were lost (a
    StartViewChange only to the replicas not yet heard from in this view).

    The time grows by ``patience`` ticks with each view change in a row that did not
    finish: with a fixed timeout, messages delayed past it keep every replica one view
    ahead of the view change it is in, for ever.
    """
    r.silent += 1
    if r.silent >= r.patience * r.changes:
        start_view_change(r, r.view + 1, output)
        return
    for pid in r.others:  # again to those not yet heard from: theirs may have been lost
        if str(pid) not in r.votes:
            r.send(output, pid, StartViewChange(r.view))
    primary = r.primary_of(r.view)
    if r.dvc_sent and primary != r.pid:
        r.send(output, primary, _do_view_change(r))


def on_start_view_change(
    r: ReplicaState, msg: StartViewChange, sender: Pid, output: list[Envelope]
) -> None:
    if msg.view > r.view:
        start_view_change(r, msg.view, output)
    if msg.view != r.view or r.status != VIEW_CHANGE:
        return  # a view that has started: a sender that missed StartView catches up from
        # the primary's next heartbeat (state transfer)
    _vote(r, sender, output)


def on_do_view_change(
    r: ReplicaState, msg: DoViewChange, sender: Pid, output: list[Envelope]
) -> None:
    if msg.view > r.view:
        start_view_change(r, msg.view, output)
    if msg.view != r.view or not r.is_primary or r.status != VIEW_CHANGE:
        return
    r.dvcs[str(sender)] = msg
    _vote(r, sender, output)  # a DoViewChange stands for its sender's StartViewChange too
    _maybe_start_view(r, output)


def on_start_view(r: ReplicaState, msg: StartView, sender: Pid, output: list[Envelope]) -> None:
    """A backup adopts the new primary's log, executes what is committed and acknowledges
    the rest."""
    if msg.view < r.view or (msg.view == r.view and r.status == NORMAL):
        return
    if sender != r.primary_of(msg.view):
        return
    r.become_normal(msg.view, list(msg.log))
    r.execute_up_to(msg.commit, output, reply=False)
    if r.op > r.commit:
        r.send(output, sender, PrepareOk(r.view, r.op))


def _vote(r: ReplicaState, voter: Pid, output: list[Envelope]) -> None:
    key = str(voter)
    if key not in r.votes:
        r.votes.append(key)
    if r.dvc_sent or len(r.votes) < r.f:
        return
    r.dvc_sent = True
    primary = r.primary_of(r.view)
    if primary == r.pid:
        r.dvcs[str(r.pid)] = _do_view_change(r)
        _maybe_start_view(r, output)
    else:
        r.send(output, primary, _do_view_change(r))


def _maybe_start_view(r: ReplicaState, output: list[Envelope]) -> None:
    """The new primary starts the view once it has ``f + 1`` DoViewChanges, its own too."""
    if r.status != VIEW_CHANGE or str(r.pid) not in r.dvcs or len(r.dvcs) < r.quorum:
        return
    dvcs = list(r.dvcs.values())  # in the order they arrived: max() keeps the first best
    if r.bugs.log_by_op_number:
        best = max(dvcs, key=lambda d: d.op)
    elif r.bugs.log_by_view_only:
        best = max(dvcs, key=lambda d: d.last_normal)
    else:
        best = max(dvcs, key=lambda d: (d.last_normal, d.op))
    commit = max(d.commit for d in dvcs)
    r.become_normal(r.view, list(best.log))
    r.execute_up_to(commit, output, reply=True)
    r.broadcast(output, _start_view(r))


def _do_view_change(r: ReplicaState) -> DoViewChange:
    return DoViewChange(r.view, tuple(r.log), r.last_normal, r.op, r.commit)


def _start_view(r: ReplicaState) -> StartView:
    return StartView(r.view, tuple(r.log), r.op, r.commit)
