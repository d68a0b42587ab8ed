"""The links of a node: a full mesh of authenticated TCP connections, one a peer.

A node dials each member whose name sorts after its own, and its contacts (``--join``)
while it has no link; failed dials back off. Connections it accepts pass admission (so
that silent strangers cannot take every place: ``_admission``) and the handshake; a peer
that passes it with the name of a live member at another address is sent ``Taken`` and
closed, and the peer gives up. If two links to one peer come up, both ends keep the same
one. A link silent for the failure timeout is closed. ``Node`` builds on this: what
arrives on the links, and what a link coming up or going down means for the members.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

from ._admission import Admission
from ._config import BACKLOG, MAX_BACKOFF, NodeConfig
from ._framing import LinkError, frame
from ._handshake import Refused, handshake
from ._link import Link
from ._tally import Tally
from ._wire import Frame, Heartbeat, Hello, Taken, encode

log = logging.getLogger("rabble_sim.net")


def one_line(text: str) -> str:
    """``text``, which may quote what a peer sent, escaped so that it stays on one log line."""
    return text.encode("unicode_escape").decode("ascii")


class Mesh:
    """A node's links and the connections on their way to being one. Subclasses say what
    a frame means (``_received``), whom to link to (``_peers``), and what a link coming
    up (``_link_up``) or going down (``_link_down``) means."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.name = config.name
        self.addr = ""
        """Where this node listens, ``host:port``, once it has started."""
        self.fatal = ""
        """Why the node cannot go on (its name is taken, its data directory fails), if so."""
        self._fatal = asyncio.Event()
        self._links: dict[str, Link] = {}
        self._clients: list[Link] = []
        self._dialing: set[str] = set()
        self._admission = Admission()
        self._refused = Tally(1000)
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._changed = asyncio.Event()
        """Set when the links or the members change."""
        self._stopped = asyncio.Event()
        self._joined = False
        """Whether a member has sent this node its membership (it is in a cluster)."""

    # -- what a node adds ---------------------------------------------------------------------

    def _received(self, link: Link, frame: Frame) -> None:
        raise NotImplementedError

    def _room(self) -> Awaitable[object] | None:
        """None, or something to await before a link reads on (the node is behind)."""
        return None

    def _peers(self) -> Iterable[tuple[str, str]]:
        """The (name, address) of every member."""
        return ()

    def _link_up(self, link: Link) -> None:
        """A link to a member came up (and is now the one to that peer)."""

    def _link_down(self, name: str, reason: str) -> None:
        """The link to ``name`` closed for ``reason`` (the node is not stopping)."""

    # -- life -----------------------------------------------------------------------------------

    async def _listen(self) -> asyncio.Server:
        config = self.config
        tls_timeout = config.handshake_timeout if config.server_tls else None
        return await asyncio.start_server(
            self._accept, config.host, config.port, ssl=config.server_tls,
            backlog=BACKLOG, ssl_handshake_timeout=tls_timeout,
        )  # fmt: skip

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

    # -- links ------------------------------------------------------------------------------------

    def _connect_members(self) -> None:
        for name, addr in self._peers():
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
        self._link_up(link)
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
            self._link_down(link.name, reason)

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
