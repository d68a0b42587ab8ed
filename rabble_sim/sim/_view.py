"""The read-only window that invariants and liveness conditions look through."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core import Envelope, HistoryEvent, Pid
from ._world import World


class View:
    """What a check may see of the world at the current step.

    A view reads the live world: keep what you need from it, not the view itself. Checks
    must not change the processes they see.
    """

    __slots__ = ("_world",)

    def __init__(self, world: World) -> None:
        self._world = world

    @property
    def processes(self) -> Mapping[Pid, Any]:
        """Every live process, by pid."""
        return self._world.processes_view

    @property
    def step(self) -> int:
        return self._world.step

    @property
    def now(self) -> int:
        """The virtual clock, in milliseconds."""
        return self._world.now

    @property
    def in_flight(self) -> tuple[Envelope, ...]:
        """Every message sent and not yet delivered or dropped, oldest first."""
        return tuple(env for _, env in self._world.in_flight())

    @property
    def up_nodes(self) -> tuple[str, ...]:
        return tuple(self._world.up_nodes())

    @property
    def history(self) -> tuple[HistoryEvent, ...]:
        """What clients invoked and got back so far, in order (``rabble_sim.invoke``)."""
        return tuple(self._world.history)

    @property
    def durable(self) -> Mapping[Pid, Any]:
        """The last data each pid persisted."""
        return self._world.durable_view
