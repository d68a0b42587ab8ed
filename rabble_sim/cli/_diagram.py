"""``rabble-sim diagram``: a schedule file drawn as a space-time diagram, in one HTML file."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from ..core import UsageError
from ..debug import DebugSession, Diagram, diagram_page
from ._app import cli
from ._options import step_timeout_option
from ._report import console


@cli.command(name="diagram")
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file to write.",
)
@click.option("--title", default="", help="The page's heading [default: the scenario's name].")
@step_timeout_option
def diagram_command(path: Path, output: Path, title: str, step_timeout: float | None) -> None:
    """Draw the schedule FILE as a space-time diagram: one HTML file that needs no network.

    A lane per process, an arrow per delivered message, marks for drops, duplicates,
    timer firings, crashes, restarts and partitions, and the failing step. Exit 0 once
    the file is written, whether or not the schedule fails a check: drawing is not
    checking (rabble-sim replay checks).
    """
    session = DebugSession.open(path, step_timeout=step_timeout)
    diagram = Diagram.from_session(session, title=title)
    try:
        output.write_text(diagram_page(diagram), encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write {output}: {e.strerror or e}") from None
    console.print(
        f"wrote {escape(str(output))}: {len(diagram.lanes)} lanes, "
        f"{len(diagram.arrows)} arrows, {diagram.last} steps"
    )
