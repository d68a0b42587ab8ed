"""The World: processes on nodes, messages in flight, timers, a virtual clock and faults.

``World.apply(event)`` is the only way the world changes. It uses no randomness and no
I/O: given the same scenario and the same events, it goes through the same states.
"""

from __future__ import annotations

import copy
import heapq
import traceback
from collections.abc import Callable
from types import MappingProxyType
from typing import Any, NamedTuple

import networkx as nx

from ..core import (
    EXECUTOR_GROUP,
    CancelTimer,
    CorrelationId,
    Envelope,
    ExecutorStatus,
    GetExecutorStatus,
    GetMetrics,
    InvalidDefinition,
    Metrics,
    Persist,
    Pid,
    RabbleError,
    Shutdown,
    StartTimer,
    Timeout,
    executor_pid,
)
from ._events import Crash, Deliver, Drop, Duplicate, Event, FireTimer, Heal, Partition, Restart
from ._pool import Pool
from ._scenario import Scenario

TIMEOUT = Timeout()
_SHARED = frozenset({"scenario", "_preconditions", "_postconditions"})
_DERIVED = frozenset({"processes_view", "durable_view", "appliers"})
_RECEIVED, _SENT, _STARTED, _CANCELLED = range(4)


class CheckFailed(RabbleError):
    """A check failed, or user code raised, while the world applied an event."""

    def __init__(self, check: str, message: str, traceback: str | None = None) -> None:
        super().__init__(f"{check}: {message}")
        self.check = check
        self.message = message
        self.traceback = traceback
        self.envelope: Envelope | None = None
        """The envelope being handled when it happened, if any."""


class EventNotEnabled(RabbleError):
    """An event names a message, timer or node state that the world does not have."""


class Timer(NamedTuple):
    """A pending timer: ``pid`` receives ``Timeout()`` with ``cid`` at virtual time ``due``."""

    pid: Pid
    cid: CorrelationId | None
    due: int


