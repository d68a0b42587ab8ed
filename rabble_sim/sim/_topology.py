"""The shape of a scenario's network: which nodes are linked, and each link's faults.

A topology names the links a network has when nothing is cut (``full``: every pair;
``line``, ``ring``, ``star``, ``tree``, ``grid``; or any networkx graph over the node
names). Messages follow paths, as routers forward them: in a ring, cutting one link
leaves every node reachable the other way round, and a partition cuts the links between
its groups. Links are directed, so that one direction may fail alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import networkx as nx

from ..core import InvalidDefinition

SHAPES = ("full", "line", "ring", "star", "tree", "grid")


def latency_range(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    ok = (
        isinstance(value, tuple)
        and len(value) == 2
        and all(type(v) is int and v >= 0 for v in value)
        and value[0] <= value[1]
    )
    if not ok:
        raise InvalidDefinition(
            f"{attribute.name} is (least, most) in ms, two whole numbers with least <= most, "
            f"not {value!r}"
        )


def _drop(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
        raise InvalidDefinition(f"Link.drop is a probability in [0, 1], not {value!r}")


@attrs.frozen
class Link:
    """The faults of one directed link, in ``Faults.links[(from_node, to_node)]``: its
    chance of dropping a message (instead of ``Faults.drop``) and its latency, the least
    and most ms a message takes on it (instead of ``Faults.latency``). None keeps the
    scenario-wide value."""

    drop: float | None = attrs.field(default=None, validator=_drop)
    latency: tuple[int, int] | None = attrs.field(default=None, validator=latency_range)


def topology_graph(shape: str | nx.Graph, nodes: Sequence[str]) -> nx.DiGraph | None:
    """The links of ``shape`` over ``nodes`` (in their order: the line's, the ring's, the
    star's centre first, the tree's root first, the grid's rows), both ways unless
    ``shape`` is a directed graph; None for ``full``, every pair (never built: a thousand
    nodes would make a million links)."""
    if isinstance(shape, nx.Graph):
        strangers = sorted(str(n) for n in shape.nodes if n not in nodes)
        if strangers:
            raise InvalidDefinition(
                f"Scenario.topology names nodes the scenario does not have: {strangers}"
            )
        graph = nx.DiGraph(shape)  # an undirected edge becomes a link each way
        graph.add_nodes_from(nodes)
        return graph
    if shape not in SHAPES:
        raise InvalidDefinition(
            f"Scenario.topology is one of {', '.join(SHAPES)} or a networkx graph, not {shape!r}"
        )
    n = len(nodes)
    if shape == "full":
        return None
    if shape == "line":
        pairs = [(i, i + 1) for i in range(n - 1)]
    elif shape == "ring":
        pairs = [(i, (i + 1) % n) for i in range(n)] if n > 2 else [(0, 1)][: n - 1]
    elif shape == "star":
        pairs = [(0, i) for i in range(1, n)]
    elif shape == "tree":
        pairs = [((i - 1) // 2, i) for i in range(1, n)]
    else:  # grid: rows of ceil(sqrt(n)), filled in order
        width = math.ceil(math.sqrt(n))
        pairs = [(i, i + 1) for i in range(n - 1) if (i + 1) % width] + [
            (i, i + width) for i in range(n - width)
        ]
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    for i, j in pairs:
        graph.add_edge(nodes[i], nodes[j])
        graph.add_edge(nodes[j], nodes[i])
    return graph


def reach_of(graph: nx.DiGraph) -> dict[str, frozenset[str]] | None:
    """Which nodes each node's messages can reach by some path of ``graph`` (itself
    included); None if every node reaches every other (the common case, kept cheap)."""
    nodes = list(graph.nodes)
    reach = {node: frozenset(nx.descendants(graph, node)) | {node} for node in nodes}
    return None if all(len(r) == len(nodes) for r in reach.values()) else reach


def check_links(links: Mapping[tuple[str, str], Link], nodes: Sequence[str]) -> None:
    """An ``InvalidDefinition`` if ``Faults.links`` names a link between unknown nodes."""
    for key, link in links.items():
        if not (isinstance(key, tuple) and len(key) == 2 and all(k in nodes for k in key)):
            raise InvalidDefinition(
                f"Faults.links has the key {key!r}, not a (from_node, to_node) pair of the "
                f"scenario's nodes {list(nodes)}"
            )
        if not isinstance(link, Link):
            raise InvalidDefinition(f"Faults.links[{key!r}] is {link!r}, not a Link")
