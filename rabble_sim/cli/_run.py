"""``rabble-sim run`` and ``rabble-sim check``: search for a violation, shrink it, save it."""

from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import attrs
import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..schedule import Schedule, load_scenario, shrink
from ..search import SEARCHES, SweepReport, default_workers, sweep
from ..search._saving import SHRINK_SECONDS
from ..sim import RunResult, Scenario, Violation
from ._app import EXIT_OK, EXIT_VIOLATION, cli
from ._options import (
    expect_option,
    json_option,
    no_shrink_option,
    save_dir_option,
    step_timeout_option,
)
from ._report import console, print_json, show_counts, show_violation, violation_json

CHECK_SHRINK_SECONDS = SHRINK_SECONDS
"""How long ``check`` shrinks a failure by default: a search that found one in seconds
should not spend minutes shortening it (``--shrink-seconds 0`` for no limit)."""


@attrs.define
class Outcome:
    """What a search did, whatever the strategy, and the schedule it saved."""

    strategy: str
    runs: int
    steps: int
    events: Counter[str]
    faults: Counter[str]
    failure: RunResult | None
    trace_digest: str | None = None
    schedule: Path | None = None
    shrunk_from: int | None = None
    shrunk_to: int | None = None
    saved: Violation | None = None
    """The violation of the saved (shrunk) schedule: its check, message and step."""
    shrink_note: str | None = None
    """Why the failing run was saved as found, when it was not shrunk."""
    dead_letters: int = 0
    lost: int = 0

    @classmethod
    def of_sweep(cls, report: SweepReport) -> Outcome:
        digest = report.trace_digest if report.digests else None
        return cls(report.strategy, report.seeds, report.steps, report.events, report.faults,
                   report.failure, digest, dead_letters=report.dead_letters,
                   lost=report.lost)  # fmt: skip


max_steps_option = click.option(
    "--max-steps",
    type=click.IntRange(min=0),
    default=None,
    help="The most steps a run takes before its liveness phase [default: the scenario's].",
)


