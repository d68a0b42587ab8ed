"""A protocol that misbehaves on request, for the TCP executor's fault tests.

Each node runs:

- ``trouble``: answers ``Ping`` with ``Pong``; on ``Raise(kind)`` answers ``Raised`` and
  then raises (``SystemExit(0)``, ``SystemExit(7)``, ``KeyboardInterrupt``, a
  ``BaseException`` of its own, ``ValueError``); on ``Hang(how)`` never returns (a busy
  loop, a long sleep, a wait on an event nobody sets); on ``UseService(name)`` calls that
  service and answers with its result;
- ``ledger``: adds each ``Store(n)`` to its total, persists the total and answers
  ``Stored(total)``: an acknowledged total is on disk; restarted, it resumes from it;
- ``grumpy``: its ``init`` raises ``SystemExit(0)``; it answers ``Ping`` all the same.

The factory ``boom`` raises ``SystemExit(3)``; the service ``quit`` raises
``SystemExit(0)`` in its worker thread. In ``broken_start``, the scenario's ``start``
itself calls ``sys.exit(0)``.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import attrs

from rabble_sim import CorrelationId, Envelope, Pid, Scenario, message, persist
from rabble_sim.core import ServiceFailed, ServiceResult, call_service


@message("faulty.ping")
@attrs.frozen
class Ping:
    n: int = 0


@message("faulty.pong")
@attrs.frozen
class Pong:
    by: str
    count: int


class Mutiny(BaseException):
    """Neither an Exception nor one of Python's own: code that really wants out."""


@message("faulty.raise")
@attrs.frozen
class Raise:
    kind: str


@message("faulty.raised")
@attrs.frozen
class Raised:
    kind: str


@message("faulty.hang")
@attrs.frozen
class Hang:
    how: str


@message("faulty.use_service")
@attrs.frozen
class UseService:
    name: str


@message("faulty.store")
@attrs.frozen
class Store:
    n: int


@message("faulty.stored")
@attrs.frozen
class Stored:
    total: int


def _raise(kind: str) -> None:
    if kind == "exit0":
        sys.exit(0)
    if kind == "exit7":
        raise SystemExit(7)
    if kind == "interrupt":
        raise KeyboardInterrupt
    if kind == "mutiny":
        raise Mutiny("all hands")
    raise ValueError(kind)


def _hang(how: str) -> None:
    if how == "spin":
        while True:
            pass
    elif how == "sleep":
        time.sleep(3600)
    else:
        threading.Event().wait()


@attrs.define
class Trouble:
    pid: Pid
    pings: int = 0
    waiting: list[tuple[Pid, CorrelationId | None]] = attrs.Factory(list)

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Ping):
            self.pings += 1
            output.append(Envelope(from_, self.pid, Pong(str(self.pid), self.pings), cid))
        elif isinstance(msg, Raise):
            output.append(Envelope(from_, self.pid, Raised(msg.kind), cid))
            _raise(msg.kind)
        elif isinstance(msg, Hang):
            _hang(msg.how)
        elif isinstance(msg, UseService):
            self.waiting.append((from_, cid))
            output.append(call_service(self.pid, msg.name))
        elif isinstance(msg, ServiceResult | ServiceFailed) and self.waiting:
            caller, caller_cid = self.waiting.pop(0)
            output.append(Envelope(caller, self.pid, msg, caller_cid))


@attrs.define
class Ledger:
    pid: Pid
    total: int = 0

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Store):
            self.total += msg.n
            output.append(persist(self.pid, {"total": self.total}))
            output.append(Envelope(from_, self.pid, Stored(self.total), cid))


@attrs.define
class Grumpy:
    pid: Pid

    def init(self, output: list[Envelope]) -> None:
        sys.exit(0)

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        output.append(Envelope(from_, self.pid, Pong(str(self.pid), 0), cid))


def start(node: str, durable: dict[Pid, Any] | None) -> list[Any]:
    ledger = Pid("ledger", node)
    saved = (durable or {}).get(ledger) or {"total": 0}
    trouble, grumpy = Trouble(Pid("trouble", node)), Grumpy(Pid("grumpy", node))
    return [trouble, Ledger(ledger, saved["total"]), grumpy]


def boom(pid: Pid, arg: Any) -> Any:
    raise SystemExit(3)


def quit_service() -> None:
    sys.exit(0)


def start_that_exits(node: str, durable: dict[Pid, Any] | None) -> list[Any]:
    sys.exit(0)


broken_start = Scenario(name="net-faulty-start", nodes=["a"], start=start_that_exits)
scenario = Scenario(
    name="net-faulty",
    nodes=["a", "b"],
    start=start,
    factories={"boom": boom},
    services={"quit": quit_service, "answer": lambda: 42},
)
