"""Encoding: the typed msgspec codec for the wire, and plain data for files and display."""

from ._codec import (
    Codec as Codec,
    Format as Format,
    message_from_json as message_from_json,
    message_json as message_json,
)
from ._durable import (
    Corrupted as Corrupted,
    decode_durable as decode_durable,
    encode_durable as encode_durable,
    restored as restored,
)
from ._plain import (
    Plain as Plain,
    as_recorded as as_recorded,
    attribute_names as attribute_names,
    canonical_json as canonical_json,
    to_plain as to_plain,
)
from ._transit import decoder_of as decoder_of, transit as transit

__all__ = [
    "Codec",
    "Corrupted",
    "Format",
    "Plain",
    "as_recorded",
    "attribute_names",
    "canonical_json",
    "decode_durable",
    "decoder_of",
    "encode_durable",
    "message_from_json",
    "message_json",
    "restored",
    "to_plain",
    "transit",
]
