"""A scenario: the nodes, how to start their processes, the checks and the faults to inject."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs
import networkx as nx

from ..core import CorrelationId, Envelope, HistoryEvent, InvalidDefinition, Pid, Routes
from ._inputs import Inputs, as_inputs
from ._symmetry_groups import symmetry_problem
from ._topology import Link, check_links, latency_range, topology_graph

if TYPE_CHECKING:
    from ._view import View

Invariant = Callable[["View"], None]
"""Raises ``AssertionError`` (a plain ``assert``) when the property does not hold."""
Precondition = Callable[[Any, Any, Pid, CorrelationId | None], None]
"""``(process, msg, from_, cid)``, before ``handle``; raises ``AssertionError`` to fail."""
Postcondition = Callable[[Any, Any, Any, Sequence[Envelope]], None]
"""``(before, after, msg, outputs)``: a copy of the process before ``handle``, the process
after it, the message and what ``handle`` appended to ``output``."""
StartFn = Callable[[str, "dict[Pid, Any] | None"], Sequence[Any]]
Factory = Callable[[Pid, Any], Any]
"""``(pid, arg) -> process``: builds a process that ``Spawn`` asks for, under ``pid``."""


def _probability(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise InvalidDefinition(
            f"Faults.{attribute.name} is a probability in [0, 1], not {value!r}"
        )


def _non_negative(instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidDefinition(f"{attribute.name} must be a whole number >= 0, not {value!r}")


def _fraction(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise InvalidDefinition(f"Faults.{attribute.name} is a fraction in [0, 1), not {value!r}")


def _links(value: Any) -> Mapping[tuple[str, str], Link]:
    if not isinstance(value, Mapping):
        raise InvalidDefinition(
            f"Faults.links maps (from_node, to_node) to a Link, not {_what(value)}"
        )
    return MappingProxyType(dict(value))


@attrs.frozen
class Faults:
    """Which faults a run injects, and how often.

    Messages: ``drop`` and ``duplicate`` are the chances that a message between two nodes
    is dropped or duplicated instead of delivered when the scheduler picks it;
    ``latency`` the least and most ms each such message takes (drawn per message);
    ``links`` overrides the drop chance and the latency of single directed links.
    Reordering is always on: any message that has arrived may be delivered next.

    Nodes: ``crash`` is the most nodes down at once (0: no crashes). While a node is down
    its disk may be replaced (``disk_loss``: everything it persisted is gone) or a record
    on it corrupted (``disk_corruption``): chances drawn each time it restarts.

    Network: ``partition`` whether the links between groups of nodes are cut, and
    ``one_way`` whether a cut may leave one direction working (a group heard by the
    others, but hearing none of them).

    Clocks: ``drift`` the most a node's clock runs fast or slow, as a fraction (0.1: from
    0.9 to 1.1 times true time), drawn per node when a run begins; ``jump`` the most ms a
    node's clock jumps ahead at once, at ``jump_rate`` per step. Timers are measured on
    their node's clock.

    The ``*_rate`` fields are per-step chances of each node-level fault while it is possible.
    """

    drop: float = attrs.field(default=0.0, validator=_probability)
    duplicate: float = attrs.field(default=0.0, validator=_probability)
    crash: int = attrs.field(default=0, validator=_non_negative)
    partition: bool = False
    crash_rate: float = attrs.field(default=0.01, validator=_probability)
    restart_rate: float = attrs.field(default=0.05, validator=_probability)
    partition_rate: float = attrs.field(default=0.01, validator=_probability)
    heal_rate: float = attrs.field(default=0.05, validator=_probability)
    one_way: bool = False
    latency: tuple[int, int] = attrs.field(default=(0, 0), converter=tuple, validator=latency_range)
    links: Mapping[tuple[str, str], Link] = attrs.field(factory=dict, converter=_links)
    disk_loss: float = attrs.field(default=0.0, validator=_probability)
    disk_corruption: float = attrs.field(default=0.0, validator=_probability)
    drift: float = attrs.field(default=0.0, validator=_fraction)
    jump: int = attrs.field(default=0, validator=_non_negative)
    jump_rate: float = attrs.field(default=0.01, validator=_probability)

    def latency_of(self, source: str, target: str) -> tuple[int, int]:
        """The least and most ms a message from node ``source`` to ``target`` takes."""
        link = self.links.get((source, target))
        if link is not None and link.latency is not None:
            return link.latency
        return self.latency

    def drop_of(self, source: str, target: str) -> float:
        """The chance that a message from node ``source`` to ``target`` is dropped."""
        link = self.links.get((source, target))
        return self.drop if link is None or link.drop is None else link.drop

    @property
    def drops(self) -> bool:
        """Whether any message may be dropped (``drop``, or a link's own chance)."""
        return self.drop > 0 or any(link.drop for link in self.links.values())

    @property
    def slow(self) -> bool:
        """Whether any message may take time (``latency``, or a link's own)."""
        return self.latency != (0, 0) or any(link.latency for link in self.links.values())


@attrs.frozen
class Liveness:
    """A property that must come true once faults stop.

    After the run's faults, the simulator heals the network, restarts every node that is
    down and delivers fairly (every message that has arrived, oldest first, before time
    passes to the next timer; see ``FairChooser``);
    ``condition`` must then hold within ``within`` steps, counted from the end of the
    faults, heal and restarts included. It is first checked once every node is up and the
    network is whole. Like an invariant, it raises ``AssertionError`` while it does not
    hold; its last message is reported.

    ``restart=False`` is the crash-stop model: the nodes down when the faults stop stay
    down for good, and ``condition`` must come true among the others (a failure detector
    must stop trusting a node that never comes back).
    """

    condition: Invariant = attrs.field(validator=attrs.validators.is_callable())
    within: int = attrs.field(default=1000, validator=_non_negative)
    restart: bool = True

    @property
    def name(self) -> str:
        return getattr(self.condition, "__name__", "liveness")


def _nodes(nodes: Iterable[str]) -> tuple[str, ...]:
    # A set's order depends on PYTHONHASHSEED, and the order of nodes is the order in
    # which they start and in which the scheduler lists them.
    if isinstance(nodes, set | frozenset | str):
        raise InvalidDefinition(
            f"Scenario.nodes must be a list or tuple of names, not a {type(nodes).__name__}"
        )
    names = tuple(nodes)
    if not all(isinstance(n, str) and n and "::" not in n for n in names):
        raise InvalidDefinition(
            f"Scenario.nodes must be non-empty names without '::', not {names!r}"
        )
    return names


def _invariants(invariants: Iterable[Invariant] | Invariant) -> tuple[Invariant, ...]:
    """A sequence of checks, or one check on its own (``invariants=one_leader``)."""
    if callable(invariants):
        return (invariants,)
    if isinstance(invariants, str | bytes | Mapping) or not isinstance(invariants, Iterable):
        raise InvalidDefinition(
            f"Scenario.invariants is a list of functions of a View, or one such function, "
            f"not {_what(invariants)}"
        )
    checks = tuple(invariants)
    for i, check in enumerate(checks):
        if not callable(check):
            raise InvalidDefinition(
                f"Scenario.invariants[{i}] is {_what(check)}, not a function of a View"
            )
    return checks


def _what(value: Any) -> str:
    """``value`` and its type, for an error message: ``42 (an int)``."""
    kind = type(value).__name__
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    text = repr(value)
    return f"{text if len(text) <= 60 else text[:57] + '...'} ({article} {kind})"


def _conditions(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    field = f"Scenario.{attribute.name}"
    if not isinstance(value, Mapping):
        raise InvalidDefinition(
            f"{field} maps message types to lists of functions, for example "
            f"{{Ping: [check]}}, not {_what(value)}"
        )
    for kind, checks in value.items():
        if not isinstance(kind, type):
            raise InvalidDefinition(f"{field} has the key {_what(kind)}, not a message type")
        name = f"{field}[{kind.__name__}]"
        if not isinstance(checks, list | tuple):
            raise InvalidDefinition(f"{name} is {_what(checks)}, not a list of functions")
        for i, check in enumerate(checks):
            if not callable(check):
                raise InvalidDefinition(f"{name}[{i}] is {_what(check)}, not a function")


def _name(instance: Any, attribute: attrs.Attribute[str], value: str) -> None:
    # The name becomes a directory under regressions/: keep it one plain path segment.
    if (
        not isinstance(value, str)
        or not value
        or value.startswith(".")
        or "/" in value
        or "\\" in value
    ):
        raise InvalidDefinition(
            "Scenario.name must be a non-empty string without '/', '\\' "
            f"or a leading '.', not {value!r}"
        )


def _routes(instance: Any, attribute: attrs.Attribute[Routes], value: Routes) -> None:
    if not isinstance(value, Routes):
        raise InvalidDefinition(
            "Scenario.routes must be a Routes, for example "
            f"Routes({{'workers': RoundRobin()}}), not {value!r}"
        )


def _functions(field: str, example: str, value: Any) -> dict[str, Any]:
    """``value`` as a dict of named functions, copied so that the scenario keeps the ones
    it was built with; an ``InvalidDefinition`` naming the field if it is not one."""
    ok = isinstance(value, Mapping) and all(
        isinstance(name, str) and name and callable(function) for name, function in value.items()
    )
    if not ok:
        raise InvalidDefinition(
            f"Scenario.{field} maps names to functions, for example {example}, not {value!r}"
        )
    return dict(value)


def _factories(value: Any) -> dict[str, Factory]:
    return _functions("factories", "{'worker': Worker} (called as Worker(pid, arg))", value)


def _services(value: Any) -> dict[str, Callable[..., Any]]:
    return _functions("services", "{'digest': sha256_of}", value)


def _to_liveness(value: Liveness | Invariant | None) -> Liveness | None:
    if value is None or isinstance(value, Liveness):
        return value
    if not callable(value):
        raise InvalidDefinition(
            f"Scenario.liveness is a Liveness or a function of a View, not {_what(value)}"
        )
    return Liveness(value)


def _clients(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidDefinition(
            f"Scenario.clients is a list of node names, not {_what(value)} "
            "(for one client node: clients=['c1'])"
        )
    return tuple(value)


def _start(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not callable(value):
        raise InvalidDefinition(
            f"Scenario.start is a function start(node, durable) -> [process, ...], "
            f"not {_what(value)}"
        )


def _instance_of(kind: type) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, kind):
            raise InvalidDefinition(
                f"Scenario.{attribute.name} is a {kind.__name__}, not {_what(value)}"
            )

    return check


HistoryCheck = Callable[[Sequence[HistoryEvent]], None]
"""Checks a whole client history; raises ``AssertionError`` when it is wrong."""


def _symmetry(groups: Iterable[Iterable[str]]) -> tuple[tuple[str, ...], ...]:
    # A set's order depends on PYTHONHASHSEED; a string would be a group of its letters.
    unordered = (str, set, frozenset)
    listed = None if isinstance(groups, unordered) else list(groups)
    if listed is None or any(isinstance(group, unordered) for group in listed):
        raise InvalidDefinition(
            f"Scenario.symmetry must be a list of lists of node names, not {groups!r}"
        )
    return tuple(tuple(group) for group in listed)


@attrs.frozen
class Scenario:
    """Everything needed to run a protocol: nodes, how to start them, checks and faults.

    ``start(node, durable)`` builds a node's processes: at first start ``durable`` is
    ``None``; after a crash it holds the last data each of the node's pids persisted.
    Every process it returns must live on ``node``.

    ``routes`` are the routing policies of every node (see ``rabble_sim.core.Routes``);
    ``factories`` the functions ``factory(pid, arg)`` that ``Spawn`` may name, and
    ``services`` those that ``CallService`` may name. The simulator calls a service at
    once, in the middle of a step, so a service must be a deterministic function of its
    arguments (no clock, no random, no I/O whose answer changes): its result is not
    recorded in the schedule, it is computed again on replay.
    """

    name: str = attrs.field(validator=_name)
    nodes: tuple[str, ...] = attrs.field(converter=_nodes)
    start: StartFn = attrs.field(validator=_start)
    invariants: tuple[Invariant, ...] = attrs.field(default=(), converter=_invariants)
    faults: Faults = attrs.field(default=Faults(), validator=_instance_of(Faults))
    max_steps: int = attrs.field(default=1000, validator=_non_negative)
    preconditions: Mapping[type, Sequence[Precondition]] = attrs.field(
        factory=dict, validator=_conditions
    )
    postconditions: Mapping[type, Sequence[Postcondition]] = attrs.field(
        factory=dict, validator=_conditions
    )
    liveness: Liveness | None = attrs.field(default=None, converter=_to_liveness)
    routes: Routes = attrs.field(factory=Routes, validator=_routes)
    factories: Mapping[str, Factory] = attrs.field(factory=dict, converter=_factories)
    services: Mapping[str, Callable[..., Any]] = attrs.field(factory=dict, converter=_services)
    clients: tuple[str, ...] = attrs.field(default=(), converter=_clients)
    """The nodes where the clients run: the search never crashes them (a client that
    loses its memory would leave a history no checker can read)."""
    history: HistoryCheck | None = None
    """A check of the whole client history (``View.history``), run at the end of every run
    that no other check failed: for example ``rabble_sim.checks.linearizable(model)``.
    It raises ``AssertionError`` when the history is wrong."""
    inputs: tuple[Inputs, ...] = attrs.field(default=(), converter=as_inputs)
    """The inputs a run may give (one ``Inputs`` or a sequence of them): giving one is an
    enabled event, its message drawn by its ``make`` (see ``rabble_sim.sim.Inputs``)."""
    symmetry: tuple[tuple[str, ...], ...] = attrs.field(default=(), converter=_symmetry)
    """Groups of interchangeable nodes, for exploration's symmetry reduction: within a
    group, renaming the nodes maps every state to one that behaves the same, and the
    checks cannot tell them apart (see the guide's chapter on exploration)."""
    coverage: Callable[[View], Hashable] | None = None
    """The abstract state of a view that coverage-guided search (``--strategy guided``)
    counts: a run that reaches one no run reached before is kept and mutated. None: the
    small values of every process (``rabble_sim.search.default_coverage``)."""
    topology: str | nx.Graph = "full"
    """Which nodes are linked: ``full`` (every pair), ``line``, ``ring``, ``star``,
    ``tree`` or ``grid`` over the nodes in order, or a networkx graph of node names.
    Messages follow paths of links, so a cut partitions only what it disconnects."""
    links: nx.DiGraph | None = attrs.field(init=False, eq=False, repr=False)
    """The topology as a directed graph of links (made from ``topology``); None when every
    pair of nodes is linked."""

    @property
    def restarts_when_faults_stop(self) -> bool:
        """Whether the liveness phase restarts the nodes that are down (not crash-stop:
        ``Liveness(restart=False)``)."""
        return self.liveness is None or self.liveness.restart

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "links", topology_graph(self.topology, self.nodes))
        check_links(self.faults.links, self.nodes)
        if not self.nodes:
            raise InvalidDefinition(f"scenario {self.name!r} has no nodes")
        if len(set(self.nodes)) != len(self.nodes):
            raise InvalidDefinition(f"scenario {self.name!r} names a node twice: {self.nodes}")
        if self.faults.crash >= len(self.nodes) + 1:
            raise InvalidDefinition(
                f"scenario {self.name!r} allows {self.faults.crash} nodes down "
                f"but has only {len(self.nodes)}"
            )
        strangers = [node for node in self.clients if node not in self.nodes]
        if strangers:
            raise InvalidDefinition(
                f"scenario {self.name!r} names clients on {strangers}, which are not among "
                f"its nodes {list(self.nodes)}"
            )
        for i, inputs in enumerate(self.inputs):
            strangers = [str(pid) for pid in inputs.to if pid.node not in self.nodes]
            if strangers:
                raise InvalidDefinition(
                    f"scenario {self.name!r}: inputs[{i}] go to {strangers}, on nodes it "
                    f"does not have (its nodes: {list(self.nodes)})"
                )
        problem = symmetry_problem(self.symmetry, self)
        if problem is not None:
            raise InvalidDefinition(f"scenario {self.name!r}: {problem}")
        if self.history is not None and not callable(self.history):
            raise InvalidDefinition(
                f"Scenario.history must be a function of the history, not {self.history!r}"
            )
        names = [getattr(inv, "__name__", "") for inv in self.invariants]
        dup = sorted({n for n in names if n and names.count(n) > 1})
        if dup:
            raise InvalidDefinition(f"scenario {self.name!r} has two invariants named {dup[0]!r}")
