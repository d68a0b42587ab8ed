"""The messages of the lock protocol: a client's numbered request, the grant that answers
it, the client's acknowledgement that starts the server's lease, the release that ends
it, and the holder the server keeps on disk."""

from __future__ import annotations

import attrs

from rabble_sim import Pid, message


@message("lock.acquire")
@attrs.frozen
class Acquire:
    """Request ``n`` of a client for the lock. A client numbers its requests upward across
    its lives, and a request above the one it holds gives that one up."""

    n: int


@message("lock.grant")
@attrs.frozen
class Grant:
    """The lock is the client's, for its request ``n``. Sent again until acknowledged."""

    n: int


@message("lock.ack")
@attrs.frozen
class Ack:
    """The client holds the lock for request ``n``: sent after its own lease started, so
    the server's lease, which starts when it reads this, ends after the client's."""

    n: int


@message("lock.release")
@attrs.frozen
class Release:
    """The client does not hold the lock for request ``n`` (any more)."""

    n: int


@message("lock.held")
@attrs.frozen
class Held:
    """What the server persists: the client that holds the lock, for its request ``n``,
    or no one (``holder`` None)."""

    holder: Pid | None
    n: int = 0
