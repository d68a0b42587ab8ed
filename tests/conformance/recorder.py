"""The processes of the conformance cases: recorders that log what they get, and the starter.

A ``Recorder`` logs every message it receives as a ``Line`` (the message as text that
keeps its types, the sender, the cid) and reacts through ``on``, which a case's subclass
overrides to make its scripted requests. Its whole state is plain data, so the two hosts'
states can be compared as they are.

A recorder with a script acts first on ``Go``, which its node's ``Starter`` sends it once
the cluster is whole: on TCP a node's ``init`` runs before the node has joined, when a
message to another node would be lost (``test_start`` shows it), so the scripts start
from ``Go`` on both hosts instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from rabble_sim import CorrelationId, Envelope, Pid, Shutdown, executor_pid, message

Line = tuple[str, str, int | str | None]
"""One message a recorder received: ``(show(msg), str(sender), cid)``, the cid shortened
to its request number when the recorder itself made it."""

STARTER = "conformance-go"
"""The name of each node's starter (and of its factory on TCP); no case routes it."""


@message("conformance.go")
@attrs.frozen
class Go:
    """From the node's starter: the cluster is whole, start the script."""


@message("conformance.note")
@attrs.frozen
class Note:
    text: str


@message("conformance.items")
@attrs.frozen
class Items:
    """A message whose field the receiver gets as its annotation says: a tuple."""

    items: tuple[int, ...]


@attrs.define
class Recorder:
    """A process that logs what it receives and does nothing else; subclasses script it.

    ``arg`` is what a factory was given, ``restored`` what ``start`` handed back after a
    restart (None at a first start or if it persisted nothing).
    """

    pid: Pid
    arg: Any = None
    restored: Any = None
    log: list[Line] = attrs.Factory(list)

    def init(self, output: list[Envelope]) -> None:
        self.on_init(output)

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if not isinstance(msg, Go):  # the harness's kick, the same on both hosts
            self.log.append((show(msg), str(from_), self.short(cid)))
        self.on(msg, from_, cid, output)

    def on_init(self, output: list[Envelope]) -> None:
        """At start and restart; on TCP before the node has joined: local requests only."""

    def on(self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]) -> None:
        """After logging ``msg`` (or on ``Go``): the script."""

    def cid(self, request: int) -> CorrelationId:
        return CorrelationId(self.pid, request)

    def to_executor(self, msg: Any, request: int | None = None, node: str = "") -> Envelope:
        """A request to ``node``'s executor (default: its own), with ``cid(request)``."""
        cid = None if request is None else self.cid(request)
        return Envelope(executor_pid(node or self.pid.node), self.pid, msg, cid)

    def send(self, to: Pid, msg: Any, request: int | None = None) -> Envelope:
        return Envelope(to, self.pid, msg, None if request is None else self.cid(request))

    def short(self, cid: CorrelationId | None) -> int | str | None:
        if cid is None:
            return None
        if cid.pid == self.pid and cid.handle is None and cid.request is not None:
            return cid.request
        return show(cid)


@attrs.define
class Starter:
    """Sends ``Go`` to the recorders named in ``recorders`` on its node, then stops."""

    pid: Pid
    recorders: tuple[str, ...]

    def init(self, output: list[Envelope]) -> None:
        node = self.pid.node
        output.extend(Envelope(Pid(name, node), self.pid, Go()) for name in self.recorders)
        output.append(Envelope(executor_pid(node), self.pid, Shutdown()))

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        """It has stopped before anything can reach it."""


def starter(pid: Pid, arg: Any) -> Starter:
    """The factory of the starter, spawned on each TCP node once the mesh is up."""
    return Starter(pid, tuple(arg))


def show(value: Any) -> str:
    """``value`` as text that keeps what a ``repr`` of the received data would show of its
    types (a tuple is not a list, a pid is not a string), with pids written short."""
    if isinstance(value, Pid):
        return f"<{value}>"
    if isinstance(value, CorrelationId):
        return f"cid({show(value.pid)}, {value.request!r}, {value.handle!r})"
    if attrs.has(type(value)):
        fields = ", ".join(
            f"{f.name}={show(getattr(value, f.name))}" for f in attrs.fields(type(value))
        )
        return f"{type(value).__name__}({fields})"
    if isinstance(value, tuple):
        inner = ", ".join(show(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{show(k)}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(show(v) for v in value)) + "}"
    return repr(value)


def lines(log: Sequence[Sequence[Any]]) -> list[Line]:
    """A log read back from plain data (lists) as lines (tuples)."""
    return [(str(text), str(sender), cid) for text, sender, cid in log]
