"""Proving knowledge of the cluster secret, both ways, before any other frame.

Each side sends ``Hello`` with a fresh random nonce, then ``Proof``: an HMAC-SHA256, under
the secret, of its role (the side that dialed, or the side that accepted), its own name, its
nonce and the peer's nonce. Each checks the other's proof in constant time. A stranger
learns nothing it could replay (the nonces are fresh on both sides), and cannot pass off a
node's own proof as its own: reflected back to that node, or relayed to another node it
dialed, the proof has the wrong role. It is disconnected after its first wrong frame or
after the time limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..core import CodecError, RabbleError
from ._framing import frame, read_frame
from ._wire import VERSION, Hello, Proof, decode, encode

HANDSHAKE_LIMIT = 4096
"""The largest handshake frame accepted: a stranger cannot make us read more."""
NONCE_BYTES = 32


class Refused(RabbleError):
    """The peer did not prove it knows the cluster secret, or spoke another protocol."""


def proof(secret: bytes, dialer: bool, node: str, own_nonce: bytes, peer_nonce: bytes) -> bytes:
    """What ``node`` sends to prove the secret, bound to its role (``dialer``: it opened
    the connection) and to both nonces of this connection."""
    role = b"dial\0" if dialer else b"accept\0"
    message = b"rabble-sim proof\0" + role + node.encode() + b"\0" + own_nonce + peer_nonce
    return hmac.new(secret, message, hashlib.sha256).digest()


async def handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    node: str,
    addr: str,
    secret: bytes,
    dialer: bool,
    timeout: float = 5.0,
    heard: Callable[[], None] | None = None,
) -> Hello:
    """Run the handshake as ``node``, on a connection it opened (``dialer``) or accepted;
    return the peer's ``Hello`` once its proof checks. ``heard`` is called when the peer's
    ``Hello`` has arrived (admission tells a peer that speaks from one that stays silent).

    Raises ``Refused`` (wrong secret, wrong protocol or version, a frame out of order, too
    slow) or a ``LinkError`` (the connection broke).
    """
    async with asyncio.timeout(timeout):
        mine = Hello(VERSION, node, addr, os.urandom(NONCE_BYTES))
        writer.write(frame(encode(mine)))
        peer = await _expect(reader, Hello)
        if heard is not None:
            heard()
        if peer.version != VERSION:
            raise Refused(f"{peer.node!r} speaks wire version {peer.version}, not {VERSION}")
        if len(peer.nonce) != NONCE_BYTES:
            raise Refused(f"{peer.node!r} sent a nonce of {len(peer.nonce)} bytes")
        writer.write(frame(encode(Proof(proof(secret, dialer, node, mine.nonce, peer.nonce)))))
        theirs = await _expect(reader, Proof)
        expected = proof(secret, not dialer, peer.node, peer.nonce, mine.nonce)
        if not hmac.compare_digest(theirs.mac, expected):
            raise Refused(f"{peer.node!r} does not know the cluster secret")
        return peer


F = TypeVar("F", Hello, Proof)


async def _expect(reader: asyncio.StreamReader, kind: type[F]) -> F:
    try:
        received = decode(await read_frame(reader, HANDSHAKE_LIMIT))
    except CodecError as e:
        raise Refused(f"not a rabble-sim peer ({e})") from None
    if not isinstance(received, kind):
        got = type(received).__name__
        raise Refused(f"expected {kind.__name__} during the handshake, got {got}")
    return received


def load_secret(value: str | None, path: str | None) -> bytes:
    """The cluster secret from a file (its first line) or the environment's value."""
    if path is not None:
        try:
            lines = Path(path).read_bytes().splitlines()
        except OSError as e:
            raise RabbleError(f"cannot read the secret file {path}: {e.strerror}") from None
        secret = lines[0].strip() if lines else b""
    else:
        secret = (value or "").strip().encode()
    if len(secret) < 8:
        raise RabbleError(
            "the cluster secret is missing or shorter than 8 bytes: set RABBLE_SIM_SECRET "
            "or pass --secret-file"
        )
    return secret
