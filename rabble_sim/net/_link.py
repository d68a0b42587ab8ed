"""One authenticated connection to a peer: frames out in batches, frames in one at a time.

Writes are queued and flushed together (one system call for many small frames), and the
writer waits on ``drain``: a slow peer fills the socket's buffer, then the link's queue,
and past ``max_queue`` bytes further frames to it are dropped and counted rather than kept.
Reading takes what the socket holds (up to ``READ_SIZE`` bytes) and hands every whole
frame in it to the node before reading more; when the node's processes fall behind (its
executor's inbox is full), reading waits, so TCP's own flow control slows down a peer that
sends faster than this node handles.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable

from ..core import CodecError
from ._framing import HEADER, FrameTooLarge, LinkError, PeerBroken, PeerClosed, frame
from ._wire import Frame, Hello, decode

log = logging.getLogger("rabble_sim.net")

MAX_QUEUE = 16 * 1024 * 1024
"""Bytes of frames waiting for a slow peer before more are dropped."""
READ_SIZE = 64 * 1024
"""Bytes asked of the socket at once; a frame longer than this is read whole, in one go."""


class Link:
    """A connection that passed the handshake. ``peer`` is the peer's ``Hello``;
    ``dialer`` names the side that opened it (to settle two links between one pair)."""

    def __init__(
        self,
        peer: Hello,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        dialer: str,
        on_frame: Callable[[Link, Frame], None],
        on_close: Callable[[Link, str], None],
        max_frame: int,
        max_queue: int = MAX_QUEUE,
        room: Callable[[], Awaitable[object] | None] = lambda: None,
    ) -> None:
        self.peer = peer
        self.dialer = dialer
        self.dropped = 0
        self.closed = False
        self.failed = False
        """Whether it closed on a bad frame or a broken stream (not a clean end)."""
        self._reader = reader
        self._writer = writer
        sock = writer.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # asyncio sets it too; said here because small frames must not wait for Nagle.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._on_frame = on_frame
        self._on_close = on_close
        self._room = room
        self._max_frame = max_frame
        self._max_queue = max_queue
        self._queue: list[bytes] = []
        self._queued = 0
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._writing = False
        loop = asyncio.get_running_loop()
        self._clock = loop.time
        self.last_heard = loop.time()
        self._tasks = (
            asyncio.create_task(self._read_loop(), name=f"read {peer.node}"),
            asyncio.create_task(self._write_loop(), name=f"write {peer.node}"),
        )

    @property
    def name(self) -> str:
        return self.peer.node

    @property
    def is_client(self) -> bool:
        """A client (``status``, a caller) listens nowhere and is not a member."""
        return not self.peer.addr

    def send(self, body: bytes) -> bool:
        """Queue one frame; False if the link is closed or its queue is full."""
        if self.closed:
            return False
        data = frame(body)
        if self._queued + len(data) > self._max_queue:
            self.dropped += 1
            return False
        self._queue.append(data)
        self._queued += len(data)
        self._ready.set()
        return True

    async def flush(self) -> None:
        """Wait until every queued frame has been written to the socket."""
        while not self.closed and (self._queue or self._writing):
            self._idle.clear()
            await self._idle.wait()

    def close(self, reason: str) -> None:
        """Close the connection (once), and tell the node why."""
        if self.closed:
            return
        self.closed = True
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        with contextlib.suppress(Exception):
            self._writer.close()
        self._on_close(self, reason)

    async def _write_loop(self) -> None:
        try:
            while True:
                await self._ready.wait()
                self._ready.clear()
                batch, self._queue, self._queued = self._queue, [], 0
                self._writing = True
                self._writer.writelines(batch)
                await self._writer.drain()
                self._writing = False
                self._idle.set()
        except (OSError, ConnectionError) as e:
            self.close(f"write failed: {e}")
        finally:
            self._idle.set()

    async def _read_loop(self) -> None:
        try:
            await self._read_frames()
        except PeerClosed as e:
            self.close(str(e))
        except (LinkError, CodecError) as e:
            self.failed = True
            self.close(str(e))
        except Exception:  # a bug in rabble-sim: say so, and lose only this link
            log.exception("internal error on the link to %s", self.name)
            self.close("internal error")

    async def _read_frames(self) -> None:
        """Hand each frame to the node, as ``_framing.read_frame`` would read them one at a
        time (the same checks and errors), but many frames per read from the socket."""
        reader, limit, on_frame, size = self._reader, self._max_frame, self._on_frame, HEADER.size
        data = b""  # what was read and not yet handled: always less than one frame
        while True:
            chunk = await _read(reader)
            if not chunk:
                raise _ended(data)
            data = data + chunk if data else chunk
            end, offset = len(data), 0
            while end - offset >= size:
                (length,) = HEADER.unpack_from(data, offset)
                if length > limit:
                    raise FrameTooLarge(
                        f"a frame of {length:,} bytes is over the limit of {limit:,}"
                    )
                start = offset + size
                stop = start + length
                if stop > end:
                    if length <= READ_SIZE:
                        break  # read more
                    data = data[start:] + await _read_exactly(reader, stop - end, length)
                    end, offset, start, stop = length, 0, 0, length
                offset = stop
                on_frame(self, decode(data[start:stop]))
                if self.closed:
                    return
            if offset:
                self.last_heard = self._clock()
                data = data[offset:]
            full = self._room()
            if full is not None:  # the node is behind: let TCP slow the peer down
                await full


async def _read(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.read(READ_SIZE)
    except OSError as e:
        raise PeerBroken(f"read failed: {e}") from None


async def _read_exactly(reader: asyncio.StreamReader, n: int, length: int) -> bytes:
    """The last ``n`` bytes of a ``length``-byte frame."""
    try:
        return await reader.readexactly(n)
    except asyncio.IncompleteReadError as e:
        got = length - n + len(e.partial)
        raise PeerBroken(f"the stream ended {got:,} bytes into a {length:,}-byte frame") from None
    except OSError as e:
        raise PeerBroken(f"read failed: {e}") from None


def _ended(data: bytes) -> LinkError:
    """The error for an end of stream with ``data`` (less than one frame) unread."""
    if not data:
        return PeerClosed("the peer closed the connection")
    if len(data) < HEADER.size:
        return PeerBroken("the stream ended inside a frame header")
    (length,) = HEADER.unpack_from(data)
    got = len(data) - HEADER.size
    return PeerBroken(f"the stream ended {got:,} bytes into a {length:,}-byte frame")
