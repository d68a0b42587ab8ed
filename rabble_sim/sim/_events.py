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
    """Cut the links between ``groups`` (two or more, of any sizes); messages that can no
    longer reach their node wait until ``Heal``. ``one_way``: only the links into the
    first group are cut, so it is heard by the others but hears none of them."""

    kind: ClassVar[str] = "partition"
    groups: tuple[tuple[str, ...], ...]
    one_way: bool = False


@attrs.frozen
class Heal:
    """Put back every link cut: every waiting message can be delivered again."""

    kind: ClassVar[str] = "heal"


@attrs.frozen
class Drift:
    """From now on ``node``'s clock runs at ``rate`` times true time (1.1: 10% fast).
    A run's drifts are drawn when it begins, before any other event."""

    kind: ClassVar[str] = "drift"
    node: str
    rate: float


@attrs.frozen
class Jump:
    """``node``'s clock jumps ``ms`` ahead: its timers due within that fire now."""

    kind: ClassVar[str] = "jump"
    node: str
    ms: int


@attrs.frozen
class LoseDisk:
    """``node``, which is down, gets a new, empty disk: what it persisted is gone, and its
    next start is told so (``Durable.lost``)."""

    kind: ClassVar[str] = "lose_disk"
    node: str


@attrs.frozen
class CorruptDisk:
    """The record ``pid`` persisted, on a node that is down, is damaged: its checksum
    fails when the node restarts, which is told so (``Durable.corrupted``)."""

    kind: ClassVar[str] = "corrupt_disk"
    pid: Pid


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


Event = (
    Deliver | Drop | Duplicate | FireTimer | Crash | Restart | Partition | Heal | Input
    | Drift | Jump | LoseDisk | CorruptDisk
)  # fmt: skip
EVENT_CLASSES = (
    Deliver, Drop, Duplicate, FireTimer, Crash, Restart, Partition, Heal, Input,
    Drift, Jump, LoseDisk, CorruptDisk,
)  # fmt: skip
EVENT_KINDS: tuple[str, ...] = tuple(cls.kind for cls in EVENT_CLASSES)
FAULT_KINDS = frozenset(cls.kind for cls in EVENT_CLASSES if cls not in (Deliver, FireTimer, Input))
"""The kinds of events that are faults (or undo one): what shrinking removes first."""
