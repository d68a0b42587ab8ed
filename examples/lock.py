"""The README's example: a lock server, and a bug that lets two clients hold the lock."""

from __future__ import annotations

from typing import Any

import attrs

from rabble_sim import CorrelationId, Envelope, Faults, Pid, Scenario, View, message


@message("lock.acquire")
@attrs.frozen
class Acquire:
    pass


@message("lock.granted")
@attrs.frozen
class Granted:
    pass


@attrs.define
class Server:
    pid: Pid
    check_holder: bool
    holder: Pid | None = None

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Acquire) and (self.holder is None or not self.check_holder):
            self.holder = from_
            output.append(Envelope(from_, self.pid, Granted()))


@attrs.define
class Client:
    pid: Pid
    holding: bool = False

    def init(self, output: list[Envelope]) -> None:
        output.append(Envelope(Pid("server", "s"), self.pid, Acquire()))

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        self.holding = isinstance(msg, Granted)


def one_holder(view: View) -> None:
    holders = [str(pid) for pid, proc in view.processes.items() if getattr(proc, "holding", False)]
    assert len(holders) <= 1, f"{holders} all hold the lock"


def lock(name: str, check_holder: bool) -> Scenario:
    def start(node: str, durable: dict[Pid, Any] | None) -> list[Any]:
        return (
            [Server(Pid("server", node), check_holder)]
            if node == "s"
            else [Client(Pid("client", node))]
        )

    return Scenario(
        name, ["s", "c1", "c2"], start, [one_holder], Faults(drop=0.1, duplicate=0.1),
        symmetry=[["c1", "c2"]],  # the clients are interchangeable: for rabble-sim explore
    )  # fmt: skip


scenario = lock("lock", check_holder=True)
bug_double_grant = lock("lock-double-grant", check_holder=False)
