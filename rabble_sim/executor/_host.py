"""What an executor needs of the host it runs in: the simulator or a TCP node.

The executor's semantics (what each request means, who may make it, what a dead letter is)
are written once, in ``_core.py``. What differs between hosts is behind this interface:
how a message travels and when time passes (virtual or real), where durable state and
client histories go (a dict or a data directory), and what a failure of protocol code is
(a violation in the simulator, a log line on a node).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ..core import CorrelationId, Envelope, Pid, RabbleError


class Reported(RabbleError):
    """A failure the host has reported its own way (the simulator's violations): the
    executor lets it through untouched."""


class UserCodeFailed(RabbleError):
    """Protocol code that the executor called (a factory, a routing policy, ``init``)
    failed in a way the host wants the executor to carry on from: ``reason`` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unsaved(RabbleError):
    """A process's durable state or history could not be written: it stops, fail-stop."""


class Host(Protocol):
    """One node's host, as its executor sees it."""

    def send(self, env: Envelope) -> None:
        """Put ``env`` in flight to its receiver, on this node or another."""

    def send_local(self, env: Envelope) -> None:
        """Pass ``env`` on within this node (a routed hop): it has crossed the network."""

    def set_timer(self, pid: Pid, cid: CorrelationId | None, ms: int) -> None:
        """Deliver ``Timeout()`` with ``cid`` to ``pid`` in ``ms``; replaces the timer
        ``pid`` started with the same ``cid``."""

    def cancel_timer(self, pid: Pid, cid: CorrelationId | None) -> bool:
        """Cancel ``pid``'s timer with ``cid``; whether there was one."""

    def cancel_timers(self, pids: Sequence[Pid]) -> None:
        """Cancel every timer of these processes (they stopped)."""

    def clock(self) -> int:
        """This node's clock, in ms: virtual (and maybe drifting) in the simulator, the
        OS's monotonic clock on a TCP node."""

    def random(self, below: int) -> int:
        """A number from 0 to ``below - 1``: a choice of the run in the simulator, the
        OS's randomness on a TCP node."""

    def store(self, pid: Pid, data: Any) -> None:
        """Make ``data`` the durable state of ``pid``; ``Unsaved`` if it cannot be written."""

    def record(self, client: Pid, kind: str, op: Any, value: Any) -> None:
        """Append an ``invoke`` or ``ok`` of ``client`` to the client history; ``Unsaved``
        if it cannot be written."""

    def members(self) -> tuple[str, ...]:
        """The nodes this node counts as members now, sorted."""

    def call(self, what: str, running: str, function: Callable[..., Any], *args: Any) -> Any:
        """Call protocol code ``function`` (a ``what``: factory, routing policy, init)
        while ``running`` says what runs; return what it returns. If it raises, either
        raise ``UserCodeFailed`` for the executor to carry on from, or (the simulator)
        report the failure the host's own way."""

    def call_service(
        self, running: str, function: Callable[..., Any], args: Sequence[Any],
        answer: Callable[[Any, BaseException | None], None],
    ) -> None:  # fmt: skip
        """Run a service (``running`` says which, for whom), now or in the background,
        then ``answer(result, error)``."""

    def dead_letter(self, count: int, what: str) -> None:
        """The executor's ``count``-th dead letter, described by ``what``."""

    def stopped(self, pid: Pid, reason: str) -> None:
        """``pid`` stopped fail-stop, for ``reason``."""
