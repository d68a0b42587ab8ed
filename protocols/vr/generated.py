"""Generated workloads: the calls VR's clients take as inputs, drawn over the whole kv.

Every operation of ``kv`` (get, put, append, push, pop, add, cas) on a few keys of the
client's group, with values from a set of three, so that operations collide: a ``cas``
expects a value another client's ``put`` may have written, an ``append`` or a ``push``
may land on a key that holds another type (and answers ``WRONG_TYPE``), a ``pop`` races
a ``push``. The simplest call (every draw at 0) is a ``get`` of the blob key ``x``;
shrinking a failing run lowers its calls toward it.
"""

from __future__ import annotations

from collections.abc import Callable

from rabble_sim import Draw

from .kv import Call
from .messages import Submit

OPERATIONS = ("get", "put", "append", "push", "pop", "add", "cas")
"""Every operation ``kv`` supports; the first (a read) is the simplest."""

KEYS: dict[str, tuple[str, ...]] = {
    "get": ("x", "y", "q", "s"),
    "put": ("x", "y"),
    "append": ("x", "y"),
    "cas": ("x", "y"),
    "push": ("q", "x"),
    "pop": ("q", "x"),
    "add": ("s", "x"),
}
"""The keys each operation draws from (before the group's prefix): blobs ``x`` and
``y``, a queue ``q``, a set ``s``. Each operation's own kind of key comes first; the
blob ``x`` is also open to the queue and set operations, so that keys change type or
refuse an operation of the wrong one."""

VALUES = ("a", "b", "c")
"""The values written, appended, pushed, added and compared: few, so that they collide."""


def draw_call(draw: Draw, group: str) -> Call:
    """One call on ``group``'s keys (``group/x``...): the operation, then its key, then
    its values, each drawn."""
    op = draw.choice(OPERATIONS)
    key = f"{group}/{draw.choice(KEYS[op])}"
    if op in ("get", "pop"):
        return (op, key)
    if op == "cas":
        return (op, key, draw.choice(VALUES), draw.choice(VALUES))
    return (op, key, draw.choice(VALUES))


def submit_calls(group: str) -> Callable[[Draw], Submit]:
    """The ``make`` of an ``Inputs`` to ``group``'s clients: a ``Submit`` of a drawn call."""

    def submit_call(draw: Draw) -> Submit:
        return Submit(draw_call(draw, group))

    return submit_call


def draw_register_call(draw: Draw, group: str) -> Call:
    """A write or a read of one register, ``group/x`` (the simplest: a read)."""
    if draw.boolean():
        return ("put", f"{group}/x", draw.choice(VALUES))
    return ("get", f"{group}/x")


def submit_register_calls(group: str) -> Callable[[Draw], Submit]:
    """Like ``submit_calls``, over one register only: a stale read shows at once."""

    def submit_register_call(draw: Draw) -> Submit:
        return Submit(draw_register_call(draw, group))

    return submit_register_call
