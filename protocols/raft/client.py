"""A simulated key-value client: one operation at a time (a fixed list, then those given as
inputs), retried until answered, each recorded in the run's history.

Request ``n`` goes to one server, with the correlation id ``(client, n)`` (the request
number, as Maelstrom's ``msg_id`` is). When its retry timer fires, or a server answers
error 11 (no leader known), the client asks the next server, with the same number: the
store's client table executes a request once however often it is asked. Numbers are never
reused, even across a restart of the client's node: the client reserves them on disk,
``BLOCK`` at a time, before the first of a block leaves, and a restarted client starts
above every number reserved (``restored_first``), as VR's does.
"""

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
from rabble_sim.maelstrom import TEMPORARILY_UNAVAILABLE, Error

from .kv import Reply, outcome
from .messages import Call, Cas, CasOk, Op, Read, ReadOk, Write, WriteOk

NAME = "client"
BLOCK = 4
"""Request numbers a client reserves on disk at a time."""


def client_pid(node: str) -> Pid:
    return Pid(NAME, node)


def body_of(op: Op) -> Read | Write | Cas:
    """The request body that asks for ``op``."""
    if op[0] == "read":
        return Read(op[1])
    if op[0] == "write":
        return Write(op[1], op[2])
    if op[0] == "cas":
        return Cas(op[1], op[2], op[3])
    raise ValueError(f"not a lin-kv operation: {op!r}")


@attrs.frozen
class Answer:
    """What request ``request`` (``op``) got."""

    request: int
    op: Op
    reply: Reply


@attrs.define
class Client:
    """Runs ``ops``, then each op given to it (``Call``), one at a time, against
    ``servers``; this life's request numbers count from ``first``, and those below
    ``reserved`` are on disk as taken. ``target`` is the server it asks next."""

    pid: Pid
    servers: tuple[Pid, ...]
    ops: tuple[Op, ...] = ()
    retry_ms: int = 400
    first: int = 1
    given: list[Op] = attrs.Factory(list)
    answers: list[Answer] = attrs.Factory(list)
    target: int = 0
    retries: int = 0
    reserved: int = attrs.Factory(lambda self: self.first, takes_self=True)

    @property
    def calls(self) -> int:
        return len(self.ops) + len(self.given)

    @property
    def done(self) -> bool:
        return len(self.answers) >= self.calls

    @property
    def pending(self) -> int | None:
        """The number of the request waiting for its answer, or None."""
        return None if self.done else self.first + len(self.answers)

    def op_of(self, request: int) -> Op:
        i = request - self.first
        return self.ops[i] if i < len(self.ops) else self.given[i - len(self.ops)]

    def init(self, output: list[Envelope]) -> None:
        self._start_next(output)

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        n = self.pending
        if isinstance(msg, Call):
            body_of(msg.op)  # a bad op fails here, at its input, not at a server
            self.given.append(msg.op)
            if n is None:
                self._start_next(output)
        elif n is None or cid != CorrelationId(self.pid, n):
            return  # late, duplicated, or for an earlier request
        elif isinstance(msg, Timeout):
            self._retry(n, output)
        elif isinstance(msg, Error) and msg.code == TEMPORARILY_UNAVAILABLE:
            pass  # asked again, of the next server, when the timer fires
        elif isinstance(msg, ReadOk | WriteOk | CasOk | Error):
            self._on_answer(n, msg, output)

    def _on_answer(self, n: int, reply: Reply, output: list[Envelope]) -> None:
        op = self.op_of(n)
        self.answers.append(Answer(n, op, reply))
        output.append(complete(self.pid, n, outcome(op, reply)))
        output.append(cancel_timer(self.pid, CorrelationId(self.pid, n)))
        self._start_next(output)

    def _start_next(self, output: list[Envelope]) -> None:
        n = self.pending
        if n is None:
            return
        if n >= self.reserved:  # on disk before the number leaves the node
            self.reserved = n + BLOCK
            output.append(persist(self.pid, self.reserved))
        output.append(invoke(self.pid, n, self.op_of(n)))
        self._send(n, output)

    def _retry(self, n: int, output: list[Envelope]) -> None:
        self.retries += 1
        self.target += 1
        self._send(n, output)

    def _send(self, n: int, output: list[Envelope]) -> None:
        cid = CorrelationId(self.pid, n)
        server = self.servers[self.target % len(self.servers)]
        output.append(Envelope(server, self.pid, body_of(self.op_of(n)), cid))
        output.append(start_timer(self.pid, self.retry_ms, cid))


def restored_first(durable: dict[Pid, Any] | None, pid: Pid) -> int:
    """The first request number client ``pid`` may use in this life: 1 at first start, or
    above every number its earlier lives reserved."""
    saved = None if durable is None else durable.get(pid)
    if saved is None:
        return 1
    if isinstance(saved, int) and not isinstance(saved, bool) and saved >= 1:
        return saved
    raise ValueError(f"{pid}'s durable data should be its next request number, got {saved!r}")
