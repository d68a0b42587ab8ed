"""``rabble-sim replay`` and ``rabble-sim shrink``: a schedule file against today's code."""

from __future__ import annotations

import sys
from pathlib import Path

import attrs
import click
from rich.markup import escape

from ..core import UsageError
from ..schedule import (
    DIVERGENCES_SHOWN,
    ReplayResult,
    Schedule,
    check_against,
    load,
    load_scenario,
    replay,
    shrink,
)
from ..sim import Scenario
from ._app import EXIT_OK, EXIT_VIOLATION, cli
from ._options import json_option, step_timeout_option
from ._report import console, print_json, show_violation, violation_json


def open_schedule(path: Path) -> tuple[Schedule, Scenario]:
    """The schedule at ``path`` and its scenario, checked against each other."""
    schedule = load(path)
    scenario = load_scenario(schedule.scenario)
    check_against(schedule, scenario, str(path))
    return schedule, scenario


@cli.command(name="replay")
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Exit 1 on any divergence from the file.")
@click.option(
    "--record",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="OUT",
    help="Also write today's run of the schedule to OUT: its events as they happened, "
    "and today's violation, if any (for a schedule that no longer fits after a change "
    "made on purpose).",
)
@step_timeout_option
@json_option
def replay_command(
    path: Path, strict: bool, record: Path | None, step_timeout: float | None, as_json: bool
) -> None:
    """Replay a schedule FILE; exit 1 if a violation occurs, 0 if none does.

    Where today's code parts from the file, replay says so and matches events by content
    (a message renumbered by a change is still found). A schedule that no longer fits the
    code (an event cannot happen at all, or most events diverge) proves nothing: replay
    exits 1 and says so, rather than call the bug fixed.
    """
    schedule, scenario = open_schedule(path)
    outcome = replay(schedule, scenario, step_timeout=step_timeout)
    if record is not None:
        _record(schedule, outcome, record)
    violation = outcome.violation
    failed = violation is not None or not outcome.fits or (strict and bool(outcome.divergences))
    if as_json:
        data: dict[str, object] = {
            "ok": not failed,
            "reproduced": outcome.reproduces(schedule),
            "fits": outcome.fits,
            "steps": outcome.result.steps,
            "seeds": 0,
            "trace_digest": outcome.result.trace.digest(),
            "divergences": [str(d) for d in outcome.divergences],
        }
        if violation is not None:
            data["violation"] = violation_json(violation)
            data["step"] = violation.step
            data["schedule"] = str(path)
        print_json(data)
    else:
        _show(path, schedule, outcome, strict)
    sys.exit(EXIT_VIOLATION if failed else EXIT_OK)


def _record(schedule: Schedule, outcome: ReplayResult, out: Path) -> None:
    """Write today's run of ``schedule`` to ``out``: what replaying it did."""
    expect = schedule.expect
    if expect == "violation" and not outcome.reproduces(schedule):
        raise UsageError(
            "the schedule is a known-bug demonstration and its violation no longer occurs: "
            "there is no demonstration to record (find the bug again with rabble-sim run)"
        )
    today = attrs.evolve(Schedule.from_run(outcome.result, schedule.scenario), expect=expect)
    try:
        out.write_text(today.dumps(), encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write {out}: {e.strerror or e}") from None
    console.file = sys.stderr
    console.print(f"recorded today's run of the schedule ({len(today.events)} events) in {out}")
    console.file = sys.stdout


def _show(path: Path, schedule: Schedule, outcome: ReplayResult, strict: bool) -> None:
    for divergence in outcome.divergences[:DIVERGENCES_SHOWN]:
        console.print(f"[yellow]diverged[/] at {escape(str(divergence))}")
    hidden = len(outcome.divergences) - DIVERGENCES_SHOWN
    if hidden > 0:
        console.print(f"[yellow]diverged[/] at {hidden} more steps (--json lists them all)")
    violation = outcome.violation
    if violation is not None:
        same = "reproduced" if outcome.reproduces(schedule) else "a different violation"
        show_violation(violation, where=f"({same})")
    elif not outcome.fits:
        console.print(f"[bold red]not fixed[/]: {escape(outcome.misfit())}")
    elif schedule.violation is not None:
        console.print(
            f"[bold green]fixed[/]: the violation of {escape(str(path))} no longer occurs"
        )
    else:
        console.print(f"[bold green]ok[/] {escape(str(path))} replays without a violation")
    if strict and outcome.divergences:
        console.print(f"[red]--strict[/]: {len(outcome.divergences)} divergence(s)")


@cli.command(name="shrink")
@click.argument("path", metavar="FILE", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the shrunk schedule [default: print it].",
)
@click.option(
    "--attempts",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="The most replays to spend.",
)
@step_timeout_option
def shrink_command(
    path: Path, output: Path | None, attempts: int, step_timeout: float | None
) -> None:
    """Shrink the failing schedule FILE further, keeping its violation."""
    schedule, scenario = open_schedule(path)
    shrunk = shrink(schedule, scenario, max_attempts=attempts, step_timeout=step_timeout)
    if shrunk.reproduced is None:
        console.file = sys.stderr
        console.print(f"{escape(str(path))}: not shrunk: {escape(shrunk.note or 'not tried')}")
        sys.exit(EXIT_OK)
    if not shrunk.reproduced:
        console.file = sys.stderr
        console.print(f"{escape(str(path))}: its violation does not reproduce; nothing to shrink")
        sys.exit(EXIT_VIOLATION)
    text = shrunk.schedule.dumps()
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot write {output}: {e.strerror or e}") from None
    console.file = sys.stderr if output is None else sys.stdout
    console.print(
        f"shrunk {escape(str(path))} from {shrunk.original_steps} to "
        f"{len(shrunk.schedule.events)} events in {shrunk.attempts} replays"
        + (f": {escape(str(output))}" if output else "")
    )
    sys.exit(EXIT_OK)