@cli.command()
@click.argument("reference", metavar="MODULE:SCENARIO")
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=None,
    help="How many seeds (examples, for hypothesis) [default: 100, or 1 with --seed].",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=None, help="The first seed [default: 0]."
)
@click.option(
    "--strategy",
    type=click.Choice([*SEARCHES, "hypothesis"]),
    default="swarm",
    show_default=True,
    help="How each seed picks its events and faults.",
)
@click.option(
    "--depth",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="The bug depth of --strategy pct.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that run seeds at once; the verdict is the same for any number "
    "[default: the machine's cores].",
)
@click.option(
    "--dask",
    metavar="ADDRESS",
    default=None,
    help="Run the seeds on the Dask scheduler at ADDRESS (tcp://host:8786) instead, with "
    "the same verdict (pip install 'rabble-sim[cluster]').",
)
@max_steps_option
@step_timeout_option
@save_dir_option
@no_shrink_option
@expect_option
@json_option
def run(
    reference: str, seeds: int | None, seed: int | None, strategy: str, depth: int,
    workers: int | None, dask: str | None, max_steps: int | None, step_timeout: float | None,
    save_dir: Path | None, no_shrink: bool, expect: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Run MODULE:SCENARIO under seed after seed until a check fails.

    A failing run is shrunk and saved as a schedule file that `rabble-sim replay`
    reproduces. Swarm testing (the default) gives each seed its own mix of the
    scenario's faults. Seeds run on every core; the failure reported is the lowest
    failing seed's, as with one worker.
    """
    scenario = load_scenario(reference)
    count = seeds if seeds is not None else (1 if seed is not None else 100)
    if dask is not None and strategy == "hypothesis":
        raise click.UsageError("--dask runs seeds: it does not go with --strategy hypothesis")
    limits = _Limits(max_steps, step_timeout, workers=workers or default_workers(), dask=dask)
    started = time.perf_counter()
    if strategy == "hypothesis":
        outcome = _check(scenario, count, seed, None, limits, shrink=False, shrink_seconds=None)
    else:
        seed_range = range(seed or 0, (seed or 0) + count)
        outcome = Outcome.of_sweep(
            _sweep(
                scenario,
                reference,
                seed_range,
                strategy,
                depth,
                limits,
                show=not as_json,
                json=as_json,
            )
        )
    _finish(
        scenario, reference, outcome, started, limits,
        save_dir=save_dir, no_shrink=no_shrink, expect=expect, as_json=as_json,
    )  # fmt: skip


@cli.command(name="check")
@click.argument("reference", metavar="MODULE:SCENARIO")
@click.option(
    "--examples",
    type=click.IntRange(min=1),
    default=None,
    help="How many runs Hypothesis generates [default: the profile's, 100 or 200 on CI].",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Fix Hypothesis' randomness, so the same search finds the same failure.",
)
@click.option(
    "--profile",
    type=click.Choice(["rabble-dev", "rabble-ci", "rabble-nightly"]),
    default=None,
    help="Hypothesis settings [default: $RABBLE_SIM_PROFILE, else "
    "rabble-ci when CI is set, else rabble-dev].",
)
@max_steps_option
@step_timeout_option
@save_dir_option
@no_shrink_option
@click.option(
    "--shrink-seconds",
    type=click.FloatRange(min=0),
    default=CHECK_SHRINK_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="How long shrinking a failure may take (0: no limit).",
)
@expect_option
@json_option
def check_command(
    reference: str, examples: int | None, seed: int | None, profile: str | None,
    max_steps: int | None, step_timeout: float | None,
    save_dir: Path | None, no_shrink: bool, shrink_seconds: float, expect: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Search MODULE:SCENARIO with Hypothesis, shrink what fails, and save it.

    Hypothesis chooses every event and fault (the same fault mixes and odds as run's swarm
    strategy); delta debugging shrinks a failing run, for at most --shrink-seconds, before
    it is saved.
    """
    scenario = load_scenario(reference)
    # Delta debugging shrinks, not Hypothesis: a run's decisions past its byte string come
    # from its seed, so lowering bytes rarely shortens a run, and each of Hypothesis'
    # attempts costs a whole run.
    limits = _Limits(max_steps, step_timeout, shrink_seconds or None)
    started = time.perf_counter()
    outcome = _check(
        scenario, examples, seed, profile, limits, shrink=False, shrink_seconds=None
    )  # fmt: skip
    _finish(
        scenario, reference, outcome, started, limits,
        save_dir=save_dir, no_shrink=no_shrink, expect=expect, as_json=as_json,
    )  # fmt: skip


@attrs.frozen
class _Limits:
    """How long runs may go, and shrinking: ``--max-steps``, ``--step-timeout`` and
    ``--shrink-seconds``."""

    max_steps: int | None
    step_timeout: float | None
    shrink_seconds: float | None = None
    workers: int = 1
    dask: str | None = None


def _check(
    scenario: Scenario, examples: int | None, seed: int | None, profile: str | None,
    limits: _Limits, *, shrink: bool, shrink_seconds: float | None,
) -> Outcome:  # fmt: skip
    from ..search._check import check  # noqa: PLC0415  (imports Hypothesis: only when used)

    report = check(
        scenario, examples=examples, seed=seed, profile=profile, shrink=shrink,
        shrink_seconds=shrink_seconds, max_steps=limits.max_steps,
        step_timeout=limits.step_timeout,
    )  # fmt: skip
    # Hypothesis draws each run's fault mix among its choices: not counted here. Its runs
    # differ from one search to the next unless seeded; the digest is the failing run's.
    failure = report.failure
    digest = failure.trace.digest() if failure is not None else None
    return Outcome(
        "hypothesis", report.runs, report.steps, report.events, Counter(), failure, digest
    )


def _sweep(
    scenario: Scenario, reference: str, seeds: range, strategy: str, depth: int,
    limits: _Limits, *, show: bool, json: bool,
) -> SweepReport:  # fmt: skip
    options = {
        "strategy": strategy, "depth": depth, "digests": json,
        "max_steps": limits.max_steps, "step_timeout": limits.step_timeout,
        "workers": limits.workers, "dask": limits.dask, "reference": reference,
    }  # fmt: skip
    if not (show and sys.stderr.isatty() and len(seeds) > 1):
        return _noted(sweep(scenario, seeds, **options))  # type: ignore[arg-type]
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True, console=console.__class__(stderr=True)) as progress:
        task = progress.add_task(f"seeds of {escape(reference)}", total=len(seeds))

        def advance(seed: int) -> None:
            progress.advance(task)

        return _noted(sweep(scenario, seeds, on_seed=advance, **options))  # type: ignore[arg-type]


def _noted(report: SweepReport) -> SweepReport:
    """``report``, after saying on stderr what went wrong on the way and was mended."""
    for note in report.notes:
        click.echo(f"rabble-sim: {note}", err=True)
    return report


def _finish(
    scenario: Scenario, reference: str, outcome: Outcome, started: float, limits: _Limits, *,
    save_dir: Path | None, no_shrink: bool, expect: str | None, as_json: bool,
) -> None:  # fmt: skip
    seconds = time.perf_counter() - started  # the search alone, for steps per second
    if outcome.failure is not None:
        schedule = Schedule.from_run(outcome.failure, reference)
        outcome.shrunk_from = len(schedule.events)
        if not no_shrink:
            with _status(f"shrinking {len(schedule.events)} steps", show=not as_json):
                shrunk = shrink(
                    schedule, scenario,
                    seconds=limits.shrink_seconds, step_timeout=limits.step_timeout,
                )  # fmt: skip
            schedule, outcome.shrink_note = shrunk.schedule, shrunk.note
        outcome.shrunk_to = len(schedule.events)
        outcome.saved = _saved_violation(schedule, outcome.failure)
        folder = "schedules" if expect else "regressions"
        directory = save_dir if save_dir is not None else Path(folder) / scenario.name
        outcome.schedule = attrs.evolve(schedule, expect=expect).save(directory)
    if as_json:
        data = _json(outcome, seconds)
        if expect:
            data["expect"] = expect
        print_json(data)
    else:
        _show(reference, outcome, seconds)
        if expect and outcome.failure is None:
            console.print("[bold red]the known bug was not found[/]: --expect violation")
    found = outcome.failure is not None
    sys.exit(EXIT_OK if found == bool(expect) else EXIT_VIOLATION)


