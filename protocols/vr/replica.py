"""The VR replica as a rabble-sim process: it dispatches each message to its sub-protocol.

One process per group on each of the group's nodes, named ``Pid("replica", node,
group=group)``: several groups on the same nodes are independent consensus groups, as
in Haret. A replica ticks every ``tick_ms``: the primary sends its heartbeat, a backup
counts the ticks it has not heard from the primary, a view change or a recovery sends
its messages again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from rabble_sim import CorrelationId, Envelope, Pid, Timeout, persist, start_timer

from . import normal, recovery, viewchange
from .messages import (
    Commit,
    DoViewChange,
    GetState,
    NewState,
    Prepare,
    PrepareOk,
    Recovery,
    RecoveryResponse,
    Request,
    StartView,
    StartViewChange,
)
from .state import NO_BUGS, NORMAL, RECOVERING, VIEW_CHANGE, Bugs, ReplicaState

NAME = "replica"

Handler = Callable[[Any, Any, Pid, list[Envelope]], None]
_FROM_REPLICAS: dict[type, Handler] = {
    Prepare: normal.on_prepare,
    PrepareOk: normal.on_prepare_ok,
    Commit: normal.on_commit,
    StartViewChange: viewchange.on_start_view_change,
    DoViewChange: viewchange.on_do_view_change,
    StartView: viewchange.on_start_view,
    Recovery: recovery.on_recovery,
    RecoveryResponse: recovery.on_recovery_response,
    GetState: recovery.on_get_state,
    NewState: recovery.on_new_state,
}


def replica_pid(node: str, group: str) -> Pid:
    """The pid of ``group``'s replica on ``node``."""
    return Pid(NAME, node, group)


@attrs.define
class Replica(ReplicaState):
    """A replica of one group (see ``ReplicaState`` for what it knows).

    Build it with ``Replica.first`` at a node's first start and ``Replica.restarted``
    after a crash: a restarted replica is in recovery, and takes part in nothing until
    its recovery completes.
    """

    @classmethod
    def first(
        cls, pid: Pid, config: tuple[Pid, ...], bugs: Bugs = NO_BUGS, *, patience: int = 3
    ) -> Replica:
        """A replica at the group's very start: normal, view 0, empty log."""
        return cls(pid, config, bugs, patience=patience)

    @classmethod
    def restarted(
        cls,
        pid: Pid,
        config: tuple[Pid, ...],
        restarts: int,
        bugs: Bugs = NO_BUGS,
        *,
        patience: int = 3,
    ) -> Replica:
        """A replica whose node restarted for the ``restarts``-th time: it recovers
        (unless built with the ``no_recovery`` bug, which rejoins at once)."""
        status = NORMAL if bugs.no_recovery else RECOVERING
        return cls(pid, config, bugs, patience=patience, status=status, restarts=restarts)

    def init(self, output: list[Envelope]) -> None:
        """Start ticking; after a restart, first persist the restart count and recover."""
        if self.restarts:
            if self.status == RECOVERING:
                recovery.start_recovery(self, output)
            else:
                output.append(persist(self.pid, self.restarts))
        output.append(start_timer(self.pid, self.tick_ms, self.timer))

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        """Dispatch ``msg``: a client's request, the tick, or a message of the group's
        replicas (anything else, or from anyone else, is ignored)."""
        if isinstance(msg, Request):
            normal.on_request(self, msg, output)
            return
        if isinstance(msg, Timeout):
            if cid == self.timer:
                self._tick(output)
            return
        handler = _FROM_REPLICAS.get(type(msg))
        if handler is None or from_ not in self.config or from_ == self.pid:
            return
        if self.status == RECOVERING and not isinstance(msg, RecoveryResponse):
            return  # a recovering replica knows nothing yet, so it answers nothing
        handler(self, msg, from_, output)

    def _tick(self, output: list[Envelope]) -> None:
        if self.status == RECOVERING:
            recovery.on_tick(self, output)
        elif self.status == VIEW_CHANGE:
            viewchange.on_tick(self, output)
        elif self.status == NORMAL and self.is_primary:
            normal.heartbeat(self, output)
        else:  # a backup, normal or transferring: is its primary still there?
            self.silent += 1
            if self.silent >= self.patience:
                viewchange.start_view_change(self, self.view + 1, output)
        output.append(start_timer(self.pid, self.tick_ms, self.timer))
