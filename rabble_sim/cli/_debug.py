"""``rabble-sim debug``: step through a schedule file, full-screen or one line at a time."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click

from ..debug import DebugSession, LineDebugger
from ._app import cli
from ._options import step_timeout_option


@cli.command(name="debug")
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@click.option(
    "--plain",
    is_flag=True,
    help="Line mode: read commands from stdin (next, back, goto N, state PID, diff PID, "
    "pending, break ..., continue, enabled, take N, save PATH, quit) and print each step. "
    "The default without a terminal.",
)
@click.option("--at", "start", type=click.IntRange(min=0), default=0, help="Start at this step.")
@step_timeout_option
def debug_command(path: Path, plain: bool, start: int, step_timeout: float | None) -> None:
    """Step through a schedule FILE: forward and back, breakpoints, every process's
    state and what changed at each step, the messages in flight; and branch off it: take
    another enabled event at any step, and save the branch as a schedule."""
    session = DebugSession.open(path, step_timeout=step_timeout)
    session.goto(start)
    if plain or not (sys.stdin.isatty() and sys.stdout.isatty()):
        LineDebugger(session, sys.stdout).run(_commands())
        return
    from ..debug._tui import run_tui  # noqa: PLC0415  (Textual only for the full screen)

    run_tui(session, path.name)


def _commands() -> Iterator[str]:
    """Lines of stdin; with a person at the keyboard, each after a prompt."""
    if not sys.stdin.isatty():
        yield from sys.stdin
        return
    while True:
        try:
            yield input("(rabble) ")
        except EOFError:
            return
