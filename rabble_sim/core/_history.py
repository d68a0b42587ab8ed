"""Client histories: what clients asked of a system and what they got back, for checkers.

A client process records each operation it starts and each answer it gets by appending a
request to its executor (``invoke`` and ``complete``), which keeps them, with the step and
the time, in the run's history. A checker (``rabble_sim.checks``) then says whether some
order of the operations, each taking effect between its invocation and its completion,
explains every answer: linearizability. An operation never completed may or may not have
taken effect.
"""

from __future__ import annotations

from typing import Any

import attrs

from ._messages import executor_pid, message
from ._pid import Envelope, Pid


@message("rabble.invoke")
@attrs.frozen
class Invoke:
    """Sent to the executor: the client starts operation ``op`` (its own number for it)
    with ``call``, e.g. ``("put", "x", 1)``."""

    op: int
    call: Any


@message("rabble.complete")
@attrs.frozen
class Complete:
    """Sent to the executor: operation ``op`` of the client returned ``result``."""

    op: int
    result: Any


@attrs.frozen
class HistoryEvent:
    """One line of a history: ``client`` invoked (``kind="invoke"``, ``value`` the call)
    or completed (``kind="ok"``, ``value`` the result) operation ``op``, at ``step`` and
    virtual time ``time`` (ms)."""

    kind: str
    client: Pid
    op: int
    value: Any
    step: int
    time: int


def invoke(pid: Pid, op: int, call: Any) -> Envelope:
    """The envelope that records that ``pid`` starts operation ``op`` with ``call``."""
    return Envelope(executor_pid(pid.node), pid, Invoke(op, call))


def complete(pid: Pid, op: int, result: Any) -> Envelope:
    """The envelope that records that ``pid``'s operation ``op`` returned ``result``."""
    return Envelope(executor_pid(pid.node), pid, Complete(op, result))
