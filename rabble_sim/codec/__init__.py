"""Encoding: the typed msgspec codec for the wire, and plain data for files and display."""

from ._codec import Codec as Codec, Format as Format
from ._durable import (
    decode_durable as decode_durable,
    encode_durable as encode_durable,
    restored as restored,
)
from ._plain import Plain as Plain, canonical_json as canonical_json, to_plain as to_plain

__all__ = [
    "Codec",
    "Format",
    "Plain",
    "canonical_json",
    "decode_durable",
    "encode_durable",
    "restored",
    "to_plain",
]
