"""A node's processes on the real clock: the TCP node as the host of its executor.

What each request to the executor means is written once, in ``rabble_sim.executor``;
this module hosts it on a node. Messages for this node are queued and handled in order, a
batch per turn of the event loop, so that reading the network is never starved. Timers
are ``loop.call_later``; durable state goes to the data directory and client histories
to its ``history.jsonl``, synchronously, before the process's next message; services run
in a worker pool, off the loop. A message to a process on this node is copied through
the codec, as one that crosses the network is, so that it arrives as it would from
anywhere (and as in the simulator).

Whatever the processes' code raises (``handle``, ``init``, a factory, a routing policy,
a service; ``SystemExit`` and ``KeyboardInterrupt`` included) is logged and counted, and
the node keeps serving: the simulator is where an exception is a violation. A process
whose durable state or history cannot be written stops at once (fail-stop): it never
carries on as if its state were saved.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..codec import to_plain, transit
from ..core import (
    CodecError,
    CorrelationId,
    Envelope,
    Pid,
    RabbleError,
    Routes,
    Timeout,
)
from ..executor import (
    RECEIVED,
    BadOutput,
    BadRequest,
    BadStart,
    Executor,
    Unsaved,
    UserCodeFailed,
)
from ._disk import DataDir
from ._guard import FAILED, Guard, Interrupted
from ._history import HistoryRecorder
from ._tally import Tally

log = logging.getLogger("rabble_sim.net")

BATCH = 256
"""Messages handled per turn of the event loop before letting I/O run."""
INBOX_LIMIT = 4 * BATCH
"""Messages waiting for this node's processes above which its links stop reading, so that
TCP's flow control slows down the peers that send faster than the processes handle."""


