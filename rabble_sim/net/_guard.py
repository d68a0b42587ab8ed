"""Running the processes' code on a node: whatever it raises is logged and counted, code
that does not return is noticed from outside the event loop it blocks, and a stop signal
still gets through.

``Guard.run`` calls protocol code (``handle``, ``init``, a factory, a routing policy) and
catches everything it raises, ``SystemExit`` and ``KeyboardInterrupt`` included: a node in
production logs a bug and keeps serving (the simulator is where it is a violation). The
log says the first ten, then every hundredth, numbered.

A ``handle`` stuck in a loop, or waiting on something that never comes, stops everything
else on the node, the log included. ``Guard.running`` marks the code running (one
attribute set before each call and cleared after, no clock read per message); a
``Watchdog`` thread samples that mark and logs, once per stuck call, the pid and the
message it was given.

A stop signal (SIGTERM, SIGINT) that finds protocol code running raises ``Interrupted``
inside it (``serve`` installs the handler): ``Guard.run`` catches it, logs it, and sets
``halted``, so that the executor handles nothing more and the node can leave the cluster
and exit although the code would never have returned. Code that catches
``BaseException`` and carries on swallows it too; only SIGKILL stops such a node.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from ..core import Pid
from ._tally import Tally

log = logging.getLogger("rabble_sim.net")

FAILED = object()
"""What ``Guard.run`` returns when the code it ran raised (or was interrupted)."""

Running = tuple[int, str, Pid | None, Any]
"""What an executor is running: (its turn, a number that grows with each call; the kind of
code: ``handle``, ``init``, ...; the pid; the message, or another object it was given).
Without a pid, the object given is a description of what runs ("init of a::n1")."""


class Interrupted(BaseException):
    """A stop signal arrived while a process's code was running: that call is abandoned,
    as a crash would abandon it, and the node stops."""


def describe(running: Running) -> str:
    """``handle of PID on MESSAGE-TYPE``, for the log."""
    _, kind, pid, given = running
    if pid is None:
        return str(given)
    on = given if isinstance(given, str) else type(given).__qualname__
    return f"{kind} of {pid} on {on}"


class Guard:
    """Runs protocol code for one executor, and keeps count of what it raised."""

    def __init__(self) -> None:
        self.running: Running | None = None
        """The protocol code running now, for the watchdog and the stop signal."""
        self.halted = False
        """Whether a stop signal interrupted protocol code: nothing more is to run."""
        self.last_error: BaseException | None = None
        """What the last code that failed raised (None if a stop signal interrupted it)."""
        self._turn = 0
        self._exceptions = Tally(100)

    @property
    def exceptions(self) -> int:
        """Exceptions raised by the code run so far."""
        return self._exceptions.count

    def run(
        self, kind: str, pid: Pid | None, given: Any, code: Callable[..., Any], *args: Any
    ) -> Any:
        """``code(*args)``, the ``kind`` of code of ``pid`` (given ``given``: a message, a
        factory's name...), marked as running; its result, or ``FAILED`` if it raised
        (logged and counted) or was interrupted by a stop signal (then ``halted``)."""
        self._turn += 1
        try:
            self.running = (self._turn, kind, pid, given)
            result = code(*args)
            self.running = None
        except Interrupted:
            running, self.running = self.running, None
            self.last_error = None
            self.halt(running)
            return FAILED
        except BaseException as e:  # SystemExit and KeyboardInterrupt too: protocol code's
            running, self.running = self.running, None
            self.last_error = e
            if self._exceptions.add():
                what = describe(running) if running else f"{kind} of {pid}"
                log.error(
                    "exception #%d in %s%s:\n%s",
                    self._exceptions.count, what, self._exceptions.thinning(),
                    traceback.format_exc().rstrip(),
                )  # fmt: skip
            return FAILED
        return result

    def halt(self, running: Running | None) -> None:
        """A stop signal interrupted ``running``: nothing more is to run; the node stops."""
        self.halted = True
        what = describe(running) if running else "the executor"
        log.warning("a stop signal interrupted %s: the node stops", what)


class Watchdog:
    """A daemon thread that logs protocol code running longer than ``stuck_after`` seconds,
    once per call, and says when it returns."""

    def __init__(self, guard: Guard, node: str, stuck_after: float) -> None:
        self.guard = guard
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
            running = self.guard.running  # one read: a consistent tuple
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
                log.warning("%s returned after about %.1f s", describe(watched), now - since)
            watched, since, reported = running, now, False
