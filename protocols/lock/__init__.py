"""Lock: a lock server that grants leases one client at a time, and what ``ConnectionLost``
does and does not prove.

The server watches the holder. ``scenario`` is correct: the lock is free again only when
the holder releases it or its lease runs out, and a client's lease always runs out before
the server's. ``bug_regrants_on_connection_lost`` grants the lock to the next client as
soon as the holder's link is lost: when a partition cut the link, the holder is alive and
holds the lock too (``one_holder``). A crash of the holder's node, which also loses the
link, is harmless: the holder died with it.
"""

from .messages import Ack, Acquire, Grant, Held, Release
from .processes import LEASE, RESEND, LockClient, LockServer, holders, restored_n, restored_server
from .scenarios import (
    CLIENTS,
    FAULTS,
    SERVER,
    bug_regrants_on_connection_lost,
    every_client_done,
    one_holder,
    scenario,
)

__all__ = [
    "CLIENTS",
    "FAULTS",
    "LEASE",
    "RESEND",
    "SERVER",
    "Ack",
    "Acquire",
    "Grant",
    "Held",
    "LockClient",
    "LockServer",
    "Release",
    "bug_regrants_on_connection_lost",
    "every_client_done",
    "holders",
    "one_holder",
    "restored_n",
    "restored_server",
    "scenario",
]
