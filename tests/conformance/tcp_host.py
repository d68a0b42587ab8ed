"""Real nodes on loopback as a conformance host: one ``Node`` per node of the case, in one
event loop, linked by real TCP connections, each with a data directory of its own.

The nodes start one after the other, each joining through the first; once every node
counts all of them as members and is linked to every other one, a starter spawned on each
node sends ``Go`` to its recorders. The cluster has settled when nothing anyone can see
(states, counters, dead letters, members) has changed for the case's ``quiet`` time. A
restart stops the node without leaving (as a crash would close its sockets), waits until
the others have dropped it, and starts it again on its data directory.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rabble_sim.checks import recorded_events
from rabble_sim.codec import canonical_json
from rabble_sim.net import Node, NodeConfig

from .case import Case, Outcome, histories
from .recorder import STARTER, starter

SECRET = b"conformance cluster secret"
WITHIN = 5.0
"""Seconds a cluster has to form or settle: far more than it takes (a few ms)."""
POLL = 0.002


class TcpHost:
    name = "tcp"

    def run(self, case: Case) -> Outcome:
        with tempfile.TemporaryDirectory(prefix="rabble-conformance-") as tmp:
            return asyncio.run(Cluster(case, Path(tmp)).run())


class Cluster:
    def __init__(self, case: Case, root: Path) -> None:
        self.case = case
        self.root = root
        self.nodes: dict[str, Node] = {}
        self.dead_letters = 0
        """Of the nodes stopped so far; the running ones' are added at the end."""

    async def run(self) -> Outcome:
        try:
            for name in self.case.nodes:
                await self.start(name)
            await self.whole()
            await self.go()
            await self.settle()
            for name in self.case.restarts:
                await self.restart(name)
            return self.outcome()
        finally:
            for node in self.nodes.values():
                await node.stop()

    def outcome(self) -> Outcome:
        states: dict[str, Any] = {}
        durable: dict[str, Any] = {}
        for node in self.nodes.values():
            status = node.status()
            states.update(status.processes)
            self.dead_letters += status.dead_letters
            assert node.disk is not None
            # What a restart would hand back: persist wrote it before anything followed.
            durable.update((str(pid), data) for pid, data in (node.disk.recover() or {}).items())
        return Outcome(
            states=dict(sorted(states.items())),
            dead_letters=self.dead_letters,
            durable=dict(sorted(durable.items())),
            history=histories(recorded_events(sorted(self.root.glob("*/history.jsonl")))),
        )

    async def go(self) -> None:
        """Spawn each node's starter, from another node: ``Node.spawn`` on its own node
        never gets its answer (the local executor's reply is a dead letter there)."""
        names = list(self.nodes)
        assert len(names) > 1, "a conformance case needs two nodes or more"
        for i, name in enumerate(names):
            caller = self.nodes[names[i - 1]]
            await caller.spawn(name, STARTER, STARTER, arg=self.case.scripted(name))

    async def start(self, name: str) -> None:
        case = self.case
        contacts = tuple(node.addr for node in self.nodes.values() if node.name != name)
        config = NodeConfig(
            name,
            SECRET,
            join=contacts[:1],
            data_dir=self.root / name,
            routes=case.routes,
            factories={**case.factories, STARTER: starter},
            services=case.services,
            heartbeat=0.05,
            workers=2,
        )
        node = Node(config, case.start)
        await node.start()
        self.nodes[name] = node

    async def restart(self, name: str) -> None:
        node = self.nodes.pop(name)
        self.dead_letters += node.status().dead_letters
        await node.stop(leave=False)
        await self.until(
            lambda: all(name not in other.members() for other in self.nodes.values()),
            f"the others drop {name}",
        )
        await self.settle()
        await self.start(name)
        await self.whole()
        await self.settle()

    async def whole(self) -> None:
        """Until every node counts all of them as members and links to every other one."""
        everyone = tuple(sorted(self.nodes))

        def formed() -> bool:
            return all(
                node.members() == everyone
                and node.status().links == [n for n in everyone if n != name]
                for name, node in self.nodes.items()
            )

        await self.until(formed, f"nodes {', '.join(everyone)} form one cluster")

    async def settle(self) -> None:
        """Until nothing visible has changed for ``quiet`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WITHIN
        last, since = self.snapshot(), loop.time()
        while loop.time() - since < self.case.quiet:
            if loop.time() > deadline:
                raise AssertionError(f"the TCP cluster did not settle within {WITHIN} s")
            await asyncio.sleep(POLL)
            now = self.snapshot()
            if now != last:
                last, since = now, loop.time()

    def snapshot(self) -> str:
        seen: list[Any] = []
        for node in self.nodes.values():
            status = node.status()
            seen += [status.processes, status.metrics, status.dead_letters, status.members]
        return canonical_json(seen)

    async def until(self, check: Callable[[], bool], what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WITHIN
        while not check():
            if loop.time() > deadline:
                raise AssertionError(f"not within {WITHIN} s: {what}")
            await asyncio.sleep(POLL)
