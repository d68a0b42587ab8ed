"""The frames nodes exchange, as a tagged union of msgspec structs in MessagePack.

Every frame body is one of these, encoded as an array whose first item is the tag. The
decoder accepts nothing else: a body that is not one of them is malformed, and the
connection that sent it is closed. Message bodies inside ``Send`` stay raw until their tag
has been found in the registry, so an unknown tag is reported as such.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import msgspec

from ..core import CodecError, CorrelationId, Pid
from ._orset import ORSet

VERSION = 1


class Hello(msgspec.Struct, tag="hello", array_like=True, frozen=True):
    """The first frame on each side: who I am, and a fresh nonce for the proof."""

    version: int
    node: str
    addr: str
    """Where this node listens (``host:port``); empty for a client such as ``status``."""
    nonce: bytes


class Proof(msgspec.Struct, tag="proof", array_like=True, frozen=True):
    """The second frame on each side: an HMAC of both nonces under the cluster secret."""

    mac: bytes


class Taken(msgspec.Struct, tag="taken", array_like=True, frozen=True):
    """Sent instead of any other frame, right after the handshake, to a node that dialed
    with the name of a live member at another address; then the connection is closed."""

    node: str
    addr: str
    """Where the member of that name listens."""


class Send(msgspec.Struct, tag="send", array_like=True, frozen=True):
    """An envelope. ``body`` is the message, decoded only once ``tag`` is known."""

    to: Pid
    from_: Pid
    cid: CorrelationId | None
    tag: str
    body: msgspec.Raw


class Gossip(msgspec.Struct, tag="gossip", array_like=True, frozen=True):
    """Membership: an observed-remove set, whole or a delta. Elements are ``name@addr``."""

    entries: dict[str, list[tuple[str, int]]]
    seen: dict[str, int]
    cloud: list[tuple[str, int]]


class Heartbeat(msgspec.Struct, tag="heartbeat", array_like=True, frozen=True):
    """Sent on every link at every heartbeat interval, so that silence means the peer is
    gone."""


class StatusRequest(msgspec.Struct, tag="status", array_like=True, frozen=True):
    """Asks a node for its view (``rabble-sim status``)."""


class StatusReply(msgspec.Struct, tag="status-reply", array_like=True, frozen=True):
    """A node's view: members, each process's state as plain data, and its counters."""

    node: str
    members: list[str]
    links: list[str]
    """The members this node has a live link to."""
    processes: dict[str, Any]
    dead_letters: int
    metrics: dict[str, dict[str, int]]
    failed: dict[str, str] = {}
    """Processes stopped fail-stop (their durable state could not be saved), by pid string:
    why."""
    exceptions: int = 0
    """Exceptions raised by the processes' code (``handle``, ``init``, factories, routing
    policies) since the node started."""
    refused: int = 0
    """Connections refused before or during the handshake since the node started."""


Frame: TypeAlias = Hello | Proof | Taken | Send | Gossip | Heartbeat | StatusRequest | StatusReply

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Frame)


def gossip(delta: ORSet) -> Gossip:
    """A membership state or delta as a frame."""
    entries = {element: sorted(dots) for element, dots in delta.entries.items()}
    return Gossip(entries, dict(delta.seen), sorted(delta.cloud))


def orset(frame: Gossip, replica: str) -> ORSet:
    """The membership state or delta a ``Gossip`` frame carries."""
    entries = {element: {(r, n) for r, n in dots} for element, dots in frame.entries.items()}
    return ORSet(replica, entries, dict(frame.seen), {(r, n) for r, n in frame.cloud})


def encode(frame: Frame) -> bytes:
    return _encoder.encode(frame)


def decode(body: bytes) -> Frame:
    """One frame body; a ``CodecError`` for anything that is not a well-formed frame."""
    try:
        return _decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as e:
        raise CodecError(f"malformed frame: {e}") from None
