"""A node's processes and its executor, on the real clock: what the World does in simulation.

Messages for this node are queued and handled in order, a batch per turn of the event loop,
so that reading the network is never starved. Requests to the executor have the same
meaning as in the simulator: timers (``loop.call_later``), durable state (to the data
directory, synchronously, before the process's next message), client histories (to the
data directory's ``history.jsonl``, likewise), shutdown, metrics, status, cluster watches,
spawn, routing and services (in a worker pool, off the loop).

Whatever the processes' code raises (``handle``, ``init``, a factory, a routing policy,
a service; ``SystemExit`` and ``KeyboardInterrupt`` included) is logged and counted, and
the node keeps serving: the simulator is where an exception is a violation. A process
whose durable state or history cannot be written stops at once (fail-stop): it never
carries on as if its state were saved.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..codec import to_plain
from ..core import (
    EXECUTOR_GROUP,
    CallService,
    CancelTimer,
    ClusterStatus,
    CodecError,
    Complete,
    CorrelationId,
    Envelope,
    ExecutorStatus,
    GetExecutorStatus,
    GetMetrics,
    Invoke,
    Metrics,
    Persist,
    Pid,
    RabbleError,
    Router,
    Routes,
    ServiceFailed,
    ServiceResult,
    Shutdown,
    Spawn,
    Spawned,
    SpawnFailed,
    StartTimer,
    Timeout,
    WatchCluster,
    executor_pid,
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
_RECEIVED, _SENT, _STARTED, _CANCELLED = range(4)


class _Unsaved(Exception):
    """A process's durable state or history could not be written."""


