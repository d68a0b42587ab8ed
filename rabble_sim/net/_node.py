"""A node of a TCP cluster: its processes, membership, failure detection and calls, over
the links of ``Mesh``.

One asyncio event loop runs everything (like Rabble's cluster server): the processes, the
executor, and every connection. Membership is an observed-remove set of ``name@host:port``
elements: a node adds itself when it starts, removes itself when it leaves, and removes a
peer whose link fails; deltas are gossiped on every link until nothing changes, and a link
that comes up starts with an exchange of whole states.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import msgspec

from ..codec import Codec
from ..core import (
    EXECUTOR_GROUP,
    CodecError,
    CorrelationId,
    Envelope,
    Pid,
    RabbleError,
    Spawn,
    Spawned,
    SpawnFailed,
    executor_pid,
)
from ._config import NodeConfig
from ._disk import DataDir
from ._executor import LocalExecutor
from ._guard import Watchdog
from ._link import Link
from ._mesh import Mesh
from ._orset import ORSet
from ._wire import (
    Frame,
    Gossip,
    Heartbeat,
    Send,
    StatusReply,
    StatusRequest,
    Taken,
    encode,
    gossip,
    orset,
)

log = logging.getLogger("rabble_sim.net")


class CallLost(RabbleError):
    """A call's target node failed or left before it answered, or is not a member."""

    def __init__(self, node: str, why: str = "failed or left before it answered") -> None:
        super().__init__(f"node {node!r} {why}")
        self.node = node


class CallTimeout(RabbleError):
    """A call got no answer in time."""


def member(element: str) -> tuple[str, str]:
    """``name@host:port`` as (name, address)."""
    name, _, addr = element.partition("@")
    return name, addr


