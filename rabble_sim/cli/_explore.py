"""``rabble-sim explore``: every state within a bound, and a shortest counterexample saved."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import click
from rich.markup import escape

from ..core import UsageError
from ..schedule import Schedule, load_scenario
from ..search import DEFAULT_MAX_STATES, ExploreReport, Progress, explore
from ..sim import MAX_INPUT_VARIANTS, Scenario
from ._app import EXIT_OK, EXIT_VIOLATION, cli
from ._options import expect_option, json_option, save_dir_option, step_timeout_option
from ._report import console, print_json, show_violation, violation_json


@cli.command(name="explore")
@click.argument("reference", metavar="MODULE:SCENARIO")
@click.option(
    "--depth",
    type=click.IntRange(min=0),
    default=None,
    help="The most events on a path from the start [default: the scenario's max_steps].",
)
@click.option(
    "--max-states",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_STATES,
    show_default=True,
    help="Stop after this many distinct states (the search is then not exhausted).",
)
@click.option(
    "--order",
    type=click.Choice(["bfs", "dfs"]),
    default="bfs",
    show_default=True,
    help="Breadth-first finds a shortest counterexample; depth-first goes deep sooner.",
)
@click.option(
    "--symmetry/--no-symmetry",
    default=None,
    help="Count states that differ only by a relabelling of the scenario's symmetric nodes "
    "once [default: on when the scenario declares symmetry].",
)
@click.option(
    "--liveness",
    is_flag=True,
    help="Also run the liveness phase (heal, restart, deliver fairly) from every distinct "
    "state: slower, and decides liveness as a run would if the faults stopped there.",
)
@step_timeout_option
@save_dir_option
@expect_option
@json_option
def explore_command(
    reference: str, depth: int | None, max_states: int, order: str, symmetry: bool | None,
    liveness: bool, step_timeout: float | None, save_dir: Path | None, expect: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Visit every state of MODULE:SCENARIO reachable within --depth events.

    Every delivery, timer, input and fault the scenario allows is tried from every
    distinct state, with the checks on each: exit 0 when none fails within the bound,
    1 on a violation, whose path (a shortest one, breadth-first) is saved as a schedule
    file that replay, debug and shrink take.
    """
    scenario = load_scenario(reference)
    groups = _symmetry(scenario, symmetry)
    with _progress_line(show=not as_json) as progress:
        report = explore(
            scenario, depth=depth, max_states=max_states, order=order, symmetry=groups,
            liveness=liveness, step_timeout=step_timeout, progress=progress,
        )  # fmt: skip
    schedule = _save(report, scenario, reference, save_dir, expect)
    if as_json:
        print_json(_json(report, order, bool(groups), schedule, expect))
    else:
        bound = depth if depth is not None else scenario.max_steps
        _show(report, reference, bound, schedule, order, max_states)
        _show_figures(report, order, bool(groups), max_states)
        if expect and report.ok:
            console.print("[bold red]the known bug was not found[/]: --expect violation")
    sys.exit(EXIT_OK if report.ok != bool(expect) else EXIT_VIOLATION)


def _symmetry(scenario: Scenario, wanted: bool | None) -> tuple[tuple[str, ...], ...]:
    if wanted and not scenario.symmetry:
        raise UsageError(
            f"scenario {scenario.name!r} declares no symmetry: --symmetry needs "
            "Scenario(symmetry=[[node, ...], ...]), the groups of interchangeable nodes"
        )
    return scenario.symmetry if wanted is not False else ()


@contextlib.contextmanager
def _progress_line(*, show: bool) -> Iterator[Callable[[Progress], None] | None]:
    """A line on stderr that says how far the search is, when a person is watching."""
    if not (show and sys.stderr.isatty()):
        yield None
        return
    with console.__class__(stderr=True).status("exploring") as status:

        def update(progress: Progress) -> None:
            rate = progress.states / progress.seconds if progress.seconds > 0 else 0
            status.update(
                f"exploring: {progress.states:,} states, {progress.unique:,} distinct, "
                f"depth {progress.depth}, {rate:,.0f} states/s"
            )

        yield update


