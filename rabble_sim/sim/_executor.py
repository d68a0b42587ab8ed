"""The simulator as the host of every node's executor (``rabble_sim.executor``).

Each node's executor serves its processes' requests exactly as on a TCP node; this module
gives it the simulator's world: messages travel as parcels through the World's network,
timers run on the virtual clock, durable state is stored as the TCP executor would write
it, a service is called at once, and protocol code that fails is a violation of the step.
Like the World it reads no clock and draws no random numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..codec import as_recorded, restored
from ..core import CorrelationId, Envelope, HistoryEvent, Pid
from ..executor import UserCodeFailed
from ._failures import protocol_failed
from ._parcel import pack

if TYPE_CHECKING:
    from ._world import World


class SimHost:
    """Node ``node``'s host, in ``world``."""

    __slots__ = ("cancel_timer", "node", "send", "set_timer", "world")

    def __init__(self, world: World, node: str) -> None:
        self.world = world
        self.node = node
        # The hot requests go straight to the world's parts: one call fewer each.
        self.send: Callable[[Envelope], None] = world.network.post
        """Put an envelope in flight."""
        self.set_timer: Callable[[Pid, CorrelationId | None, int], None] = world.timers.start
        """Start a timer on the virtual clock."""
        self.cancel_timer: Callable[[Pid, CorrelationId | None], bool] = world.timers.cancel
        """Cancel a timer; whether there was one."""

    def serves(self, world: World) -> bool:
        """Whether this is a host in ``world`` (and not detached)."""
        return getattr(self, "world", None) is world

    def detach(self) -> None:
        """Forget the world, which is being disposed (``World.dispose``): the host serves
        nothing after."""
        del self.world

    def send_local(self, env: Envelope) -> None:
        self.world.network.send_local(pack(env))

    def cancel_timers(self, pids: Sequence[Pid]) -> None:
        self.world.timers.cancel_all(pids)

    def clock(self) -> int:
        return self.world.clock(self.node)

    def random(self, below: int) -> int:
        return self.world.draw_random(below)

    def store(self, pid: Pid, data: Any) -> None:
        # Stored as the TCP executor stores it, so a restart hands back the same values in
        # both (a tuple comes back a list). Data that cannot be stored raises: a bad request.
        self.world.durable[pid] = restored(data)

    def record(self, client: Pid, kind: str, op: Any, value: Any) -> None:
        world = self.world
        # As a TCP node's history.jsonl reads back, so that both give a checker the same.
        event = HistoryEvent(kind, client, op, as_recorded(value), world.step, world.now)
        world.history.append(event)

    def members(self) -> tuple[str, ...]:
        return self.world.members(self.node)

    def call(self, what: str, running: str, function: Callable[..., Any], *args: Any) -> Any:
        try:
            return function(*args)
        except Exception as e:
            if what == "factory":  # answered SpawnFailed, as over TCP
                raise UserCodeFailed(f"the factory raised {e!r}") from None
            raise _failure(e, what, running) from None
        except BaseException as e:  # SystemExit and the like: never an answer
            raise _failure(e, what, running) from None

    def call_service(
        self, running: str, function: Callable[..., Any], args: Sequence[Any],
        answer: Callable[[Any, BaseException | None], None],
    ) -> None:  # fmt: skip
        # At once, in the middle of the step: the call is not an event, so a service must
        # be a deterministic function of its arguments.
        try:
            result = function(*args)
        except Exception as e:  # a failure the process is told of, as over TCP
            answer(None, e)
        except BaseException as e:  # SystemExit and the like: not an answer, a violation
            raise _failure(e, "service", running) from None
        else:
            answer(result, None)

    def dead_letter(self, count: int, what: str) -> None:
        pass  # counted by the executor; a run reports the total

    def stopped(self, pid: Pid, reason: str) -> None:
        pass  # the simulator never fails to store: storing what cannot be stored is a violation


def _failure(error: BaseException, what: str, running: str) -> BaseException:
    """The violation for protocol code the executor called (``running`` says which)."""
    check = (
        f"exception while routing to {running.removeprefix('the routing of ')}"
        if what == "routing policy"
        else f"exception in {running}"
    )
    return protocol_failed(error, running, check, repr(error))