class Node(Mesh):
    """One node: start it with ``await node.start()``, stop it with ``await node.stop()``."""

    def __init__(self, config: NodeConfig, start: Callable[[str, Any], Iterable[Any]]) -> None:
        super().__init__(config)
        self._start_processes = start
        self._codec = Codec("msgpack")
        self._watchdog: Watchdog | None = None
        self._calls: dict[int, tuple[str, asyncio.Future[Any]]] = {}
        self._requests = itertools.count(1)
        self._caller = Pid("caller", config.name, EXECUTOR_GROUP)
        self._server: asyncio.Server | None = None
        self.disk = DataDir(config.data_dir, config.name) if config.data_dir else None
        self.members_set = ORSet(config.name)
        self.executor: LocalExecutor | None = None

    # -- life ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen, start the processes (from the data directory if there is one), join.

        Raises a ``RabbleError`` that says why it cannot: the address is taken, the data
        directory is unusable, the scenario's ``start`` fails.
        """
        config = self.config
        try:
            self._server = await self._listen()
        except OSError as e:
            raise RabbleError(
                f"cannot listen on {config.host}:{config.port}: {e.strerror}"
            ) from None
        try:
            await self._start(config)
        except BaseException:
            self._server.close()
            if self.executor is not None:
                self.executor.close()
            if self.disk is not None:
                self.disk.close()
            raise

    async def _start(self, config: NodeConfig) -> None:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        self.addr = config.advertise or f"{host}:{port}"
        durable = None
        if self.disk:
            self.disk.lock()
            durable = self.disk.recover()
            self.members_set = ORSet(config.name, counter=self.disk.load_counter())
        self._add_self()
        if self.fatal:
            raise RabbleError(self.fatal)
        self.executor = LocalExecutor(
            self.name,
            route=self._route,
            members=self.members,
            disk=self.disk,
            routes=config.routes,
            factories=config.factories,
            services=config.services,
            workers=config.workers,
        )
        self.executor.start(self._processes(durable))
        self._watchdog = Watchdog(self.executor.guard, self.name, config.stuck_after)
        self._watchdog.start()
        self._tasks.append(asyncio.create_task(self._heartbeats(), name="heartbeats"))
        for contact in config.join:
            self._dial(contact)
        restart = " (restarted from its data directory)" if durable is not None else ""
        log.info("node %s listening on %s%s", self.name, self.addr, restart)

    async def stop(self, *, leave: bool = True) -> None:
        """Leave the cluster (others drop this node at once), then close everything."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if leave:
            delta = self.members_set.remove(self._element())
            self._gossip(delta, None)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    for link in list(self._links.values()):
                        await link.flush()
        for task in self._tasks:
            task.cancel()
        if self._server is not None:
            self._server.close()
        for link in [*self._links.values(), *self._clients]:
            link.close("the node is stopping")
        if self.executor is not None:
            self.executor.close()
        if self._watchdog is not None:
            self._watchdog.stop()
        if self.disk is not None:
            self.disk.close()
        for node, future in self._calls.values():
            if not future.done():
                future.set_exception(CallLost(node))
        log.info("node %s stopped", self.name)

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    def _processes(self, durable: Any) -> Any:
        """What the scenario's ``start`` builds for this node, or a ``RabbleError``."""
        try:
            built = self._start_processes(self.name, durable)
            # A generator runs here, so that what it raises is reported as start's.
            return (
                list(built)
                if isinstance(built, Iterable) and not hasattr(built, "handle")
                else built
            )
        except BaseException as e:  # SystemExit too: protocol code cannot end the node
            log.error("the scenario's start raised for node %s", self.name, exc_info=True)
            raise RabbleError(
                f"the scenario's start raised {type(e).__name__}: {e} (for node {self.name}; "
                "the traceback is in the log)"
            ) from None

    # -- what it knows ------------------------------------------------------------------------

    def members(self) -> tuple[str, ...]:
        """The names of the nodes this node counts as members, itself included, sorted."""
        return tuple(sorted({member(e)[0] for e in self.members_set.members()}))

    def status(self) -> StatusReply:
        executor = self.executor
        assert executor is not None, "the node has not started"
        metrics = {
            str(pid): dict(
                zip(("received", "sent", "timers_started", "timers_cancelled"), c, strict=True)
            )
            for pid, c in sorted(executor.metrics.items())
        }
        return StatusReply(
            self.name,
            list(self.members()),
            sorted(self._links),
            executor.states(),
            executor.dead_letters,
            metrics,
            {str(pid): why for pid, why in sorted(executor.failed.items())},
            executor.exceptions,
            self._refused.count,
        )

    async def wait_for(
        self, predicate: Callable[[tuple[str, ...]], bool], timeout: float
    ) -> tuple[str, ...]:
        """Wait until ``predicate(members)`` holds; ``TimeoutError`` after ``timeout`` s."""
        async with asyncio.timeout(timeout):
            while not predicate(self.members()):
                self._changed.clear()
                await self._changed.wait()
        return self.members()

    # -- calls ------------------------------------------------------------------------------------

    async def call(self, to: Pid, msg: Any, *, timeout: float = 5.0) -> Any:
        """Send ``msg`` to ``to`` and wait for the reply with the same cid.

        A member whose link is still coming up is waited for. Raises ``CallLost``
        if ``to``'s node is not a member, or fails or leaves before it answers, and
        ``CallTimeout`` if no reply comes within ``timeout`` seconds.
        """
        request = next(self._requests)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(timeout):
                await self._linked(to.node)
                self._calls[request] = (to.node, future)
                cid = CorrelationId(self._caller, request)
                self._route(Envelope(to, self._caller, msg, cid))
                return await future
        except TimeoutError:
            raise CallTimeout(f"no reply from {to} within {timeout} s") from None
        finally:
            self._calls.pop(request, None)

    async def _linked(self, node: str) -> None:
        """Return once ``node`` is this node or linked; ``CallLost`` if it is not a
        member."""
        while node != self.name and node not in self._links:
            if node not in self.members():
                raise CallLost(node, "is not a member of the cluster (wait_for it?)")
            self._changed.clear()
            await self._changed.wait()

    async def spawn(
        self, node: str, factory: str, name: str, arg: Any = None, *, timeout: float = 5.0
    ) -> Pid:
        """Spawn a process from ``factory`` on ``node``; its pid, or a ``RabbleError``."""
        reply = await self.call(executor_pid(node), Spawn(factory, name, arg), timeout=timeout)
        if isinstance(reply, Spawned):
            return reply.pid
        assert isinstance(reply, SpawnFailed), reply
        raise RabbleError(f"cannot spawn {name} on {node}: {reply.reason}")

    # -- messages ---------------------------------------------------------------------------------

    def _route(self, env: Envelope) -> None:
        """Send ``env`` where it goes: this node's executor, or the link to its node."""
        node = env.to.node
        if node == self.name:
            if env.to == self._caller:
                self._answer(env)
            elif self.executor is not None:
                self.executor.deliver(env)
            return
        link = self._links.get(node)
        if link is None:
            # No link to a member (yet, or any more): lost, as a network may lose any
            # message. No such member at all: a dead letter, as in the simulator.
            if self.executor is not None and node not in self.members():
                self.executor.core.dead_letter(env, f"no node {node} in the cluster")
            return
        body = self._codec.encode(env.msg)
        tag = self._codec.tag_for(env.msg)
        link.send(encode(Send(env.to, env.from_, env.cid, tag, msgspec.Raw(body))))

    def _room(self) -> Awaitable[object] | None:
        return self.executor.room() if self.executor is not None else None

    def _answer(self, env: Envelope) -> None:
        request = env.cid.request if env.cid is not None else None
        entry = self._calls.get(request) if isinstance(request, int) else None
        if entry is not None and not entry[1].done():
            entry[1].set_result(env.msg)

    def _received(self, link: Link, frame: Frame) -> None:
        if isinstance(frame, Send):
            msg: Any = self._codec.decode(frame.body, self._codec.class_for(frame.tag))
            env = Envelope(frame.to, frame.from_, msg, frame.cid)
            if frame.to.node != self.name:
                raise CodecError(f"a message for {frame.to} arrived at node {self.name}")
            if not link.is_client and frame.from_.node != link.name:
                # A member speaks for its own processes only: a forged sender could shut
                # down another node's process or answer another caller's call.
                raise CodecError(f"{link.name} sent a message as {frame.from_}")
            self._route(env)
        elif isinstance(frame, Gossip) and link.is_client:
            raise CodecError("a client may not gossip: it is not a member")
        elif isinstance(frame, Gossip):
            self._joined = True
            self._merge(orset(frame, link.name), link)
        elif isinstance(frame, StatusRequest):
            link.send(encode(self.status()))
        elif isinstance(frame, Taken) and not link.is_client and not self._joined:
            self._die(f"a node named {frame.node} is already a member at {frame.addr}")
            link.close(f"{frame.node} is a member at {frame.addr}")
        elif not isinstance(frame, Heartbeat):
            raise CodecError(f"unexpected {type(frame).__name__} frame from {link.name}")

    # -- membership ---------------------------------------------------------------------------

    def _element(self) -> str:
        return f"{self.name}@{self.addr}"

    def _add_self(self) -> None:
        delta = self.members_set.add(self._element())
        self._save_counter()
        self._gossip(delta, None)

    def _merge(self, delta: ORSet, source: Link | None) -> None:
        before = self.members()
        if not self.members_set.merge(delta):
            return
        self._gossip(delta, source)
        if self._element() not in self.members_set and not self._stopped.is_set():
            log.info("node %s was removed by a peer while alive: rejoining", self.name)
            self._add_self()
        self._after_change(before)

    def _gossip(self, delta: ORSet, source: Link | None) -> None:
        frame = encode(gossip(delta))
        for link in self._links.values():
            if link is not source:
                link.send(frame)

    def _after_change(self, before: tuple[str, ...]) -> None:
        if self._stopped.is_set():
            return  # leaving: what others do no longer matters here
        self._save_counter()
        self._connect_members()
        members = self.members()
        self._changed.set()
        if members != before:
            log.info("members of %s: %s", self.name, ", ".join(members))
            if self.executor is not None:
                self.executor.members_changed(members)

    def _save_counter(self) -> None:
        """Save the dot counter; a node that cannot dies: restarted without it, it would
        reuse dots the others have seen removed."""
        if self.disk is not None and not self.fatal:
            try:
                self.disk.save_counter(self.members_set.counter)
            except RabbleError as e:
                self._die(str(e))

    def _peer_lost(self, name: str, reason: str) -> None:
        log.warning("lost node %s: %s", name, reason)
        before = self.members()
        changed = False
        for element in self.members_set.members():
            if member(element)[0] == name:
                self._gossip(self.members_set.remove(element), None)
                changed = True
        if changed:
            self._after_change(before)

    # -- links --------------------------------------------------------------------------------

    def _peers(self) -> Iterable[tuple[str, str]]:
        return [member(element) for element in self.members_set.members()]

    def _link_up(self, link: Link) -> None:
        link.send(encode(gossip(self.members_set)))  # whole states first, then deltas

    def _link_down(self, name: str, reason: str) -> None:
        for node, future in self._calls.values():  # whether it failed or left
            if node == name and not future.done():
                future.set_exception(CallLost(name))
        if name in self.members():
            self._peer_lost(name, reason)
        else:
            log.info("closed the link to %s, which left: %s", name, reason)
