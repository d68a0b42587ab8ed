"""A message in flight in the simulator: a ``Parcel``, encoded when it was sent.

The envelope as sent (its pids and cid are immutable), the message encoded at that moment
with the wire's codec, and the copy decoded from those bytes that its receiver will get
(``rabble_sim.codec.transit``, which the TCP executor uses too). A message that could not
cross a real network is refused where it is sent.
"""

from __future__ import annotations

from typing import Any

from ..codec import decoder_of, transit
from ..core import Envelope

Parcel = tuple[Envelope, bytes, Any]
"""A message in flight: the envelope as sent, its message encoded when it was sent, and
the receiver's copy, decoded from those bytes. Only the envelope's pids and cid may be
read: its ``msg`` is the sender's object, which the sender may have changed since. The
copy is handed out once, to the receiver: everyone else decodes the bytes."""


def pack(env: Envelope) -> Parcel:
    """``env`` ready to travel; a ``CodecError`` that says what to fix if it cannot."""
    body, copy = transit(env.msg)
    return env, body, copy


def again(parcel: Parcel) -> Parcel:
    """Another parcel of the same message (a duplicate), with a copy of its own."""
    env, body, _ = parcel
    return env, body, decoder_of(type(env.msg))(body)


def unpack(parcel: Parcel) -> Envelope:
    """The envelope of ``parcel`` with a fresh copy of the message as it was sent."""
    env, body, _ = parcel
    return Envelope(env.to, env.from_, decoder_of(type(env.msg))(body), env.cid)