class World:
    """The state of a simulated cluster, changed only by ``apply``.

    Every message and timer gets a sequence id (seq) from one counter, in the order they
    are created. Messages between nodes that are in different partition groups wait in
    ``blocked`` until a heal; the rest wait in ``messages``, where any may be delivered
    next. Timers fire in due order, and firing one moves the clock to its due time.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.processes: dict[Pid, Any] = {}
        self.node_pids: dict[str, list[Pid]] = {node: [] for node in scenario.nodes}
        self.up: dict[str, bool] = dict.fromkeys(scenario.nodes, False)
        self.messages: Pool[Envelope] = Pool()
        self.blocked: dict[int, Envelope] = {}
        self.timers: dict[int, Timer] = {}
        self._timer_heap: list[tuple[int, int]] = []
        self._timer_keys: dict[tuple[Pid, CorrelationId | None], int] = {}
        self.durable: dict[Pid, Any] = {}
        self.groups: dict[str, int] | None = None
        self.now = 0
        self.step = 0
        self.next_seq = 0
        self.metrics: dict[Pid, list[int]] = {}
        self.dead_letters = 0
        self.lost = 0
        self._preconditions = scenario.preconditions
        self._postconditions = scenario.postconditions
        self._derive()

    def _derive(self) -> None:
        """The read-only views and the appliers: attributes made from the others."""
        self.processes_view = MappingProxyType(self.processes)
        self.durable_view = MappingProxyType(self.durable)
        self.appliers: dict[type, Callable[[Any], tuple[Envelope | None, list[Envelope]]]] = {
            # apply() by event type; the run loop calls these directly, one call fewer.
            Deliver: self._deliver,
            Drop: self._drop,
            Duplicate: self._duplicate,
            FireTimer: self._fire,
            Crash: self._crash,
            Restart: self._restart,
            Partition: self._partition,
            Heal: self._heal,
        }

    def __deepcopy__(self, memo: dict[int, Any]) -> World:
        """A snapshot: every process, message, timer and counter copied; the scenario and
        its checks shared, since they are code, not state."""
        clone = object.__new__(World)
        for name, value in vars(self).items():
            if name in _SHARED:
                setattr(clone, name, value)
            elif name not in _DERIVED:
                setattr(clone, name, copy.deepcopy(value, memo))
        clone._derive()
        return clone

    # -- what is enabled ------------------------------------------------------------------

    def next_timer(self) -> int | None:
        """The seq of the timer due first (ties: created first), or None."""
        heap, timers = self._timer_heap, self.timers
        while heap:
            seq = heap[0][1]
            if seq in timers:
                return seq
            heapq.heappop(heap)
        return None

    def up_nodes(self) -> list[str]:
        return [node for node in self.scenario.nodes if self.up[node]]

    def down_nodes(self) -> list[str]:
        return [node for node in self.scenario.nodes if not self.up[node]]

    def network(self) -> nx.Graph:
        """The network as a graph: an edge joins two nodes that can reach each other now.

        Built on demand (a complete graph has n^2/2 edges); the scheduler itself keeps
        only a node-to-group map.
        """
        graph = nx.Graph()
        graph.add_nodes_from(self.scenario.nodes)
        nodes = self.scenario.nodes
        groups = self.groups or {}
        graph.add_edges_from(
            (a, b)
            for i, a in enumerate(nodes)
            for b in nodes[i + 1 :]
            if groups.get(a) == groups.get(b)
        )
        return graph

    @property
    def partitioned(self) -> bool:
        return self.groups is not None

    def in_flight(self) -> list[tuple[int, Envelope]]:
        """Every message in flight, deliverable or waiting for a heal, by seq."""
        pairs = [(seq, env) for seq in self.messages if (env := self.messages.get(seq))]
        return sorted([*pairs, *self.blocked.items()], key=lambda pair: pair[0])

    def envelope(self, seq: int) -> Envelope | None:
        """The in-flight message ``seq`` (deliverable or blocked), or None."""
        return self.messages.get(seq) or self.blocked.get(seq)

    # -- changing the world ---------------------------------------------------------------

    def start(self) -> list[Envelope]:
        """Start every node for the first time; returns what the processes' ``init`` sent."""
        # Every node is up before any init runs, so that what init sends is not lost.
        for node in self.scenario.nodes:
            self.up[node] = True
        started = [proc for node in self.scenario.nodes for proc in self._spawn(node, None)]
        return self._init(started)

    def apply(self, event: Event) -> tuple[Envelope | None, list[Envelope]]:
        """Apply ``event``; return the envelope it delivered (if any) and what was sent.

        Raises ``EventNotEnabled`` if the event is not possible in this state, and
        ``CheckFailed`` if user code raised or a pre- or postcondition failed.
        """
        return self.appliers[type(event)](event)

    def _take(self, seq: int) -> Envelope:
        env = self.messages.pop(seq)
        if env is None:
            raise self._missing(seq)
        return env

    def _missing(self, seq: int) -> EventNotEnabled:
        where = "waiting for a heal" if seq in self.blocked else "not in flight"
        return EventNotEnabled(f"message #{seq} is {where}")

    def _deliver(self, event: Deliver) -> tuple[Envelope | None, list[Envelope]]:
        env = self._take(event.seq)
        proc = self.processes.get(env.to)
        if proc is None:
            self.dead_letters += 1
            return env, []
        return env, self._handle(proc, env)

    def _drop(self, event: Drop) -> tuple[Envelope | None, list[Envelope]]:
        return self._take(event.seq), []

    def _duplicate(self, event: Duplicate) -> tuple[Envelope | None, list[Envelope]]:
        env = self.messages.get(event.seq)
        if env is None:
            raise self._missing(event.seq)
        self._send(env)
        return env, []

    def _fire(self, event: FireTimer) -> tuple[Envelope | None, list[Envelope]]:
        if event.seq != self.next_timer():
            raise EventNotEnabled(f"timer #{event.seq} is not the next timer due")
        timer = self.timers.pop(event.seq)
        del self._timer_keys[(timer.pid, timer.cid)]
        self.now = max(self.now, timer.due)
        env = Envelope(timer.pid, executor_pid(timer.pid.node), TIMEOUT, timer.cid)
        return env, self._handle(self.processes[timer.pid], env)

    def _crash(self, event: Crash) -> tuple[Envelope | None, list[Envelope]]:
        node = self._require(event.node, up=True)
        self.up[node] = False
        for pid in self.node_pids[node]:
            del self.processes[pid]
            self.metrics.pop(pid, None)
        self.node_pids[node] = []
        for seq in [s for s, t in self.timers.items() if t.pid.node == node]:
            self._cancel(seq)
        for seq in [s for s in self.messages if self.messages.get(s).to.node == node]:  # type: ignore[union-attr]
            self.messages.pop(seq)
        for seq in [s for s, env in self.blocked.items() if env.to.node == node]:
            del self.blocked[seq]
        return None, []

    def _restart(self, event: Restart) -> tuple[Envelope | None, list[Envelope]]:
        node = self._require(event.node, up=False)
        durable = {
            pid: copy.deepcopy(data) for pid, data in self.durable.items() if pid.node == node
        }
        return None, self._init(self._spawn(node, durable))

    def _partition(self, event: Partition) -> tuple[Envelope | None, list[Envelope]]:
        if self.groups is not None:
            raise EventNotEnabled("the network is already partitioned")
        problem = partition_problem(event.groups, self.scenario.nodes)
        if problem is not None:
            raise EventNotEnabled(problem)
        groups = {node: i for i, group in enumerate(event.groups) for node in group}
        self.groups = groups
        for seq in [s for s in self.messages if self._cut(self.messages.get(s))]:  # type: ignore[arg-type]
            self.blocked[seq] = self._take(seq)
        return None, []

    def _heal(self, event: Heal) -> tuple[Envelope | None, list[Envelope]]:
        if self.groups is None:
            raise EventNotEnabled("the network is not partitioned")
        self.groups = None
        for seq in sorted(self.blocked):
            self.messages.add(seq, self.blocked.pop(seq))
        return None, []

    def _require(self, node: str, *, up: bool) -> str:
        """``node``, if it exists and is up (or down, with ``up=False``)."""
        if node not in self.up:
            raise EventNotEnabled(f"there is no node {node!r}")
        if self.up[node] != up:
            raise EventNotEnabled(f"node {node!r} is already {'down' if up else 'up'}")
        return node

    def _cut(self, env: Envelope) -> bool:
        groups = self.groups
        # .get: a process may put any pid in from_, even one on a node that does not exist.
        return groups is not None and groups.get(env.to.node) != groups.get(env.from_.node)

    # -- processes ------------------------------------------------------------------------

    def _spawn(self, node: str, durable: dict[Pid, Any] | None) -> list[Any]:
        """Build ``node``'s processes with the scenario's ``start`` and register them."""
        try:
            procs = list(self.scenario.start(node, durable))
        except Exception as e:
            raise CheckFailed(
                f"exception in start({node!r})", repr(e), traceback.format_exc()
            ) from None
        self.up[node] = True
        for proc in procs:
            pid = getattr(proc, "pid", None)
            if not isinstance(pid, Pid) or not callable(getattr(proc, "handle", None)):
                raise InvalidDefinition(
                    f"start({node!r}) of scenario {self.scenario.name!r} returned {proc!r}, "
                    "which is not a process (it needs a pid and a handle method)"
                )
            if pid.node != node or pid in self.processes:
                why = "runs on another node" if pid.node != node else "is already running"
                raise InvalidDefinition(f"start({node!r}) returned a process {pid} that {why}")
            self.processes[pid] = proc
            self.node_pids[node].append(pid)
            self.metrics[pid] = [0, 0, 0, 0]
        return procs

    def _init(self, procs: list[Any]) -> list[Envelope]:
        """Run each process's ``init``, if it has one; return what they sent."""
        output: list[Envelope] = []
        for proc in procs:
            init = getattr(proc, "init", None)
            if init is not None:
                out: list[Envelope] = []
                try:
                    init(out)
                except Exception as e:
                    raise CheckFailed(
                        f"exception in init of {proc.pid}", repr(e), traceback.format_exc()
                    ) from None
                self.metrics[proc.pid][_SENT] += len(out)
                self._route(proc.pid, out)
                output += out
        return output

    def _handle(self, proc: Any, env: Envelope) -> list[Envelope]:
        """Run ``proc.handle`` on ``env`` with the message type's conditions around it."""
        msg = env.msg
        pid = env.to
        counts = self.metrics[pid]
        counts[_RECEIVED] += 1
        output: list[Envelope] = []
        try:
            pre = self._preconditions.get(type(msg)) if self._preconditions else None
            if pre:
                for precondition in pre:
                    _run_check(precondition, "precondition", proc, msg, env.from_, env.cid)
            post = self._postconditions.get(type(msg)) if self._postconditions else None
            before = copy.deepcopy(proc) if post else None
            try:
                proc.handle(msg, env.from_, env.cid, output)
            except Exception as e:
                raise CheckFailed(
                    f"exception in handle of {pid}",
                    f"{e!r} while handling {type(msg).__qualname__}",
                    traceback.format_exc(),
                ) from None
            if post:
                for postcondition in post:
                    _run_check(postcondition, "postcondition", before, proc, msg, output)
            if output:
                counts[_SENT] += len(output)
                self._route(pid, output)
        except CheckFailed as failure:
            failure.envelope = env
            raise
        return output

    def _route(self, sender: Pid, output: list[Envelope]) -> None:
        up = self.up
        add = self.messages.add
        whole = self.groups is None
        for env in output:
            if type(env) is not Envelope:
                raise CheckFailed(
                    f"bad output of {sender}",
                    f"appended {env!r} to output, which is not an Envelope",
                )
            to = env.to
            if type(to) is not Pid or type(env.from_) is not Pid:
                raise CheckFailed(
                    f"bad output of {sender}",
                    f"appended {env!r} to output: its to and from_ must be Pids",
                )
            if to.group is not None and _is_executor(to, sender):
                try:
                    self._executor(sender, env)
                except Exception as e:  # a malformed request, e.g. StartTimer(None)
                    raise CheckFailed(
                        f"bad request of {sender} to its executor",
                        f"{env.msg!r} raised {e!r}",
                        traceback.format_exc(),
                    ) from None
            elif whole and up.get(to.node):
                # The common case, inlined: a message to a live node, no partition.
                seq = self.next_seq
                self.next_seq = seq + 1
                add(seq, env)
            else:
                self._send(env)

    def _send(self, env: Envelope) -> None:
        seq = self.next_seq
        self.next_seq = seq + 1
        node = env.to.node
        if node not in self.up:
            self.dead_letters += 1  # no such node: no such pid
        elif not self.up[node]:
            self.lost += 1
        elif self.groups is not None and self._cut(env):
            self.blocked[seq] = env
        else:
            self.messages.add(seq, env)

    # -- the executor of each node ----------------------------------------------------------

    def _executor(self, sender: Pid, env: Envelope) -> None:
        msg = env.msg
        kind = type(msg)
        if kind is StartTimer:
            self._start_timer(sender, env.cid, msg.ms)
        elif kind is CancelTimer:
            seq = self._timer_keys.get((sender, msg.cid if msg.cid is not None else env.cid))
            if seq is not None:
                self._cancel(seq)
                self.metrics[sender][_CANCELLED] += 1
        elif kind is Persist:
            self.durable[sender] = copy.deepcopy(msg.data)
        elif kind is Shutdown:
            self._stop(sender)
        elif kind is GetMetrics:
            target = msg.pid or sender
            counts = self.metrics.get(target, [0, 0, 0, 0])
            self._send(Envelope(sender, env.to, Metrics(target, *counts), env.cid))
        elif kind is GetExecutorStatus:
            status = ExecutorStatus(sender.node, len(self.node_pids[sender.node]))
            self._send(Envelope(sender, env.to, status, env.cid))
        else:
            self.dead_letters += 1

    def _start_timer(self, pid: Pid, cid: CorrelationId | None, ms: int) -> None:
        counts = self.metrics.get(pid)
        if counts is None:
            return  # it sent Shutdown earlier in the same output: its timer would never fire
        key = (pid, cid)
        old = self._timer_keys.get(key)
        if old is not None:
            self._cancel(old)
        seq = self.next_seq
        self.next_seq = seq + 1
        due = self.now + max(0, int(ms))
        self.timers[seq] = Timer(pid, cid, due)
        self._timer_keys[key] = seq
        heap = self._timer_heap
        heapq.heappush(heap, (due, seq))
        if len(heap) > 2 * len(self.timers) + 64:
            # Drop cancelled timers from the heap, so it stays as small as the timers.
            self._timer_heap = sorted((t.due, s) for s, t in self.timers.items())
        counts[_STARTED] += 1

    def _cancel(self, seq: int) -> None:
        timer = self.timers.pop(seq)
        del self._timer_keys[(timer.pid, timer.cid)]

    def _stop(self, pid: Pid) -> None:
        if self.processes.pop(pid, None) is None:
            return  # already stopped (Shutdown twice in one output)
        del self.metrics[pid]
        self.node_pids[pid.node].remove(pid)
        for seq in [s for s, t in self.timers.items() if t.pid == pid]:
            self._cancel(seq)


