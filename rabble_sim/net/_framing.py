"""Frames on a TCP stream: a 4-byte big-endian length, then that many bytes of body.

The length is checked against the connection's limit before a single body byte is read or
allocated, so a hostile length cannot make a node reserve memory. A clean end of stream
between frames is ``PeerClosed``; one in the middle of a frame, or a socket error, is
``PeerBroken``; a length over the limit is ``FrameTooLarge``.
"""

from __future__ import annotations

import asyncio
import struct

from ..core import RabbleError

HEADER = struct.Struct(">I")
MAX_FRAME = 8 * 1024 * 1024
"""The default limit on one frame's body, in bytes."""


class LinkError(RabbleError):
    """A connection can no longer carry frames; it is closed, the node carries on."""


class PeerClosed(LinkError):
    """The peer closed the connection between two frames."""


class PeerBroken(LinkError):
    """The connection broke: an end of stream inside a frame, or a socket error."""


class FrameTooLarge(LinkError):
    """A frame announced a body longer than the connection accepts."""


def frame(body: bytes) -> bytes:
    """``body`` with its length prefix."""
    return HEADER.pack(len(body)) + body


async def read_frame(reader: asyncio.StreamReader, limit: int = MAX_FRAME) -> bytes:
    """The next frame's body; raises a ``LinkError`` when there is none to read."""
    try:
        header = await reader.readexactly(HEADER.size)
    except asyncio.IncompleteReadError as e:
        if not e.partial:
            raise PeerClosed("the peer closed the connection") from None
        raise PeerBroken("the stream ended inside a frame header") from None
    except OSError as e:
        raise PeerBroken(f"read failed: {e}") from None
    (length,) = HEADER.unpack(header)
    if length > limit:
        raise FrameTooLarge(f"a frame of {length:,} bytes is over the limit of {limit:,}")
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as e:
        raise PeerBroken(
            f"the stream ended {len(e.partial):,} bytes into a {length:,}-byte frame"
        ) from None
    except OSError as e:
        raise PeerBroken(f"read failed: {e}") from None
