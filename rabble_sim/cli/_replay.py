"""``rabble-sim replay``: replay a schedule file and say whether its violation comes back."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from ..schedule import load, load_scenario, replay
from ._app import EXIT_OK, EXIT_VIOLATION, cli
from ._report import console, print_json, show_violation, violation_json


@cli.command(name="replay")
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def replay_command(path: Path, as_json: bool) -> None:
    """Replay a schedule FILE; exit 1 if a violation occurs, 0 if none does."""
    schedule = load(path)
    scenario = load_scenario(schedule.scenario)
    outcome = replay(schedule, scenario)
    violation = outcome.violation
    if as_json:
        data: dict[str, object] = {
            "ok": violation is None,
            "reproduced": outcome.reproduces(schedule),
            "steps": outcome.result.steps if outcome.result else 0,
            "seeds": 0,
            "trace_digest": outcome.result.trace.digest() if outcome.result else None,
            "divergences": list(outcome.divergences),
            "stopped": outcome.stopped,
        }
        if violation is not None:
            data["violation"] = violation_json(violation)
            data["step"] = violation.step
            data["schedule"] = str(path)
        print_json(data)
    else:
        for divergence in outcome.divergences:
            console.print(f"[yellow]diverged[/] {escape(divergence)}")
        if outcome.stopped:
            console.print(f"[yellow]stopped[/] {escape(outcome.stopped)}")
        if violation is not None:
            same = "reproduced" if outcome.reproduces(schedule) else "a different violation"
            show_violation(violation, where=f"({same})")
        elif schedule.violation is not None:
            console.print(
                f"[bold green]fixed[/] the violation of {escape(str(path))} no longer occurs"
            )
        else:
            console.print(f"[bold green]ok[/] {escape(str(path))} replays without a violation")
    sys.exit(EXIT_VIOLATION if violation is not None else EXIT_OK)
