"""Processes as Maelstrom nodes: newline-delimited JSON on stdin and stdout.

``MaelstromNode`` says what one node runs (its processes, the one that gets the clients'
requests, and how body types map to messages); ``run_node`` runs it on standard input and
output, as ``rabble-sim maelstrom MODULE:NAME`` does; ``client_pid`` is the pid a client
appears as. ``docs/maelstrom.md`` tells the whole story.
"""

from ._adapter import StartFailed as StartFailed
from ._errors import (
    ABORT as ABORT,
    CRASH as CRASH,
    DEFINITE as DEFINITE,
    KEY_ALREADY_EXISTS as KEY_ALREADY_EXISTS,
    KEY_DOES_NOT_EXIST as KEY_DOES_NOT_EXIST,
    MALFORMED_REQUEST as MALFORMED_REQUEST,
    NODE_NOT_FOUND as NODE_NOT_FOUND,
    NOT_SUPPORTED as NOT_SUPPORTED,
    PRECONDITION_FAILED as PRECONDITION_FAILED,
    TEMPORARILY_UNAVAILABLE as TEMPORARILY_UNAVAILABLE,
    TIMEOUT as TIMEOUT,
    TXN_CONFLICT as TXN_CONFLICT,
    Error as Error,
)
from ._node import CLIENTS as CLIENTS, MaelstromNode as MaelstromNode, client_pid as client_pid
from ._run import run_node as run_node

__all__ = [
    "ABORT",
    "CLIENTS",
    "CRASH",
    "DEFINITE",
    "KEY_ALREADY_EXISTS",
    "KEY_DOES_NOT_EXIST",
    "MALFORMED_REQUEST",
    "NODE_NOT_FOUND",
    "NOT_SUPPORTED",
    "PRECONDITION_FAILED",
    "TEMPORARILY_UNAVAILABLE",
    "TIMEOUT",
    "TXN_CONFLICT",
    "Error",
    "MaelstromNode",
    "StartFailed",
    "client_pid",
    "run_node",
]
