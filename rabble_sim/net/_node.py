"""A node of a TCP cluster: its links (a full mesh), membership, failure detection, calls.

One asyncio event loop runs everything (like Rabble's cluster server): the processes, the
executor, and every connection. Membership is an observed-remove set of ``name@host:port``
elements: a node adds itself when it starts, removes itself when it leaves, and removes a
peer it stops hearing from; deltas are gossiped on every link until nothing changes, and a
link that comes up starts with an exchange of whole states. The node with the smaller name
dials each pair, so the mesh has one link a pair. A name belongs to one node at a time: a
node that dials with the name of a live member at another address is told so (``Taken``)
and gives up, and the cluster does not change.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import ssl
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import msgspec

from ..codec import Codec
from ..core import (
    EXECUTOR_GROUP,
    CodecError,
    CorrelationId,
    Envelope,
    Pid,
    RabbleError,
    Routes,
    Spawn,
    Spawned,
    SpawnFailed,
    executor_pid,
)
from ._admission import Admission
from ._disk import DataDir
from ._executor import LocalExecutor
from ._framing import MAX_FRAME, LinkError, frame
from ._handshake import Refused, handshake
from ._link import Link
from ._orset import ORSet
from ._tally import Tally
from ._watchdog import Watchdog
from ._wire import (
    Frame,
    Gossip,
    Heartbeat,
    Hello,
    Send,
    StatusReply,
    StatusRequest,
    Taken,
    encode,
    gossip,
    orset,
)

log = logging.getLogger("rabble_sim.net")


class ConnectionLost(RabbleError):
    """A call's target node failed or left before it answered, or is not a member."""

    def __init__(self, node: str, why: str = "failed or left before it answered") -> None:
        super().__init__(f"node {node!r} {why}")
        self.node = node


class CallTimeout(RabbleError):
    """A call got no answer in time."""


@attrs.frozen
class NodeConfig:
    """How a node runs. ``port=0`` picks a free port (see ``Node.addr``)."""

    name: str
    secret: bytes = attrs.field(repr=False)
    host: str = "127.0.0.1"
    port: int = 0
    advertise: str = ""
    """The ``host:port`` other nodes dial (default: where it listens); needed when it
    listens on every interface (``0.0.0.0``)."""
    join: tuple[str, ...] = ()
    """Contact nodes' ``host:port``: any member of the cluster to join."""
    data_dir: Path | None = None
    routes: Routes = attrs.field(factory=Routes)
    factories: Mapping[str, Callable[[Pid, Any], Any]] = attrs.field(factory=dict)
    services: Mapping[str, Callable[..., Any]] = attrs.field(factory=dict)
    heartbeat: float = 0.25
    """Seconds between heartbeats on each link."""
    failure_timeout: float = 1.5
    """Seconds of silence after which a peer counts as failed."""
    max_frame: int = MAX_FRAME
    workers: int = 4
    server_tls: ssl.SSLContext | None = None
    client_tls: ssl.SSLContext | None = None
    handshake_timeout: float = 5.0
    """Seconds a connection has to pass the handshake (TLS's included)."""
    stuck_after: float = 10.0
    """Seconds after which protocol code that has not returned is logged as stuck."""


MAX_BACKOFF = 5.0
"""The longest wait, in seconds, between two tries to link to an address."""
BACKLOG = 1024
"""Connections the kernel queues for the node to accept: a flood of connections opened
again as fast as the node closes them must not fill the queue, or a member's or an
operator's connection waits for the kernel's one-second retry."""
_METRICS = ("received", "sent", "timers_started", "timers_cancelled")


def one_line(text: str) -> str:
    """``text``, which may quote what a peer sent, escaped so that it stays on one log line."""
    return text.encode("unicode_escape").decode("ascii")


def member(element: str) -> tuple[str, str]:
    """``name@host:port`` as (name, address)."""
    name, _, addr = element.partition("@")
    return name, addr


