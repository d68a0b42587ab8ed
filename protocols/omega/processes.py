"""Kompact's eventual leader detector (Omega), one process per node, with rounds that
survive a crash."""

from __future__ import annotations

from typing import Any

import attrs

from rabble_sim import CorrelationId, Envelope, Pid, Timeout, persist, start_timer

from .messages import Heartbeat

NAME = "omega"


def omega_pid(node: str) -> Pid:
    """The pid of the detector on ``node``."""
    return Pid(NAME, node)


@attrs.define
class Omega:
    """The detector on one node: it trusts the smallest node it heard from lately.

    Every ``period`` ms it sends ``Heartbeat(round)`` to every other node, then elects
    the smallest of itself and the nodes heard from since the last period, and forgets
    those. Whenever the leader changes, the period grows by ``delta``: a node that
    suspects a live leader too early waits longer next time, so once the network
    behaves every node keeps hearing the smallest live node and they all trust it.

    ``last_round`` holds the highest round heard from each node; a heartbeat with a lower
    round is stale (duplicated or delayed from before a newer one) and ignored. That is
    why the round must only grow, across crashes too: with ``persist_round`` the round is
    persisted every period and a restart resumes after it. Without it (the known bug),
    a restarted node counts from 0 again and the others ignore it until it catches up.
    ``count_self=False`` is the other known bug: the node leaves itself out of the
    election.
    """

    pid: Pid
    peers: tuple[str, ...]
    period: int = 100
    delta: int = 20
    round: int = 0
    leader: str | None = None
    candidates: set[str] = attrs.Factory(set)
    last_round: dict[str, int] = attrs.Factory(dict)
    persist_round: bool = True
    count_self: bool = True

    def init(self, output: list[Envelope]) -> None:
        output.append(start_timer(self.pid, self.period, self._timer))

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Heartbeat):
            self._on_heartbeat(msg, from_.node)
        elif isinstance(msg, Timeout) and cid == self._timer:
            self._on_period(output)

    def _on_heartbeat(self, heartbeat: Heartbeat, sender: str) -> None:
        if heartbeat.round < self.last_round.get(sender, 0):
            return  # stale: this node has already heard a later round from the sender
        self.last_round[sender] = heartbeat.round
        self.candidates.add(sender)

    def _on_period(self, output: list[Envelope]) -> None:
        self.round += 1
        if self.persist_round:
            # Persisted before the heartbeats go out, so that no round is ever sent that
            # a restart could send again.
            output.append(persist(self.pid, self.round))
        for node in self.peers:  # a sorted tuple: the sends come out in the same order
            output.append(Envelope(omega_pid(node), self.pid, Heartbeat(self.round)))
        self._elect()
        output.append(start_timer(self.pid, self.period, self._timer))

    def _elect(self) -> None:
        heard = self.candidates | {self.pid.node} if self.count_self else self.candidates
        leader = min(heard) if heard else None  # min of strings: no hash order involved
        self.candidates = set()
        if leader != self.leader:
            self.leader = leader
            self.period += self.delta

    @property
    def _timer(self) -> CorrelationId:
        return CorrelationId(self.pid)


def restored_round(durable: dict[Pid, Any] | None, pid: Pid) -> int:
    """The round ``pid`` persisted before its node crashed, or 0 at first start."""
    data = (durable or {}).get(pid, 0)
    return data if isinstance(data, int) else 0
