"""Built-in messages for the cluster: membership, remote spawn and services.

Like timers, each is a request to an executor, answered with a message: the simulator and
the TCP executor both understand them, so a protocol that uses them runs the same in
either.
"""

from __future__ import annotations

from typing import Any

import attrs

from ._messages import executor_pid, message
from ._pid import CorrelationId, Envelope, Pid


@message("rabble.watch_cluster")
@attrs.frozen
class WatchCluster:
    """Sent to the executor: reply with ``ClusterStatus`` now and whenever the members
    this node sees change (a node joins, leaves, fails or is cut off)."""


@message("rabble.spawn")
@attrs.frozen
class Spawn:
    """Sent to the executor of the node that should run it: build a process with the
    factory registered as ``factory``, under the pid ``name::<that node>``, from ``arg``.
    The reply is ``Spawned`` or ``SpawnFailed``, with the request's cid."""

    factory: str
    name: str
    arg: Any = None


@message("rabble.spawned")
@attrs.frozen
class Spawned:
    pid: Pid


@message("rabble.spawn_failed")
@attrs.frozen
class SpawnFailed:
    factory: str
    name: str
    reason: str


@message("rabble.call_service")
@attrs.frozen
class CallService:
    """Sent to the executor: run the blocking or CPU-heavy function registered as
    ``service`` on ``args``, off the node's loop. The reply is ``ServiceResult`` or
    ``ServiceFailed``, with the request's cid."""

    service: str
    args: tuple[Any, ...] = ()


@message("rabble.service_result")
@attrs.frozen
class ServiceResult:
    service: str
    value: Any


@message("rabble.service_failed")
@attrs.frozen
class ServiceFailed:
    service: str
    reason: str


def watch_cluster(pid: Pid) -> Envelope:
    """The envelope that subscribes ``pid`` to ``ClusterStatus`` from its executor."""
    return Envelope(executor_pid(pid.node), pid, WatchCluster())


def spawn(
    pid: Pid, node: str, factory: str, name: str, arg: Any = None, cid: CorrelationId | None = None
) -> Envelope:
    """The envelope with which ``pid`` asks ``node`` to spawn ``name`` from ``factory``."""
    return Envelope(executor_pid(node), pid, Spawn(factory, name, arg), cid)


def call_service(pid: Pid, service: str, *args: Any, cid: CorrelationId | None = None) -> Envelope:
    """The envelope with which ``pid`` asks its executor to run ``service(*args)``."""
    return Envelope(executor_pid(pid.node), pid, CallService(service, args), cid)
