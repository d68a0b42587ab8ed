"""Maelstrom's error body as a message, and the error codes its protocol defines.

A process answers a Maelstrom client with ``Error(code, text)`` as it would with any
reply; the adapter writes it as ``{"type": "error", "code": ..., "text": ...}``. In the
simulator it is an ordinary message, so the same process serves both. The codes are
those of Maelstrom's protocol documentation (``doc/protocol.md``, "Errors"); those below
20 are common to every workload, 20 and up belong to the key-value ones.
"""

from __future__ import annotations

import attrs

from ..core import message

TIMEOUT = 0
"""Indefinite: the request may or may not have happened."""
NODE_NOT_FOUND = 1
NOT_SUPPORTED = 10
"""Definite: the node does not know the request's type."""
TEMPORARILY_UNAVAILABLE = 11
"""Definite: the request did not happen (no leader known, say); a retry may succeed."""
MALFORMED_REQUEST = 12
CRASH = 13
"""Indefinite: the node failed while serving the request."""
ABORT = 14
KEY_DOES_NOT_EXIST = 20
KEY_ALREADY_EXISTS = 21
PRECONDITION_FAILED = 22
"""A compare-and-swap whose ``from`` did not match."""
TXN_CONFLICT = 30

DEFINITE = frozenset(
    {
        NOT_SUPPORTED,
        TEMPORARILY_UNAVAILABLE,
        MALFORMED_REQUEST,
        ABORT,
        KEY_DOES_NOT_EXIST,
        KEY_ALREADY_EXISTS,
        PRECONDITION_FAILED,
        TXN_CONFLICT,
    }
)
"""Codes that say the request certainly did not take effect."""


@message("maelstrom.error")
@attrs.frozen
class Error:
    """An error reply: ``code`` is one of Maelstrom's codes, ``text`` says what for."""

    code: int
    text: str = ""
