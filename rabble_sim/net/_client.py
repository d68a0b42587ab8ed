"""Talking to a running node from outside the cluster: ``rabble-sim status``."""

from __future__ import annotations

import asyncio
import contextlib
import ssl

from ..core import CodecError, RabbleError
from ._framing import LinkError, frame, read_frame
from ._handshake import Refused, handshake
from ._wire import StatusReply, StatusRequest, decode, encode


def parse_addr(addr: str, *, any_port: bool = False) -> tuple[str, int]:
    """``host:port`` as (host, port); a ``RabbleError`` that says what is wrong. With
    ``any_port``, port 0 (any free port) is allowed."""
    host, sep, port = addr.rpartition(":")
    lowest = 0 if any_port else 1
    if not sep or not host or not port.isdigit() or not lowest <= int(port) < 65536:
        raise RabbleError(f"not an address: {addr!r} (write HOST:PORT, e.g. 127.0.0.1:7000)")
    return host, int(port)


async def fetch_status(
    addr: str, secret: bytes, *, timeout: float = 5.0, tls: ssl.SSLContext | None = None
) -> StatusReply:
    """The view of the node at ``addr``: it must share the cluster secret."""
    host, port = parse_addr(addr)
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port, ssl=tls)
            try:
                await handshake(reader, writer, node="status", addr="", secret=secret, dialer=True)
                writer.write(frame(encode(StatusRequest())))
                reply = decode(await read_frame(reader))
            finally:
                writer.close()
                with contextlib.suppress(OSError, ConnectionError):
                    await writer.wait_closed()
    except TimeoutError:
        raise RabbleError(f"node {addr} did not answer within {timeout} s") from None
    except OSError as e:
        raise RabbleError(f"cannot reach node {addr}: {e.strerror or e}") from None
    except (Refused, LinkError, CodecError) as e:
        raise RabbleError(f"node {addr} refused the status request: {e}") from None
    if not isinstance(reply, StatusReply):
        raise RabbleError(f"node {addr} answered with a {type(reply).__name__} frame")
    return reply
