"""The key-value state machine the servers replicate: Maelstrom's ``lin-kv`` semantics, a
client table that executes each request once, and the model its history is checked with.

``read`` of a missing key and ``cas`` on one answer error 20 (key does not exist); a
``cas`` whose ``from`` is not the value answers error 22 (precondition failed). Each
client's latest executed request is remembered with its answer, so that a retry (the same
request number: a simulated client's, resent) is answered again rather than executed
again; an older request is stale and not executed.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import attrs

from rabble_sim import Pid
from rabble_sim.checks import History, Model, RegisterModel
from rabble_sim.maelstrom import KEY_DOES_NOT_EXIST, PRECONDITION_FAILED, Error

from .messages import Cas, CasOk, Command, Op, Read, ReadOk, Write, WriteOk

Reply = ReadOk | WriteOk | CasOk | Error


def op_of(msg: object) -> Op | None:
    """The operation a client's body asks for, or None if it is not one."""
    if isinstance(msg, Read):
        return ("read", msg.key)
    if isinstance(msg, Write):
        return ("write", msg.key, msg.value)
    if isinstance(msg, Cas):
        return ("cas", msg.key, msg.from_, msg.to)
    return None


def is_update(op: Op) -> bool:
    return bool(op[0] != "read")


@attrs.frozen
class Cached:
    """A client's latest executed request, and what it answered."""

    request: int
    reply: Reply


@attrs.define
class Store:
    """The replicated state: the keys' values and the client table."""

    values: dict[Any, Any] = attrs.Factory(dict)
    table: dict[Pid, Cached] = attrs.Factory(dict)

    def apply(self, command: Command) -> Reply | None:
        """Execute ``command`` once: its answer; the cached answer of a retry; None for a
        request older than the client's latest (it was answered, or given up on)."""
        cached = self.table.get(command.client)
        if cached is not None and command.request <= cached.request:
            return cached.reply if command.request == cached.request else None
        reply = self.execute(command.op)
        self.table[command.client] = Cached(command.request, reply)
        return reply

    def execute(self, op: Op) -> Reply:
        kind, key = op[0], op[1]
        if kind == "write":
            self.values[key] = op[2]
            return WriteOk()
        if key not in self.values:
            return Error(KEY_DOES_NOT_EXIST, f"key {key!r} does not exist")
        if kind == "read":
            return ReadOk(self.values[key])
        if self.values[key] != op[2]:
            return Error(PRECONDITION_FAILED, f"expected {op[2]!r}, but had {self.values[key]!r}")
        self.values[key] = op[3]
        return CasOk()


def outcome(op: Op, reply: Reply) -> Any:
    """What a client records for ``op`` answered ``reply``, as ``LinKvModel`` reads it:
    the value read (None for a missing key), True for a write or a cas that took,
    False for a cas that did not."""
    if isinstance(reply, ReadOk):
        return reply.value
    if isinstance(reply, Error):
        return None if op[0] == "read" else False
    return True


@attrs.frozen
class LinKvModel(Model[Hashable]):
    """Maelstrom's ``lin-kv`` as a sequential model: independent registers, each empty at
    first. Inputs are the ``Op``s; outputs as ``outcome`` makes them. Each key is checked
    apart (``partition``), as one register of ``RegisterModel``."""

    def init(self) -> Hashable:
        return None

    def step(self, state: Hashable, input: Any, output: Any) -> tuple[bool, Hashable]:
        return _REGISTER.step(state, _register_op(input), output)

    def read_only(self, input: Any, output: Any) -> bool:
        return _REGISTER.read_only(_register_op(input), output)

    def partition(self, history: History) -> list[History]:
        return history.by_key(lambda op: tuple(op.input)[1])

    def describe_operation(self, input: Any, output: Any) -> str:
        call = tuple(input)
        return f"{call[1]!r}: " + _REGISTER.describe_operation(_register_op(input), output)

    def describe_state(self, state: Hashable) -> str:
        return _REGISTER.describe_state(state)


_REGISTER = RegisterModel()


def _register_op(input: Any) -> tuple[Any, ...]:
    call = tuple(input)
    return (call[0], *call[2:])


LIN_KV = LinKvModel()
