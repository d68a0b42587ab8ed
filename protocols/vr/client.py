"""A VR client: one operation at a time, retried until the primary answers, each recorded
in the run's history."""

from __future__ import annotations

import attrs

from rabble_sim import (
    CorrelationId,
    Envelope,
    Pid,
    Timeout,
    cancel_timer,
    complete,
    invoke,
    start_timer,
)

from .kv import Call, Result
from .messages import Reply, Request

NAME = "client"


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

    Request ``n`` (from 1) is ``calls[n - 1]``; it is recorded with ``invoke`` before it
    is first sent and with ``complete`` when its reply arrives. It goes first to the
    primary of the latest view the client knows of (from replies), then, each time the
    retry timer fires, to every replica: backups drop requests, and the primary answers
    a retry from its client table. Replies to anything but the pending request are
    ignored. Clients run on nodes the search never crashes, so nothing is persisted.
    """

    pid: Pid
    replicas: tuple[Pid, ...]
    calls: tuple[Call, ...]
    retry_ms: int = 200
    view: int = 0
    answers: list[Answer] = attrs.Factory(list)
    retries: int = 0

    @property
    def done(self) -> bool:
        return len(self.answers) >= len(self.calls)

    @property
    def pending(self) -> int | None:
        """The number of the request waiting for its reply, or None when done."""
        return None if self.done else len(self.answers) + 1

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
            return  # late, duplicated, or a second answer to a retry
        self.view = max(self.view, reply.view)
        self.answers.append(Answer(reply.request, reply.result, reply.view))
        output.append(complete(self.pid, reply.request, reply.result))
        output.append(cancel_timer(self.pid, self._cid(reply.request)))
        self._send_next(output)

    def _on_timeout(self, cid: CorrelationId | None, output: list[Envelope]) -> None:
        n = self.pending
        if n is None or cid != self._cid(n):
            return
        self.retries += 1
        request = Request(self.calls[n - 1], self.pid, n)
        for replica in self.replicas:
            output.append(Envelope(replica, self.pid, request, self._cid(n)))
        output.append(start_timer(self.pid, self.retry_ms, self._cid(n)))

    def _send_next(self, output: list[Envelope]) -> None:
        n = self.pending
        if n is None:
            return
        call = self.calls[n - 1]
        output.append(invoke(self.pid, n, call))
        primary = self.replicas[self.view % len(self.replicas)]
        output.append(Envelope(primary, self.pid, Request(call, self.pid, n), self._cid(n)))
        output.append(start_timer(self.pid, self.retry_ms, self._cid(n)))

    def _cid(self, n: int) -> CorrelationId:
        return CorrelationId(self.pid, n)
