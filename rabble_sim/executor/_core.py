"""A node's executor: the processes running on it, and what each request to it means.

A process talks to its node's executor by appending envelopes addressed to
``executor_pid(node)``: timers, durable state, client histories, shutdown, metrics,
status, cluster watches, spawn and services. The executor also decides what becomes of a
message delivered to a pid that is not running: a request from another node's process, a
routed name resolved among the node's processes, or a dead letter. All of that is
written here once; the simulator and the TCP node are hosts (``_host.Host``) that give it
a clock, a network, a disk, and their own way of reporting a failure.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..core import (
    CallService,
    CancelTimer,
    ClockReading,
    ClusterStatus,
    CodecError,
    Complete,
    Envelope,
    ExecutorStatus,
    GetExecutorStatus,
    GetMetrics,
    GetRandom,
    Invoke,
    Metrics,
    Persist,
    Pid,
    RabbleError,
    RandomValue,
    ReadClock,
    Router,
    Routes,
    ServiceFailed,
    ServiceResult,
    Shutdown,
    Spawn,
    Spawned,
    SpawnFailed,
    StartTimer,
    Unwatch,
    Watch,
    WatchCluster,
    executor_pid,
)
from ._host import Host, Reported, Unsaved, UserCodeFailed
from ._links import LinkWatches

RECEIVED, SENT, STARTED, CANCELLED = range(4)
"""Indexes of a process's counters in ``Executor.metrics``."""

Request = Callable[["Executor", Pid, Envelope], "list[Envelope] | None"]
"""Serves one request: ``(executor, sender, envelope)``; returns what processes sent, if
it ran any (the ``init`` of a spawned process)."""


class BadOutput(RabbleError):
    """A process appended to its output what cannot be sent: not an envelope, not pids,
    a message that cannot travel."""

    def __init__(self, sender: Pid, problem: str) -> None:
        super().__init__(f"bad output of {sender}: {problem}")
        self.sender = sender
        self.problem = problem


class BadStart(RabbleError):
    """What a scenario's ``start`` returned is not a list of this node's processes."""


class BadRequest(RabbleError):
    """A request that its executor could not serve (``StartTimer(None)``, data that cannot
    be stored): the exception it raised is the ``__cause__``."""

    def __init__(self, sender: Pid, env: Envelope, error: Exception) -> None:
        super().__init__(f"bad request of {sender}: {env.msg!r} raised {error!r}")
        self.sender = sender
        self.env = env
        self.error = error


