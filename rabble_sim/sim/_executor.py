"""The executor of every simulated node: what processes ask of it, as the TCP executor does.

A process talks to its node's executor by appending envelopes to ``executor_pid(node)``:
timers, durable state, shutdown, metrics, status, cluster watches, spawn and services.
The executor also decides what becomes of a message delivered to a pid that is not
running: a request to that node's executor from another node, a routed name resolved
among the node's processes, or else a dead letter.

``Executors`` holds the executors' state (timers, durable data, metrics, watchers, one
router per node) and is owned by its World, for which it also starts and stops processes.
It acts only inside ``World.apply``, and sends only through the World (``_route``,
``_send``, ``_send_local``). Like the World it reads no clock and draws no random
numbers: timers run on the virtual clock, and a service is called right away.
"""

from __future__ import annotations

import copy
import heapq
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from ..codec import restored
from ..core import (
    EXECUTOR_GROUP,
    CallService,
    CancelTimer,
    ClusterStatus,
    Complete,
    CorrelationId,
    Envelope,
    ExecutorStatus,
    GetExecutorStatus,
    GetMetrics,
    HistoryEvent,
    InvalidDefinition,
    Invoke,
    Metrics,
    Persist,
    Pid,
    Router,
    ServiceFailed,
    ServiceResult,
    Shutdown,
    Spawn,
    Spawned,
    SpawnFailed,
    StartTimer,
    WatchCluster,
    executor_pid,
)
from ._failures import protocol_failed, user_code_failed

if TYPE_CHECKING:
    from ._world import World

RECEIVED, SENT, STARTED, CANCELLED = range(4)
"""Indexes of a process's counters in ``Executors.metrics``."""


class Timer(NamedTuple):
    """A pending timer: ``pid`` receives ``Timeout()`` with ``cid`` at virtual time ``due``."""

    pid: Pid
    cid: CorrelationId | None
    due: int


Handler = Callable[["Executors", Pid, Envelope], "list[Envelope] | None"]
"""Serves one request: ``(executors, sender, envelope)``; returns what processes sent, if
it ran any (the ``init`` of a spawned process)."""


