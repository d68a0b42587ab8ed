"""Built-in messages for watching links and reading a node's clock.

A process asks its executor to ``Watch`` another node (or a pid on it): when that node
crashes, becomes unreachable (a partition, a one-way cut, a link that drops over TCP), the
executor sends the watcher ``ConnectionLost`` once, with the watch's cid. ``ReadClock``
asks for the node's own clock: virtual and possibly drifting in the simulator, the OS's
monotonic clock on a TCP node. Both hosts answer both the same way.
"""

from __future__ import annotations

import attrs

from ._messages import executor_pid, message
from ._pid import CorrelationId, Envelope, Pid


@message("rabble.watch")
@attrs.frozen
class Watch:
    """Sent to the executor: send ``ConnectionLost`` once when ``node`` (or the node of
    ``pid``) crashes or can no longer be reached both ways; at once if it cannot now."""

    node: str
    pid: Pid | None = None


@message("rabble.unwatch")
@attrs.frozen
class Unwatch:
    """Sent to the executor: forget the ``Watch`` of the same ``node`` and ``pid``."""

    node: str
    pid: Pid | None = None


@message("rabble.connection_lost")
@attrs.frozen
class ConnectionLost:
    """Sent by the executor to a process that watched ``node`` (or ``pid``, on it): the
    link to it is gone. The watch is over: watch again to hear of the next loss."""

    node: str
    pid: Pid | None = None


@message("rabble.read_clock")
@attrs.frozen
class ReadClock:
    """Sent to the executor, which answers ``ClockReading`` with the same cid."""


@message("rabble.clock_reading")
@attrs.frozen
class ClockReading:
    """The node's clock, in ms: it never goes back, but its origin is the node's own and
    it may run fast or slow (``Faults.drift``) or jump ahead (``Faults.jump``). Compare
    readings of one node only."""

    ms: int


def watch(pid: Pid, target: str | Pid, cid: CorrelationId | None = None) -> Envelope:
    """The envelope with which ``pid`` watches ``target``, a node name or a pid."""
    return Envelope(executor_pid(pid.node), pid, Watch(*_target(target)), cid)


def unwatch(pid: Pid, target: str | Pid) -> Envelope:
    """The envelope with which ``pid`` stops watching ``target``."""
    return Envelope(executor_pid(pid.node), pid, Unwatch(*_target(target)))


def read_clock(pid: Pid, cid: CorrelationId | None = None) -> Envelope:
    """The envelope that asks ``pid``'s executor for its node's ``ClockReading``."""
    return Envelope(executor_pid(pid.node), pid, ReadClock(), cid)


def _target(target: str | Pid) -> tuple[str, Pid | None]:
    return (target.node, target) if isinstance(target, Pid) else (target, None)
