"""The executor's semantics, written once: what each request to a node's executor means.

``Executor`` is one node's executor; ``Host`` is what it needs of the simulator or of a
TCP node. Both hosts adapt it; neither writes a request's meaning again.
"""

from ._core import (
    CANCELLED as CANCELLED,
    RECEIVED as RECEIVED,
    SENT as SENT,
    STARTED as STARTED,
    BadOutput as BadOutput,
    BadRequest as BadRequest,
    BadStart as BadStart,
    Executor as Executor,
)
from ._host import (
    Host as Host,
    Reported as Reported,
    Unsaved as Unsaved,
    UserCodeFailed as UserCodeFailed,
)

__all__ = [
    "CANCELLED",
    "RECEIVED",
    "SENT",
    "STARTED",
    "BadOutput",
    "BadRequest",
    "BadStart",
    "Executor",
    "Host",
    "Reported",
    "Unsaved",
    "UserCodeFailed",
]