class Executor:
    """The executor of ``node``, in ``host``.

    ``processes`` and ``metrics`` are the registries it keeps its processes and their
    counters in; a host may share them among its nodes' executors (the simulator does, so
    that a delivery finds any process in one lookup). ``pids`` are this node's running
    processes, in the order they started.
    """

    def __init__(
        self,
        node: str,
        host: Host,
        *,
        routes: Routes | None = None,
        factories: Mapping[str, Callable[[Pid, Any], Any]] | None = None,
        services: Mapping[str, Callable[..., Any]] | None = None,
        processes: dict[Pid, Any] | None = None,
        metrics: dict[Pid, list[int]] | None = None,
    ) -> None:
        self.node = node
        self.pid = executor_pid(node)
        self.host = host
        self.processes: dict[Pid, Any] = {} if processes is None else processes
        self.metrics: dict[Pid, list[int]] = {} if metrics is None else metrics
        self.pids: list[Pid] = []
        self.watchers: dict[Pid, None] = {}
        """Ordered, as a set: notifications go out in the order processes subscribed."""
        self.links = LinkWatches()
        """Each process's watches of other nodes (``Watch``)."""
        self.failed: dict[Pid, str] = {}
        """Processes stopped because their durable state or history could not be written."""
        self.dead_letters = 0
        self._routes = routes or Routes()
        self._router = Router(self._routes)
        self._factories = dict(factories or {})
        self._services = dict(services or {})

    def fork(
        self, host: Host, processes: dict[Pid, Any], metrics: dict[Pid, list[int]]
    ) -> Executor:
        """A copy of this executor on ``host``, over ``processes`` and ``metrics`` (the
        copies of its own, which its host's world holds); the routes, factories and
        services (code) are shared."""
        clone = object.__new__(Executor)
        clone.__dict__.update(self.__dict__)
        clone.host = host
        clone.processes = processes
        clone.metrics = metrics
        clone.pids = self.pids.copy()
        clone.watchers = self.watchers.copy()
        clone.links = self.links.copy()
        clone.failed = self.failed.copy()
        clone._router = self._router.copy()
        return clone

    # -- processes ----------------------------------------------------------------------

    def register(self, proc: Any) -> str | None:
        """Run ``proc`` here; or say why it cannot: what it is, and what is wrong."""
        pid = getattr(proc, "pid", None)
        if not isinstance(pid, Pid) or not callable(getattr(proc, "handle", None)):
            return f"{proc!r}, which is not a process (it needs a pid and a handle method)"
        if pid.node != self.node or pid in self.processes:
            why = "runs on another node" if pid.node != self.node else "is already running"
            return f"a process {pid} that {why}"
        self.processes[pid] = proc
        self.pids.append(pid)
        self.metrics[pid] = [0, 0, 0, 0]
        self.failed.pop(pid, None)  # running again
        return None

    def register_all(self, built: Any) -> list[Any]:
        """Register what a scenario's ``start`` built; a ``BadStart`` that says what is wrong
        with it (one process instead of a list, a process of another node...)."""
        if hasattr(built, "handle") or not isinstance(built, Iterable) or isinstance(built, str):
            raise BadStart(
                f"returned {built!r}, not a list of processes (return [process, ...], or [] "
                "for a node with none)"
            )
        procs = list(built)
        for proc in procs:
            problem = self.register(proc)
            if problem is not None:
                raise BadStart(f"returned {problem}")
        return procs

    def init(self, procs: list[Any]) -> list[Envelope]:
        """Run each process's ``init``, if it has one, and send what it appended; return
        what they sent."""
        sent: list[Envelope] = []
        for proc in procs:
            init = getattr(proc, "init", None)
            if init is None:
                continue
            output: list[Envelope] = []
            # If it raises, the host says how; what it appended before is sent all the same.
            with contextlib.suppress(UserCodeFailed):
                self.host.call("init", f"init of {proc.pid}", init, output)
            self.send_output(proc.pid, output)
            sent += output
        return sent

    def stop(self, pid: Pid) -> bool:
        """Stop ``pid``: its timers and its watch go with it. Whether it was running."""
        if self.processes.pop(pid, None) is None:
            return False
        self.pids.remove(pid)
        del self.metrics[pid]
        self.watchers.pop(pid, None)
        self.links.forget(pid)
        self.host.cancel_timers([pid])
        return True

    def stop_all(self) -> None:
        """The node crashed: every process, timer and watch is gone, and routing starts
        over, as on a restarted TCP node."""
        pids, self.pids = self.pids, []
        for pid in pids:
            del self.processes[pid]
            self.metrics.pop(pid, None)
        self.host.cancel_timers(pids)
        self.watchers = {}
        self.links = LinkWatches()
        self._router = Router(self._routes)

    def watches_and_turns(self) -> tuple[Any, ...] | None:
        """What this executor holds that decides what it will do, and its processes do
        not: the processes that watch the members and each watch of a node, in the order
        they are told, and its routing policies' turns; None when it holds none of these
        (a fingerprint counts it)."""
        if not (self.watchers or self.links or self._router.turning):
            return None
        return (tuple(self.watchers), self.links.entries(), self._router.turns())

    @property
    def watching(self) -> bool:
        """Whether a process here watches the members or a link (``members_changed``
        then matters)."""
        return bool(self.watchers or self.links)

    def members_changed(self, members: tuple[str, ...]) -> None:
        """Tell every watcher the members this node sees now, and every process that
        watched a node no longer among them that its link is lost."""
        for watcher in self.watchers:
            self.host.send(Envelope(watcher, self.pid, ClusterStatus(members)))
        if self.links:
            self._links_lost(members)

    def _links_lost(self, members: tuple[str, ...]) -> None:
        for watcher, lost, cid in self.links.lost(members):
            self.host.send(Envelope(watcher, self.pid, lost, cid))

    # -- messages -----------------------------------------------------------------------

    def send_output(self, sender: Pid, output: list[Envelope]) -> None:
        """Serve what ``sender`` appended for this executor, at once and in order (a timer
        started and cancelled in one output never exists), and put the rest in flight.

        Raises ``BadOutput`` for what cannot be sent and ``BadRequest`` for a request that
        cannot be served; the host says what that is (a violation, a log line).
        """
        if not output:
            return
        counts = self.metrics.get(sender)
        if counts is not None:
            counts[SENT] += len(output)
        me, send = self.pid, self.host.send
        for env in output:
            if type(env) is not Envelope:
                raise BadOutput(sender, f"appended {env!r} to output, which is not an Envelope")
            to = env.to
            if type(to) is not Pid or type(env.from_) is not Pid:
                raise BadOutput(
                    sender, f"appended {env!r} to output: its to and from_ must be Pids"
                )
            if to == me:
                kind = type(env.msg)
                if kind is StartTimer or kind is CancelTimer:
                    # The hot requests (a client starts and cancels a timer for every
                    # request it sends), served without the table's lookups.
                    try:
                        (self._start_timer if kind is StartTimer else self._cancel_timer)(
                            sender, env
                        )
                    except Exception as e:  # StartTimer(None), say
                        raise BadRequest(sender, env, e) from e
                    continue
                self.request(sender, env)
                if sender in self.failed:
                    return  # what it sent after a failed persist must not go out
                continue
            try:
                send(env)
            except CodecError as e:
                raise BadOutput(sender, f"to {to}: {e}") from None

    def request(self, sender: Pid, env: Envelope) -> list[Envelope]:
        """Serve ``env``, a request of ``sender`` to this executor; return what processes
        sent meanwhile (a spawned ``init``)."""
        kind = type(env.msg)
        local = sender.node == self.node
        handler = (_LOCAL if local else _REMOTE).get(kind)
        if handler is None:
            why = "not a request" if kind not in _LOCAL else "only a local process may ask it"
            self.dead_letter(env, why)
            return []
        try:
            return handler(self, sender, env) or []
        except Unsaved as e:
            self._fail(sender, str(e))
        except (Reported, BadOutput, BadRequest):
            raise  # the host's own report of a failure, or one of ours
        except Exception as e:  # a malformed request: StartTimer(None), data that cannot be stored
            raise BadRequest(sender, env, e) from e
        return []

    def deliver_absent(self, env: Envelope) -> list[Envelope]:
        """``env`` was delivered to a pid that is not running here: serve it if it is a
        request to this executor, route it if its name is routed here, else count a dead
        letter. Returns what processes sent meanwhile (a spawned ``init``)."""
        to = env.to
        if to == self.pid:
            return self.request(env.from_, env)
        if to in self.failed:
            self.dead_letter(env, f"it failed: {self.failed[to]}")
            return []
        router = self._router
        if router.routes_name(to.name):
            running = f"the routing of {to}"
            try:
                targets = self.host.call("routing policy", running, router.resolve, env, self.pids)
            except UserCodeFailed:
                return []  # that message is lost, as a bug in the policy would lose it
            for target in targets:
                self.host.send_local(Envelope(target, env.from_, env.msg, env.cid))
            if targets:
                return []
        self.dead_letter(env, f"no such process on {self.node}")
        return []

    # -- requests -------------------------------------------------------------------------

    def _start_timer(self, sender: Pid, env: Envelope) -> None:
        counts = self.metrics.get(sender)
        if counts is None:
            return  # it sent Shutdown earlier in the same output: its timer would never fire
        self.host.set_timer(sender, env.cid, max(0, int(env.msg.ms)))
        counts[STARTED] += 1

    def _cancel_timer(self, sender: Pid, env: Envelope) -> None:
        cid = env.msg.cid
        if self.host.cancel_timer(sender, cid if cid is not None else env.cid):
            counts = self.metrics.get(sender)
            if counts is not None:
                counts[CANCELLED] += 1

    def _get_random(self, sender: Pid, env: Envelope) -> None:
        below = _positive(env.msg.below, "GetRandom.below")
        if below > MOST_RANDOM:
            raise ValueError(f"GetRandom.below must be at most 2**32, not {below}")
        self.host.send(Envelope(sender, self.pid, RandomValue(self.host.random(below)), env.cid))

    def _persist(self, sender: Pid, env: Envelope) -> None:
        self.host.store(sender, env.msg.data)

    def _record(self, sender: Pid, env: Envelope) -> None:
        msg = env.msg
        kind, value = ("invoke", msg.call) if type(msg) is Invoke else ("ok", msg.result)
        self.host.record(sender, kind, msg.op, value)

    def _shutdown(self, sender: Pid, env: Envelope) -> None:
        self.stop(sender)

    def _get_metrics(self, sender: Pid, env: Envelope) -> None:
        target = env.msg.pid or sender
        counts = self.metrics.get(target) if target.node == self.node else None
        self._reply(sender, Metrics(target, *(counts or (0, 0, 0, 0))), env)

    def _status(self, sender: Pid, env: Envelope) -> None:
        self._reply(sender, ExecutorStatus(self.node, len(self.pids)), env)

    def _watch(self, sender: Pid, env: Envelope) -> None:
        if sender not in self.processes:
            return  # it sent Shutdown earlier in the same output
        self.watchers[sender] = None
        self._reply(sender, ClusterStatus(self.host.members()), env)

    def _watch_link(self, sender: Pid, env: Envelope) -> None:
        watch: Watch = env.msg
        if type(watch.node) is not str or (watch.pid is not None and watch.pid.node != watch.node):
            raise ValueError(f"{watch!r} must name a node, and a pid on that node if any")
        if sender not in self.processes:
            return  # it sent Shutdown earlier in the same output
        self.links.add(sender, watch, env.cid)
        members = self.host.members()
        if watch.node not in members:  # lost already: told at once
            self._links_lost(members)

    def _unwatch_link(self, sender: Pid, env: Envelope) -> None:
        msg: Unwatch = env.msg
        self.links.remove(sender, Watch(msg.node, msg.pid))

    def _read_clock(self, sender: Pid, env: Envelope) -> None:
        self._reply(sender, ClockReading(self.host.clock()), env)

    def _spawn(self, sender: Pid, env: Envelope) -> list[Envelope] | None:
        msg: Spawn = env.msg
        pid = Pid(msg.name, self.node)
        factory = self._factories.get(msg.factory)
        if factory is None:
            reason = f"no factory named {msg.factory!r} on {self.node}"
        elif pid in self.processes:
            reason = f"{pid} is already running"
        else:
            try:
                proc = self.host.call(
                    "factory", f"factory {msg.factory!r} for {pid}", factory, pid, msg.arg
                )
            except UserCodeFailed as e:
                reason = e.reason
            else:
                problem = self.register(proc)
                if problem is None:
                    self._reply(sender, Spawned(pid), env)
                    return self.init([proc])
                reason = f"the factory returned {problem}"
        self._reply(sender, SpawnFailed(msg.factory, msg.name, reason), env)
        return None

    def _call_service(self, sender: Pid, env: Envelope) -> None:
        msg: CallService = env.msg
        name = msg.service
        function = self._services.get(name)
        if function is None:
            reason = f"no service named {name!r} on {self.node}"
            self._reply(sender, ServiceFailed(name, reason), env)
            return

        def answer(result: Any, error: BaseException | None) -> None:
            reply = (
                ServiceResult(name, result) if error is None else ServiceFailed(name, repr(error))
            )
            self._reply(sender, reply, env)

        self.host.call_service(f"service {name!r} for {sender}", function, msg.args, answer)

    # -- inside -----------------------------------------------------------------------------

    def _reply(self, to: Pid, msg: Any, request: Envelope) -> None:
        self.host.send(Envelope(to, self.pid, msg, request.cid))

    def dead_letter(self, env: Envelope, why: str) -> None:
        """Count ``env`` as a dead letter (``why``: what was not there)."""
        self.dead_letters += 1
        what = f"{type(env.msg).__qualname__} for {env.to}, from {env.from_} ({why})"
        self.host.dead_letter(self.dead_letters, what)

    def _fail(self, pid: Pid, reason: str) -> None:
        """Stop ``pid`` fail-stop: it handles nothing more, and it is listed as failed."""
        if self.stop(pid):
            self.failed[pid] = reason
            self.host.stopped(pid, reason)


