"""The World: processes on nodes, messages in flight, a virtual clock and faults.

``World.apply(event)`` is the only way the world changes. It uses no randomness and no
I/O: given the same scenario and the same events, it goes through the same states. What
each node's executor does for its processes (timers, durable state, watches, spawn,
services, routing) is in ``_executor.py``; how a message travels, in ``_parcel.py``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import networkx as nx

from ..core import (
    EXECUTOR_GROUP,
    CodecError,
    Envelope,
    HistoryEvent,
    InvalidDefinition,
    Pid,
    Timeout,
    executor_pid,
)
from ._events import Crash, Deliver, Drop, Duplicate, Event, FireTimer, Heal, Partition, Restart
from ._executor import RECEIVED, SENT, Executors, Timer
from ._failures import CheckFailed, EventNotEnabled, protocol_failed, run_check
from ._parcel import Parcel, again, pack, unpack
from ._pool import Pool
from ._scenario import Scenario

TIMEOUT = Timeout()
_TIMEOUT_BODY = pack(Envelope(executor_pid("-"), executor_pid("-"), TIMEOUT))[1]
"""``Timeout()`` has no fields: every timer shares its encoding, and its one instance."""
Applied = tuple[Parcel | None, list[Envelope]]
"""What applying an event did: the message it delivered, dropped, duplicated or fired (if
any), and what the processes sent."""
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
    are created. A message in flight is a ``Parcel``, encoded when it was sent. Messages
    between nodes that are in different partition groups wait in ``blocked`` until a
    heal; the rest wait in ``messages``, where any may be delivered next. Timers fire in
    due order, and firing one moves the clock to its due time.

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
        self.messages: Pool[Parcel] = Pool()
        self.blocked: dict[int, Parcel] = {}
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
        self.appliers: dict[type, Callable[[Any], Applied]] = {
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
        """Every message in flight, deliverable or waiting for a heal, by seq, each as it
        was sent (a copy: changing it changes nothing in flight)."""
        pairs = [*self.messages.items(), *self.blocked.items()]
        return [(seq, unpack(parcel)) for seq, parcel in sorted(pairs, key=lambda pair: pair[0])]

    def envelope(self, seq: int) -> Envelope | None:
        """The in-flight message ``seq`` (deliverable or blocked) as it was sent, or None."""
        parcel = self.messages.get(seq) or self.blocked.get(seq)
        return None if parcel is None else unpack(parcel)

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
        """Apply ``event``; return the message it acted on (if any, as it was sent) and
        what was sent. (``appliers[type(event)]`` does the same, and gives the message
        as the ``Parcel`` it travelled in.)

        Raises ``EventNotEnabled`` if the event is not possible in this state, and
        ``CheckFailed`` if user code raised or a pre- or postcondition failed.
        """
        parcel, sent = self.appliers[type(event)](event)
        return (None if parcel is None else unpack(parcel)), sent

    def _take(self, seq: int) -> Parcel:
        parcel = self.messages.pop(seq)
        if parcel is None:
            raise self._missing(seq)
        return parcel

    def _missing(self, seq: int) -> EventNotEnabled:
        where = "waiting for a heal" if seq in self.blocked else "not in flight"
        return EventNotEnabled(f"message #{seq} is {where}")

    def _deliver(self, event: Deliver) -> Applied:
        parcel = self._take(event.seq)
        env = parcel[0]
        proc = self.processes.get(env.to)
        if proc is None:
            return parcel, self._not_running(parcel)
        return parcel, self._handle(proc, env, parcel[2], parcel)

    def _not_running(self, parcel: Parcel) -> list[Envelope]:
        """``parcel`` reached a pid that is not running: its node's executor decides."""
        sent = parcel[0]
        env = Envelope(sent.to, sent.from_, parcel[2], sent.cid)
        try:
            return self.executors.deliver(env)
        except CheckFailed as failure:  # in the init of a process it spawned
            failure.parcel = parcel
            raise
        except BaseException as e:  # a malformed request, or a routing policy that raised
            to = env.to
            check = (
                f"bad request of {env.from_} to the executor of {to.node}"
                if to.group == EXECUTOR_GROUP
                else f"exception while routing to {to}"
            )
            running = f"the executor of {to.node} on {type(env.msg).__qualname__}"
            error = protocol_failed(e, running, check, f"{env.msg!r} raised {e!r}")
            error.parcel = parcel
            raise error from None

    def _drop(self, event: Drop) -> Applied:
        return self._take(event.seq), []

    def _duplicate(self, event: Duplicate) -> Applied:
        parcel = self.messages.get(event.seq)
        if parcel is None:
            raise self._missing(event.seq)
        if event.seq in self.local:
            self._post_local(again(parcel))
        else:
            self._post(again(parcel))
        return parcel, []

    def _fire(self, event: FireTimer) -> Applied:
        if event.seq != self.next_timer():
            raise EventNotEnabled(f"timer #{event.seq} is not the next timer due")
        timer = self.executors.take_timer(event.seq)
        self.now = max(self.now, timer.due)
        env = Envelope(timer.pid, executor_pid(timer.pid.node), TIMEOUT, timer.cid)
        parcel = (env, _TIMEOUT_BODY, TIMEOUT)
        return parcel, self._handle(self.processes[timer.pid], env, TIMEOUT, parcel)

    def _crash(self, event: Crash) -> Applied:
        node = self._require(event.node, up=True)
        before = self.executors.members_seen()
        self.up[node] = False
        self.executors.node_down(node)
        for seq in [s for s, parcel in self.messages.items() if parcel[0].to.node == node]:
            self.messages.pop(seq)
        for seq in [s for s, parcel in self.blocked.items() if parcel[0].to.node == node]:
            del self.blocked[seq]
        self.executors.members_changed(before)
        return None, []

    def _restart(self, event: Restart) -> Applied:
        node = self._require(event.node, up=False)
        executors = self.executors
        before = executors.members_seen()
        procs = executors.build(node, executors.durable_of(node))
        self.up[node] = True
        # The other nodes' watchers hear of the restart before the new processes run init.
        executors.members_changed(before)
        return None, executors.init(procs)

    def _partition(self, event: Partition) -> Applied:
        if self.groups is not None:
            raise EventNotEnabled("the network is already partitioned")
        problem = partition_problem(event.groups, self.scenario.nodes)
        if problem is not None:
            raise EventNotEnabled(problem)
        before = self.executors.members_seen()
        self.groups = {node: i for i, group in enumerate(event.groups) for node in group}
        local, messages = self.local, self.messages
        for seq in [s for s, parcel in messages.items() if s not in local and self._cut(parcel[0])]:
            self.blocked[seq] = self._take(seq)
        self.executors.members_changed(before)
        return None, []

    def _heal(self, event: Heal) -> Applied:
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

    def _handle(self, proc: Any, env: Envelope, msg: Any, parcel: Parcel) -> list[Envelope]:
        """Run ``proc.handle`` on ``msg`` (the message of ``env``, as it travelled) with the
        message type's conditions around it."""
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
            before = _copy_for_postconditions(proc) if post else None
            try:
                proc.handle(msg, env.from_, env.cid, output)
            except BaseException as e:
                kind = type(msg).__qualname__
                raise protocol_failed(
                    e,
                    f"handle of {pid} on {kind}",
                    f"exception in handle of {pid}",
                    f"{e!r} while handling {kind}",
                ) from None
            if post:
                for postcondition in post:
                    run_check(postcondition, "postcondition", before, proc, msg, output)
            if output:
                counts[SENT] += len(output)
                self._route(pid, output)
        except CheckFailed as failure:
            failure.parcel = parcel
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
                except BaseException as e:  # a malformed request, e.g. StartTimer(None)
                    raise protocol_failed(
                        e,
                        f"the executor of {sender.node} on {type(env.msg).__qualname__}",
                        f"bad request of {sender} to its executor",
                        f"{env.msg!r} raised {e!r}",
                    ) from None
                continue
            try:
                parcel = pack(env)
            except CodecError as e:
                raise CheckFailed(f"bad output of {sender}", f"to {to}: {e}") from None
            if whole and up.get(to.node):
                # The common case, inlined: a message to a live node, no partition.
                seq = self.next_seq
                self.next_seq = seq + 1
                add(seq, parcel)
            else:
                self._post(parcel)

    def _send(self, env: Envelope) -> None:
        """Put ``env``, sent by an executor, in flight."""
        self._post(pack(env))

    def _post(self, parcel: Parcel) -> None:
        seq = self.next_seq
        self.next_seq = seq + 1
        env = parcel[0]
        node = env.to.node
        if node not in self.up:
            self.dead_letters += 1  # no such node: no such pid
        elif not self.up[node]:
            self.lost += 1
        elif self.groups is not None and self._cut(env):
            self.blocked[seq] = parcel
        else:
            self.messages.add(seq, parcel)

    def _send_local(self, env: Envelope) -> None:
        """Send ``env`` within its node (a routed hop): no partition ever blocks it."""
        self._post_local(pack(env))

    def _post_local(self, parcel: Parcel) -> None:
        seq = self.next_seq
        self.next_seq = seq + 1
        messages, local = self.messages, self.local
        messages.add(seq, parcel)
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


def _copy_for_postconditions(proc: Any) -> Any:
    """A copy of ``proc`` as it is before ``handle``, for its postconditions to compare; an
    ``InvalidDefinition`` naming the field that cannot be copied, if one cannot."""
    try:
        return copy.deepcopy(proc)
    except Exception as e:
        field = _uncopyable_field(proc)
        where = f"its field {field!r}" if field else "it"
        raise InvalidDefinition(
            f"{proc.pid} cannot be copied for its postconditions: {where} holds something "
            f"that cannot be copied ({type(e).__name__}: {e}); process state must be plain "
            "data (attrs classes, dicts, lists, sets, tuples, numbers, strings)"
        ) from None


def _uncopyable_field(proc: Any) -> str | None:
    """The first attribute of ``proc`` that ``copy.deepcopy`` refuses, if one does."""
    names = [*getattr(proc, "__dict__", {}), *getattr(type(proc), "__slots__", ())]
    for name in names:
        try:
            copy.deepcopy(getattr(proc, name))
        except Exception:
            return str(name)
    return None


def _is_executor(to: Pid, sender: Pid) -> bool:
    return to.group == EXECUTOR_GROUP and to.name == "executor" and to.node == sender.node
