"""Events: the unit of a schedule. Each is one thing the scheduler may make happen next.

Messages and timers are named by their sequence id (``seq``), the order in which they were
created, so that a schedule names them stably across runs of the same code.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from ..core import Pid


@attrs.frozen
class Deliver:
    """Deliver in-flight message ``seq`` to its receiver."""

    kind: ClassVar[str] = "deliver"
    seq: int


@attrs.frozen
class Drop:
    """Lose in-flight message ``seq``: it is never delivered."""

    kind: ClassVar[str] = "drop"
    seq: int


@attrs.frozen
class Duplicate:
    """Copy in-flight message ``seq``: the copy gets a new seq, and both can be delivered."""

    kind: ClassVar[str] = "duplicate"
    seq: int


@attrs.frozen
class FireTimer:
    """Fire pending timer ``seq``: its process receives ``Timeout()`` with the timer's cid."""

    kind: ClassVar[str] = "timeout"
    seq: int


@attrs.frozen
class Crash:
    """Stop ``node``: its processes, volatile state, timers and inbound messages are gone."""

    kind: ClassVar[str] = "crash"
    node: str


@attrs.frozen
class Restart:
    """Start ``node`` again from the data its processes persisted."""

    kind: ClassVar[str] = "restart"
    node: str


@attrs.frozen
class Partition:
    """Split the nodes into ``groups``; messages between groups wait until ``Heal``."""

    kind: ClassVar[str] = "partition"
    groups: tuple[tuple[str, ...], ...]


@attrs.frozen
class Heal:
    """End the partition: every waiting message can be delivered again."""

    kind: ClassVar[str] = "heal"


@attrs.frozen
class Input:
    """Hand ``msg`` to ``to`` as an input (from ``INPUT_SENDER``): one of the scenario's
    ``inputs[source]``, built by its ``make`` from the decisions ``draws`` (kept so that
    a shrinker can draw simpler ones; replaying needs only the message)."""

    kind: ClassVar[str] = "input"
    to: Pid
    msg: Any
    source: int = 0
    draws: tuple[int, ...] = ()


Event = Deliver | Drop | Duplicate | FireTimer | Crash | Restart | Partition | Heal | Input
EVENT_KINDS: tuple[str, ...] = tuple(
    cls.kind
    for cls in (Deliver, Drop, Duplicate, FireTimer, Crash, Restart, Partition, Heal, Input)
)
