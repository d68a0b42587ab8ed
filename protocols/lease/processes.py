"""The lock server that grants a lease to one client at a time, and its clients, which
count their lease on their own clocks."""

from __future__ import annotations

from typing import Literal

import attrs

from rabble_sim import CorrelationId, Envelope, Pid, Timeout, cancel_timer, start_timer

from .messages import Acquire, Busy, Grant

State = Literal["idle", "waiting", "holding"]


@attrs.define
class LeaseServer:
    """Grants the lease to one client at a time, for ``lease_ms`` of its own clock.

    A request from the holder (or from anyone while the lease is free) is granted, and the
    server's timer starts over from the grant: a later grant only lengthens the lease on
    the server's side. Any other request is answered ``Busy``. When the timer fires the
    lease is free again. The holder lives in memory only, which is why the scenarios
    never crash the server: a restarted server would hand the lease out at once.
    """

    pid: Pid
    lease_ms: int
    holder: Pid | None = None
    grants: int = 0

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Acquire):
            if self.holder is None or self.holder == from_:
                self.holder = from_
                self.grants += 1
                output.append(start_timer(self.pid, self.lease_ms, self._expiry))
                output.append(Envelope(from_, self.pid, Grant(msg.n), cid))
            else:
                output.append(Envelope(from_, self.pid, Busy(msg.n), cid))
        elif isinstance(msg, Timeout) and cid == self._expiry:
            self.holder = None

    @property
    def _expiry(self) -> CorrelationId:
        return CorrelationId(self.pid)


@attrs.define
class LeaseClient:
    """Asks for the lease, holds it for ``hold_ms`` of its own clock, and asks again.

    The client counts its lease from the moment it SENT request ``n``: the server can only
    grant it later than that, so with clocks that agree the client's ``hold_ms`` (no more
    than the server's ``lease_ms``) ends no later than the server's. Its timer, started
    with the request, ends both the wait for an answer and the lease: a ``Grant(n)`` that
    comes after it is ignored, as is any answer to an earlier request. ``Busy`` ends the
    wait early. Either way the client asks again ``retry_ms`` later.

    The timer that ends a lease was started before the server's timer for that lease, so
    when both are due at the same instant the client's fires first: with clocks that
    agree, a ``hold_ms`` equal to ``lease_ms`` is safe.
    """

    pid: Pid
    server: Pid
    hold_ms: int
    retry_ms: int = 50
    state: State = "idle"
    n: int = 0
    leases: int = 0

    def init(self, output: list[Envelope]) -> None:
        self._request(output)

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Grant):
            if msg.n == self.n and self.state == "waiting":
                self.state = "holding"
                self.leases += 1
        elif isinstance(msg, Busy):
            if msg.n == self.n and self.state == "waiting":
                output.append(cancel_timer(self.pid, self._lease(self.n)))
                self._idle(output)
        elif isinstance(msg, Timeout):
            if cid == self._lease(self.n) and self.state != "idle":
                self._idle(output)
            elif cid == self._retry and self.state == "idle":
                self._request(output)

    def _request(self, output: list[Envelope]) -> None:
        self.n += 1
        self.state = "waiting"
        # The lease is counted from now, when the request leaves.
        output.append(start_timer(self.pid, self.hold_ms, self._lease(self.n)))
        output.append(Envelope(self.server, self.pid, Acquire(self.n), self._lease(self.n)))

    def _idle(self, output: list[Envelope]) -> None:
        self.state = "idle"
        output.append(start_timer(self.pid, self.retry_ms, self._retry))

    def _lease(self, n: int) -> CorrelationId:
        return CorrelationId(self.pid, n)

    @property
    def _retry(self) -> CorrelationId:
        return CorrelationId(self.pid)
