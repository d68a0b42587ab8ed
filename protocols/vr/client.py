"""A VR client: one operation at a time (a fixed list, then those submitted as inputs),
retried until the primary answers, each recorded in the run's history."""

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

from . import kv
from .kv import Call, Result
from .messages import Reply, Request, Submit

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
    """Runs ``calls`` against its group, then each call submitted to it (``Submit``, a
    scenario's generated input), one after another, each until it is answered.

    The calls of a life are ``calls`` followed by ``submitted``, in the order they were
    submitted: a call submitted while another is pending waits its turn, one submitted
    to a client that is done goes out at once. Request ``first + i`` is the life's
    ``i``-th call (from 0); it is recorded with ``invoke`` before it is first sent and
    with ``complete`` when its reply arrives. It goes first to the primary of the latest
    view the client knows of (from replies), then, each time the retry timer fires, to
    every replica: backups drop requests, and the primary answers a retry from its
    client table. Replies to anything but the pending request are ignored.

    Request numbers are never reused, even across a crash of the client's node: the
    primary's client table drops a request numbered at or below the client's latest
    executed one, so a restarted client that counted from 1 again would wait for ever.
    Numbers below ``reserved`` are on disk as taken: before request ``n`` goes out, if
    ``n`` is not below it, the client reserves the calls it knows of from ``n`` on (at
    least ``block`` of them) by persisting the new ``reserved``, the first number the
    next life may use, and ``restored_first`` hands it to the next life. A fixed
    workload reserves all its calls with its first request (one write a life); a client
    fed inputs cannot know how many calls its life will make, and reserves ``block`` at
    a time (one write per ``block`` requests). A life that ends with numbers unused
    leaves a gap, which the primary's client table does not mind.

    ``waiting`` counts the retries of the pending request; past ``STALL_RETRIES`` the
    client sets ``stalled``, which ``rabble-sim status`` shows (a process cannot log),
    until an answer comes.
    """

    pid: Pid
    replicas: tuple[Pid, ...]
    calls: tuple[Call, ...] = ()
    retry_ms: int = 200
    first: int = 1
    view: int = 0
    answers: list[Answer] = attrs.Factory(list)
    retries: int = 0
    waiting: int = 0
    stalled: bool = False
    block: int = 1
    reserved: int = attrs.Factory(lambda self: self.first, takes_self=True)
    submitted: list[Call] = attrs.Factory(list)

    @property
    def total(self) -> int:
        """The calls this life runs: its fixed ones and those submitted so far."""
        return len(self.calls) + len(self.submitted)

    @property
    def done(self) -> bool:
        """Whether every call of this life so far has its answer (no call pending)."""
        return len(self.answers) >= self.total

    @property
    def pending(self) -> int | None:
        """The number of the request waiting for its reply, or None when done."""
        return None if self.done else self.first + len(self.answers)

    def call_of(self, request: int) -> Call:
        """The call that request number ``request`` of this life carries."""
        i = request - self.first
        if not 0 <= i < self.total:
            raise IndexError(f"{self.pid} has no request {request} in this life")
        fixed = len(self.calls)
        return self.calls[i] if i < fixed else self.submitted[i - fixed]

    def init(self, output: list[Envelope]) -> None:
        self._send_next(output)

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Reply):
            self._on_reply(msg, output)
        elif isinstance(msg, Timeout):
            self._on_timeout(cid, output)
        elif isinstance(msg, Submit):
            self._on_submit(msg, output)

    def _on_submit(self, submit: Submit, output: list[Envelope]) -> None:
        kv.validate(submit.call)  # a bad call fails here, at its input, not at a replica
        idle = self.done
        self.submitted.append(submit.call)
        if idle:
            self._send_next(output)

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
        if n >= self.reserved:
            # On disk before the number leaves the node (the executor handles its
            # requests in output order): a later life starts above every number sent.
            self.reserved = n + max(self.total - (n - self.first), self.block)
            output.append(persist(self.pid, self.reserved))
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
