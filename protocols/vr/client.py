"""A VR client: one operation at a time, retried until the primary answers, each recorded
in the run's history."""

from __future__ import annotations

from typing import Any

import attrs

from rabble_sim import (
    CorrelationId,
    Envelope,
    Pid,
    Timeout,
    cancel_timer,
    complete,
    invoke,
    persist,
    start_timer,
)

from .kv import Call, Result
from .messages import Reply, Request

NAME = "client"

STALL_RETRIES = 25
"""Retries of one request after which a client says it is stalled: 5 s at the default
``retry_ms`` of 200 (longer on a loaded machine, whose timers fire late)."""


def client_pid(node: str, group: str) -> Pid:
    """The pid of ``group``'s client on ``node``."""
    return Pid(NAME, node, group)


@attrs.frozen
class Answer:
    """What the client got for its request ``request``, and the view that answered it."""

    request: int
    result: Result
    view: int


@attrs.define
class Client:
    """Runs ``calls`` against its group, one after another, each until it is answered.

    Request ``first + i`` is ``calls[i]``; it is recorded with ``invoke`` before it is
    first sent and with ``complete`` when its reply arrives. It goes first to the primary
    of the latest view the client knows of (from replies), then, each time the retry
    timer fires, to every replica: backups drop requests, and the primary answers a retry
    from its client table. Replies to anything but the pending request are ignored.

    Request numbers are never reused, even across a crash of the client's node: the
    primary's client table drops a request numbered at or below the client's latest
    executed one, so a restarted client that counted from 1 again would wait for ever.
    Before its first request goes out, a life of the client persists the first number
    the next life may use (``first + len(calls)``), and ``restored_first`` hands it to the
    next life: one write a life, none a request.

    ``waiting`` counts the retries of the pending request; past ``STALL_RETRIES`` the
    client sets ``stalled``, which ``rabble-sim status`` shows (a process cannot log),
    until an answer comes.
    """

    pid: Pid
    replicas: tuple[Pid, ...]
    calls: tuple[Call, ...]
    retry_ms: int = 200
    first: int = 1
    view: int = 0
    answers: list[Answer] = attrs.Factory(list)
    retries: int = 0
    waiting: int = 0
    stalled: bool = False

    @property
    def done(self) -> bool:
        return len(self.answers) >= len(self.calls)

    @property
    def pending(self) -> int | None:
        """The number of the request waiting for its reply, or None when done."""
        return None if self.done else self.first + len(self.answers)

    def call_of(self, request: int) -> Call:
        """The call that request number ``request`` of this life carries."""
        return self.calls[request - self.first]

    def init(self, output: list[Envelope]) -> None:
        self._send_next(output)

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Reply):
            self._on_reply(msg, output)
        elif isinstance(msg, Timeout):
            self._on_timeout(cid, output)

    def _on_reply(self, reply: Reply, output: list[Envelope]) -> None:
        if reply.request != self.pending:
            return  # late, duplicated, a second answer to a retry, or for an earlier life
        self.view = max(self.view, reply.view)
        self.answers.append(Answer(reply.request, reply.result, reply.view))
        self.waiting = 0
        self.stalled = False
        output.append(complete(self.pid, reply.request, reply.result))
        output.append(cancel_timer(self.pid, self._cid(reply.request)))
        self._send_next(output)

    def _on_timeout(self, cid: CorrelationId | None, output: list[Envelope]) -> None:
        n = self.pending
        if n is None or cid != self._cid(n):
            return
        self.retries += 1
        self.waiting += 1
        self.stalled = self.waiting >= STALL_RETRIES
        request = Request(self.call_of(n), self.pid, n)
        for replica in self.replicas:
            output.append(Envelope(replica, self.pid, request, self._cid(n)))
        output.append(start_timer(self.pid, self.retry_ms, self._cid(n)))

    def _send_next(self, output: list[Envelope]) -> None:
        n = self.pending
        if n is None:
            return
        if n == self.first:
            # On disk before any number of this life leaves the node (the executor
            # handles its requests in output order): a later life starts above them all.
            output.append(persist(self.pid, self.first + len(self.calls)))
        call = self.call_of(n)
        output.append(invoke(self.pid, n, call))
        primary = self.replicas[self.view % len(self.replicas)]
        output.append(Envelope(primary, self.pid, Request(call, self.pid, n), self._cid(n)))
        output.append(start_timer(self.pid, self.retry_ms, self._cid(n)))

    def _cid(self, n: int) -> CorrelationId:
        return CorrelationId(self.pid, n)


def restored_first(durable: dict[Pid, Any] | None, pid: Pid) -> int:
    """The first request number client ``pid`` may use in this life: 1 at first start, or
    on a restart before its earlier lives sent anything; else what the last life
    persisted."""
    data = None if durable is None else durable.get(pid)
    if data is None:
        return 1
    if isinstance(data, int) and not isinstance(data, bool) and data >= 1:
        return data
    raise ValueError(f"{pid}'s durable data should be its next request number, got {data!r}")
