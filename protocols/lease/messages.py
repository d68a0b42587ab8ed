"""The messages of the lease protocol: a client's numbered request, and the server's two
answers to it."""

from __future__ import annotations

import attrs

from rabble_sim import message


@message("lease.acquire")
@attrs.frozen
class Acquire:
    """Request ``n`` of a client for the lease; the answer carries the same ``n``."""

    n: int


@message("lease.grant")
@attrs.frozen
class Grant:
    """The lease is the client's, from when the server sent this, for the server's lease
    time (as the server's clock measures it)."""

    n: int


@message("lease.busy")
@attrs.frozen
class Busy:
    """Another client holds the lease: try again later."""

    n: int
