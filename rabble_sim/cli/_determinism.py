"""``rabble-sim determinism``: run seeds in two fresh interpreters with different hash
seeds and name the first step where their traces part (``check_determinism``)."""

from __future__ import annotations

import sys

import click
from rich.markup import escape

from ..codec import canonical_json
from ..search import STRATEGIES, DeterminismReport, TraceDifference, check_determinism
from ._app import EXIT_OK, EXIT_VIOLATION, cli
from ._options import json_option, step_timeout_option
from ._report import console, print_json


@cli.command()
@click.argument("reference", metavar="MODULE:SCENARIO")
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="The first seed."
)
@click.option(
    "--seeds", type=click.IntRange(min=1), default=1, show_default=True, help="How many seeds."
)
@click.option(
    "--strategy",
    type=click.Choice(STRATEGIES),
    default="swarm",
    show_default=True,
    help="The strategy whose runs to compare.",
)
@step_timeout_option
@json_option
def determinism(
    reference: str, seed: int, seeds: int, strategy: str, step_timeout: float | None, as_json: bool
) -> None:
    """Check that MODULE:SCENARIO runs the same whatever PYTHONHASHSEED is.

    Each seed runs in two fresh interpreters with different hash seeds; the first step at
    which the traces (events, messages sent, process states) differ is named. Exit 1 if
    they differ anywhere.
    """
    report = check_determinism(
        reference, range(seed, seed + seeds), strategy=strategy, step_timeout=step_timeout
    )
    if report.difference is not None:
        _report_difference(report, report.difference, as_json)
        sys.exit(EXIT_VIOLATION)
    if as_json:
        print_json({"ok": True, "seeds": seeds, "reference": reference})
    else:
        console.print(
            f"[bold green]deterministic[/] {escape(reference)}: {seeds} seed(s) gave the same "
            f"trace under PYTHONHASHSEED={' and '.join(report.hash_seeds)}"
        )
    sys.exit(EXIT_OK)


def _report_difference(
    report: DeterminismReport, difference: TraceDifference, as_json: bool
) -> None:
    reference, seed, step = report.reference, difference.seed, difference.step
    left, right = difference.left, difference.right
    if as_json:
        print_json(
            {
                "ok": False, "reference": reference, "seed": seed, "step": step,
                "left": left, "right": right,
            }
        )  # fmt: skip
        return
    console.print(
        f"[bold red]nondeterministic[/] {escape(reference)} with seed {seed}: "
        f"the traces part at step {step}"
    )
    for hash_seed, line in zip(report.hash_seeds, (left, right), strict=True):
        console.print(f"  PYTHONHASHSEED={hash_seed}: {escape(canonical_json(line)[:400])}")
    console.print(f"  they differ in: {', '.join(difference.parts) or 'length'}")
    console.print(
        "  Look for iteration over a set of strings, the global random module, the clock or id() "
        "in the processes that step touched."
    )
