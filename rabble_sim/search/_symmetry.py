"""Symmetry: the relabellings of interchangeable nodes, and what they do to plain data.

A relabelling permutes the nodes of each declared group among themselves; it renames a
node wherever a node's name is a whole string of the state (a node, or a pid's string
form, ``[group::]name::node``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from ..core import InvalidDefinition

MAX_RELABELLINGS = 5040
"""The most relabellings a symmetry may have (the product of its groups' factorials):
each state is rendered under every one of them."""


def relabellings(symmetry: Sequence[Sequence[str]]) -> list[dict[str, str]]:
    """Every relabelling of nodes that ``symmetry`` allows: each group's nodes permuted
    among themselves, the identity first. ``[{}]`` when there is no symmetry."""
    groups = [tuple(group) for group in symmetry if len(group) > 1]
    count = 1
    for group in groups:
        for n in range(2, len(group) + 1):
            count *= n
    if count > MAX_RELABELLINGS:
        raise InvalidDefinition(
            f"the symmetry {[list(g) for g in groups]} has {count} relabellings; at most "
            f"{MAX_RELABELLINGS} are tried per state: declare smaller groups"
        )
    result: list[dict[str, str]] = []
    for images in itertools.product(*(itertools.permutations(group) for group in groups)):
        names = {
            node: image
            for group, permuted in zip(groups, images, strict=True)
            for node, image in zip(group, permuted, strict=True)
            if node != image
        }
        result.append(names)
    return result


def relabelled(state: Any, names: dict[str, str]) -> Any:
    """``state`` with every node name in ``names`` replaced by its image, wherever it is a
    whole string: a node's name, or a pid's string form (``[group::]name::node``)."""
    return _map_strings(state, lambda text: _relabel(text, names))


def _relabel(text: str, names: dict[str, str]) -> str:
    image = names.get(text)
    if image is not None:
        return image
    head, sep, node = text.rpartition("::")
    if sep and node in names:
        return f"{head}::{names[node]}"
    return text


def _map_strings(plain: Any, change: Callable[[str], str]) -> Any:
    if isinstance(plain, str):
        return change(plain)
    if isinstance(plain, list):
        return [_map_strings(item, change) for item in plain]
    if isinstance(plain, dict):
        return {change(key): _map_strings(item, change) for key, item in plain.items()}
    return plain


def nodes_named(plain: Any, nodes: frozenset[str]) -> set[str]:
    """The ``nodes`` that ``plain`` names where a relabelling looks (``_relabel``): a whole
    string, or the node of a pid's string form."""
    named: set[str] = set()

    def note(text: str) -> str:
        if text in nodes:
            named.add(text)
        _, sep, node = text.rpartition("::")
        if sep and node in nodes:
            named.add(node)
        return text

    _map_strings(plain, note)
    return named
