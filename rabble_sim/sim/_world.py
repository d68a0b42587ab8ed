"""The World: processes on nodes, messages in flight, a virtual clock and faults.

``World.apply(event)`` is the only way the world changes. It uses no randomness and no
I/O: given the same scenario and the same events, it goes through the same states. What
each node's executor does for its processes (timers, durable state, watches, spawn,
services, routing) is in ``_executor.py``.
"""

from __future__ import annotations

import copy
import traceback
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import networkx as nx

from ..core import EXECUTOR_GROUP, Envelope, HistoryEvent, Pid, Timeout, executor_pid
from ._events import Crash, Deliver, Drop, Duplicate, Event, FireTimer, Heal, Partition, Restart
from ._executor import RECEIVED, SENT, Executors, Timer
from ._failures import CheckFailed, EventNotEnabled, run_check
from ._pool import Pool
from ._scenario import Scenario

TIMEOUT = Timeout()
_SHARED = frozenset({"scenario", "_preconditions", "_postconditions"})
# Attributes made from the others by _derive (views, and the executors' state that the hot
# path reads directly): rebuilt in a snapshot, never copied.
_DERIVED = frozenset(
    {
        *("processes_view", "durable_view", "appliers"),
        *("durable", "timers", "metrics", "next_timer", "_request"),
    }
)