class LocalExecutor:
    """Runs one node's processes. ``route`` takes every envelope the executor sends (the
    node delivers it here, to a caller of its own, or over a link)."""

    def __init__(
        self,
        node: str,
        *,
        route: Callable[[Envelope], None],
        members: Callable[[], tuple[str, ...]],
        disk: DataDir | None = None,
        routes: Routes | None = None,
        factories: Mapping[str, Callable[[Pid, Any], Any]] | None = None,
        services: Mapping[str, Callable[..., Any]] | None = None,
        workers: int = 4,
    ) -> None:
        self.node = node
        self.core = Executor(node, self, routes=routes, factories=factories, services=services)
        self.pid = self.core.pid
        self.guard = Guard()
        """Runs the processes' code (see ``_guard``)."""
        self._dead_letters = Tally(1000)
        self._route = route
        self._members = members
        self._disk = disk
        self._history = HistoryRecorder(disk.root if disk is not None else None, node)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=f"rabble-{node}-service")
        self._loop = asyncio.get_running_loop()
        self._inbox: deque[Envelope] = deque()
        self._scheduled = False
        self._room = asyncio.Event()
        self._room.set()
        self._timers: dict[tuple[Pid, CorrelationId | None], asyncio.TimerHandle] = {}

    # -- life ---------------------------------------------------------------------------

    def start(self, processes: Iterable[Any]) -> None:
        """Register ``processes`` (built by the scenario's ``start``) and run their init;
        a ``RabbleError`` if they are not this node's processes."""
        try:
            started = self.core.register_all(processes)
        except BadStart as e:
            raise RabbleError(f"the scenario's start for node {self.node} {e}") from None
        self._safely(lambda: self.core.init(started))

    def close(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._history.close()

    # -- what it knows --------------------------------------------------------------------

    @property
    def processes(self) -> dict[Pid, Any]:
        return self.core.processes

    @property
    def metrics(self) -> dict[Pid, list[int]]:
        return self.core.metrics

    @property
    def failed(self) -> dict[Pid, str]:
        """Processes stopped because their durable state could not be written: why."""
        return self.core.failed

    @property
    def dead_letters(self) -> int:
        return self.core.dead_letters

    @property
    def exceptions(self) -> int:
        """Exceptions raised by the processes' code so far."""
        return self.guard.exceptions

    def states(self) -> dict[str, Any]:
        """Every process's state as plain data, by pid string (as ``status`` shows it)."""
        return {str(pid): to_plain(proc) for pid, proc in sorted(self.processes.items())}

    def members_changed(self, members: tuple[str, ...]) -> None:
        self.core.members_changed(members)

    # -- delivery ---------------------------------------------------------------------------

    def deliver(self, env: Envelope) -> None:
        """Queue ``env`` (addressed to this node) to be handled in order."""
        self._inbox.append(env)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._drain)

    def room(self) -> Coroutine[Any, Any, bool] | None:
        """None while the inbox is under ``INBOX_LIMIT``; otherwise something to await until
        it is again. A link asks before it reads the next frame."""
        if len(self._inbox) < INBOX_LIMIT:
            return None
        self._room.clear()
        return self._room.wait()

    def _drain(self) -> None:
        inbox = self._inbox
        try:
            for _ in range(min(BATCH, len(inbox))):
                if self.guard.halted:
                    return
                self._handle(inbox.popleft())
        except Interrupted:  # a signal just outside the code it was meant for
            self.guard.halt(None)
        finally:  # even after a bug in rabble-sim: never stop draining
            self._scheduled = bool(inbox) and not self.guard.halted
            if self._scheduled:
                self._loop.call_soon(self._drain)
            if len(inbox) < INBOX_LIMIT:
                self._room.set()

    def _handle(self, env: Envelope) -> None:
        to = env.to
        proc = self.core.processes.get(to)
        if proc is None:
            self._safely(lambda: self.core.deliver_absent(env))
            return
        self.core.metrics[to][RECEIVED] += 1
        output: list[Envelope] = []
        # A bug in a process: the simulator reports it as a violation; a node in
        # production logs it and keeps serving (the process keeps its state, and what it
        # appended to output before it raised is sent).
        self.guard.run("handle", to, env.msg, proc.handle, env.msg, env.from_, env.cid, output)
        if output and not self.guard.halted:
            self._safely(lambda: self.core.send_output(to, output))

    def _safely(self, work: Callable[[], object]) -> None:
        """Do ``work`` for the core; what a process sent that cannot be sent or served is
        logged, and the node carries on."""
        try:
            work()
        except BadOutput as e:
            log.error("%s", e)
        except BadRequest as e:
            log.error("%s", e, exc_info=e.error)
        except CodecError as e:  # an executor's answer that cannot be sent (a service's)
            log.error("an answer of the executor of %s cannot be sent: %s", self.node, e)

    # -- the host: what the executor asks of the node --------------------------------------

    def send(self, env: Envelope) -> None:
        try:
            if env.to.node == self.node:
                env = self._copy(env)  # as it would arrive from anywhere, as in the simulator
            self._route(env)
        except CodecError as e:  # a node logs what cannot be sent, and sends the rest
            log.error("bad output of %s: to %s: %s", env.from_, env.to, e)

    def send_local(self, env: Envelope) -> None:
        self.deliver(self._copy(env))

    def set_timer(self, pid: Pid, cid: CorrelationId | None, ms: int) -> None:
        key = (pid, cid)
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        self._timers[key] = self._loop.call_later(ms / 1000, self._fire, pid, cid)

    def cancel_timer(self, pid: Pid, cid: CorrelationId | None) -> bool:
        handle = self._timers.pop((pid, cid), None)
        if handle is None:
            return False
        handle.cancel()
        return True

    def clock(self) -> int:
        return int(time.monotonic() * 1000)  # the OS's: what drift and jumps stand for

    def random(self, below: int) -> int:
        return secrets.randbelow(below)  # the OS's randomness: a node is not a simulation

    def cancel_timers(self, pids: Sequence[Pid]) -> None:
        gone = set(pids)
        for key in [key for key in self._timers if key[0] in gone]:
            self._timers.pop(key).cancel()

    def store(self, pid: Pid, data: Any) -> None:
        if self._disk is not None:
            try:
                self._disk.persist(pid, data)
            except (OSError, RabbleError) as e:
                raise Unsaved(f"its durable state could not be saved: {_reason(e)}") from None

    def record(self, client: Pid, kind: str, op: Any, value: Any) -> None:
        try:
            self._history.record(client, kind, op, value)
        except (OSError, RabbleError) as e:
            raise Unsaved(f"its history could not be recorded: {_reason(e)}") from None

    def members(self) -> tuple[str, ...]:
        return self._members()

    def call(self, what: str, running: str, function: Callable[..., Any], *args: Any) -> Any:
        result = self.guard.run(what, None, running, function, *args)
        if result is FAILED:
            error = self.guard.last_error
            raise UserCodeFailed(
                f"the {what} raised {error!r}" if error is not None else "interrupted"
            )
        return result

    def call_service(
        self, running: str, function: Callable[..., Any], args: Sequence[Any],
        answer: Callable[[Any, BaseException | None], None],
    ) -> None:  # fmt: skip
        future = self._loop.run_in_executor(self._pool, function, *args)

        def done(finished: asyncio.Future[Any]) -> None:
            if finished.cancelled():
                return
            error = finished.exception()
            self._safely(lambda: answer(None if error else finished.result(), error))

        future.add_done_callback(done)

    def dead_letter(self, count: int, what: str) -> None:
        # The first ten, and every thousandth, so that a process stuck sending to nowhere
        # does not fill the log.
        if self._dead_letters.add():
            log.warning("dead letter #%d: %s%s", count, what, self._dead_letters.thinning())

    def stopped(self, pid: Pid, reason: str) -> None:
        log.error("process %s stopped: %s", pid, reason)

    # -- inside ---------------------------------------------------------------------------------

    def _fire(self, pid: Pid, cid: CorrelationId | None) -> None:
        del self._timers[(pid, cid)]
        self.deliver(Envelope(pid, self.pid, Timeout(), cid))

    @staticmethod
    def _copy(env: Envelope) -> Envelope:
        _, msg = transit(env.msg)
        return Envelope(env.to, env.from_, msg, env.cid)


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    return str(error)
