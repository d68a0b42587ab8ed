"""A lock server and its clients, symmetric in the clients: for exploration's tests.

Each client asks for the lock once, holds it until its timer fires, then releases it. The
server grants the lock to one client at a time and queues the others; the buggy server
also grants it whenever its queue is empty, lock held or not.
"""

from __future__ import annotations

from typing import Any

import attrs

from rabble_sim import (
    CorrelationId,
    Envelope,
    Faults,
    Liveness,
    Pid,
    Scenario,
    Timeout,
    View,
    message,
    start_timer,
)

SERVER = Pid("lock", "server")


@message("test.lock.acquire")
@attrs.frozen
class Acquire:
    pass


@message("test.lock.release")
@attrs.frozen
class Release:
    pass


@message("test.lock.granted")
@attrs.frozen
class Granted:
    pass


class LockServer:
    def __init__(self, pid: Pid, *, careless: bool) -> None:
        self.pid = pid
        self.holder: Pid | None = None
        self.queue: list[Pid] = []
        self.careless = careless

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Acquire):
            if self.holder is None or (self.careless and not self.queue):
                self.holder = from_
                output.append(Envelope(from_, self.pid, Granted()))
            else:
                self.queue.append(from_)
        elif isinstance(msg, Release) and from_ == self.holder:
            self.holder = self.queue.pop(0) if self.queue else None
            if self.holder is not None:
                output.append(Envelope(self.holder, self.pid, Granted()))


class LockClient:
    def __init__(self, pid: Pid) -> None:
        self.pid = pid
        self.holding = False
        self.done = False

    def init(self, output: list[Envelope]) -> None:
        output.append(Envelope(SERVER, self.pid, Acquire()))

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Granted):
            self.holding = True
            output.append(start_timer(self.pid, 10, CorrelationId(self.pid)))
        elif isinstance(msg, Timeout) and self.holding:
            self.holding, self.done = False, True
            output.append(Envelope(SERVER, self.pid, Release()))


def clients(count: int) -> tuple[str, ...]:
    return tuple(f"c{i}" for i in range(1, count + 1))


def mutual_exclusion(view: View) -> None:
    holders = [str(pid) for pid, proc in view.processes.items() if getattr(proc, "holding", False)]
    assert len(holders) <= 1, f"{holders} hold the lock at once"


def everyone_served(view: View) -> None:
    waiting = [
        str(pid)
        for pid, proc in view.processes.items()
        if isinstance(proc, LockClient) and not proc.done
    ]
    assert not waiting, f"{waiting} never had the lock"


NO_FAULTS = Faults()


def lock_scenario(
    count: int = 3, *, careless: bool = False, symmetric: bool = True, faults: Faults = NO_FAULTS
) -> Scenario:
    nodes = clients(count)

    def start(node: str, durable: dict[Pid, Any] | None) -> list[Any]:
        if node == SERVER.node:
            return [LockServer(SERVER, careless=careless)]
        return [LockClient(Pid("client", node))]

    return Scenario(
        name="lock-careless" if careless else "lock",
        nodes=(SERVER.node, *nodes),
        start=start,
        invariants=[mutual_exclusion],
        liveness=Liveness(everyone_served, within=200),
        faults=faults,
        max_steps=60,
        symmetry=[nodes] if symmetric else [],
    )


scenario = lock_scenario()
careless = lock_scenario(careless=True)