class World:
    """The state of a simulated cluster, changed only by ``apply``.

    Every message and timer gets a sequence id (seq) from one counter, in the order they
    are created. Messages between nodes that are in different partition groups wait in
    ``blocked`` until a heal; the rest wait in ``messages``, where any may be delivered
    next. Timers fire in due order, and firing one moves the clock to its due time.

    The processes run under their node's executor (``self.executors``), which starts
    and stops them (in ``processes`` and ``node_pids``) and serves their requests. It
    does so only while an event is applied, and sends through the private ``_route``,
    ``_send`` and ``_send_local``, which nothing else should call.
    """

    timers: dict[int, Timer]
    """The pending timers by seq (the executors' own dict)."""
    next_timer: Callable[[], int | None]
    """The seq of the timer due first (ties: created first), or None."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.processes: dict[Pid, Any] = {}
        self.node_pids: dict[str, list[Pid]] = {node: [] for node in scenario.nodes}
        self.up: dict[str, bool] = dict.fromkeys(scenario.nodes, False)
        self.messages: Pool[Envelope] = Pool()
        self.blocked: dict[int, Envelope] = {}
        self.history: list[HistoryEvent] = []
        """What clients invoked and got back (``invoke``, ``complete``), in order."""
        self.local: set[int] = set()
        """Seqs of messages that hop within a node (routed), which partitions never block.
        Some may be gone already: it is pruned as it grows, not at every delivery."""
        self.groups: dict[str, int] | None = None
        self.now = 0
        self.step = 0
        self.next_seq = 0
        self.dead_letters = 0
        self.lost = 0
        self._preconditions = scenario.preconditions
        self._postconditions = scenario.postconditions
        self.executors = Executors(self)
        self._derive()

    def _derive(self) -> None:
        """The read-only views, the executors' state the hot path reads directly, and the
        appliers: attributes made from the others."""
        executors = self.executors
        self.processes_view = MappingProxyType(self.processes)
        self.durable = executors.durable
        self.durable_view = MappingProxyType(executors.durable)
        self.timers = executors.timers
        self.metrics = executors.metrics
        self.next_timer = executors.next_timer
        self._request = executors.request
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
        memo[id(self)] = clone  # the executors point back at their world: at the clone
        routes = self.scenario.routes
        memo[id(routes)] = routes  # code, like the scenario: the routers share it
        for name, value in vars(self).items():
            if name in _SHARED:
                setattr(clone, name, value)
            elif name not in _DERIVED:
                setattr(clone, name, copy.deepcopy(value, memo))
        clone._derive()
        return clone

    # -- what is enabled ------------------------------------------------------------------

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
        executors = self.executors
        started = [proc for node in self.scenario.nodes for proc in executors.build(node, None)]
        return executors.init(started)

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
            return env, self._not_running(env)
        return env, self._handle(proc, env)

    def _not_running(self, env: Envelope) -> list[Envelope]:
        """``env`` reached a pid that is not running: its node's executor decides."""
        try:
            return self.executors.deliver(env)
        except CheckFailed as failure:  # in the init of a process it spawned
            failure.envelope = env
            raise
        except Exception as e:  # a malformed request, or a routing policy that raised
            to = env.to
            check = (
                f"bad request of {env.from_} to the executor of {to.node}"
                if to.group == EXECUTOR_GROUP
                else f"exception while routing to {to}"
            )
            error = CheckFailed(check, f"{env.msg!r} raised {e!r}", traceback.format_exc())
            error.envelope = env
            raise error from None

    def _drop(self, event: Drop) -> tuple[Envelope | None, list[Envelope]]:
        return self._take(event.seq), []

    def _duplicate(self, event: Duplicate) -> tuple[Envelope | None, list[Envelope]]:
        env = self.messages.get(event.seq)
        if env is None:
            raise self._missing(event.seq)
        if event.seq in self.local:
            self._send_local(env)
        else:
            self._send(env)
        return env, []

    def _fire(self, event: FireTimer) -> tuple[Envelope | None, list[Envelope]]:
        if event.seq != self.next_timer():
            raise EventNotEnabled(f"timer #{event.seq} is not the next timer due")
        timer = self.executors.take_timer(event.seq)
        self.now = max(self.now, timer.due)
        env = Envelope(timer.pid, executor_pid(timer.pid.node), TIMEOUT, timer.cid)
        return env, self._handle(self.processes[timer.pid], env)

    def _crash(self, event: Crash) -> tuple[Envelope | None, list[Envelope]]:
        node = self._require(event.node, up=True)
        before = self.executors.members_seen()
        self.up[node] = False
        self.executors.node_down(node)
        for seq in [s for s in self.messages if self.messages.get(s).to.node == node]:  # type: ignore[union-attr]
            self.messages.pop(seq)
        for seq in [s for s, env in self.blocked.items() if env.to.node == node]:
            del self.blocked[seq]
        self.executors.members_changed(before)
        return None, []

    def _restart(self, event: Restart) -> tuple[Envelope | None, list[Envelope]]:
        node = self._require(event.node, up=False)
        executors = self.executors
        before = executors.members_seen()
        procs = executors.build(node, executors.durable_of(node))
        self.up[node] = True
        # The other nodes' watchers hear of the restart before the new processes run init.
        executors.members_changed(before)
        return None, executors.init(procs)

    def _partition(self, event: Partition) -> tuple[Envelope | None, list[Envelope]]:
        if self.groups is not None:
            raise EventNotEnabled("the network is already partitioned")
        problem = partition_problem(event.groups, self.scenario.nodes)
        if problem is not None:
            raise EventNotEnabled(problem)
        before = self.executors.members_seen()
        self.groups = {node: i for i, group in enumerate(event.groups) for node in group}
        local, messages = self.local, self.messages
        for seq in [s for s in messages if s not in local and self._cut(messages.get(s))]:  # type: ignore[arg-type]
            self.blocked[seq] = self._take(seq)
        self.executors.members_changed(before)
        return None, []

    def _heal(self, event: Heal) -> tuple[Envelope | None, list[Envelope]]:
        if self.groups is None:
            raise EventNotEnabled("the network is not partitioned")
        before = self.executors.members_seen()
        self.groups = None
        for seq in sorted(self.blocked):
            self.messages.add(seq, self.blocked.pop(seq))
        self.executors.members_changed(before)
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

    def _handle(self, proc: Any, env: Envelope) -> list[Envelope]:
        """Run ``proc.handle`` on ``env`` with the message type's conditions around it."""
        msg = env.msg
        pid = env.to
        counts = self.metrics[pid]
        counts[RECEIVED] += 1
        output: list[Envelope] = []
        try:
            pre = self._preconditions.get(type(msg)) if self._preconditions else None
            if pre:
                for precondition in pre:
                    run_check(precondition, "precondition", proc, msg, env.from_, env.cid)
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
                    run_check(postcondition, "postcondition", before, proc, msg, output)
            if output:
                counts[SENT] += len(output)
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
                    self._request(sender, env)
                except CheckFailed:  # in the init of a process it spawned
                    raise
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

    def _send_local(self, env: Envelope) -> None:
        """Send ``env`` within its node (a routed hop): no partition ever blocks it."""
        seq = self.next_seq
        self.next_seq = seq + 1
        messages, local = self.messages, self.local
        messages.add(seq, env)
        local.add(seq)
        if len(local) > 2 * len(messages) + 64:
            self.local = {s for s in local if s in messages}


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