@contextlib.contextmanager
def _status(text: str, *, show: bool) -> Iterator[None]:
    """A spinner on stderr while shrinking, when a person is watching."""
    if not (show and sys.stderr.isatty()):
        yield
        return
    with console.__class__(stderr=True).status(text):
        yield


def _saved_violation(schedule: Schedule, failure: RunResult) -> Violation:
    """The violation the saved schedule fails with (the shrunk run's, not the first run's)."""
    found = failure.violation
    assert found is not None and schedule.violation is not None
    saved = schedule.violation
    step = saved.get("step", found.step)
    traceback = found.traceback if step == found.step else None
    return Violation(saved["check"], saved["message"], step, traceback)


def _json(outcome: Outcome, seconds: float) -> dict[str, object]:
    data: dict[str, object] = {
        "ok": outcome.failure is None,
        "strategy": outcome.strategy,
        "seeds": outcome.runs,
        "steps": outcome.steps,
        "events": dict(sorted(outcome.events.items())),
        "faults": dict(sorted(outcome.faults.items())),
        "trace_digest": outcome.trace_digest,
        "seconds": round(seconds, 3),
        "steps_per_second": round(outcome.steps / seconds) if seconds > 0 else None,
        "dead_letters": outcome.dead_letters,
        "lost": outcome.lost,
    }
    failure = outcome.failure
    if failure is not None and failure.violation is not None and outcome.saved is not None:
        data["violation"] = violation_json(outcome.saved)
        data["step"] = outcome.saved.step
        data["seed"] = failure.seed
        data["schedule"] = str(outcome.schedule)
        data["shrunk"] = {"from": outcome.shrunk_from, "to": outcome.shrunk_to}
        if outcome.shrink_note:
            data["shrunk"]["note"] = outcome.shrink_note  # type: ignore[index]
        data["found"] = violation_json(failure.violation)
        data["found_at_step"] = failure.violation.step
    return data


def _show(reference: str, outcome: Outcome, seconds: float) -> None:
    failure = outcome.failure
    runs = "seeds" if outcome.strategy != "hypothesis" else "runs"
    if failure is not None and failure.violation is not None and outcome.saved is not None:
        where = f"with seed {failure.seed}" if failure.seed is not None else "under Hypothesis"
        show_violation(outcome.saved, where=where)
        found = failure.violation
        if outcome.shrunk_to != outcome.shrunk_from:
            console.print(
                f"  shrunk to {outcome.shrunk_to} steps from the {outcome.shrunk_from} of the "
                f"run that found it (which failed at step {found.step})"
                + (f"; {escape(outcome.shrink_note)}" if outcome.shrink_note else "")
            )
        elif outcome.shrink_note:
            console.print(f"  not shrunk: {escape(outcome.shrink_note)}")
        if (found.check, found.message) != (outcome.saved.check, outcome.saved.message):
            console.print(f"  the run that found it: {escape(str(found))}")
        console.print(f"  schedule saved: [bold]{escape(str(outcome.schedule))}[/]")
        console.print(f"  replay it with: rabble-sim replay {escape(str(outcome.schedule))}")
        console.print(f"  debug it with: rabble-sim debug {escape(str(outcome.schedule))}")
    else:
        console.print(
            f"[bold green]ok[/] {escape(reference)}: no violation in {outcome.runs:,} {runs}"
        )
    rate = f"{outcome.steps / seconds:,.0f}" if seconds > 0 else "-"
    console.print(
        f"[dim]{outcome.strategy} · {runs} {outcome.runs:,} · steps {outcome.steps:,} · "
        f"{rate} steps/s · {show_counts(outcome.events) or 'no events'}[/]"
    )
    if outcome.dead_letters or outcome.lost:
        console.print(
            f"[dim]{outcome.dead_letters:,} dead letters (to no such process), "
            f"{outcome.lost:,} messages lost to a node that was down[/]"
        )
    if outcome.faults and outcome.strategy == "swarm":
        mix = ", ".join(f"{kind} in {n}" for kind, n in sorted(outcome.faults.items()))
        console.print(f"[dim]fault mixes: {mix} of {outcome.runs:,} seeds[/]")
