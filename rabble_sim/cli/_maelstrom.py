"""``rabble-sim maelstrom MODULE:NAME``: a protocol's processes as one Maelstrom node."""

from __future__ import annotations

import logging
import os
import sys

import click

from ..core import UsageError
from ..maelstrom import MaelstromNode, run_node
from ..schedule import load_reference
from ._app import cli

EXAMPLE = "protocols.echo:maelstrom"


@cli.command(name="maelstrom")
@click.argument("reference", metavar="MODULE:NAME")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="What the node logs on stderr.",
)
def maelstrom_command(reference: str, log_level: str) -> None:
    """Run the MaelstromNode NAME of MODULE as one node under Maelstrom: its messages as
    JSON lines on stdin and stdout, its log on stderr, until stdin ends (see
    docs/maelstrom.md)."""
    module, _, name = reference.partition(":")
    if not module or not name:
        raise UsageError(f"{reference!r} is not MODULE:NAME (for example {EXAMPLE})")
    node: MaelstromNode = load_reference(
        reference,
        "Maelstrom node",
        lambda value: isinstance(value, MaelstromNode),
        example=EXAMPLE,
    )
    logging.basicConfig(
        level=log_level.upper(),
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # Standard output carries Maelstrom's envelopes and nothing else: the node writes
    # them to a copy of the descriptor, and descriptor 1 becomes stderr, so that a print()
    # in a process (or in a library it calls) lands in the log instead of the protocol.
    sys.stdout.flush()
    envelopes = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    try:
        run_node(node, sys.stdin.buffer, envelopes)
    finally:
        envelopes.close()
