"""Messages in flight travel as they would over TCP: encoded when they are sent.

A process may keep a reference to what it sent and change it later (a list inside a
message, say); over TCP that change never reaches the receiver, because the message was
encoded when it was sent. In the simulator a message in flight is a ``Parcel``: the
envelope as sent, whose pids and cid are immutable, and the message encoded at that
moment with the wire's codec, and the copy decoded from those bytes that its receiver
will get. So the receiver gets what was sent, typed as the TCP executor would give it to
it; and a message that could not cross a real network (a class without ``@message``, a
field the codec cannot encode or that does not hold what its annotation says) is refused
where it is sent, naming the class and the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from ..core import REGISTRY, CodecError, Envelope

Parcel = tuple[Envelope, bytes, Any]
"""A message in flight: the envelope as sent, its message encoded when it was sent, and
the receiver's copy, decoded from those bytes. Only the envelope's pids and cid may be
read: its ``msg`` is the sender's object, which the sender may have changed since. The
copy is handed out once, to the receiver: everyone else decodes the bytes."""

_encode = msgspec.msgpack.Encoder().encode
_decoders: dict[type, Any] = {}


def pack(env: Envelope) -> Parcel:
    """``env`` ready to travel; a ``CodecError`` that says what to fix if it cannot."""
    msg = env.msg
    cls = type(msg)
    if cls not in _decoders:
        _learn(cls)
    try:
        body = _encode(msg)
    except (TypeError, OverflowError, RecursionError) as e:
        raise CodecError(
            f"{cls.__qualname__} cannot be sent: {e or type(e).__name__} (a message may "
            "hold numbers, strings, bytes, None, pids, cids, messages, and tuples, lists, "
            "sets and dicts of them)"
        ) from None
    try:
        copy = _decoders[cls](body)
    except (msgspec.DecodeError, RecursionError) as e:
        raise CodecError(
            f"{cls.__qualname__} cannot be sent as it is declared: {e} (the TCP executor "
            "would refuse it the same way; make the field's annotation say what it holds)"
        ) from None
    return env, body, copy


def again(parcel: Parcel) -> Parcel:
    """Another parcel of the same message (a duplicate), with a copy of its own."""
    env, body, _ = parcel
    return env, body, _decoders[type(env.msg)](body)


def decoder_of(cls: type) -> Callable[[bytes], Any]:
    """The function that decodes a message of class ``cls`` from its bytes."""
    if cls not in _decoders:
        _learn(cls)
    decoder: Callable[[bytes], Any] = _decoders[cls]
    return decoder


def unpack(parcel: Parcel) -> Envelope:
    """The envelope of ``parcel`` with a fresh copy of the message as it was sent."""
    env, body, _ = parcel
    return Envelope(env.to, env.from_, _decoders[type(env.msg)](body), env.cid)


def _learn(cls: type) -> None:
    """Check that ``cls`` may travel, and keep the decoder of its messages."""
    if REGISTRY.tag_of(cls) is None:
        raise CodecError(
            f"{cls.__qualname__} is not a registered message type: decorate it with "
            "@message (from rabble_sim import message), above @attrs.frozen"
        )
    try:
        _decoders[cls] = msgspec.msgpack.Decoder(cls).decode
    except (TypeError, NameError) as e:
        raise CodecError(
            f"{cls.__qualname__} cannot be sent: its fields cannot be decoded ({e})"
        ) from None
