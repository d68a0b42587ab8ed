"""Message types: the ``@message`` registry of stable tags, and the built-in messages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, overload

import attrs

from ._errors import InvalidDefinition
from ._pid import CorrelationId, Envelope, Pid

T = TypeVar("T", bound=type)

EXECUTOR_GROUP = "rabble"


class MessageRegistry:
    """Maps stable tags to message classes and back.

    A tag, not a Python qualified name, is what schedule files and the wire carry, so a
    message class can be moved or renamed without breaking saved schedules.
    """

    def __init__(self) -> None:
        self._by_tag: dict[str, type] = {}
        self._by_class: dict[type, str] = {}

    def register(self, cls: type, tag: str) -> None:
        # attrs.inspect (attrs 25.4) reports how attrs built the class: public API, where
        # the name of the generated __setattr__ was an internal of attrs.
        if not attrs.has(cls) or not attrs.inspect(cls).is_frozen:
            raise InvalidDefinition(
                f"@message needs a frozen attrs class, and {cls.__qualname__} is not one: "
                "put @message above @attrs.frozen"
            )
        known = self._by_tag.get(tag)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise InvalidDefinition(
                f"message tag {tag!r} is used by both {known.__module__}.{known.__qualname__} "
                f"and {cls.__module__}.{cls.__qualname__}: give one of them another tag"
            )
        # The same class imported again (a module reloaded, or imported under two names)
        # takes over its tag: the latest definition is the one the code now uses.
        self._by_tag[tag] = cls
        self._by_class[cls] = tag

    def tag_of(self, cls: type) -> str | None:
        return self._by_class.get(cls)

    def class_of(self, tag: str) -> type | None:
        return self._by_tag.get(tag)

    def tags(self) -> list[str]:
        return sorted(self._by_tag)


REGISTRY = MessageRegistry()
"""The registry ``@message`` writes to; codecs read it."""


@overload
def message(arg: T, /) -> T: ...
@overload
def message(arg: str | None = None, /) -> Callable[[T], T]: ...
def message(arg: Any = None, /) -> Any:
    """Register a frozen attrs class as a message type with a stable tag.

    Use it bare (``@message``: the tag is ``module.QualifiedName``) or with an explicit tag
    (``@message("kv.put")``), which survives renaming and moving the class.
    """

    def register(cls: T) -> T:
        tag = arg if isinstance(arg, str) else f"{cls.__module__}.{cls.__qualname__}"
        REGISTRY.register(cls, tag)
        return cls

    if isinstance(arg, type):
        return register(arg)
    if arg is not None and not isinstance(arg, str):
        raise InvalidDefinition(f"@message takes a tag string, not {arg!r}")
    return register


@message("rabble.start_timer")
@attrs.frozen
class StartTimer:
    """Sent to the executor: deliver ``Timeout()`` with the same cid after ``ms``."""

    ms: int


@message("rabble.cancel_timer")
@attrs.frozen
class CancelTimer:
    """Sent to the executor: the timer with this cid (or the envelope's cid) never fires."""

    cid: CorrelationId | None = None


@message("rabble.timeout")
@attrs.frozen
class Timeout:
    """Delivered by the executor when a timer fires, with the cid it was started with."""


@message("rabble.persist")
@attrs.frozen
class Persist:
    """Sent to the executor: ``data`` survives crashes and is handed back on restart."""

    data: Any


@message("rabble.shutdown")
@attrs.frozen
class Shutdown:
    """Sent to the executor: stop the sending process."""


@message("rabble.cluster_status")
@attrs.frozen
class ClusterStatus:
    """The nodes a process's executor currently counts as members of the cluster."""

    members: tuple[str, ...]


@message("rabble.get_executor_status")
@attrs.frozen
class GetExecutorStatus:
    """Sent to the executor, which answers with ``ExecutorStatus``."""


@message("rabble.executor_status")
@attrs.frozen
class ExecutorStatus:
    """How many processes run on ``node``."""

    node: str
    processes: int


@message("rabble.get_metrics")
@attrs.frozen
class GetMetrics:
    """Sent to the executor, which answers with the ``Metrics`` of ``pid`` (default: the sender)."""

    pid: Pid | None = None


@message("rabble.metrics")
@attrs.frozen
class Metrics:
    """What the executor counted for one process."""

    pid: Pid
    received: int = 0
    sent: int = 0
    timers_started: int = 0
    timers_cancelled: int = 0


@message("rabble.get_random")
@attrs.frozen
class GetRandom:
    """Sent to the executor, which answers ``RandomValue`` with the same cid: a number from
    0 to ``below - 1``. In the simulator it is a choice of the run (recorded in the
    schedule, replayed, shrunk toward 0); on a TCP node it comes from the OS. A randomized
    timeout asks for one, then starts its timer for a base plus the value."""

    below: int


@message("rabble.random_value")
@attrs.frozen
class RandomValue:
    """The executor's answer to ``GetRandom``."""

    value: int


@functools.lru_cache(maxsize=4096)
def executor_pid(node: str) -> Pid:
    """The pid of a node's executor, to which timer, persist and status requests go."""
    return Pid("executor", node, EXECUTOR_GROUP)


def start_timer(pid: Pid, ms: int, cid: CorrelationId) -> Envelope:
    """The envelope that asks ``pid``'s executor for a ``Timeout()`` with ``cid`` in ``ms``."""
    return Envelope(executor_pid(pid.node), pid, StartTimer(ms), cid)


def get_random(pid: Pid, below: int, cid: CorrelationId) -> Envelope:
    """The envelope that asks ``pid``'s executor for a ``RandomValue`` below ``below``,
    answered with ``cid``."""
    return Envelope(executor_pid(pid.node), pid, GetRandom(below), cid)


def cancel_timer(pid: Pid, cid: CorrelationId) -> Envelope:
    """The envelope that cancels ``pid``'s timer with ``cid``."""
    return Envelope(executor_pid(pid.node), pid, CancelTimer(cid), cid)


def persist(pid: Pid, data: Any) -> Envelope:
    """The envelope that makes ``data`` the durable state of ``pid``, replacing the last."""
    return Envelope(executor_pid(pid.node), pid, Persist(data))
