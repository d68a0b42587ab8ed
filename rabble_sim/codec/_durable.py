"""How durable state is stored: what a process persists is what it gets back, in any executor.

The TCP executor writes persisted data to disk, and the simulator stores it through the
same encoding, so a restart hands a process the same values in both: a registered message
keeps its type; anything else comes back as the plain data ``to_plain`` makes of it (the
same the debugger shows): a tuple returns as a list, a set as a sorted list, a pid as its
string ``name::node``, an attrs instance as a dict of its fields.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..core import REGISTRY, CodecError
from ._codec import Codec
from ._plain import to_plain

_codec = Codec("msgpack")


class _Stored(msgspec.Struct, array_like=True, frozen=True):
    tag: str | None
    body: msgspec.Raw


def encode_durable(data: Any) -> bytes:
    """``data`` as stored; a ``CodecError`` if it cannot be (a function, a socket, ...)."""
    tag = REGISTRY.tag_of(type(data))
    body = _codec.encode(data if tag is not None else to_plain(data))
    return _codec.encode(_Stored(tag, msgspec.Raw(body)))


def decode_durable(stored: bytes) -> Any:
    """What ``encode_durable`` stored, as the process will get it back."""
    wrapper: _Stored = _codec.decode(stored, _Stored, "durable state")
    if wrapper.tag is None:
        return _codec.decode(wrapper.body, Any, "durable state")
    cls = REGISTRY.class_of(wrapper.tag)
    if cls is None:
        raise CodecError(f"durable state of unknown message type {wrapper.tag!r}")
    return _codec.decode(wrapper.body, cls, f"durable {wrapper.tag}")


def restored(data: Any) -> Any:
    """``data`` as a restart will hand it back."""
    return decode_durable(encode_durable(data))
