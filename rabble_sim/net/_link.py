"""One authenticated connection to a peer: frames out in batches, frames in one at a time.

Writes are queued and flushed together (one system call for many small frames), and the
writer waits on ``drain``: a slow peer fills the socket's buffer, then the link's queue,
and past ``max_queue`` bytes further frames to it are dropped and counted rather than kept.
Reading waits for each frame to be handled before reading the next, so TCP's own flow
control slows down a peer that sends faster than this node handles.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from ..core import CodecError
from ._framing import LinkError, PeerClosed, frame, read_frame
from ._wire import Frame, Hello, decode

log = logging.getLogger("rabble_sim.net")

MAX_QUEUE = 16 * 1024 * 1024
"""Bytes of frames waiting for a slow peer before more are dropped."""


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
    ) -> None:
        self.peer = peer
        self.dialer = dialer
        self.dropped = 0
        self.closed = False
        self.failed = False
        """Whether it closed on a bad frame or a broken stream (not a clean end)."""
        self._reader = reader
        self._writer = writer
        self._on_frame = on_frame
        self._on_close = on_close
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
            while True:
                body = await read_frame(self._reader, self._max_frame)
                self.last_heard = self._clock()
                self._on_frame(self, decode(body))
        except PeerClosed as e:
            self.close(str(e))
        except (LinkError, CodecError) as e:
            self.failed = True
            self.close(str(e))
        except Exception:  # a bug in rabble-sim: say so, and lose only this link
            log.exception("internal error on the link to %s", self.name)
            self.close("internal error")
