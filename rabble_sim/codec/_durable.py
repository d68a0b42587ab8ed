"""How durable state is stored: what a process persists is what it gets back, in any executor.

The TCP executor writes persisted data to disk, and the simulator stores it through the
same encoding, so a restart hands a process the same values in both: a registered message
keeps its type; anything else comes back as the plain data ``to_plain`` makes of it (the
same the debugger shows): a tuple returns as a list, a set as a sorted list, a pid as its
string ``name::node``, an attrs instance as a dict of its fields.

Each record carries a CRC-32 of its body, so that a record damaged on disk (a flipped
bit, a torn or misdirected write) is detected when it is read, never handed back as if it
were good. Records written before checksums (two fields, not three) are still read.
"""

from __future__ import annotations

import dataclasses
import enum
import zlib
from typing import Any

import attrs
import msgspec

from ..core import REGISTRY, CodecError, Pid
from ._codec import Codec
from ._plain import to_plain

_codec = Codec("msgpack")


class _Stored(msgspec.Struct, array_like=True, frozen=True):
    tag: str | None
    body: msgspec.Raw
    crc: int | None = None  # None: written by a version before checksums


class Corrupted(CodecError):
    """A durable record that fails its checksum, or no longer decodes: it was damaged."""


def encode_durable(data: Any) -> bytes:
    """``data`` as stored; a ``CodecError`` if it cannot be (a function, a socket, ...)."""
    _check_storable(data, "data")
    tag = REGISTRY.tag_of(type(data))
    body = _codec.encode(data if tag is not None else to_plain(data))
    return _codec.encode(_Stored(tag, msgspec.Raw(body), zlib.crc32(body)))


def decode_durable(stored: bytes) -> Any:
    """What ``encode_durable`` stored, as the process will get it back; ``Corrupted`` if
    the record was damaged, a ``CodecError`` if it names a message type not registered."""
    try:
        wrapper: _Stored = _codec.decode(stored, _Stored, "durable state")
    except CodecError as e:
        raise Corrupted(str(e)) from None
    if wrapper.crc is not None and zlib.crc32(bytes(wrapper.body)) != wrapper.crc:
        raise Corrupted("durable state fails its checksum: the record was damaged")
    if wrapper.tag is None:
        return _codec.decode(wrapper.body, Any, "durable state")
    cls = REGISTRY.class_of(wrapper.tag)
    if cls is None:
        raise CodecError(f"durable state of unknown message type {wrapper.tag!r}")
    return _codec.decode(wrapper.body, cls, f"durable {wrapper.tag}")


def restored(data: Any) -> Any:
    """``data`` as a restart will hand it back."""
    return decode_durable(encode_durable(data))


_PLAIN = (type(None), bool, int, float, str, bytes, Pid, enum.Enum)


def _check_storable(data: Any, where: str) -> None:
    """A ``CodecError`` naming the first part of ``data`` that is not data: a function,
    a lock, a socket... (``to_plain`` would quietly turn it into ``{}`` or a name)."""
    if isinstance(data, _PLAIN):
        return
    if isinstance(data, dict):
        for key, value in data.items():
            _check_storable(key, f"{where} key")
            _check_storable(value, f"{where}[{key!r}]")
        return
    if isinstance(data, list | tuple | set | frozenset):
        for i, item in enumerate(data):
            _check_storable(item, f"{where}[{i}]")
        return
    fields: list[str] | None = None
    if attrs.has(type(data)):
        fields = [f.name for f in attrs.fields(type(data))]
    elif dataclasses.is_dataclass(data):
        fields = [f.name for f in dataclasses.fields(data)]
    if fields is None:
        raise CodecError(
            f"cannot store {where}, a {type(data).__qualname__}: durable state must be plain "
            "data (numbers, strings, lists, dicts, sets, attrs classes, pids)"
        )
    for name in fields:
        _check_storable(getattr(data, name), f"{where}.{name}")
