"""Addresses and envelopes: who a message is for, who sent it, and what it answers."""

from __future__ import annotations

from typing import Any, NamedTuple

import attrs


class Pid(NamedTuple):
    """The address of one process: its name, the node it runs on, and an optional group.

    Pids are ordered by (group, name, node), with ungrouped pids first, so sorting pids
    never depends on hashing. A pid is an immutable named tuple rather than an attrs
    class because it is the key of the simulator's hot dictionaries: a tuple's hash and
    equality run in C.
    """

    name: str
    node: str
    group: str | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> Pid:
        return self  # immutable: a copy would only cost

    def __str__(self) -> str:
        if self.group is None:
            return f"{self.name}::{self.node}"
        return f"{self.group}::{self.name}::{self.node}"

    def __repr__(self) -> str:
        group = "" if self.group is None else f", group={self.group!r}"
        return f"Pid({self.name!r}, {self.node!r}{group})"

    def _key(self) -> tuple[bool, str, str, str]:
        return (self.group is not None, self.group or "", self.name, self.node)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Pid):
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Pid):
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Pid):
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Pid):
            return NotImplemented
        return self._key() >= other._key()

    @classmethod
    def parse(cls, text: str) -> Pid:
        """The inverse of ``str(pid)``: ``name::node`` or ``group::name::node``."""
        parts = text.split("::")
        if len(parts) == 2:
            return cls(parts[0], parts[1])
        if len(parts) == 3:
            return cls(parts[1], parts[2], parts[0])
        raise ValueError(f"not a pid: {text!r} (expected name::node or group::name::node)")


@attrs.frozen(order=True)
class NodeId:
    """A node of a cluster: its name and, in a real deployment, its ``host:port``."""

    name: str
    addr: str | None = None

    def __str__(self) -> str:
        return self.name


class CorrelationId(NamedTuple):
    """Ties a reply or a timer back to what caused it.

    ``pid`` is the process that started the exchange; ``request`` numbers its requests;
    ``handle`` is free for the protocol (for example a sub-request within a request).
    Like ``Pid``, an immutable named tuple: timers are keyed by it.
    """

    pid: Pid
    request: int | None = None
    handle: int | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> CorrelationId:
        return self  # immutable: a copy would only cost


@attrs.frozen(order=False)
class Envelope:
    """A message in transit: ``msg`` from ``from_`` to ``to``, with an optional ``cid``."""

    to: Pid
    from_: Pid
    msg: Any
    cid: CorrelationId | None = None
