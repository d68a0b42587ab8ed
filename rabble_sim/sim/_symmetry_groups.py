"""Whether declared groups of interchangeable nodes are a symmetry of a scenario: disjoint
groups of its nodes, each of whose swaps leaves what the scenario says of them as it was."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..core import Pid

if TYPE_CHECKING:
    from ._scenario import Scenario


def symmetry_problem(groups: Sequence[Sequence[str]], scenario: Scenario) -> str | None:
    """What is wrong with ``groups`` as a symmetry of ``scenario``, or None: they must be
    disjoint groups of its nodes, and swapping two nodes of a group must leave what the
    scenario says of them as it was: which nodes are clients, where each kind of input
    goes, the links and their faults. (What its code does with them, no check can tell:
    that is the declaration's promise.)"""
    nodes = scenario.nodes
    seen: list[str] = []
    for group in groups:
        for node in group:
            if node not in nodes:
                return f"symmetry names node {node!r}, which is not one of {list(nodes)}"
            if node in seen:
                return f"symmetry names node {node!r} twice"
            seen.append(node)
    for group in groups:
        for one, other in itertools.pairwise(group):  # adjacent swaps make every permutation
            changed = _unlike(scenario, {one: other, other: one})
            if changed is not None:
                return (
                    f"symmetry group {list(group)} swaps nodes {one!r} and {other!r}, "
                    f"which the scenario does not treat alike: {changed}"
                )
    return None


def _unlike(scenario: Scenario, swap: dict[str, str]) -> str | None:
    """What of ``scenario`` the node ``swap`` changes, or None."""

    def node(name: str) -> str:
        return swap.get(name, name)

    clients = set(scenario.clients)
    if {node(n) for n in clients} != clients:
        return "one is a client node (never crashed) and the other is not"
    # The kinds of input as a multiset: one kind per client, alike but for its targets, is
    # symmetric (a fingerprint counts each kind by its place: some reduction is lost).
    kinds = Counter(_kind(inputs.to, inputs) for inputs in scenario.inputs)
    for i, inputs in enumerate(scenario.inputs):
        swapped = [Pid(pid.name, node(pid.node), pid.group) for pid in inputs.to]
        if kinds[_kind(swapped, inputs)] != kinds[_kind(inputs.to, inputs)]:
            return f"inputs[{i}] go to {sorted(map(str, inputs.to))}"
    links = scenario.faults.links
    if {(node(a), node(b)): link for (a, b), link in links.items()} != dict(links):
        return "Faults.links gives their links other faults"
    graph = scenario.links
    if graph is not None:
        edges = set(graph.edges)
        if {(node(a), node(b)) for a, b in edges} != edges:
            return "the topology links them to other nodes"
    return None


def _kind(targets: Sequence[Pid], inputs: Any) -> tuple[frozenset[Pid], Any, int]:
    """A kind of input as a symmetry sees it: where it goes, what makes it, how many."""
    return frozenset(targets), inputs.make, inputs.max