class LocalExecutor:
    """Runs one node's processes. ``route`` takes every envelope they send that is not a
    request to this executor (the node delivers it here or over a link)."""

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
        self.pid = executor_pid(node)
        self.processes: dict[Pid, Any] = {}
        self.metrics: dict[Pid, list[int]] = {}
        self.failed: dict[Pid, str] = {}
        """Processes stopped because their durable state could not be written: why."""
        self.guard = Guard()
        """Runs the processes' code (see ``_guard``)."""
        self._dead_letters = Tally(1000)
        self._route = route
        self._members = members
        self._disk = disk
        self._history = HistoryRecorder(disk.root if disk is not None else None, node)
        self._router = Router(routes or Routes())
        self._factories = dict(factories or {})
        self._services = dict(services or {})
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=f"rabble-{node}-service")
        self._loop = asyncio.get_running_loop()
        self._inbox: deque[Envelope] = deque()
        self._scheduled = False
        self._room = asyncio.Event()
        self._room.set()
        self._timers: dict[tuple[Pid, CorrelationId | None], asyncio.TimerHandle] = {}
        self._watchers: dict[Pid, None] = {}  # a dict, for a stable order

    # -- life ---------------------------------------------------------------------------

    def start(self, processes: Iterable[Any]) -> None:
        """Register ``processes`` (built by the scenario's ``start``) and run their init."""
        started = [self._register(proc) for proc in processes]
        for proc in started:
            self._init(proc)

    def close(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._history.close()

    @property
    def dead_letters(self) -> int:
        return self._dead_letters.count

    @property
    def exceptions(self) -> int:
        """Exceptions raised by the processes' code so far."""
        return self.guard.exceptions

    def states(self) -> dict[str, Any]:
        """Every process's state as plain data, by pid string (as ``status`` shows it)."""
        return {str(pid): to_plain(proc) for pid, proc in sorted(self.processes.items())}

    def members_changed(self, members: tuple[str, ...]) -> None:
        for watcher in self._watchers:
            self._reply(watcher, ClusterStatus(members), None)

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
        if to == self.pid:
            self._request(env)
            return
        proc = self.processes.get(to)
        if proc is None:
            self._unknown(env)
            return
        self.metrics[to][_RECEIVED] += 1
        output: list[Envelope] = []
        # A bug in a process: the simulator reports it as a violation; a node in
        # production logs it and keeps serving (the process keeps its state, and what it
        # appended to output before it raised is sent).
        self.guard.run("handle", to, env.msg, proc.handle, env.msg, env.from_, env.cid, output)
        if not self.guard.halted:
            self._send(to, output)

    def _unknown(self, env: Envelope) -> None:
        to = env.to
        if to in self.failed:
            self._dead_letter(
                "%s for %s, from %s (it failed: %s)",
                type(env.msg).__qualname__, to, env.from_, self.failed[to],
            )  # fmt: skip
            return
        if self._router.routes_name(to.name):
            resolve = self._router.resolve
            targets = self.guard.run("routing policy", to, env.msg, resolve, env, self.processes)
            if targets is FAILED:
                return  # that message only is lost, as a bug in the policy would lose it
            for target in targets:
                self.deliver(Envelope(target, env.from_, env.msg, env.cid))
            if targets:
                return
        self._dead_letter(
            "%s for %s, from %s (no such process on %s)",
            type(env.msg).__qualname__, to, env.from_, self.node,
        )  # fmt: skip

    def _dead_letter(self, what: str, *args: object) -> None:
        """Count one; log the first ten and every thousandth, so that a process stuck
        sending to nowhere does not fill the log."""
        if self._dead_letters.add():
            tail = self._dead_letters.thinning()
            log.warning("dead letter #%d: " + what + "%s", self._dead_letters.count, *args, tail)

    def _send(self, sender: Pid, output: list[Envelope]) -> None:
        if not output:
            return
        counts = self.metrics.get(sender)
        if counts is not None:
            counts[_SENT] += len(output)
        for env in output:
            if env.to.group == EXECUTOR_GROUP and env.to == self.pid:
                self._request(env)
                if sender in self.failed:
                    return  # what it sent after a failed persist must not go out
                continue
            try:
                self._route(env)
            except CodecError as e:  # only a message for another node is encoded
                log.error("%s sent a message to %s that cannot be sent: %s", sender, env.to, e)

    # -- the executor's requests --------------------------------------------------------------

    def _request(self, env: Envelope) -> None:
        msg, sender = env.msg, env.from_
        try:
            handler = _REQUESTS.get(type(msg))
            if handler is not None and sender.node != self.node and type(msg) not in _REMOTE:
                handler = None  # timers, durable state and the rest are for local processes
            if handler is None:
                self._dead_letter("the executor of %s got %r from %s", self.node, msg, sender)
                return
            handler(self, env)
        except _Unsaved as e:
            self._fail(sender, str(e))
        except Exception:
            log.error(
                "bad request of %s to the executor of %s (%r):\n%s",
                sender, self.node, msg, traceback.format_exc().rstrip(),
            )  # fmt: skip

    def _start_timer(self, env: Envelope) -> None:
        sender, cid = env.from_, env.cid
        if sender not in self.processes:
            return
        key = (sender, cid)
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        delay = max(0, int(env.msg.ms)) / 1000
        self._timers[key] = self._loop.call_later(delay, self._fire, sender, cid)
        self.metrics[sender][_STARTED] += 1

    def _fire(self, pid: Pid, cid: CorrelationId | None) -> None:
        del self._timers[(pid, cid)]
        self.deliver(Envelope(pid, self.pid, Timeout(), cid))

    def _cancel_timer(self, env: Envelope) -> None:
        cid = env.msg.cid if env.msg.cid is not None else env.cid
        handle = self._timers.pop((env.from_, cid), None)
        if handle is not None:
            handle.cancel()
            self.metrics[env.from_][_CANCELLED] += 1

    def _persist(self, env: Envelope) -> None:
        if self._disk is not None:
            try:
                self._disk.persist(env.from_, env.msg.data)
            except (OSError, RabbleError) as e:
                raise _Unsaved(f"its durable state could not be saved: {_reason(e)}") from None

    def _record(self, env: Envelope) -> None:
        try:
            self._history.record(env.from_, env.msg)
        except (OSError, RabbleError) as e:
            raise _Unsaved(f"its history could not be recorded: {_reason(e)}") from None

    def _shutdown(self, env: Envelope) -> None:
        self._stop(env.from_)

    def _stop(self, pid: Pid) -> bool:
        """Remove ``pid``, its timers and watches; whether it was running."""
        if self.processes.pop(pid, None) is None:
            return False
        del self.metrics[pid]
        self._watchers.pop(pid, None)
        for key in [key for key in self._timers if key[0] == pid]:
            self._timers.pop(key).cancel()
        return True

    def _fail(self, pid: Pid, reason: str) -> None:
        """Stop ``pid`` fail-stop: it handles nothing more; ``status`` lists it as failed."""
        if self._stop(pid):
            self.failed[pid] = reason
            log.error("process %s stopped: %s", pid, reason)

    def _get_metrics(self, env: Envelope) -> None:
        target = env.msg.pid or env.from_
        counts = self.metrics.get(target, [0, 0, 0, 0])
        self._reply(env.from_, Metrics(target, *counts), env.cid)

    def _status(self, env: Envelope) -> None:
        self._reply(env.from_, ExecutorStatus(self.node, len(self.processes)), env.cid)

    def _watch(self, env: Envelope) -> None:
        self._watchers[env.from_] = None
        self._reply(env.from_, ClusterStatus(self._members()), env.cid)

    def _spawn(self, env: Envelope) -> None:
        msg: Spawn = env.msg
        pid = Pid(msg.name, self.node)
        factory = self._factories.get(msg.factory)
        if factory is None:
            reason = f"no factory named {msg.factory!r} on {self.node}"
        elif pid in self.processes:
            reason = f"{pid} is already running"
        else:
            proc = self.guard.run("factory", pid, msg.factory, factory, pid, msg.arg)
            try:
                if proc is FAILED:
                    raise RabbleError(f"the factory {msg.factory!r} raised (see the log)")
                self._register(proc)
            except (RabbleError, TypeError, ValueError) as e:
                reason = str(e)
            else:
                self._reply(env.from_, Spawned(pid), env.cid)
                self._init(proc)
                return
        self._reply(env.from_, SpawnFailed(msg.factory, msg.name, reason), env.cid)

    def _call_service(self, env: Envelope) -> None:
        msg: CallService = env.msg
        function = self._services.get(msg.service)
        if function is None:
            reason = f"no service named {msg.service!r} on {self.node}"
            self._reply(env.from_, ServiceFailed(msg.service, reason), env.cid)
            return
        future = self._loop.run_in_executor(self._pool, function, *msg.args)

        def done(finished: asyncio.Future[Any]) -> None:
            if finished.cancelled():
                return
            error = finished.exception()
            result: Any = (
                ServiceResult(msg.service, finished.result())
                if error is None
                else ServiceFailed(msg.service, repr(error))
            )
            self._reply(env.from_, result, env.cid)

        future.add_done_callback(done)

    # -- inside ---------------------------------------------------------------------------------

    def _reply(self, to: Pid, msg: Any, cid: CorrelationId | None) -> None:
        env = Envelope(to, self.pid, msg, cid)
        if to.node == self.node:
            self.deliver(env)
        else:
            self._route(env)

    def _register(self, proc: Any) -> Any:
        pid = getattr(proc, "pid", None)
        if not isinstance(pid, Pid) or not callable(getattr(proc, "handle", None)):
            raise TypeError(f"{proc!r} is not a process (it needs a pid and a handle method)")
        if pid.node != self.node or pid in self.processes:
            why = "runs on another node" if pid.node != self.node else "is already running"
            raise ValueError(f"process {pid} {why}")
        self.processes[pid] = proc
        self.metrics[pid] = [0, 0, 0, 0]
        self.failed.pop(pid, None)  # spawned again: it runs now
        return proc

    def _init(self, proc: Any) -> None:
        init = getattr(proc, "init", None)
        if init is None:
            return
        output: list[Envelope] = []
        self.guard.run("init", proc.pid, "its start", init, output)
        if not self.guard.halted:
            self._send(proc.pid, output)


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    return str(error)


_REMOTE = (Spawn, GetMetrics, GetExecutorStatus)
"""The requests that processes on other nodes may make."""

_REQUESTS: dict[type, Callable[[LocalExecutor, Envelope], None]] = {
    StartTimer: LocalExecutor._start_timer,
    CancelTimer: LocalExecutor._cancel_timer,
    Persist: LocalExecutor._persist,
    Invoke: LocalExecutor._record,
    Complete: LocalExecutor._record,
    Shutdown: LocalExecutor._shutdown,
    GetMetrics: LocalExecutor._get_metrics,
    GetExecutorStatus: LocalExecutor._status,
    WatchCluster: LocalExecutor._watch,
    Spawn: LocalExecutor._spawn,
    CallService: LocalExecutor._call_service,
}
