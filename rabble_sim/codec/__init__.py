"""Encoding: the typed msgspec codec for the wire, and plain data for files and display."""

from ._codec import Codec as Codec
from ._codec import Format as Format
from ._plain import Plain as Plain
from ._plain import canonical_json as canonical_json
from ._plain import to_plain as to_plain

__all__ = ["Codec", "Format", "Plain", "canonical_json", "to_plain"]
