"""``rabble-sim run``: sweep seeds until a violation, save its schedule, report."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..schedule import Schedule, load_scenario
from ..search import SweepReport, sweep
from ..sim import RunResult, Scenario
from ._app import EXIT_OK, EXIT_VIOLATION, cli
from ._report import console, print_json, show_counts, show_violation, violation_json


@cli.command()
@click.argument("reference", metavar="MODULE:SCENARIO")
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=None,
    help="How many seeds to run [default: 100, or 1 with --seed].",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=None, help="The first seed [default: 0]."
)
@click.option(
    "--save-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to save a failing schedule [default: regressions/<scenario name>/].",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def run(
    reference: str, seeds: int | None, seed: int | None, save_dir: Path | None, as_json: bool
) -> None:
    """Run MODULE:SCENARIO under seed after seed until an invariant fails.

    A failing run is saved as a schedule file that `rabble-sim replay` reproduces.
    """
    scenario = load_scenario(reference)
    first = seed or 0
    count = seeds if seeds is not None else (1 if seed is not None else 100)
    started = time.perf_counter()
    report = _sweep_with_progress(
        scenario, reference, range(first, first + count), show=not as_json
    )
    seconds = time.perf_counter() - started
    schedule_path = None
    if report.failure is not None:
        directory = save_dir if save_dir is not None else Path("regressions") / scenario.name
        schedule_path = Schedule.from_run(report.failure, reference).save(directory)
    if as_json:
        print_json(_json(report, seconds, schedule_path))
    else:
        _show(reference, report, seconds, schedule_path)
    sys.exit(EXIT_OK if report.ok else EXIT_VIOLATION)


def _sweep_with_progress(
    scenario: Scenario, reference: str, seeds: range, *, show: bool
) -> SweepReport:
    if not (show and sys.stderr.isatty() and len(seeds) > 1):
        return sweep(scenario, seeds, digests=not show)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True, console=console.__class__(stderr=True)) as progress:
        task = progress.add_task(f"seeds of {escape(reference)}", total=len(seeds))

        def advance(result: RunResult) -> None:
            progress.advance(task)

        return sweep(scenario, seeds, on_run=advance)


def _json(report: SweepReport, seconds: float, schedule_path: Path | None) -> dict[str, object]:
    data: dict[str, object] = {
        "ok": report.ok,
        "seeds": report.seeds,
        "steps": report.steps,
        "events": dict(sorted(report.events.items())),
        "trace_digest": report.trace_digest,
        "seconds": round(seconds, 3),
        "steps_per_second": round(report.steps / seconds) if seconds > 0 else None,
    }
    if report.failure is not None and report.failure.violation is not None:
        data["violation"] = violation_json(report.failure.violation)
        data["step"] = report.failure.violation.step
        data["seed"] = report.failure.seed
        data["schedule"] = str(schedule_path)
    return data


def _show(reference: str, report: SweepReport, seconds: float, schedule_path: Path | None) -> None:
    failure = report.failure
    if failure is not None and failure.violation is not None:
        show_violation(failure.violation, where=f"with seed {failure.seed}")
        console.print(f"  schedule saved: [bold]{escape(str(schedule_path))}[/]")
        console.print(f"  replay it with: rabble-sim replay {escape(str(schedule_path))}")
    else:
        console.print(
            f"[bold green]ok[/] {escape(reference)}: no violation in {report.seeds:,} seeds"
        )
    rate = f"{report.steps / seconds:,.0f}" if seconds > 0 else "-"
    console.print(
        f"[dim]seeds {report.seeds:,} · steps {report.steps:,} · {rate} steps/s · "
        f"{show_counts(report.events) or 'no events'}[/]"
    )
