"""Protocol code that will not stop: the step watchdog, and a real Ctrl-C told apart from
protocol code that raises ``KeyboardInterrupt``.

A ``handle`` (or a check) that never returns would hang a run with no output. While a
run is watched, a daemon thread samples its progress (the step number) a few times a
second; when one step has lasted longer than the step timeout, it interrupts the thread
that runs it with ``StepTimeout``, which the call site reports as a violation of that
step. In the main thread the interruption is a signal (``SIGURG``, which is ignored by
default, so a late one is harmless), so that a blocking call (``time.sleep``, a lock)
is interrupted too; in another thread it is an asynchronous exception, which stops pure
Python code. Protocol code that swallows the interruption is interrupted again every
second, and once the step has lasted twice the timeout the process exits with status 1,
saying why: a hang is never a pass.

The watchdog reads the monotonic clock, in its own thread: it decides only whether a step
ran too long, never what a run does, so runs stay deterministic.

While a run is watched in the main thread, Ctrl-C raises ``UserInterrupt``: the call
sites let it through (and say what was running), where a ``KeyboardInterrupt`` raised by
protocol code itself is a violation like any other exception.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

DEFAULT_STEP_TIMEOUT = 10.0
"""Seconds one step (its handle and its checks) may take before it is a violation."""
STEP_TIMEOUT = "step timeout"
"""The name of the check a step that ran too long fails."""
_POLL = 0.1
"""Seconds between two looks at the watched runs, at most (and a tenth of the shortest
step timeout): a step timeout is kept to within a tenth."""
_AGAIN = 1.0
"""Seconds between two interruptions of a step that swallowed the last one."""
_SIGNAL = signal.SIGURG


class StepTimeout(BaseException):
    """Raised into protocol code whose step ran longer than ``seconds``.

    A ``BaseException``, so that protocol code catching ``Exception`` does not swallow it.
    """

    seconds: float = DEFAULT_STEP_TIMEOUT


class UserInterrupt(KeyboardInterrupt):
    """A real Ctrl-C during a watched run. ``running`` says what protocol code it
    stopped, if any ("handle of a::n1 on Ping")."""

    running: str | None = None

    def stopping(self, running: str) -> UserInterrupt:
        """This interrupt, saying that it stopped ``running`` (unless it already says
        what: the innermost call site knows best)."""
        if self.running is None:
            self.running = running
        return self


class Interrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C, with where it was: the seed, the step, what was running."""

    def __init__(self, seed: int | None, step: int, running: str | None) -> None:
        super().__init__(seed, step, running)
        self.seed = seed
        self.step = step
        self.running = running

    def __str__(self) -> str:
        seed = f" of seed {self.seed}" if self.seed is not None else ""
        running = f", in {self.running}" if self.running else ", between two steps"
        return f"interrupted at step {self.step}{seed}{running}"


class _Watch:
    """One watched stretch of work in one thread: its progress, and its step timeout."""

    def __init__(self, progress: Callable[[], object], seconds: float | None) -> None:
        self.progress = progress
        self.seconds = seconds
        self.thread = threading.get_ident()
        self.main = threading.current_thread() is threading.main_thread()
        self.timeout = type("StepTimeout", (StepTimeout,), {"seconds": seconds or 0.0})
        self.pending = False
        """An interruption was sent and not yet raised (the signal path)."""
        self.last: object = None
        self.since = time.monotonic()
        self.fired_at: float | None = None

    def look(self, now: float) -> None:
        """Called by the watchdog: interrupt the step if it has run too long."""
        value = self.progress()
        if value != self.last:
            self.last, self.since, self.fired_at = value, now, None
            return
        assert self.seconds is not None
        ran = now - self.since
        if ran < self.seconds:
            return
        if ran >= 2 * self.seconds and self.fired_at is not None:
            _give_up(value, self.seconds)
        if self.fired_at is None or now - self.fired_at >= _AGAIN:
            self.fired_at = now
            self.interrupt()

    def interrupt(self) -> None:
        if self.main:
            self.pending = True
            signal.pthread_kill(self.thread, _SIGNAL)
        else:
            _raise_in(self.thread, self.timeout)

    def on_signal(self, previous: Any) -> Callable[[int, FrameType | None], None]:
        def handler(signum: int, frame: FrameType | None) -> None:
            if self.pending:
                self.pending = False
                raise self.timeout(f"the step ran for more than {self.seconds:g} s")
            if callable(previous):
                previous(signum, frame)

        return handler