class Node:
    """One node: start it with ``await node.start()``, stop it with ``await node.stop()``."""

    def __init__(self, config: NodeConfig, start: Callable[[str, Any], Iterable[Any]]) -> None:
        self.config = config
        self.name = config.name
        self._start_processes = start
        self._codec = Codec("msgpack")
        self._links: dict[str, Link] = {}
        self._clients: list[Link] = []
        self._dialing: set[str] = set()
        self._admission = Admission()
        self._refused = Tally(1000)
        self._joined = False
        """Whether a member has sent this node its membership (it is in a cluster)."""
        self.fatal = ""
        """Why the node cannot go on (its name is taken, its data directory fails), if so."""
        self._fatal = asyncio.Event()
        self._watchdog: Watchdog | None = None
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}
        self._calls: dict[int, tuple[str, asyncio.Future[Any]]] = {}
        self._requests = itertools.count(1)
        self._caller = Pid("caller", config.name, EXECUTOR_GROUP)
        self._server: asyncio.Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._changed = asyncio.Event()
        self._stopped = asyncio.Event()
        self.addr = ""
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
            tls_timeout = config.handshake_timeout if config.server_tls else None
            self._server = await asyncio.start_server(
                self._accept, config.host, config.port, ssl=config.server_tls,
                backlog=BACKLOG, ssl_handshake_timeout=tls_timeout,
            )  # fmt: skip
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
            self.members_set.counter = self.disk.load_counter()
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
        try:
            self.executor.start(self._processes(durable))
        except (TypeError, ValueError) as e:  # not processes, or two of one pid
            raise RabbleError(f"the scenario's start for node {self.name}: {e}") from None
        self._watchdog = Watchdog(self.executor, self.name, config.stuck_after)
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
                future.set_exception(ConnectionLost(node))
        log.info("node %s stopped", self.name)

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    async def wait_fatal(self) -> str:
        """Return why, once the node cannot go on (``fatal``): the caller stops it."""
        await self._fatal.wait()
        return self.fatal

    def _die(self, reason: str) -> None:
        """The node cannot go on: say why once, and wake ``wait_fatal``."""
        if not self.fatal:
            self.fatal = reason
            log.error("node %s cannot go on: %s", self.name, reason)
            self._fatal.set()

    def _processes(self, durable: Any) -> list[Any]:
        """What the scenario's ``start`` builds for this node, or a ``RabbleError``."""
        try:
            built = self._start_processes(self.name, durable)
            return list(built)
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

        A member whose link is still coming up is waited for. Raises ``ConnectionLost``
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
        """Return once ``node`` is this node or linked; ``ConnectionLost`` if it is not a
        member."""
        while node != self.name and node not in self._links:
            if node not in self.members():
                raise ConnectionLost(node, "is not a member of the cluster (wait_for it?)")
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
            return  # no link (yet, or any more): lost, as the network may lose any message
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

    # -- links ------------------------------------------------------------------------------------

    def _connect_members(self) -> None:
        for element in self.members_set.members():
            name, addr = member(element)
            if name > self.name and name not in self._links and addr:
                self._dial(addr)

    def _dial(self, addr: str) -> None:
        if addr in self._dialing or self._stopped.is_set():
            return
        if asyncio.get_running_loop().time() < self._retry_at.get(addr, 0.0):
            return
        self._dialing.add(addr)
        task = asyncio.create_task(self._connect(addr), name=f"dial {addr}")
        self._tasks.append(task)
        task.add_done_callback(lambda _: self._dialing.discard(addr))

    async def _connect(self, addr: str) -> None:
        host, _, port = addr.rpartition(":")
        try:
            reader, writer = await asyncio.open_connection(
                host, int(port), ssl=self.config.client_tls
            )
        except (OSError, ValueError) as e:
            self._dial_failed(addr, str(e))
            return
        why = await self._establish(reader, writer, dialer=self.name)
        if why:
            self._dial_failed(addr, why)
        else:
            self._failures.pop(addr, None)
            self._retry_at.pop(addr, None)

    def _dial_failed(self, addr: str, why: str) -> None:
        """Back off before dialing ``addr`` again, and say so once, not at every try."""
        failures = self._failures.get(addr, 0) + 1
        self._failures[addr] = failures
        delay = min(MAX_BACKOFF, self.config.heartbeat * 2**failures)
        self._retry_at[addr] = asyncio.get_running_loop().time() + delay
        say = log.info if failures == 1 else log.debug
        say("cannot link to %s: %s (trying again, less and less often)", addr, why)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else str(peer)
        clock = asyncio.get_running_loop().time
        admitted = self._admission.admit(address, clock(), writer.transport.abort)
        if isinstance(admitted, str):
            writer.transport.abort()
            self._refuse(address, f" unheard: {admitted}")
            return
        try:
            why = await self._establish(
                reader, writer, dialer="", heard=lambda: self._admission.heard(admitted, clock())
            )
        finally:
            self._admission.done(admitted)
        if why:
            self._refuse(peer, ": " + (admitted.dropped or one_line(why)))

    def _refuse(self, peer: object, why: str) -> None:
        """Count a connection refused before or during the handshake; log the first ten and
        every thousandth (a flood of strangers must not become a flood of log lines)."""
        if self._refused.add():
            count, tail = self._refused.count, self._refused.thinning()
            log.warning("refused connection #%d from %s%s%s", count, peer, why, tail)

    async def _establish(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        dialer: str,
        heard: Callable[[], None] | None = None,
    ) -> str:
        """Run the handshake and make a link; what went wrong, or "" when all went well."""
        try:
            peer = await handshake(
                reader, writer, node=self.name, addr=self.addr, secret=self.config.secret,
                dialer=bool(dialer), timeout=self.config.handshake_timeout, heard=heard,
            )  # fmt: skip
        except (Refused, LinkError, TimeoutError, OSError) as e:
            writer.close()
            return str(e) or "the handshake timed out"
        if self._stopped.is_set():
            writer.close()
            return ""
        if peer.node == self.name and peer.addr == self.addr:  # it dialed itself (--join)
            writer.close()
            return "that is this node's own address" if dialer else ""
        if dialer and peer.node == self.name:  # another node of this name listens there
            writer.close()
            if not self._joined:
                self._die(f"a node named {peer.node} is already a member at {peer.addr}")
            return f"another node named {peer.node} listens there"
        holder = "" if dialer else self._holder(peer)
        if holder:
            writer.write(frame(encode(Taken(peer.node, holder))))
            writer.close()  # after sending what was written
            log.warning(
                "refused node %s at %s: a node of that name is a member at %s",
                peer.node, peer.addr, holder,
            )  # fmt: skip
            return ""
        link = Link(
            peer, reader, writer, dialer=dialer or peer.node,
            on_frame=self._received, on_close=self._closed, max_frame=self.config.max_frame,
            room=self._room,
        )  # fmt: skip
        if link.is_client:
            self._clients.append(link)
            return ""
        old = self._links.get(peer.node)
        if old is not None and not _replaces(link, old, self.name):
            link.close("a link to this peer exists")
            return ""
        self._links[peer.node] = link
        self._changed.set()
        if old is not None:
            old.close("replaced by a newer link")
        link.send(encode(gossip(self.members_set)))  # whole states first, then deltas
        return ""

    def _holder(self, peer: Hello) -> str:
        """Where the live member named like ``peer`` listens, if that is elsewhere: then
        ``peer`` is a second node under a taken name. A member is live if this node is it,
        or is linked to it and has heard from it within the failure timeout; a node that
        restarts (at its old address or a new one) finds its old link closed (the kernel
        closes a dead process's sockets) or silent, and gets in."""
        if not peer.addr:
            return ""  # a client: its name is nobody's business
        if peer.node == self.name:
            return self.addr
        link = self._links.get(peer.node)
        if link is None or link.closed or link.peer.addr == peer.addr:
            return ""
        silent = asyncio.get_running_loop().time() - link.last_heard
        return link.peer.addr if silent < self.config.failure_timeout else ""

    def _closed(self, link: Link, reason: str) -> None:
        if link.is_client:
            with contextlib.suppress(ValueError):
                self._clients.remove(link)
            if link.failed:
                log.warning("closed the connection from client %r: %s", link.name, one_line(reason))
            return
        if self._links.get(link.name) is link:
            del self._links[link.name]
            if self._stopped.is_set():
                return
            for node, future in self._calls.values():  # whether it failed or left
                if node == link.name and not future.done():
                    future.set_exception(ConnectionLost(link.name))
            if link.name in self.members():
                self._peer_lost(link.name, reason)
            else:
                log.info("closed the link to %s, which left: %s", link.name, reason)

    async def _heartbeats(self) -> None:
        interval, limit = self.config.heartbeat, self.config.failure_timeout
        beat = encode(Heartbeat())
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            now = loop.time()
            for link in list(self._links.values()):
                if now - link.last_heard > limit:
                    link.close(f"no frame for {now - link.last_heard:.1f} s")
                else:
                    link.send(beat)
            self._connect_members()
            for contact in self.config.join:
                if not self._links:
                    self._dial(contact)


def _replaces(new: Link, old: Link, me: str) -> bool:
    """Whether ``new`` should replace ``old`` (both to one peer): keep the link dialed by
    the smaller name, so that both ends keep the same one; between two links dialed by the
    same side, the newer (the peer restarted, or the old link is dying)."""
    smaller = min(me, new.name)
    if new.dialer == old.dialer:
        return True
    return new.dialer == smaller
