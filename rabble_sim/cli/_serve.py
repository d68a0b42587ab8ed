"""``rabble-sim serve`` and ``rabble-sim status``: a node of a real cluster, and its view."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path

import click
from rich.markup import escape

from ..core import UsageError
from ..net import (
    NodeConfig,
    client_tls,
    fetch_status,
    load_secret,
    parse_addr,
    run_node,
    tls_contexts,
)
from ..schedule import load_scenario
from ._app import cli
from ._report import console

secret_option = click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Read the cluster secret from this file [default: $RABBLE_SIM_SECRET].",
)


def _secret(path: Path | None) -> bytes:
    return load_secret(os.environ.get("RABBLE_SIM_SECRET"), str(path) if path else None)


@cli.command(name="serve")
@click.argument("reference", metavar="MODULE:SCENARIO")
@click.option("--node", "name", required=True, help="This node's name: one of the scenario's.")
@click.option(
    "--listen",
    required=True,
    metavar="HOST:PORT",
    help="Where to accept links (port 0: any free port).",
)
@click.option(
    "--advertise",
    default=None,
    metavar="HOST:PORT",
    help="The address other nodes dial [default: the --listen address].",
)
@click.option(
    "--join",
    multiple=True,
    metavar="HOST:PORT",
    help="A node of the cluster to join through (repeatable).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where durable state lives; a restart recovers from it.",
)
@secret_option
@click.option(
    "--tls-cert",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Encrypt links with TLS: this node's certificate (PEM).",
)
@click.option(
    "--tls-key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The certificate's private key (PEM) [default: in the cert file].",
)
@click.option(
    "--tls-ca",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Certificates to trust for peers [default: the node's own].",
)
@click.option(
    "--heartbeat",
    type=click.FloatRange(min=0.01),
    default=0.25,
    show_default=True,
    help="Seconds between heartbeats.",
)
@click.option(
    "--failure-timeout",
    type=click.FloatRange(min=0.05),
    default=1.5,
    show_default=True,
    help="Seconds of silence before a peer counts as failed.",
)
@click.option(
    "--handshake-timeout",
    type=click.FloatRange(min=0.05),
    default=5.0,
    show_default=True,
    help="Seconds a connection has to prove the cluster secret before it is closed.",
)
@click.option(
    "--stuck-after",
    type=click.FloatRange(min=0.05),
    default=10.0,
    show_default=True,
    help="Log a handle (or init) that has not returned after this many seconds.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
def serve_command(
    reference: str,
    name: str,
    listen: str,
    advertise: str | None,
    join: tuple[str, ...],
    data_dir: Path | None,
    secret_file: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_ca: Path | None,
    heartbeat: float,
    failure_timeout: float,
    handshake_timeout: float,
    stuck_after: float,
    log_level: str,
) -> None:
    """Run node NAME of a scenario over TCP until SIGTERM: its processes, built by the
    scenario's start(), talk to the other nodes that share the cluster secret."""
    scenario = load_scenario(reference)
    if name not in scenario.nodes:
        raise UsageError(
            f"{name!r} is not a node of {reference} (its nodes: {', '.join(scenario.nodes)})"
        )
    host, port = parse_addr(listen, any_port=True)
    if advertise:
        parse_addr(advertise)
    elif host in ("0.0.0.0", "::", ""):
        raise UsageError(
            f"--listen {listen} listens on every interface: say with --advertise HOST:PORT "
            "which address the other nodes should dial"
        )
    for contact in join:
        parse_addr(contact)
    secret = _secret(secret_file)
    server_tls, client_tls = tls_contexts(tls_cert, tls_key, tls_ca)
    logging.basicConfig(
        level=log_level.upper(),
        format=f"%(asctime)s %(levelname)s [{name}] %(message)s",
    )
    config = NodeConfig(
        name,
        secret,
        host=host,
        port=port,
        advertise=advertise or "",
        join=join,
        data_dir=data_dir,
        routes=scenario.routes,
        factories=scenario.factories,
        services=scenario.services,
        heartbeat=heartbeat,
        failure_timeout=failure_timeout,
        handshake_timeout=handshake_timeout,
        stuck_after=stuck_after,
        server_tls=server_tls,
        client_tls=client_tls,
    )
    run_node(config, scenario.start)


@cli.command(name="status")
@click.argument("addr", metavar="HOST:PORT")
@secret_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
@click.option(
    "--tls-ca",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Speak TLS, trusting these certificates (PEM): for nodes run with --tls-cert.",
)
def status_command(
    addr: str, secret_file: Path | None, as_json: bool, timeout: float, tls_ca: Path | None
) -> None:
    """Ask the node at HOST:PORT for its view: members, processes and their state."""
    secret = _secret(secret_file)
    tls = client_tls(tls_ca) if tls_ca else None
    reply = asyncio.run(fetch_status(addr, secret, timeout=timeout, tls=tls))
    if as_json:
        data = {
            "node": reply.node,
            "members": reply.members,
            "links": reply.links,
            "processes": reply.processes,
            "dead_letters": reply.dead_letters,
            "metrics": reply.metrics,
            "failed": reply.failed,
            "exceptions": reply.exceptions,
            "refused_connections": reply.refused,
        }
        print(json.dumps(data, sort_keys=True))
        return
    console.print(f"[bold]node {reply.node}[/] · members: {', '.join(reply.members)}")
    console.print(f"linked to: {', '.join(reply.links) or 'none'}")
    console.print(
        f"dead letters: {reply.dead_letters:,} · exceptions in processes: "
        f"{reply.exceptions:,} · refused connections: {reply.refused:,}"
    )
    for pid, why in reply.failed.items():
        console.print(f"[bold red]failed[/] {escape(pid)}: {escape(why)}", highlight=False)
    for pid, state in reply.processes.items():
        counts = reply.metrics.get(pid, {})
        seen = ", ".join(f"{k} {v:,}" for k, v in counts.items())
        console.print(f"[bold]{pid}[/] ({seen})")
        console.print(json.dumps(state, indent=2, sort_keys=True), markup=False, highlight=False)
