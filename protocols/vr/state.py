"""A replica's state (VR Revisited, figure 2) and the helpers every part of the protocol uses.

The protocol itself is split by sub-protocol: ``normal`` (requests, prepares, commits),
``viewchange`` and ``recovery`` (with state transfer) are functions over this state, and
``replica.Replica`` adds the process interface that dispatches to them.
"""

from __future__ import annotations

from typing import Any

import attrs

from rabble_sim import CorrelationId, Envelope, Pid

from . import kv
from .kv import Result, Value
from .messages import DoViewChange, LogEntry, RecoveryResponse, Reply

NORMAL = "normal"
VIEW_CHANGE = "view-change"
RECOVERING = "recovering"
TRANSFERRING = "transferring"
"""In a view it has not yet joined normally, waiting for its log (``recovery.catch_up``)."""


@attrs.frozen
class Bugs:
    """Known bugs a replica can be built with; all off is the correct protocol.

    - ``log_by_op_number``: the new primary of a view change adopts the log with the most
      ops, not the one from the latest normal view (the paper's v', then op number).
    - ``log_by_view_only``: it adopts a log from the latest normal view, but not the one
      with the most ops: the first such DoViewChange to arrive.
    - ``commit_without_quorum``: the primary counts itself among the ``f`` PrepareOks it
      needs, so it commits one backup short of a quorum (with 3 replicas: at once).
    - ``no_dedup``: the client table is not consulted, so a retried request is executed
      again instead of being answered from the table.
    - ``no_recovery``: a restarted replica skips recovery and rejoins as a normal replica
      of view 0 with an empty log, forgetting what it acknowledged before its crash.
    - ``local_reads``: every normal replica answers reads from its own state, without
      going through the log: a backup that has not yet heard of the latest commits, or a
      primary deposed without knowing it, answers stale values.
    - ``ignore_nonce``: a recovering replica accepts RecoveryResponses of any nonce.
    """

    log_by_op_number: bool = False
    log_by_view_only: bool = False
    commit_without_quorum: bool = False
    no_dedup: bool = False
    no_recovery: bool = False
    local_reads: bool = False
    ignore_nonce: bool = False


NO_BUGS = Bugs()


@attrs.frozen
class Cached:
    """The client table's entry for one client: its latest executed request and result."""

    request: int
    result: Result


