"""The World: processes on nodes, messages in flight, a virtual clock and faults.

``World.apply(event)`` is the only way the world changes. It uses no randomness and no
I/O: given the same scenario and the same events, it goes through the same states. The
world owns its parts, each with one job and a public interface: the ``network`` (the seq
counter, messages in flight, partitions; ``_network.py``), the pending ``timers``
(``_timers.py``), and one executor per node (``rabble_sim.executor``, hosted by
``_executor.SimHost``), which starts and stops the node's processes and serves their
requests as on a TCP node.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import networkx as nx

from ..core import (
    CodecError,
    Envelope,
    HistoryEvent,
    InvalidDefinition,
    Pid,
    RabbleInternalError,
    Timeout,
    executor_pid,
)
from ..executor import RECEIVED, BadOutput, BadRequest, BadStart, Executor
from ._clocks import Clocks
from ._enabled import Enabled
from ._events import (
    Deliver,
    Drop,
    Duplicate,
    Event,
    FireTimer,
    Input,
)
from ._executor import SimHost
from ._failures import (
    CheckFailed,
    EventNotEnabled,
    bad_output,
    protocol_failed,
    run_check,
    user_code_failed,
)
from ._inputs import INPUT_SENDER, Draw, InputOffer, simplest
from ._ledger import InputLedger
from ._network import Network
from ._node_events import NODE_APPLIERS, NodeEvents
from ._parcel import Parcel, again, pack, unpack
from ._postconditions import copy_of
from ._scenario import Faults, Scenario
from ._timers import Timers

TIMEOUT = Timeout()
_TIMEOUT_BODY = pack(Envelope(executor_pid("-"), executor_pid("-"), TIMEOUT))[1]
"""``Timeout()`` has no fields: every timer shares its encoding, and its one instance."""
Applied = tuple[Parcel | None, list[Envelope]]
"""What applying an event did: the message it delivered, dropped, duplicated or fired (if
any), and what the processes sent."""
_COPIED = (
    "up", "network", "timers", "clocks", "processes", "metrics", "durable", "history",
    "inputs", "disks",
)  # fmt: skip
"""The attributes that hold state, copied in a snapshot (deeply, as its memo says). The
executors, the step's random numbers and the borrowed pids are copied too, each its own
way; the rest is code (the scenario, its checks, the random source) or a number, shared."""


class World(NodeEvents):
    """The state of a simulated cluster, changed only by ``apply``.

    Messages between nodes in different partition groups wait until a heal; the others
    may be delivered in any order. Timers fire in due order, and firing one moves the
    clock to its due time. ``processes`` and ``metrics`` hold every node's processes and
    their counters (each node's executor registers its own there).
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.up: dict[str, bool] = dict.fromkeys(scenario.nodes, False)
        faults = scenario.faults
        self.network = Network(
            self.up, scenario.links, faults=faults.drops or faults.duplicate > 0,
            latency=faults.latency_of if faults.slow else None,
        )  # fmt: skip
        self.timers = Timers(self.network.new_seq)
        self.clocks = Clocks(self.timers)
        """Each node's own clock (its rate, its jumps): timers run on it."""
        self.network.keep_time(self.timers, self.draw_delay)
        self.disks: dict[str, tuple[bool, tuple[Pid, ...]]] = {}
        """What befell the disk of each node that is down: whether it was replaced, and the
        pids whose records were corrupted. Its restart is told, and forgets it."""
        self.drifts = 0
        """How many ``Drift`` events were applied: they all come first in a run."""
        self.processes: dict[Pid, Any] = {}
        self.metrics: dict[Pid, list[int]] = {}
        self.durable: dict[Pid, Any] = {}
        """The last data each pid persisted, as a restart hands it back."""
        self.history: list[HistoryEvent] = []
        """What clients invoked and got back (``invoke``, ``complete``), in order."""
        self.executors: dict[str, Executor] = {
            node: self._executor(node) for node in scenario.nodes
        }
        self.step = 0
        self.inputs = InputLedger(scenario.inputs)
        """The inputs given so far, and which may be given."""
        self.step_randoms: list[int] = []
        """The random numbers processes drew in the step under way (``GetRandom``), in
        order: the run records them with the step."""
        self.clock_read = False
        """Whether a process has read its node's clock (``ReadClock``): readings are
        absolute, and exploration counts no absolute time as part of a state."""
        self._random: Callable[[int], int] = simplest
        self._spread: Callable[[int], int] = simplest
        self.borrowed: set[Pid] = set()
        """The pids whose process object this world shares with a fork (``fork``): copied
        before it handles anything, so that neither world changes the other's."""
        self.lent: set[str] = set()
        """The nodes whose executor this world shares with a fork: copied before it serves
        anything (``executor``), so that neither world changes the other's."""
        self._shares_parcels = False
        """Whether the messages in flight are shared with a fork: a delivery then decodes
        its own copy instead of handing out the parcel's one."""
        self.disposed = False
        """Whether ``dispose`` was called: the world can be read, not changed."""
        self._preconditions = scenario.preconditions
        self._postconditions = scenario.postconditions

    def _executor(self, node: str) -> Executor:
        scenario = self.scenario
        return Executor(
            node, SimHost(self, node), routes=scenario.routes, factories=scenario.factories,
            services=scenario.services, processes=self.processes, metrics=self.metrics,
        )  # fmt: skip

    @property
    def processes_view(self) -> Mapping[Pid, Any]:
        """The processes, read-only (what checks see)."""
        return MappingProxyType(self.processes)

    @property
    def durable_view(self) -> Mapping[Pid, Any]:
        """The data each pid persisted, read-only."""
        return MappingProxyType(self.durable)

    def __deepcopy__(self, memo: dict[int, Any]) -> World:
        """A snapshot: every process, message, timer and counter copied; the scenario and
        its checks shared, since they are code, not state."""
        clone = object.__new__(World)
        memo[id(self)] = clone  # the executors' hosts point back at their world: at the clone
        routes = self.scenario.routes
        memo[id(routes)] = routes  # code, like the scenario: the routers share it
        state, copied = self.__dict__, clone.__dict__
        copied.update(state)
        for name in _COPIED:  # in this order: a host is made after its world's network
            copied[name] = copy.deepcopy(state[name], memo)
        # Each node's executor over the copies' processes and metrics, with a host in the
        # copy (one lent by a fork has a host in another world).
        copied["executors"] = {
            node: executor.fork(SimHost(clone, node), clone.processes, clone.metrics)
            for node, executor in self.executors.items()
        }
        copied["step_randoms"] = self.step_randoms.copy()
        copied["borrowed"] = set()  # every process copied
        copied["lent"] = set()
        return clone

    def fork(self) -> World:
        """A state to go on from, apart from this one, as ``copy.deepcopy`` but cheaper: what
        an event replaces rather than changes is shared (the messages in flight, durable
        data, the history's events), and so is every process until one of the two worlds
        is about to run its code (copy on write: ``borrowed``), and every node's executor
        until one of them is about to serve something on it (``lent``). Exploration forks
        a world once per event enabled in it."""
        # Each part copied by hand, not by deepcopy: the containers are new, the values in
        # them kept (processes until written, the rest never changed in place).
        clone = object.__new__(World)
        clone.__dict__.update(self.__dict__)
        clone.up = self.up.copy()
        clone.network = network = self.network.fork(clone.up)
        clone.timers = timers = self.timers.fork(network.new_seq)
        clone.clocks = self.clocks.fork(timers)
        network.keep_time(timers, clone.draw_delay)
        clone.disks = self.disks.copy()
        clone.processes = self.processes.copy()
        clone.metrics = {pid: counts.copy() for pid, counts in self.metrics.items()}
        clone.durable = self.durable.copy()
        clone.history = self.history.copy()
        clone.inputs = self.inputs.copy()
        clone.executors = self.executors.copy()
        clone.step_randoms = self.step_randoms.copy()
        self.borrowed = set(self.processes)
        clone.borrowed = set(self.processes)
        self.lent = set(self.executors)
        clone.lent = set(self.executors)
        self._shares_parcels = clone._shares_parcels = True
        return clone

    def dispose(self) -> None:
        """Break the references from the world's parts back to it and to each other (its
        executors' hosts, the network's clock, the chooser's draws), so that reference counting
        frees it as soon as nothing else holds it, with the cyclic collector paused: a run
        ends with its world disposed, and exploration discards one for nearly every state
        it reaches. A disposed world can still be read (its processes, network, timers,
        executors and counts), not changed: applying an event to it fails."""
        self.disposed = True
        self._random = self._spread = simplest  # the chooser's: it reads this world
        for executor in self.executors.values():
            host = executor.host
            if isinstance(host, SimHost) and host.serves(self):  # not one lent by a fork
                host.detach()
        self.network.keep_time(None, None)

    def executor(self, node: str) -> Executor:
        """``node``'s executor, about to change: a copy of its own first, if a fork
        shares it (``lent``)."""
        executor = self.executors[node]
        if self.lent and node in self.lent:
            self.lent.discard(node)
            executor = executor.fork(SimHost(self, node), self.processes, self.metrics)
            self.executors[node] = executor
        return executor

    # -- what there is --------------------------------------------------------------------

    def up_nodes(self) -> list[str]:
        return [node for node in self.scenario.nodes if self.up[node]]

    def down_nodes(self) -> list[str]:
        return [node for node in self.scenario.nodes if not self.up[node]]

    def pids_on(self, node: str) -> list[Pid]:
        """The processes running on ``node``, in the order they started."""
        executor = self.executors.get(node)
        return list(executor.pids) if executor is not None else []

    @property
    def now(self) -> int:
        """The virtual clock, in ms (it moves when a timer fires)."""
        return self.timers.now

    @property
    def partitioned(self) -> bool:
        return self.network.partitioned

    @property
    def dead_letters(self) -> int:
        """Messages delivered to a pid that was not running, or sent to an unknown node."""
        return self.network.dead_letters + sum(e.dead_letters for e in self.executors.values())

    @property
    def lost(self) -> int:
        """Messages sent to a node while it was down."""
        return self.network.lost

    def network_graph(self) -> nx.DiGraph:
        """The network as it is now: a copy of its directed graph of links (the scenario's
        topology less the links cut), each node marked ``up`` or not."""
        graph = self.network.links.copy()
        for node in self.scenario.nodes:
            graph.nodes[node]["up"] = self.up[node]
        return graph

    def members(self, node: str) -> tuple[str, ...]:
        """The members ``node`` sees: the up nodes it can reach and hear from, sorted by
        name (a link that works one way only is lost, as a TCP connection would be)."""
        up, reaches = self.up, self.network.reaches
        return tuple(
            sorted(
                n for n in self.scenario.nodes if up[n] and reaches(n, node) and reaches(node, n)
            )
        )

    @property
    def drifting(self) -> bool:
        """Whether clocks may still drift: every step so far was a drift."""
        return self.drifts >= self.step

    def clock(self, node: str) -> int:
        """What ``node``'s own clock reads now, in ms, for a process (``ReadClock``)."""
        self.clock_read = True
        return self.clocks.read(node)

    def enabled(self, faults: Faults | None = None) -> Enabled:
        """The events that can happen now under ``faults`` (default: the scenario's), in
        their canonical order: index 0 is the simplest, delivering the oldest message."""
        return Enabled(self, self.scenario.faults if faults is None else faults)

    def input_offers(self) -> list[InputOffer]:
        """The inputs that may be given now (``InputLedger.offers``)."""
        return self.inputs.offers(self.up)

    def make_input(self, offer: InputOffer, draw: Draw) -> Input:
        """The input ``offer`` names, built by its ``make`` from ``draw`` for the next step
        (``InputLedger.make``: an ``InvalidDefinition`` if ``make`` fails)."""
        return self.inputs.make(offer, draw, self.step + 1)

    def input_problem(self, event: Input) -> str | None:
        """Why ``event`` could not be given now, or None (``InputLedger.problem``)."""
        return self.inputs.problem(event, self.up)

    @property
    def inputs_given(self) -> list[int]:
        """How many of each of the scenario's ``inputs`` were given so far."""
        return self.inputs.given

    def in_flight(self) -> list[tuple[int, Envelope]]:
        """Every message in flight, deliverable or held by a partition, by seq, each as it
        was sent (a copy: changing it changes nothing in flight)."""
        return [(seq, unpack(parcel)) for seq, parcel in self.network.in_flight()]

    def envelope(self, seq: int) -> Envelope | None:
        """The in-flight message ``seq`` (deliverable or held) as it was sent, or None."""
        parcel = self.network.get(seq)
        return None if parcel is None else unpack(parcel)

    # -- changing the world ---------------------------------------------------------------

    def start(self) -> list[Envelope]:
        """Start every node for the first time; returns what the processes' ``init`` sent."""
        # Every node is up before any init runs, so that what init sends is not lost.
        for node in self.scenario.nodes:
            self.up[node] = True
        built = [(node, self._build(node, None)) for node in self.scenario.nodes]
        return [env for node, procs in built for env in self._init(node, procs)]

    def begin_step(self, step: int) -> None:
        """Number the step about to be applied. The run loop numbers them (its liveness
        phase goes on from its fault phase), and a clone goes on from the step it was made
        at: either way one after the last."""
        if step != self.step + 1:
            raise RabbleInternalError(f"step {step} applied after step {self.step}")
        self.step = step
        if self.step_randoms:
            self.step_randoms = []

    def use_random(
        self, random: Callable[[int], int], spread: Callable[[int], int] | None = None
    ) -> None:
        """Draw the random numbers processes ask for with ``random`` ("one of n"): the run's
        chooser, or a replay of the numbers a step drew. Until then, each is 0. A message's
        delay beyond its link's least is drawn by ``spread`` ("one of n" ms) if given, else
        by ``random`` (a replay gives them back in turn, then 0); until then, it is 0."""
        self._random = random
        self._spread = spread or random

    def draw_random(self, below: int) -> int:
        """A random number below ``below`` for a process, drawn and recorded."""
        if below <= 1:
            return 0  # no decision: nothing drawn, nothing recorded (a replay reads none)
        value = self._random(below)
        self.step_randoms.append(value)
        return value

    def draw_delay(self, least: int, most: int) -> int:
        """The delay of a message on a link whose latency is from ``least`` to ``most`` ms:
        ``least``, and what is drawn beyond it (a decision of the run, 0 the simplest,
        recorded with the step's random numbers)."""
        if most <= least:
            return least
        extra = self._spread(most - least + 1)
        self.step_randoms.append(extra)
        return least + extra

    def apply(self, event: Event) -> tuple[Envelope | None, list[Envelope]]:
        """Apply ``event``; return the message it acted on (if any, as it was sent) and
        what was sent. (``APPLIERS[type(event)](world, event)`` does the same, and gives
        the message as the ``Parcel`` it travelled in.)

        Raises ``EventNotEnabled`` if the event is not possible in this state, and
        ``CheckFailed`` if user code raised or a pre- or postcondition failed.
        """
        if self.disposed:
            raise RabbleInternalError("an event applied to a disposed world")
        applier = APPLIERS.get(type(event))
        if applier is None:  # an InputOffer, say: make_input makes it an event
            raise EventNotEnabled(f"{event!r} is not an event")
        parcel, sent = applier(self, event)
        return (None if parcel is None else unpack(parcel)), sent

    def _take(self, seq: int) -> Parcel:
        network = self.network
        parcel = network.take(seq)
        if parcel is None:
            where = (
                "waiting for a heal" if seq in network.held
                else "still in transit" if seq in network.transit
                else "not in flight"
            )  # fmt: skip
            raise EventNotEnabled(f"message #{seq} is {where}")
        return parcel

    def next_due(self) -> tuple[int, int, bool] | None:
        """What time brings next: (due time, seq, whether it is a timer) of the timer due
        first or the message in transit that arrives first, whichever comes first (ties:
        the one created first); None if there is neither."""
        timers = self.timers
        timer = timers.next()
        arrival = self.network.next_arrival() if self.network.transit else None
        if timer is None:
            return None if arrival is None else (arrival[0], arrival[1], False)
        due = timers[timer].due
        if arrival is None or (due, timer) < arrival:
            return due, timer, True
        return arrival[0], arrival[1], False

    def _land(self, seq: int) -> None:
        """Let time pass until message ``seq``, in transit, arrives: it must be what comes
        next (``next_due``)."""
        due = self.next_due()
        if due is None or due[1] != seq:
            raise EventNotEnabled(f"message #{seq} is in transit, and does not arrive next")
        self.timers.advance(due[0])
        self.network.land(self.timers.now)

    def _deliver(self, event: Deliver) -> Applied:
        parcel = self.network.take(event.seq)
        if parcel is None and event.seq in self.network.transit:
            self._land(event.seq)
            parcel = self.network.take(event.seq)
        if parcel is None:
            self._take(event.seq)  # says why not
        assert parcel is not None
        env = parcel[0]
        if self._shares_parcels:
            parcel = again(parcel)  # the receiver's own copy: a fork has the same parcel
        proc = self.processes.get(env.to)
        if proc is None:
            return parcel, self._deliver_absent(parcel)
        return parcel, self._handle(proc, env, parcel[2], parcel)

    def _deliver_absent(self, parcel: Parcel) -> list[Envelope]:
        """``parcel`` reached a pid that is not running: its node's executor decides."""
        sent = parcel[0]
        env = Envelope(sent.to, sent.from_, parcel[2], sent.cid)
        executor = self.executor(env.to.node)
        try:
            return executor.deliver_absent(env)
        except CheckFailed as failure:  # in the init of a process it spawned, say
            failure.handling(parcel)
            raise
        except (BadOutput, BadRequest) as e:
            raise bad_output(e, parcel) from None

    def _drop(self, event: Drop) -> Applied:
        return self._take(event.seq), []

    def _duplicate(self, event: Duplicate) -> Applied:
        network = self.network
        parcel = network.deliverable.get(event.seq)
        if parcel is None:
            self._take(event.seq)  # says why not
        assert parcel is not None
        if network.is_local(event.seq):
            network.send_local(again(parcel))
        else:
            network.send(again(parcel))
        return parcel, []

    def _fire(self, event: FireTimer) -> Applied:
        if event.seq != self.timers.next():
            raise EventNotEnabled(f"timer #{event.seq} is not the next timer due")
        if self.network.transit:
            due = self.next_due()
            if due is not None and due[1] != event.seq:
                raise EventNotEnabled(f"message #{due[1]} arrives before timer #{event.seq}")
        timer = self.timers.fire(event.seq)
        if self.network.transit:
            self.network.land(self.timers.now)
        env = Envelope(timer.pid, executor_pid(timer.pid.node), TIMEOUT, timer.cid)
        parcel = (env, _TIMEOUT_BODY, TIMEOUT)
        return parcel, self._handle(self.processes[timer.pid], env, TIMEOUT, parcel)

    def _input(self, event: Input) -> Applied:
        problem = self.input_problem(event)
        if problem is not None:
            raise EventNotEnabled(problem)
        env = Envelope(event.to, INPUT_SENDER, event.msg)
        try:
            parcel = pack(env)
        except CodecError as e:
            raise CheckFailed(f"bad input to {event.to}", str(e)) from None
        self.inputs.give(event)
        proc = self.processes.get(event.to)
        if proc is None:
            return parcel, self._deliver_absent(parcel)
        return parcel, self._handle(proc, env, parcel[2], parcel)

    # -- processes ------------------------------------------------------------------------

    def _build(self, node: str, durable: dict[Pid, Any] | None) -> list[Any]:
        """Build ``node``'s processes with the scenario's ``start`` and register them.

        Only these: a process spawned on the node is not rebuilt after a crash unless
        ``start`` builds it (the data it persisted is in ``durable``).
        """
        scenario = self.scenario
        try:
            built = scenario.start(node, durable)
        except BaseException as e:
            raise user_code_failed(f"exception in start({node!r})", e) from None
        try:
            return self.executor(node).register_all(built)
        except BadStart as e:
            raise InvalidDefinition(f"start({node!r}) of scenario {scenario.name!r} {e}") from None
        except BaseException as e:  # a generator that raised
            raise user_code_failed(f"exception in start({node!r})", e) from None

    def _init(self, node: str, procs: list[Any]) -> list[Envelope]:
        try:
            return self.executor(node).init(procs)
        except (BadOutput, BadRequest) as e:
            raise bad_output(e, None) from None

    def _handle(self, proc: Any, env: Envelope, msg: Any, parcel: Parcel) -> list[Envelope]:
        """Run ``proc.handle`` on ``msg`` (the message of ``env``, as it travelled) with the
        message type's conditions around it."""
        pid = env.to
        shared = None
        if self.borrowed and pid in self.borrowed:  # a fork shares it: copy it first
            self.borrowed.discard(pid)
            shared, proc = proc, copy_of(proc, "to explore from two states")
            self.processes[pid] = proc
        self.metrics[pid][RECEIVED] += 1
        output: list[Envelope] = []
        try:
            pre = self._preconditions.get(type(msg)) if self._preconditions else None
            if pre:
                for precondition in pre:
                    run_check(precondition, "precondition", proc, msg, env.from_, env.cid)
            post = self._postconditions.get(type(msg)) if self._postconditions else None
            if post:  # the process a fork shares is as it was: no need for another copy
                before = shared if shared is not None else copy_of(proc, "for its postconditions")
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
                node = pid.node  # executor(node), inlined while no fork shares one
                executor = self.executor(node) if self.lent else self.executors[node]
                executor.send_output(pid, output)
        except CheckFailed as failure:
            failure.handling(parcel)
            raise
        except (BadOutput, BadRequest) as e:
            raise bad_output(e, parcel) from None
        return output


APPLIERS: dict[type, Callable[[World, Any], Applied]] = {
    # apply() by event type; the run loop calls these directly, one call fewer.
    Deliver: World._deliver,
    Drop: World._drop,
    Duplicate: World._duplicate,
    FireTimer: World._fire,
    Input: World._input,
    **NODE_APPLIERS,
}
"""What applies each kind of event to a world (``APPLIERS[type(event)](world, event)``)."""
