"""Running one node until it is told to stop: SIGTERM or SIGINT leaves the cluster cleanly,
even while a process's code is stuck."""

from __future__ import annotations

import asyncio
import gc
import signal
import ssl
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import Any

from ..core import RabbleError
from ._config import NodeConfig
from ._guard import Interrupted
from ._node import Node

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def serve(config: NodeConfig, start: Callable[[str, Any], Iterable[Any]]) -> None:
    """Start a node, print ``node NAME listening on HOST:PORT`` on stdout (for scripts
    that started it with port 0), and run until SIGTERM or SIGINT.

    Raises a ``RabbleError`` if the node cannot start, or cannot go on (its name is taken
    by a live member, its data directory fails).
    """
    node = Node(config, start)
    stop = asyncio.Event()
    _on_stop_signals(node, stop)
    await node.start()
    # What is alive now (imports, the processes) lives as long as the node: keep it out of
    # the collector's full passes, which otherwise stall the loop for tens of milliseconds.
    gc.collect()
    gc.freeze()
    print(f"node {node.name} listening on {node.addr}", flush=True)
    fatal = asyncio.create_task(node.wait_fatal())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait((fatal, stopped), return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    await node.stop()
    if fatal.done():
        raise RabbleError(f"node {node.name}: {fatal.result()}")
    fatal.cancel()


def _on_stop_signals(node: Node, stop: asyncio.Event) -> None:
    """Make SIGTERM and SIGINT stop the node: set ``stop`` on the loop and, if they find a
    process's code running (stuck, perhaps: the loop would never get to ``stop``), raise
    ``Interrupted`` in it.

    A Python-level handler rather than ``loop.add_signal_handler``: the loop's handler runs
    on the loop, which stuck code never gives back; this one runs in the main thread between
    two bytecodes of whatever it is doing, and interrupts a blocking call.
    """
    loop = asyncio.get_running_loop()

    def handler(signum: int, _frame: FrameType | None) -> None:
        if loop.is_closed():
            return  # the node has stopped; the process is on its way out
        loop.call_soon_threadsafe(stop.set)
        executor = node.executor
        if executor is not None and executor.guard.running is not None:
            raise Interrupted(signal.Signals(signum).name)

    for sig in STOP_SIGNALS:
        signal.signal(sig, handler)


def tls_contexts(
    cert: Path | None, key: Path | None, ca: Path | None
) -> tuple[ssl.SSLContext | None, ssl.SSLContext | None]:
    """The server and client TLS contexts of a node, or (None, None) without a cert.

    Links check the peer's certificate against ``ca`` (default: the node's own cert, for a
    cluster sharing one self-signed certificate); nodes are known by address, not host
    name, so host names are not checked. The HMAC handshake runs inside TLS as well.
    """
    if cert is None:
        if key is not None or ca is not None:
            raise RabbleError("--tls-key and --tls-ca need --tls-cert")
        return None, None
    try:
        server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as e:
        raise RabbleError(f"cannot load the TLS certificate or key: {e}") from None
    return server, client_tls(ca or cert)


def client_tls(ca: Path) -> ssl.SSLContext:
    """A context that trusts the certificates in ``ca`` (PEM), whatever host name they
    carry: nodes are known by address."""
    try:
        client = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    except (OSError, ssl.SSLError) as e:
        raise RabbleError(f"cannot load the TLS certificates in {ca}: {e}") from None
    client.check_hostname = False
    return client


def run(config: NodeConfig, start: Callable[[str, Any], Iterable[Any]]) -> None:
    """``serve`` in a fresh event loop (with uvloop if it is installed)."""
    try:
        import uvloop  # type: ignore[import-not-found]  # noqa: PLC0415  (optional)
    except ImportError:
        uvloop = None
    # Outside the except block: every exception the node logs would otherwise say that
    # it happened "during handling of" the ImportError.
    if uvloop is None:
        asyncio.run(serve(config, start))
    else:  # pragma: no cover - depends on the optional extra
        uvloop.run(serve(config, start))
    sys.stdout.flush()
