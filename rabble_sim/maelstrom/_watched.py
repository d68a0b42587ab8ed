"""The node's processes, each in a wrapper that tells the adapter what becomes of the
clients' requests: taken, failed, or never to be handled because the process stopped.

A client must never wait for a reply that cannot come. A process that raises while
handling a client's request, without having answered it (or passed it on with its cid),
gets it answered with error 13 (crash, indefinite: it may have done part of the work); a
receiver that stops (``Shutdown``) gets the requests still queued for it answered with
error 11 (temporarily unavailable, definite: they never reached it). The exception goes
on to the executor, which logs it, as for any process.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..core import CorrelationId, Envelope, Pid, Shutdown
from ._node import CLIENTS


class Watcher(Protocol):
    """What a wrapper reports to (the adapter)."""

    def taken(self, cid: CorrelationId) -> None:
        """The client's request with ``cid`` reached its process."""

    def crashed(self, pid: Pid, msg: Any, client: Pid, cid: CorrelationId) -> None:
        """``pid`` raised on ``msg``, the request of ``client`` with ``cid``, unanswered."""

    def stopping(self, pid: Pid) -> None:
        """``pid`` asked its executor to stop it."""


class Watched:
    """A process, as its node runs it (``pid``, ``init`` and ``handle`` are its own)."""

    def __init__(self, proc: Any, watcher: Watcher) -> None:
        self.inner = proc
        self.pid: Pid = proc.pid
        self.watcher = watcher

    def init(self, output: list[Envelope]) -> None:
        init = getattr(self.inner, "init", None)
        if init is not None:
            init(output)
            self._stops(output)

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        request = cid is not None and cid.pid == from_ and from_.node == CLIENTS
        if request:
            assert cid is not None
            self.watcher.taken(cid)
        try:
            self.inner.handle(msg, from_, cid, output)
        except BaseException:
            if request and not any(isinstance(e, Envelope) and e.cid == cid for e in output):
                assert cid is not None
                self.watcher.crashed(self.pid, msg, from_, cid)
            raise
        finally:
            self._stops(output)

    def _stops(self, output: list[Envelope]) -> None:
        if any(isinstance(e, Envelope) and type(e.msg) is Shutdown for e in output):
            self.watcher.stopping(self.pid)


def watched(built: Any, watcher: Watcher) -> Any:
    """The processes ``built`` by a start, each ``Watched``; anything else as it is, for
    the executor to say what is wrong with it."""
    if not isinstance(built, list | tuple):
        return built
    return [
        Watched(p, watcher) if isinstance(getattr(p, "pid", None), Pid) and hasattr(p, "handle")
        else p
        for p in built
    ]  # fmt: skip
