"""The echo server, with its reply cache, and the clients that retry until answered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from rabble_sim import CorrelationId, Envelope, Pid, Timeout, cancel_timer, persist, start_timer

from .messages import EchoReply, EchoRequest, Say

CacheKey = tuple[str, int]


@attrs.define
class EchoServer:
    """Answers each request with its own ``n`` and ``payload``.

    Replies are cached so that a retried request gets the very reply it got before, the
    way a replicated service answers a retry without executing it twice. The cache is
    volatile: after a crash the server simply echoes again, which is harmless here.
    ``per_client=False`` is the known bug: the cache key forgets the client, so two
    clients' request ``n`` share one entry.
    """

    pid: Pid
    per_client: bool = True
    cache: dict[CacheKey, EchoReply] = attrs.Factory(dict)

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if not isinstance(msg, EchoRequest):
            return
        key = (str(from_) if self.per_client else "*", msg.n)
        reply = self.cache.get(key)
        if reply is None:
            reply = self.cache[key] = EchoReply(msg.n, msg.payload)
        output.append(Envelope(from_, self.pid, reply, cid))


def payload_for(pid: Pid, n: int) -> str:
    """The payload of request ``n`` of client ``pid``: unique to that client and ``n``."""
    return f"{pid}/{n}"


@attrs.define
class EchoClient:
    """Sends ``requests`` requests one after another, each until it is answered, then one
    more for each payload it is given (``Say``, a scenario's generated input).

    The requests of a life are numbered from ``first``: the first ``requests`` carry
    ``payload_for(pid, n)``, the others the payloads said, in the order they came
    (``said``); one said while a request is pending waits its turn.

    ``pending`` is the request waiting for its reply; a timer with cid
    ``CorrelationId(pid, n)`` resends it. A reply is matched by ``n`` alone, as a real
    client matches by request id; replies to anything but the pending request (late,
    duplicated or answered twice because of a retry) are ignored. Accepted replies are
    recorded in ``got``, in order.

    A client of fixed requests keeps nothing durable: after a crash it starts its
    requests over from 1, which the echo allows, as its request ``n`` carries the same
    payload in every life. A request for a payload said may not: before each one goes
    out the client persists the number after it, and a restarted client numbers from
    there (``restored_first``). Were it to count from 1 again, the server would answer
    its new request 1 from its cache with the payload of the old life's request 1.
    """

    pid: Pid
    server: Pid
    requests: int
    retry_ms: int = 100
    pending: EchoRequest | None = None
    got: list[EchoReply] = attrs.Factory(list)
    retries: int = 0
    said: list[str] = attrs.Factory(list)
    first: int = 1

    @property
    def total(self) -> int:
        """The requests this client sends: its fixed ones and one per payload said."""
        return self.requests + len(self.said)

    @property
    def done(self) -> bool:
        return len(self.got) >= self.total

    def init(self, output: list[Envelope]) -> None:
        self._send_next(output)

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, EchoReply):
            self._on_reply(msg, output)
        elif isinstance(msg, Timeout):
            self._on_timeout(cid, output)
        elif isinstance(msg, Say):
            self.said.append(msg.payload)
            if self.pending is None:
                self._send_next(output)

    def _on_reply(self, reply: EchoReply, output: list[Envelope]) -> None:
        pending = self.pending
        if pending is None or reply.n != pending.n:
            return  # stale or duplicated: its request was answered already
        self.got.append(reply)
        self.pending = None
        output.append(cancel_timer(self.pid, self._cid(reply.n)))
        self._send_next(output)

    def _on_timeout(self, cid: CorrelationId | None, output: list[Envelope]) -> None:
        pending = self.pending
        # Answering a request cancels its timer, but a real executor may already have
        # queued the Timeout when the cancel arrives: only the pending request is resent.
        if pending is None or cid != self._cid(pending.n):
            return
        self.retries += 1
        self._send(pending, output)

    def _send_next(self, output: list[Envelope]) -> None:
        i = len(self.got)
        if i >= self.total:
            return
        n = self.first + i
        if i < self.requests:
            payload = payload_for(self.pid, n)
        else:  # on disk before request n leaves: a later life numbers above it
            payload = self.said[i - self.requests]
            output.append(persist(self.pid, n + 1))
        self.pending = EchoRequest(n, payload)
        self._send(self.pending, output)

    def _send(self, request: EchoRequest, output: list[Envelope]) -> None:
        cid = self._cid(request.n)
        output.append(Envelope(self.server, self.pid, request, cid))
        output.append(start_timer(self.pid, self.retry_ms, cid))

    def _cid(self, n: int) -> CorrelationId:
        return CorrelationId(self.pid, n)


def restored_first(durable: dict[Pid, Any] | None, pid: Pid) -> int:
    """The first request number of client ``pid`` in this life: 1, unless an earlier life
    sent a request for a payload said (then the number after it)."""
    data = (durable or {}).get(pid)
    return data if isinstance(data, int) and not isinstance(data, bool) and data >= 1 else 1


def replies_match_requests(
    before: Any, after: Any, msg: EchoReply, outputs: Sequence[Envelope]
) -> None:
    """Postcondition on ``EchoReply``: a reply a client accepts answers its pending request.

    Checked against the request the client sent (``before.pending``), not against its
    own matching rule, so a server that answers with someone else's payload is caught at
    the step the client takes it.
    """
    if not isinstance(after, EchoClient):
        return
    accepted = after.got[len(before.got) :]
    if not accepted:
        return
    sent = before.pending
    assert sent is not None and accepted == [EchoReply(sent.n, sent.payload)], (
        f"{after.pid} accepted {accepted} but its pending request was {sent}"
    )