@attrs.define
class ReplicaState:
    """Everything one replica of a group knows (plain data).

    ``config`` is the group's replicas, in one order that every replica and client of the
    group shares (the scenario's); the primary of view ``v`` is ``config[v % len(config)]``.
    ``op`` is the op number (the log's length), ``commit`` the
    commit number: ops ``1..commit`` are committed and executed on ``store``, in order, and
    ``table`` holds each client's latest executed request with its result. VR keeps all of
    it in memory; the only durable datum is ``restarts``, the number of restarts so far,
    which makes each recovery's nonce unique.

    ``status`` is ``NORMAL``, ``VIEW_CHANGE``, ``RECOVERING`` (after a restart, until
    the group has told it what it knew) or ``TRANSFERRING`` (in a view whose start it
    missed, until the primary sends its log); ``last_normal`` is the latest view in
    which it was normal, the view its log belongs to.

    ``acked`` (primary), ``votes``, ``dvcs`` and ``dvc_sent`` (view change) and
    ``responses`` (recovery) are the bookkeeping of one view or one recovery. ``silent``
    counts ticks without news: a backup that hears nothing from its primary for
    ``patience`` ticks starts a view change, and so does a view change that does not
    finish in that time; ``changes`` counts the view changes in a row that have not
    finished, and stretches that time.
    """

    pid: Pid
    config: tuple[Pid, ...]
    bugs: Bugs = NO_BUGS
    tick_ms: int = 50
    patience: int = 3
    status: str = NORMAL
    view: int = 0
    last_normal: int = 0
    op: int = 0
    log: list[LogEntry] = attrs.Factory(list)
    commit: int = 0
    table: dict[str, Cached] = attrs.Factory(dict)
    store: dict[str, Value] = attrs.Factory(dict)
    acked: dict[str, int] = attrs.Factory(dict)
    silent: int = 0
    changes: int = 0
    votes: list[str] = attrs.Factory(list)
    dvcs: dict[str, DoViewChange] = attrs.Factory(dict)
    dvc_sent: bool = False
    restarts: int = 0
    responses: dict[str, RecoveryResponse] = attrs.Factory(dict)

    # -- the group ----------------------------------------------------------------------------

    @property
    def f(self) -> int:
        """How many replicas may fail: the group has ``2f + 1``."""
        return (len(self.config) - 1) // 2

    @property
    def quorum(self) -> int:
        """How many replicas make a quorum: ``f + 1``, any two of which share one."""
        return self.f + 1

    def primary_of(self, view: int) -> Pid:
        """The primary of ``view``: the replicas take turns, in configuration order."""
        return self.config[view % len(self.config)]

    @property
    def is_primary(self) -> bool:
        return self.primary_of(self.view) == self.pid

    @property
    def others(self) -> tuple[Pid, ...]:
        """The other replicas, in configuration order (never hash order)."""
        return tuple(pid for pid in self.config if pid != self.pid)

    @property
    def timer(self) -> CorrelationId:
        """The cid of the replica's one periodic timer."""
        return CorrelationId(self.pid)

    # -- sending ------------------------------------------------------------------------------

    def send(self, output: list[Envelope], to: Pid, msg: object) -> None:
        """Send ``msg`` to ``to``."""
        output.append(Envelope(to, self.pid, msg))

    def broadcast(self, output: list[Envelope], msg: object) -> None:
        """Send ``msg`` to every other replica of the group, in configuration order."""
        for pid in self.others:
            output.append(Envelope(pid, self.pid, msg))

    # -- the log and the state machine --------------------------------------------------------

    def execute_up_to(self, n: int, output: list[Envelope], *, reply: bool) -> None:
        """Execute ops ``commit + 1 .. n`` (no further than the log goes), in order, and
        record each in the client table; the primary (``reply``) answers each client."""
        for i in range(self.commit, min(n, self.op)):
            entry = self.log[i]
            result = kv.execute(self.store, entry.call)
            self.table[str(entry.client)] = Cached(entry.request, result)
            self.commit = i + 1
            if reply:
                answer = Reply(self.view, entry.request, result)
                cid = CorrelationId(entry.client, entry.request)
                output.append(Envelope(entry.client, self.pid, answer, cid))

    def in_progress(self, client: Pid, request: int) -> bool:
        """Whether the request is in the log but not yet committed."""
        return any(e.client == client and e.request == request for e in self.log[self.commit :])

    def become_normal(self, view: int, log: list[LogEntry]) -> None:
        """Enter ``view`` with ``log`` in normal status, its per-view bookkeeping cleared.

        The caller then executes what is newly committed: committed ops are in every later
        view's log at the same place, so the executed prefix stays valid.
        """
        self.enter(view, NORMAL, log)
        self.last_normal = view

    def enter(self, view: int, status: str, log: list[LogEntry]) -> None:
        """Be in ``view`` with ``status`` and ``log``, the per-view bookkeeping cleared
        (``last_normal`` is the caller's business)."""
        self.view = view
        self.status = status
        self.log = log
        self.op = len(log)
        self.acked = {}
        self.votes = []
        self.dvcs = {}
        self.dvc_sent = False
        self.responses = {}
        self.silent = 0
        self.changes = 0


def restored_restarts(durable: dict[Pid, Any] | None, pid: Pid) -> int | None:
    """How many times ``pid`` had restarted before this start (None at first start)."""
    if durable is None:
        return None
    data = durable.get(pid, 0)
    return data if isinstance(data, int) else 0
