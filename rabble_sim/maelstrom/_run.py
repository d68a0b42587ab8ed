"""Run a ``MaelstromNode`` on standard input and output, on an asyncio event loop.

Standard input is read as it comes, split into lines, each served by the adapter; end of
input ends the node, after the messages already received have been handled (those that
need no timer and no reply from elsewhere). Each line out is written and flushed at once.
If standard output closes (Maelstrom went away), the node ends too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import threading
from collections.abc import AsyncIterator
from typing import BinaryIO

from ._adapter import Adapter, StartFailed
from ._node import MaelstromNode

log = logging.getLogger("rabble_sim.maelstrom")

CHUNK = 1 << 16
MAX_LINE = 64 << 20
"""The longest line read (64 MiB); a longer one is logged and skipped."""
SETTLE_TURNS = 3
"""Turns of the event loop without an envelope routed or delivered after which a node at
the end of its input counts as quiet."""
MOST_SETTLING = 10_000
"""Turns at most that a node at the end of its input waits to go quiet (processes that
message each other forever never do)."""


def run_node(node: MaelstromNode, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Run ``node`` until ``stdin`` ends, writing its lines to ``stdout``.

    Raises ``StartFailed`` (a ``UsageError``) if its start fails on ``init``; anything in
    the input, and any exception of the processes, is logged and served past.
    """
    asyncio.run(_serve(node, stdin, stdout))


class _Output:
    """Standard output: one line at a time, flushed; ``closed`` once it cannot be written."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.closed = asyncio.Event()

    def write(self, line: bytes) -> None:
        if self.closed.is_set():
            return
        try:
            self.stream.write(line + b"\n")
            self.stream.flush()
        except (OSError, ValueError) as e:  # a closed pipe: nobody reads any more
            log.error("standard output is closed (%s): the node stops", e)
            self.closed.set()


async def _serve(node: MaelstromNode, stdin: BinaryIO, stdout: BinaryIO) -> None:
    output = _Output(stdout)
    adapter = Adapter(node, output.write)
    try:
        reading = asyncio.ensure_future(_read(adapter, stdin))
        closed = asyncio.ensure_future(output.closed.wait())
        done, _ = await asyncio.wait({reading, closed}, return_when=asyncio.FIRST_COMPLETED)
        for task in (reading, closed):
            if task not in done:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if reading in done:
            reading.result()  # StartFailed
            await _settle(adapter)
    finally:
        adapter.close()


async def _read(adapter: Adapter, stdin: BinaryIO) -> None:
    async for line in _lines(stdin):
        if not line.strip():  # a blank line says nothing: skipped without a word
            continue
        try:
            adapter.line(line)
        except StartFailed:
            raise
        except Exception as e:  # a bug in rabble-sim: one line lost, not the node
            log.error(
                "internal error on a line (please report it): %r", e,
                exc_info=bool(os.environ.get("RABBLE_SIM_DEBUG")),
            )  # fmt: skip


async def _settle(adapter: Adapter) -> None:
    quiet = 0
    for _ in range(MOST_SETTLING):
        before = adapter.activity
        await asyncio.sleep(0)
        quiet = quiet + 1 if adapter.activity == before else 0
        if quiet >= SETTLE_TURNS:
            return


async def _lines(stdin: BinaryIO) -> AsyncIterator[bytes]:
    """The lines of ``stdin``, without their newlines; a last one without a newline too."""
    pending = bytearray()
    skipping = False
    async for chunk in _chunks(stdin):
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            if skipping:
                skipping = False
            else:
                pending += chunk[start:end]
                yield bytes(pending)
            pending.clear()
            start = end + 1
        if not skipping:
            pending += chunk[start:]
            if len(pending) > MAX_LINE:
                log.error("skipped a line longer than %d bytes", MAX_LINE)
                pending.clear()
                skipping = True
    if pending and not skipping:
        yield bytes(pending)


async def _chunks(stdin: BinaryIO) -> AsyncIterator[bytes]:
    """What ``stdin`` holds, as it comes: a pipe or a socket (Maelstrom's case) watched
    by the event loop; anything else (a file, a terminal, /dev/null, which epoll refuses)
    read by a daemon thread, which never keeps the node from exiting."""
    loop = asyncio.get_running_loop()
    fd = stdin.fileno()
    mode = os.fstat(fd).st_mode
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        reader = asyncio.StreamReader(limit=CHUNK)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), stdin
        )
        try:
            while chunk := await reader.read(CHUNK):
                yield chunk
        finally:
            transport.close()
        return
    chunks: asyncio.Queue[bytes] = asyncio.Queue()

    def read() -> None:
        chunk = b"-"
        while chunk:
            try:
                chunk = os.read(fd, CHUNK)
            except OSError as e:
                log.error("cannot read standard input: %s", e)
                chunk = b""
            loop.call_soon_threadsafe(chunks.put_nowait, chunk)

    threading.Thread(target=read, name="rabble-maelstrom-stdin", daemon=True).start()
    while chunk := await chunks.get():
        yield chunk