def _save(
    report: ExploreReport, scenario: Scenario, reference: str, save_dir: Path | None,
    expect: str | None,
) -> Path | None:  # fmt: skip
    """The counterexample saved as a schedule file (under schedules/ with --expect)."""
    if report.failure is None:
        return None
    if report.failure.violation is None:
        raise UsageError(
            f"exploration found {report.violation}, but running its path again did not: "
            f"{scenario.name!r} is not deterministic (rabble-sim determinism {reference} "
            "says where)"
        )
    folder = "schedules" if expect else "regressions"
    directory = save_dir if save_dir is not None else Path(folder) / scenario.name
    schedule = attrs.evolve(Schedule.from_run(report.failure, reference), expect=expect)
    return schedule.save(directory)


def _json(
    report: ExploreReport, order: str, symmetry: bool, schedule: Path | None,
    expect: str | None,
) -> dict[str, object]:  # fmt: skip
    data: dict[str, object] = {
        **report.counts(),
        "seconds": round(report.seconds, 3),
        "states_per_second": _rate(report.states, report.seconds),
        "unique_per_second": _rate(report.unique, report.seconds),
        "order": order,
        "symmetry": symmetry,
    }
    if report.violation is not None:
        data["violation"] = violation_json(report.violation)
        data["step"] = report.violation.step
        data["schedule"] = str(schedule)
    if expect:
        data["expect"] = expect
    return data


def _rate(count: int, seconds: float) -> int | None:
    return round(count / seconds) if seconds > 0 else None


def _show(
    report: ExploreReport, reference: str, bound: int, schedule: Path | None, order: str,
    max_states: int,
) -> None:  # fmt: skip
    if report.violation is not None and report.failure is not None:
        show_violation(report.violation, where="found by exploration")
        failure = report.failure
        prefix = failure.steps if failure.liveness_from is None else failure.liveness_from - 1
        shortest = "; breadth-first: no shorter path leads to a violation" * (order == "bfs")
        if failure.liveness_from is None:
            console.print(f"  {prefix} step{'s' * (prefix != 1)}{shortest}")
        else:
            console.print(
                f"  the faults stop after {prefix} step{'s' * (prefix != 1)}"
                f"{shortest.replace('path', 'prefix')}; then {failure.steps - prefix} steps "
                "of the liveness phase"
            )
        console.print(f"  schedule saved: [bold]{escape(str(schedule))}[/]")
        console.print(f"  replay it with: rabble-sim replay {escape(str(schedule))}")
        console.print(f"  debug it with: rabble-sim debug {escape(str(schedule))}")
        return
    if report.complete:
        console.print(
            f"[bold green]ok[/] {escape(reference)}: no violation in the whole reachable "
            f"space ({report.unique:,} distinct states, {report.depth} steps deep at most)"
        )
    elif report.exhausted:
        console.print(
            f"[bold green]ok[/] {escape(reference)}: no violation within {bound} steps "
            f"({report.unique:,} distinct states; {report.frontier:,} at the bound had events "
            "left: a larger --depth goes further)"
        )
    else:
        console.print(
            f"[bold yellow]no violation found[/] in {report.unique:,} distinct states, but "
            f"not every state within {bound} steps was visited:"
        )
        if report.unique >= max_states:
            console.print(
                f"  --max-states cut the search at depth {report.depth} (raise --max-states "
                "or lower --depth)"
            )
        if report.inputs_cut:
            console.print(
                f"  in {report.inputs_cut:,} state{'s' * (report.inputs_cut != 1)} an input "
                f"could be more than the {MAX_INPUT_VARIANTS} that exploration tries of each "
                "(draw fewer values in make, or sample them with rabble-sim run)"
            )
    if report.drew:
        console.print(
            "  random numbers and message delays were taken as 0, the simplest: exploration "
            "does not branch on them (rabble-sim run samples them)"
        )
    if report.read_clock:
        console.print(
            "  a process read its clock: no absolute time is part of a state, so this holds "
            "only if it compares readings with each other, never with a fixed time"
        )


def _show_figures(report: ExploreReport, order: str, symmetry: bool, max_states: int) -> None:
    rate = _rate(report.states, report.seconds)
    console.print(
        f"[dim]explore {order}{' with symmetry' if symmetry else ''} · states "
        f"{report.states:,} · distinct {report.unique:,} of at most {max_states:,} · depth "
        f"{report.depth} · {report.seconds:.2f} s · {rate or 0:,} states/s[/]"
    )