MOST_RANDOM = 1 << 32
"""The largest ``GetRandom.below``: every source of the run's decisions draws that exactly."""


def _positive(value: Any, what: str) -> int:
    """``value`` if it is a positive integer; a ``ValueError`` saying what it must be."""
    if type(value) is not int or value < 1:
        raise ValueError(f"{what} must be a positive integer, not {value!r}")
    return value


_LOCAL: dict[type, Request] = {
    StartTimer: Executor._start_timer,
    CancelTimer: Executor._cancel_timer,
    Persist: Executor._persist,
    Invoke: Executor._record,
    Complete: Executor._record,
    Shutdown: Executor._shutdown,
    GetMetrics: Executor._get_metrics,
    GetExecutorStatus: Executor._status,
    WatchCluster: Executor._watch,
    Watch: Executor._watch_link,
    Unwatch: Executor._unwatch_link,
    ReadClock: Executor._read_clock,
    Spawn: Executor._spawn,
    CallService: Executor._call_service,
    GetRandom: Executor._get_random,
}
"""The requests a process may make of its own node's executor."""

_REMOTE: dict[type, Request] = {
    kind: _LOCAL[kind] for kind in (Spawn, GetMetrics, GetExecutorStatus)
}
"""The requests that processes on other nodes may make: the rest act on the sender, which
runs elsewhere."""
