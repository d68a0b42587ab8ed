"""Running one node until it is told to stop: SIGTERM or SIGINT leaves the cluster cleanly."""

from __future__ import annotations

import asyncio
import gc
import signal
import ssl
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..core import RabbleError
from ._node import Node, NodeConfig


async def serve(config: NodeConfig, start: Callable[[str, Any], Iterable[Any]]) -> None:
    """Start a node, print ``node NAME listening on HOST:PORT`` on stdout (for scripts
    that started it with port 0), and run until SIGTERM or SIGINT."""
    node = Node(config, start)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await node.start()
    except OSError as e:
        raise RabbleError(f"cannot listen on {config.host}:{config.port}: {e.strerror}") from None
    # What is alive now (imports, the processes) lives as long as the node: keep it out of
    # the collector's full passes, which otherwise stall the loop for tens of milliseconds.
    gc.collect()
    gc.freeze()
    print(f"node {node.name} listening on {node.addr}", flush=True)
    await stop.wait()
    await node.stop()


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
        asyncio.run(serve(config, start))
    else:  # pragma: no cover - depends on the optional extra
        uvloop.run(serve(config, start))
    sys.stdout.flush()
