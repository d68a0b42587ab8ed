"""The lock server, which grants one lease at a time, and the clients that take turns.

Safety rests on leases, measured so that the holder's runs out first. A client's lease
starts when it reads the grant, and only then does it acknowledge it (``Ack``); the
server's lease, as long, starts when it reads an acknowledgement, so it ends no sooner.
The server frees the lock when the holder releases it, asks anew, or the server's lease
runs out: never while the holder may still believe it holds it. (Timers measure true time
here: a clock that drifts would break this, as it breaks every lease.)

Nothing waits on a reply that a timer may overtake: requests and grants are sent again
until answered, and a late answer is still good, so the fair, first-in-first-out delivery
of a liveness phase always makes progress.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from rabble_sim import (
    ConnectionLost,
    CorrelationId,
    Envelope,
    Pid,
    Timeout,
    cancel_timer,
    persist,
    start_timer,
    unwatch,
    watch,
)

from .messages import Ack, Acquire, Grant, Held, Release

RESEND = 0
"""The ``handle`` of a timer that sends a request (a client's) or a grant (the server's)
again."""
LEASE = 1
"""The ``handle`` of a lease timer."""


@attrs.define
class LockServer:
    """Grants the lock to one client at a time, in the order they asked.

    A grant is sent again every ``resend_ms`` until the client acknowledges it, which
    starts the server's lease, ``lease_ms`` long. The lock is free again when the holder
    releases it, asks anew (a request above the one it holds gives that one up), or the
    server's lease runs out. The holder is persisted with the grant, and a restarted server
    grants it to the same client again and waits for a new acknowledgement. The queue is
    not persisted: the clients ask again until they are granted the lock.

    The server watches the holder. ``trust_connection_lost`` is the known bug: it takes
    ``ConnectionLost`` for the holder's death and frees the lock at once, for the next
    client. A crash of the holder's node makes that true, but a partition does not: the
    holder is alive on the other side of the cut, and its lease runs on. The correct
    server ignores it, and waits for the lease.
    """

    pid: Pid
    lease_ms: int = 100
    resend_ms: int = 40
    trust_connection_lost: bool = False
    holder: Pid | None = None
    holder_n: int = 0
    acked: bool = False
    """Whether the holder acknowledged its grant in this life (and the lease runs)."""
    grants: int = 0
    """Grants in this life: the ``request`` of the current grant's timers and watch."""
    queue: list[tuple[Pid, int]] = attrs.Factory(list)

    def init(self, output: list[Envelope]) -> None:
        if self.holder is not None:  # restored: grant it again, and wait for a new ack
            self._grant(self.holder, self.holder_n, output)

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        holds = self.holder is not None and from_ == self.holder
        if isinstance(msg, Acquire):
            self._on_acquire(from_, msg.n, output)
        elif isinstance(msg, Ack) and holds and msg.n == self.holder_n and not self.acked:
            self.acked = True
            output.append(cancel_timer(self.pid, self._cid(RESEND)))
            output.append(start_timer(self.pid, self.lease_ms, self._cid(LEASE)))
        elif isinstance(msg, Release) and holds and msg.n == self.holder_n:
            self._free(output)
        elif isinstance(msg, Timeout) and self.holder is not None:
            if cid == self._cid(LEASE):
                self._free(output)  # the holder's lease ran out before this one
            elif cid == self._cid(RESEND):
                self._grant(self.holder, self.holder_n, output, again=True)
        elif isinstance(msg, ConnectionLost):
            self._on_connection_lost(cid, output)
        self._grant_next(output)

    def _on_connection_lost(self, cid: CorrelationId | None, output: list[Envelope]) -> None:
        # The holder's node crashed, or a cut keeps it from this one: then the holder is
        # alive, its lease running. Only the known bug frees the lock now.
        if self.trust_connection_lost and self.holder is not None and cid == self._cid():
            self._free(output)

    def _on_acquire(self, client: Pid, n: int, output: list[Envelope]) -> None:
        if client == self.holder:
            if n < self.holder_n or (n == self.holder_n and self.acked):
                return  # older, or a duplicate: the grant answered it
            if n == self.holder_n:  # asked again: the grant may be lost
                self._grant(client, n, output, again=True)
                return
            self._free(output)  # the client asks anew: it gave up what it held
        for i, (waiting, m) in enumerate(self.queue):
            if waiting == client:
                self.queue[i] = (client, max(n, m))
                return
        self.queue.append((client, n))

    def _grant_next(self, output: list[Envelope]) -> None:
        if self.holder is None and self.queue:
            client, n = self.queue.pop(0)
            output.append(persist(self.pid, Held(client, n)))  # on disk before it leaves
            self._grant(client, n, output)

    def _grant(self, client: Pid, n: int, output: list[Envelope], *, again: bool = False) -> None:
        if not again:
            self.holder, self.holder_n, self.acked = client, n, False
            self.grants += 1
            output.append(watch(self.pid, client, self._cid()))
        output.append(Envelope(client, self.pid, Grant(n)))
        output.append(start_timer(self.pid, self.resend_ms, self._cid(RESEND)))

    def _free(self, output: list[Envelope]) -> None:
        assert self.holder is not None
        output.append(cancel_timer(self.pid, self._cid(RESEND)))
        output.append(cancel_timer(self.pid, self._cid(LEASE)))
        output.append(unwatch(self.pid, self.holder))
        output.append(persist(self.pid, Held(None)))
        self.holder, self.holder_n, self.acked = None, 0, False

    def _cid(self, handle: int | None = None) -> CorrelationId:
        return CorrelationId(self.pid, self.grants, handle)


