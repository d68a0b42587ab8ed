"""Routing by named paths (Kompact's): one message to a path reaches one or more processes.

Process names are paths: ``/``-separated, so ``workers/1`` and ``workers/eu/2`` are both
under ``workers``. On the node a message is addressed to, a routed name is resolved against
the processes running there:

- ``P/*`` broadcasts to every process under ``P``;
- ``P/?`` selects one, with the policy registered at ``P`` (round robin by default);
- ``P`` itself, when a policy is registered at ``P`` and no process is named ``P``, uses
  that policy.

The first two are implicit routing: ``Routes(implicit=False)`` turns them off, because a
broadcast path lets any sender amplify its load; then only registered paths route, and a
message to ``P/*`` or ``P/?`` is a dead letter.
Policies are values with a ``select`` method; resolving is deterministic (targets are in
pid order, the sender hash is CRC-32), so the simulator and the TCP executor agree.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import attrs

from ._pid import Envelope, Pid


class RoutingPolicy(Protocol):
    """Chooses the receivers of a routed message among ``targets`` (never empty, in pid
    order). ``turn`` counts the messages routed through this path on this node before."""

    def select(self, targets: Sequence[Pid], env: Envelope, turn: int) -> Sequence[Pid]: ...


@attrs.frozen
class Broadcast:
    """Every target."""

    def select(self, targets: Sequence[Pid], env: Envelope, turn: int) -> Sequence[Pid]:
        return targets


@attrs.frozen
class RoundRobin:
    """Each target in turn."""

    def select(self, targets: Sequence[Pid], env: Envelope, turn: int) -> Sequence[Pid]:
        return [targets[turn % len(targets)]]


@attrs.frozen
class SenderHash:
    """The same target for the same sender, while the targets stay the same."""

    def select(self, targets: Sequence[Pid], env: Envelope, turn: int) -> Sequence[Pid]:
        return [targets[zlib.crc32(str(env.from_).encode()) % len(targets)]]


@attrs.frozen
class Routes:
    """The routing of a scenario or node: policies registered at paths, and whether the
    implicit ``/*`` and ``/?`` suffixes work."""

    policies: Mapping[str, RoutingPolicy] = attrs.field(factory=dict)
    implicit: bool = True

    @policies.validator
    def _paths(self, _: object, policies: Mapping[str, RoutingPolicy]) -> None:
        for path, policy in policies.items():
            if not path or path.endswith(("/", "/*", "/?")):
                raise ValueError(f"cannot register a policy at {path!r}: name a path like 'a/b'")
            if not callable(getattr(policy, "select", None)):
                raise TypeError(f"the policy at {path!r} has no select method: {policy!r}")


class Router:
    """Resolves routed pids on one node; keeps each path's turn counter."""

    def __init__(self, routes: Routes) -> None:
        self.routes = routes
        self._turns: dict[str, int] = {}

    def copy(self) -> Router:
        """A copy with its own turn counters; the routes (code) are shared."""
        clone = Router(self.routes)
        clone._turns = self._turns.copy()
        return clone

    @property
    def turning(self) -> bool:
        """Whether some routed name has had a turn (``turns`` is not empty)."""
        return bool(self._turns)

    def turns(self) -> tuple[tuple[str, int], ...]:
        """Each routed name's turn counter so far, by name: the turn its policy gets next."""
        return tuple(sorted(self._turns.items()))

    def routes_name(self, name: str) -> bool:
        """Whether a message to ``name`` is routed (when no process has that name)."""
        if name.endswith(("/*", "/?")):
            return self.routes.implicit
        return name in self.routes.policies

    def resolve(self, env: Envelope, running: Iterable[Pid]) -> list[Pid]:
        """The receivers of ``env``, addressed to a routed name, among the ``running``
        pids of its node; empty when none fits (a dead letter)."""
        name = env.to.name
        path, policy = self._policy(name)
        prefix = path + "/"
        targets = sorted(
            pid for pid in running if pid.name.startswith(prefix) and pid.group == env.to.group
        )
        if policy is None or not targets:
            return []
        turn = self._turns.get(name, 0)
        self._turns[name] = turn + 1
        allowed = set(targets)  # a custom policy may only choose among the targets
        return [pid for pid in policy.select(targets, env, turn) if pid in allowed]

    def _policy(self, name: str) -> tuple[str, RoutingPolicy | None]:
        policies = self.routes.policies
        implicit = self.routes.implicit
        if name.endswith("/*"):
            return name[:-2], Broadcast() if implicit else None
        if name.endswith("/?"):
            path = name[:-2]
            return path, (policies.get(path) or RoundRobin()) if implicit else None
        return name, policies.get(name)
