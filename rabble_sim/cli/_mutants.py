"""``rabble-sim mutants``: how many small bugs planted in a protocol its checks notice."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from ..schedule import load_scenario
from ..search import default_workers
from ..search._mutants import Verdict, judge, mutants_of
from ._app import EXIT_OK, EXIT_VIOLATION, cli
from ._options import json_option
from ._report import console, print_json


@cli.command()
@click.argument("reference", metavar="MODULE:SCENARIO")
@click.argument(
    "files", metavar="FILE...", nargs=-1, required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)  # fmt: skip
@click.option(
    "--seeds", type=click.IntRange(min=1), default=100, show_default=True,
    help="Seeds swept against each mutant.",
)  # fmt: skip
@click.option(
    "--jobs", type=click.IntRange(min=1), default=None,
    help="Mutants swept at once [default: the machine's cores].",
)  # fmt: skip
@click.option(
    "--dask", metavar="ADDRESS", default=None,
    help="Sweep the mutants as tasks on the Dask scheduler at ADDRESS instead.",
)  # fmt: skip
@click.option("--only", default=None, metavar="IDS", help="Only these mutants (comma-separated).")
@json_option
def mutants(
    reference: str, files: tuple[Path, ...], seeds: int, jobs: int | None, dask: str | None,
    only: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Plant one small bug at a time in each FILE (a comparison flipped, and/or swapped, a
    constant off by one, a statement deleted), sweep MODULE:SCENARIO against each, and
    report the mutation score and every mutant that survived, as a diff: where the
    scenario's checks are too weak to notice a real mistake.

    Exit 0 when every mutant was killed, 1 when some survived.
    """
    load_scenario(reference)  # a bad reference is a usage error before anything runs
    planted = [mutant for path in files for mutant in mutants_of(path)]
    if only is not None:
        wanted = set(only.split(","))
        planted = [mutant for mutant in planted if mutant.id in wanted]
    show = not as_json

    def heard(verdict: Verdict) -> None:
        if show:
            style = {"killed": "green", "survived": "bold red", "error": "yellow"}
            mutant = verdict.mutant
            console.print(
                f"[{style[verdict.outcome]}]{verdict.outcome:8}[/] {mutant.id} "
                f"{escape(str(mutant.file))}:{mutant.line} {escape(mutant.description)}"
                f"[dim] · {escape(verdict.detail)}[/]"
            )

    _, verdicts = judge(
        reference, planted, seeds=seeds, jobs=jobs or default_workers(), dask=dask,
        on_verdict=heard,
    )  # fmt: skip
    killed = sum(v.outcome == "killed" for v in verdicts)
    survived = [v for v in verdicts if v.outcome == "survived"]
    errors = sum(v.outcome == "error" for v in verdicts)
    judged = killed + len(survived)
    score = killed / judged if judged else 1.0
    if as_json:
        print_json({
            "ok": not survived, "mutants": len(verdicts), "killed": killed,
            "survived": len(survived), "errors": errors, "score": round(score, 3),
            "survivors": [
                {"id": v.mutant.id, "file": str(v.mutant.file), "line": v.mutant.line,
                 "description": v.mutant.description, "diff": v.mutant.diff}
                for v in survived
            ],
        })  # fmt: skip
    else:
        for verdict in survived:
            console.print(f"\n[bold red]survived[/] {verdict.mutant.id}")
            console.print(escape(verdict.mutant.diff), highlight=False, end="")
        console.print(
            f"\nmutation score {score:.0%}: {killed} of {judged} mutants killed"
            + (f" ({errors} could not run)" if errors else "")
            + f" · {seeds} seeds each"
        )
    sys.exit(EXIT_VIOLATION if survived else EXIT_OK)