def restored_server(pid: Pid, durable: dict[Pid, Any] | None, **options: Any) -> LockServer:
    """The server ``pid`` as ``start`` builds it: with the holder it persisted, if any."""
    held = (durable or {}).get(pid)
    if isinstance(held, Held) and held.holder is not None:
        return LockServer(pid, holder=held.holder, holder_n=held.n, **options)
    return LockServer(pid, **options)


@attrs.define
class LockClient:
    """Takes the lock ``rounds`` times (in each life), each time for a lease.

    It sends request ``n`` every ``resend_ms`` until the grant comes. The grant starts its
    lease, ``lease_ms`` long (the server's is as long, and starts later): it holds the
    lock until the lease runs out, then releases it and asks again. A grant it does not
    hold (late, duplicated, or meant for an earlier life) is answered with a release, so
    that the server frees it at once. Request numbers only grow, across lives too: the
    number is persisted before each request leaves (``restored_n``).
    """

    pid: Pid
    server: Pid
    rounds: int
    lease_ms: int = 100
    resend_ms: int = 40
    n: int = 0
    """The number of the client's current request (0: none yet)."""
    waiting: bool = False
    holding: bool = False
    held: int = 0
    """Leases this life held."""

    @property
    def done(self) -> bool:
        return self.held >= self.rounds

    def init(self, output: list[Envelope]) -> None:
        self._acquire(output)

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Grant):
            self._on_grant(msg.n, output)
        elif isinstance(msg, Timeout) and cid == self._cid(RESEND) and self.waiting:
            self._send(Acquire(self.n), output)
            output.append(start_timer(self.pid, self.resend_ms, self._cid(RESEND)))
        elif isinstance(msg, Timeout) and cid == self._cid(LEASE) and self.holding:
            self.holding = False  # the lease ran out: the lock is not ours now
            self.held += 1
            self._send(Release(self.n), output)
            self._acquire(output)

    def _on_grant(self, n: int, output: list[Envelope]) -> None:
        if self.waiting and n == self.n:
            self.waiting, self.holding = False, True
            output.append(cancel_timer(self.pid, self._cid(RESEND)))
            output.append(start_timer(self.pid, self.lease_ms, self._cid(LEASE)))
            self._send(Ack(n), output)  # after the lease started
        elif self.holding and n == self.n:
            self._send(Ack(n), output)  # sent again: the server lacks the first
        else:
            self._send(Release(n), output)

    def _acquire(self, output: list[Envelope]) -> None:
        if self.done:
            return
        self.n += 1
        self.waiting = True
        output.append(persist(self.pid, self.n))  # on disk before request n leaves
        self._send(Acquire(self.n), output)
        output.append(start_timer(self.pid, self.resend_ms, self._cid(RESEND)))

    def _send(self, msg: object, output: list[Envelope]) -> None:
        output.append(Envelope(self.server, self.pid, msg))

    def _cid(self, handle: int) -> CorrelationId:
        return CorrelationId(self.pid, self.n, handle)


def restored_n(durable: dict[Pid, Any] | None, pid: Pid) -> int:
    """The number of the last request client ``pid`` sent in an earlier life (0: none)."""
    data = (durable or {}).get(pid)
    return data if isinstance(data, int) and not isinstance(data, bool) and data > 0 else 0


def holders(processes: Iterable[object]) -> list[Pid]:
    """The pids of the clients among ``processes`` that believe they hold the lock."""
    return [p.pid for p in processes if isinstance(p, LockClient) and p.holding]