def partition_problem(groups: tuple[tuple[str, ...], ...], nodes: tuple[str, ...]) -> str | None:
    """Why ``groups`` is not a partition of ``nodes`` (None if it is one): two or more
    non-empty groups that name every node exactly once."""
    named = sorted(node for group in groups for node in group)
    if named != sorted(nodes):
        return f"partition {groups} does not name each node of {nodes} exactly once"
    if len(groups) < 2 or not all(groups):
        return f"partition {groups} needs two or more groups, none of them empty"
    return None


def _is_executor(to: Pid, sender: Pid) -> bool:
    return to.group == EXECUTOR_GROUP and to.name == "executor" and to.node == sender.node


def _run_check(check: Callable[..., None], kind: str, *args: Any) -> None:
    try:
        check(*args)
    except Exception as e:
        raise CheckFailed(
            f"{kind} {check_name(check)}", describe(e), traceback.format_exc()
        ) from None


def describe(error: Exception) -> str:
    """What a failed check says: an assertion's message, or what else it raised."""
    if isinstance(error, AssertionError):
        return str(error) or "assertion failed"
    return f"raised {error!r}"


def check_name(check: Callable[..., Any]) -> str:
    name = getattr(check, "__name__", None) or getattr(check, "__qualname__", None)
    return name if isinstance(name, str) else type(check).__qualname__
