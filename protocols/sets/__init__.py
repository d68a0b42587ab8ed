"""Sets: a set server whose clients take generated inputs (adds and reads).

The smallest protocol whose bug needs particular inputs: ``bug_add_twice`` loses an element
that is added twice (its server handles an add as a flip), which only a run that adds the
same element twice, then reads, can show. ``scenario`` is correct.
"""

from .messages import Add, Added, AddRequest, Contents, Read, ReadRequest
from .processes import SetClient, SetServer
from .scenarios import (
    CLIENTS,
    SERVER,
    bug_add_twice,
    make_operation,
    reads_see_every_acknowledged_add,
    scenario,
)

__all__ = [
    "CLIENTS",
    "SERVER",
    "Add",
    "AddRequest",
    "Added",
    "Contents",
    "Read",
    "ReadRequest",
    "SetClient",
    "SetServer",
    "bug_add_twice",
    "make_operation",
    "reads_see_every_acknowledged_add",
    "scenario",
]
