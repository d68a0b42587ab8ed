"""A message as it crosses a network: encoded when sent, decoded for its receiver.

A process may keep a reference to what it sent and change it later (a list inside a
message, say); over a network that change never reaches the receiver, because the message
was encoded when it was sent. Both hosts copy every message they put in flight this way,
the simulator and a TCP node alike (for a receiver on the same node too), so a receiver
gets the same message in both: what was sent, typed by its class's annotations. A message
that could not cross a network (a class without ``@message``, a field the codec cannot
encode or that does not hold what its annotation says) is a ``CodecError`` that names the
class and the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from ..core import REGISTRY, CodecError

_encode = msgspec.msgpack.Encoder().encode
_decoders: dict[type, Callable[[bytes], Any]] = {}


def transit(msg: Any) -> tuple[bytes, Any]:
    """``msg`` encoded, and the copy its receiver gets; a ``CodecError`` that says what to
    fix if it cannot travel."""
    cls = type(msg)
    decode = _decoders.get(cls) or decoder_of(cls)
    try:
        body = _encode(msg)
    except (TypeError, OverflowError, RecursionError) as e:
        raise CodecError(
            f"{cls.__qualname__} cannot be sent: {e or type(e).__name__} (a message may "
            "hold numbers, strings, bytes, None, pids, cids, messages, and tuples, lists, "
            "sets and dicts of them)"
        ) from None
    try:
        return body, decode(body)
    except (msgspec.DecodeError, RecursionError) as e:
        raise CodecError(
            f"{cls.__qualname__} cannot be sent as it is declared: {e} (the receiving node "
            "would refuse it the same way; make the field's annotation say what it holds)"
        ) from None


def decoder_of(cls: type) -> Callable[[bytes], Any]:
    """The function that decodes a message of class ``cls`` from its bytes; a
    ``CodecError`` if ``cls`` is not a message type that can travel."""
    decoder = _decoders.get(cls)
    if decoder is None:
        if REGISTRY.tag_of(cls) is None:
            raise CodecError(
                f"{cls.__qualname__} is not a registered message type: decorate it with "
                "@message (from rabble_sim import message), above @attrs.frozen"
            )
        try:
            decoder = _decoders[cls] = msgspec.msgpack.Decoder(cls).decode
        except (TypeError, NameError) as e:
            raise CodecError(
                f"{cls.__qualname__} cannot be sent: its fields cannot be decoded ({e})"
            ) from None
    return decoder