class _Watchdog:
    """The one thread that looks at every watched run."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """No watches and no thread (yet)."""
        self._lock = threading.Condition()
        self._watches: list[_Watch] = []
        self._thread: threading.Thread | None = None

    def add(self, watch: _Watch) -> None:
        with self._lock:
            self._watches.append(watch)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="rabble-watchdog")
                self._thread.daemon = True
                self._thread.start()
            self._lock.notify()

    def remove(self, watch: _Watch) -> None:
        with self._lock:
            self._watches.remove(watch)
            if not watch.main:
                _raise_in(watch.thread, None)  # an interruption not yet raised: cancel it

    def _loop(self) -> None:
        while True:
            with self._lock:
                while not self._watches:
                    self._lock.wait()
                # Under the lock: a watch that ended is never interrupted afterwards.
                shortest = self._look(time.monotonic())
            time.sleep(min(_POLL, shortest / 10))

    def _look(self, now: float) -> float:
        """Look at every watch; return the shortest step timeout. A function of its own,
        so that no local of this thread holds a watch (and its run's world) while it
        sleeps: the run frees its world as it ends."""
        for watch in self._watches:
            watch.look(now)
        return min(w.seconds or _POLL for w in self._watches)


_WATCHDOG = _Watchdog()
if hasattr(os, "register_at_fork"):
    # A forked worker (parallel sweeps) has no watchdog thread, and maybe a lock that thread
    # held: it starts afresh.
    os.register_at_fork(after_in_child=_WATCHDOG.reset)


@contextlib.contextmanager
def watching(progress: Callable[[], object], seconds: float | None) -> Iterator[None]:
    """Watch the work done inside: past ``seconds`` without a change of ``progress()``
    (the step number), interrupt it with ``StepTimeout``. ``seconds=None`` sets no limit.

    In the main thread, Ctrl-C raises ``UserInterrupt`` inside, rather than a plain
    ``KeyboardInterrupt``, so that it is never mistaken for protocol code that raised.
    """
    if seconds is not None and seconds <= 0:
        raise ValueError(f"the step timeout must be above 0 seconds, not {seconds}")
    watch = _Watch(progress, seconds)
    with contextlib.ExitStack() as stack:
        if watch.main:
            stack.enter_context(_handling(signal.SIGINT, _on_ctrl_c))
            if seconds is not None:
                stack.enter_context(_handling(_SIGNAL, watch.on_signal))
        if seconds is not None:
            _WATCHDOG.add(watch)
            stack.callback(_WATCHDOG.remove, watch)
        yield


@contextlib.contextmanager
def _handling(signum: int, make: Callable[[Any], Any]) -> Iterator[None]:
    previous = signal.getsignal(signum)
    signal.signal(signum, make(previous))
    try:
        yield
    finally:
        signal.signal(signum, previous)


def _on_ctrl_c(previous: Any) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        if previous is signal.SIG_IGN:
            return
        if callable(previous) and previous is not signal.default_int_handler:
            try:
                previous(signum, frame)
            except KeyboardInterrupt:
                raise UserInterrupt() from None
            return
        raise UserInterrupt()

    return handler


def _raise_in(thread: int, error: type[BaseException] | None) -> None:
    """Raise ``error`` in ``thread`` at its next bytecode (None: cancel one pending)."""
    with contextlib.suppress(AttributeError):  # an interpreter without the C API
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread), ctypes.py_object(error) if error is not None else None
        )


def _give_up(step: object, seconds: float) -> None:
    """The step ignored every interruption: exit, saying so, rather than hang."""
    sys.stderr.write(
        f"rabble-sim: step {step} ran for more than {2 * seconds:g} s and ignored every "
        "interruption (it catches BaseException?): exiting with status 1\n"
    )
    sys.stderr.flush()
    os._exit(1)
