"""How a node runs: its name, secret, addresses, data directory, timing and limits."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ..core import Pid, Routes
from ._framing import MAX_FRAME

MAX_BACKOFF = 5.0
"""The longest wait, in seconds, between two tries to link to an address."""
BACKLOG = 1024
"""Connections the kernel queues for the node to accept: a flood of connections opened
again as fast as the node closes them must not fill the queue, or a member's or an
operator's connection waits for the kernel's one-second retry."""


@attrs.frozen
class NodeConfig:
    """How a node runs. ``port=0`` picks a free port (see ``Node.addr``)."""

    name: str
    secret: bytes = attrs.field(repr=False)
    host: str = "127.0.0.1"
    port: int = 0
    advertise: str = ""
    """The ``host:port`` other nodes dial (default: where it listens); needed when it
    listens on every interface (``0.0.0.0``)."""
    join: tuple[str, ...] = ()
    """Contact nodes' ``host:port``: any member of the cluster to join."""
    data_dir: Path | None = None
    routes: Routes = attrs.field(factory=Routes)
    factories: Mapping[str, Callable[[Pid, Any], Any]] = attrs.field(factory=dict)
    services: Mapping[str, Callable[..., Any]] = attrs.field(factory=dict)
    heartbeat: float = 0.25
    """Seconds between heartbeats on each link."""
    failure_timeout: float = 1.5
    """Seconds of silence after which a peer counts as failed."""
    max_frame: int = MAX_FRAME
    workers: int = 4
    server_tls: ssl.SSLContext | None = None
    client_tls: ssl.SSLContext | None = None
    handshake_timeout: float = 5.0
    """Seconds a connection has to pass the handshake (and, with TLS, as long again for
    TLS's own)."""
    stuck_after: float = 10.0
    """Seconds after which protocol code that has not returned is logged as stuck."""
