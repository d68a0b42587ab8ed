"""Noticing a process's code that does not return, from outside the event loop it blocks.

A node runs its processes on its event loop: a ``handle`` stuck in a loop, or waiting on
something that never comes, stops everything else on the node, the log included. The
executor marks the protocol code it is running (``LocalExecutor.running``: one attribute
set before each call and cleared after, no clock read per message); a ``Watchdog`` thread
samples that mark and logs, once per stuck call, the pid and the message it was given.

A stop signal (SIGTERM, SIGINT) that finds protocol code running raises ``Interrupted``
inside it (``serve`` installs the handler): the executor catches it around the call, logs
it, and stops handling messages, so that the node can leave the cluster and exit although
the code would never have returned. Code that catches ``BaseException`` and carries on
swallows it too; only SIGKILL stops such a node.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Protocol

from ..core import Pid

log = logging.getLogger("rabble_sim.net")

Running = tuple[int, str, Pid, Any]
"""What an executor is running: (its turn, a number that grows with each call; the kind of
code: ``handle``, ``init``, ...; the pid; the message, or another object it was given)."""


class Interrupted(BaseException):
    """A stop signal arrived while a process's code was running: that call is abandoned,
    as a crash would abandon it, and the node stops."""


class Runs(Protocol):
    running: Running | None


def describe(running: Running) -> str:
    """``handle of PID on MESSAGE-TYPE``, for the log."""
    _, kind, pid, given = running
    on = given if isinstance(given, str) else type(given).__qualname__
    return f"{kind} of {pid} on {on}"


class Watchdog:
    """A daemon thread that logs protocol code running longer than ``stuck_after`` seconds,
    once per call, and says when it returns."""

    def __init__(self, executor: Runs, node: str, stuck_after: float) -> None:
        self.executor = executor
        self.stuck_after = stuck_after
        # Often enough that "more than N s" is said soon after N s; rarely enough to cost
        # nothing.
        self.tick = min(1.0, max(0.02, stuck_after / 10))
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=f"rabble-{node}-watchdog")
        self._thread.daemon = True

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _watch(self) -> None:
        watched: Running | None = None
        since = 0.0
        reported = False
        while not self._stopped.wait(self.tick):
            running = self.executor.running  # one read: a consistent tuple
            now = time.monotonic()
            if running is not None and watched is not None and running[0] == watched[0]:
                if not reported and now - since >= self.stuck_after:
                    reported = True
                    log.warning(
                        "%s has run for more than %g s: the node is blocked until it returns "
                        "(SIGTERM still stops it)",
                        describe(running), self.stuck_after,
                    )  # fmt: skip
                continue
            if reported and watched is not None:
                log.warning("%s returned after about %.0f s", describe(watched), now - since)
            watched, since, reported = running, now, False