class Executors:
    """The executors of all the nodes of one World.

    A request a process appends for its own node's executor is served at once, while the
    World routes that process's output (``request``): a timer starts before the next
    envelope of the same output is looked at. A request for another node's executor
    travels like any message, and is served when it is delivered (``deliver``); only
    spawn, metrics and status make sense from afar, the rest is a dead letter there, as
    in the TCP executor.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        nodes = world.scenario.nodes
        self.timers: dict[int, Timer] = {}
        self._timer_heap: list[tuple[int, int]] = []  # (due, seq); cancelled ones linger
        self._timer_keys: dict[tuple[Pid, CorrelationId | None], int] = {}
        self.durable: dict[Pid, Any] = {}
        self.metrics: dict[Pid, list[int]] = {}
        """Each running process's counters (received, sent, timers started and cancelled);
        the World counts deliveries and sends into them on its hot path."""
        # Ordered dicts used as ordered sets: notifications go out in the order watchers
        # subscribed, never in a hash order.
        self.watchers: dict[str, dict[Pid, None]] = {node: {} for node in nodes}
        self.routers: dict[str, Router] = {node: Router(world.scenario.routes) for node in nodes}

    # -- requests ---------------------------------------------------------------------------

    def request(self, sender: Pid, env: Envelope) -> None:
        """Serve ``env``, which ``sender`` appended for its own node's executor.

        Raises whatever a malformed request raises (``StartTimer(None)``, data that cannot
        be persisted); the World reports it as a bad request of ``sender``.
        """
        kind = type(env.msg)
        # Timers first, without a lookup: they are the simulator's hot path (a client
        # starts and cancels one for every request it sends).
        if kind is StartTimer:
            self._start_timer(sender, env)
        elif kind is CancelTimer:
            self._cancel_timer(sender, env)
        else:
            handler = _LOCAL.get(kind)
            if handler is None:
                self.world.dead_letters += 1
            else:
                handler(self, sender, env)

    def deliver(self, env: Envelope) -> list[Envelope]:
        """``env`` was delivered to a pid that is not running on its node: serve it if it
        is a request to the node's executor, route it if its name is routed there, else
        count a dead letter. Returns what processes sent meanwhile (a spawned ``init``)."""
        to = env.to
        node = to.node
        if to.group == EXECUTOR_GROUP and to.name == "executor":
            sender = env.from_
            # A sender that claims this node gets the local menu, as in the TCP executor.
            handler = (_LOCAL if sender.node == node else _REMOTE).get(type(env.msg))
            if handler is not None:
                return handler(self, sender, env) or []
        else:
            router = self.routers[node]
            if router.routes_name(to.name):
                targets = router.resolve(env, self.world.node_pids[node])
                for target in targets:
                    # A local hop: the message already crossed the network to this node.
                    self.world._send_local(Envelope(target, env.from_, env.msg, env.cid))
                if targets:
                    return []
        self.world.dead_letters += 1
        return []

    def _start_timer(self, sender: Pid, env: Envelope) -> None:
        counts = self.metrics.get(sender)
        if counts is None:
            return  # it sent Shutdown earlier in the same output: its timer would never fire
        key = (sender, env.cid)
        old = self._timer_keys.get(key)
        if old is not None:
            self.take_timer(old)
        world = self.world
        seq = world.next_seq
        world.next_seq = seq + 1
        due = world.now + max(0, int(env.msg.ms))
        self.timers[seq] = Timer(sender, env.cid, due)
        self._timer_keys[key] = seq
        heap = self._timer_heap
        heapq.heappush(heap, (due, seq))
        if len(heap) > 2 * len(self.timers) + 64:
            # Drop cancelled timers from the heap, so it stays as small as the timers.
            self._timer_heap = sorted((t.due, s) for s, t in self.timers.items())
        counts[STARTED] += 1

    def _cancel_timer(self, sender: Pid, env: Envelope) -> None:
        cid = env.msg.cid
        seq = self._timer_keys.get((sender, cid if cid is not None else env.cid))
        if seq is not None:
            self.take_timer(seq)
            self.metrics[sender][CANCELLED] += 1

    def _persist(self, sender: Pid, env: Envelope) -> None:
        # Stored as the TCP executor stores it, so a restart hands back the same values in
        # both (a tuple comes back a list). Data that cannot be stored raises: a bad request.
        self.durable[sender] = restored(env.msg.data)

    def _shutdown(self, sender: Pid, env: Envelope) -> None:
        world = self.world
        if world.processes.pop(sender, None) is None:
            return  # already stopped (Shutdown twice in one output)
        world.node_pids[sender.node].remove(sender)
        del self.metrics[sender]
        self.watchers[sender.node].pop(sender, None)
        for seq in [s for s, t in self.timers.items() if t.pid == sender]:
            self.take_timer(seq)

    def _get_metrics(self, sender: Pid, env: Envelope) -> None:
        target = env.msg.pid or sender
        counts = self.metrics.get(target, [0, 0, 0, 0])
        self.world._send(Envelope(sender, env.to, Metrics(target, *counts), env.cid))

    def _status(self, sender: Pid, env: Envelope) -> None:
        node = env.to.node
        status = ExecutorStatus(node, len(self.world.node_pids[node]))
        self.world._send(Envelope(sender, env.to, status, env.cid))

    def _watch(self, sender: Pid, env: Envelope) -> None:
        if sender not in self.metrics:
            return  # it sent Shutdown earlier in the same output
        node = sender.node
        self.watchers[node][sender] = None
        # In flight like any message, so that the scheduler may delay it.
        self.world._send(Envelope(sender, env.to, ClusterStatus(self.members(node)), env.cid))

    def _spawn(self, sender: Pid, env: Envelope) -> list[Envelope] | None:
        msg: Spawn = env.msg
        world = self.world
        node = env.to.node
        pid = Pid(msg.name, node)
        factory = world.scenario.factories.get(msg.factory)
        if factory is None:
            reason = f"no factory named {msg.factory!r} on {node}"
        elif pid in world.processes:
            reason = f"{pid} is already running"
        else:
            try:
                proc = factory(pid, msg.arg)
            except Exception as e:  # the TCP executor answers the same, and goes on
                reason = f"the factory raised {e!r}"
            except BaseException as e:  # SystemExit and the like: not an answer, a violation
                running = f"factory {msg.factory!r} for {pid}"
                raise protocol_failed(e, running, f"exception in {running}", repr(e)) from None
            else:
                problem = self.register(proc, node)
                if problem is None:
                    world._send(Envelope(sender, env.to, Spawned(pid), env.cid))
                    return self.init([proc])
                reason = f"the factory returned {problem}"
        world._send(Envelope(sender, env.to, SpawnFailed(msg.factory, msg.name, reason), env.cid))
        return None

    def _record(self, sender: Pid, env: Envelope) -> None:
        msg = env.msg
        kind, value = ("invoke", msg.call) if type(msg) is Invoke else ("ok", msg.result)
        world = self.world
        world.history.append(HistoryEvent(kind, sender, msg.op, value, world.step, world.now))

    def _call_service(self, sender: Pid, env: Envelope) -> None:
        """Run the service now. The simulator needs services to be deterministic functions
        of their arguments: the call itself is not an event, so its result must not depend
        on when or where it runs."""
        msg: CallService = env.msg
        service = msg.service
        function = self.world.scenario.services.get(service)
        reply: ServiceResult | ServiceFailed
        if function is None:
            reply = ServiceFailed(service, f"no service named {service!r} on {env.to.node}")
        else:
            try:
                reply = ServiceResult(service, function(*msg.args))
            except Exception as e:  # a failure the process is told of, as over TCP
                reply = ServiceFailed(service, repr(e))
            except BaseException as e:  # SystemExit and the like: not an answer, a violation
                running = f"service {service!r} for {sender}"
                raise protocol_failed(e, running, f"exception in {running}", repr(e)) from None
        self.world._send(Envelope(sender, env.to, reply, env.cid))

    # -- timers -----------------------------------------------------------------------------

    def next_timer(self) -> int | None:
        """The seq of the timer due first (ties: created first), or None."""
        heap, timers = self._timer_heap, self.timers
        while heap:
            seq = heap[0][1]
            if seq in timers:
                return seq
            heapq.heappop(heap)
        return None

    def take_timer(self, seq: int) -> Timer:
        """Remove pending timer ``seq`` (it fires, or it is cancelled) and return it."""
        timer = self.timers.pop(seq)
        del self._timer_keys[(timer.pid, timer.cid)]
        return timer

    # -- processes and nodes ------------------------------------------------------------------

    def build(self, node: str, durable: dict[Pid, Any] | None) -> list[Any]:
        """Build ``node``'s processes with the scenario's ``start`` and register them.

        Only these: a process spawned on the node is not rebuilt after a crash unless
        ``start`` builds it (the data it persisted is in ``durable``).
        """
        scenario = self.world.scenario
        try:
            built = scenario.start(node, durable)
        except BaseException as e:
            raise user_code_failed(f"exception in start({node!r})", e) from None
        if hasattr(built, "handle") or not isinstance(built, Iterable):
            raise InvalidDefinition(
                f"start({node!r}) of scenario {scenario.name!r} returned {built!r}, not a list "
                "of processes (return [process, ...], or [] for a node with none)"
            )
        try:
            procs = list(built)
        except BaseException as e:  # a generator that raised
            raise user_code_failed(f"exception in start({node!r})", e) from None
        for proc in procs:
            problem = self.register(proc, node)
            if problem is not None:
                name = self.world.scenario.name
                raise InvalidDefinition(f"start({node!r}) of scenario {name!r} returned {problem}")
        return procs

    def register(self, proc: Any, node: str) -> str | None:
        """Run ``proc`` on ``node``; or say why it cannot: what it is, and what is wrong."""
        pid = getattr(proc, "pid", None)
        if not isinstance(pid, Pid) or not callable(getattr(proc, "handle", None)):
            return f"{proc!r}, which is not a process (it needs a pid and a handle method)"
        world = self.world
        if pid.node != node or pid in world.processes:
            why = "runs on another node" if pid.node != node else "is already running"
            return f"a process {pid} that {why}"
        world.processes[pid] = proc
        world.node_pids[node].append(pid)
        self.metrics[pid] = [0, 0, 0, 0]
        return None

    def init(self, procs: list[Any]) -> list[Envelope]:
        """Run each process's ``init``, if it has one; return what they sent."""
        output: list[Envelope] = []
        for proc in procs:
            init = getattr(proc, "init", None)
            if init is not None:
                out: list[Envelope] = []
                try:
                    init(out)
                except BaseException as e:
                    raise user_code_failed(f"exception in init of {proc.pid}", e) from None
                self.metrics[proc.pid][SENT] += len(out)
                self.world._route(proc.pid, out)
                output += out
        return output

    def node_down(self, node: str) -> None:
        """``node`` crashed: its processes, timers, counters and watchers are gone, and its
        router starts over, as a restarted TCP node's does."""
        world = self.world
        for pid in world.node_pids[node]:
            del world.processes[pid]
            self.metrics.pop(pid, None)
        world.node_pids[node] = []
        for seq in [s for s, t in self.timers.items() if t.pid.node == node]:
            self.take_timer(seq)
        self.watchers[node] = {}
        self.routers[node] = Router(self.world.scenario.routes)

    def durable_of(self, node: str) -> dict[Pid, Any]:
        """What ``node``'s pids persisted last, as copies the new processes may change."""
        return {pid: copy.deepcopy(data) for pid, data in self.durable.items() if pid.node == node}

    # -- membership ---------------------------------------------------------------------------

    def members(self, node: str) -> tuple[str, ...]:
        """The members ``node`` sees: the up nodes it can reach, sorted by name."""
        world = self.world
        up, groups = world.up, world.groups
        if groups is None:
            return tuple(sorted(n for n in world.scenario.nodes if up[n]))
        group = groups[node]
        return tuple(sorted(n for n in world.scenario.nodes if up[n] and groups[n] == group))

    def members_seen(self) -> dict[str, tuple[str, ...]]:
        """What each node with watchers sees now: taken before a crash, restart, partition
        or heal, and handed to ``members_changed`` after it."""
        return {node: self.members(node) for node, pids in self.watchers.items() if pids}

    def members_changed(self, before: dict[str, tuple[str, ...]]) -> None:
        """Send ``ClusterStatus`` to the watchers of each node whose members changed since
        ``before`` (a node's watchers that died with it get nothing)."""
        send = self.world._send
        for node, pids in self.watchers.items():
            if not pids:
                continue
            members = self.members(node)
            if before.get(node) != members:
                status = ClusterStatus(members)
                for pid in pids:
                    send(Envelope(pid, executor_pid(node), status))


_LOCAL: dict[type, Handler] = {
    StartTimer: Executors._start_timer,
    CancelTimer: Executors._cancel_timer,
    Persist: Executors._persist,
    Shutdown: Executors._shutdown,
    GetMetrics: Executors._get_metrics,
    GetExecutorStatus: Executors._status,
    WatchCluster: Executors._watch,
    Spawn: Executors._spawn,
    CallService: Executors._call_service,
    Invoke: Executors._record,
    Complete: Executors._record,
}
"""The requests a process may make of its own node's executor."""

_REMOTE: dict[type, Handler] = {
    kind: _LOCAL[kind] for kind in (Spawn, GetMetrics, GetExecutorStatus)
}
"""The requests that processes on other nodes may make: the rest act on the sender, which
runs elsewhere."""
