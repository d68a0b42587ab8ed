"""Seed sweeps: run a scenario under one seed after another until one fails."""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable

import attrs

from ..core import RabbleError
from ..sim import DEFAULT_STEP_TIMEOUT, NOT_DETERMINISTIC, RunResult, Scenario, recorded
from ._guided import Guide
from ._seeds import RunOptions, SeedOutcome, run_seed
from ._workers import CAN_FORK, run_in_workers


@attrs.define
class SweepReport:
    """What a sweep did: seeds and steps run, events by kind, and the first failure."""

    strategy: str = "swarm"
    seeds: int = 0
    steps: int = 0
    events: Counter[str] = attrs.Factory(Counter)
    faults: Counter[str] = attrs.Factory(Counter)
    """How many seeds ran with each kind of fault on (swarm turns some off per seed)."""
    dead_letters: int = 0
    lost: int = 0
    failure: RunResult | None = None
    digests: list[tuple[int, str]] = attrs.Factory(list)
    workers: int = 1
    notes: list[str] = attrs.Factory(list)
    """What went wrong on the way and was mended (a worker that died, its seeds run again)."""
    corpus: int = 0
    """The runs a guided search kept, for the abstract states they reached first."""

    def add(self, outcome: SeedOutcome) -> None:
        """Count one seed's run, wherever it ran."""
        self.seeds += 1
        self.steps += outcome.steps
        self.events.update(outcome.events)
        self.faults.update(outcome.faults)
        self.dead_letters += outcome.dead_letters
        self.lost += outcome.lost
        if outcome.digest is not None:
            self.digests.append((outcome.seed, outcome.digest))

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def trace_digest(self) -> str:
        """One hash over every run's trace digest, in seed order: equal for equal sweeps."""
        if len(self.digests) == 1:
            return self.digests[0][1]
        lines = "".join(f"{seed}:{digest}\n" for seed, digest in self.digests)
        return hashlib.sha256(lines.encode()).hexdigest()


def sweep(
    scenario: Scenario,
    seeds: Iterable[int],
    *,
    strategy: str = "swarm",
    depth: int = 3,
    digests: bool = False,
    on_run: Callable[[RunResult], None] | None = None,
    on_seed: Callable[[int], None] | None = None,
    max_steps: int | None = None,
    step_timeout: float | None = DEFAULT_STEP_TIMEOUT,
    workers: int = 1,
    dask: str | None = None,
    reference: str | None = None,
) -> SweepReport:
    """Run ``scenario`` once per seed, in order, under ``strategy`` (see ``chooser_for``),
    stopping at the first violation.

    Runs keep only their events, however long they are; the failing run, if any, is run
    again to record what each of its steps delivered and sent. With ``digests``, the
    report keeps each run's trace digest (computing one costs about as much as the run
    itself, so it is off unless asked for). ``max_steps`` overrides the scenario's bound,
    and a step that takes longer than ``step_timeout`` seconds is a violation.

    ``workers`` above 1 runs the seeds (a ``range``) in that many forked processes
    (``_workers.py``), with the same report as one: the lowest failing seed, the counts of
    the seeds up to it. ``on_seed(seed)`` is called as each seed is done, in either case;
    ``on_run(result)``, which needs the run itself, only in this process (it keeps the
    sweep here). ``dask``, the address of a Dask scheduler, sends the seeds to its
    workers instead (``_dask.py``; ``reference``, the scenario's ``MODULE:SCENARIO``,
    says what they import), with the same report.
    """
    options = RunOptions(strategy, depth, max_steps, step_timeout, digests)

    def one(seed: int) -> tuple[RunResult, list[str]]:
        return run_seed(scenario, seed, options)

    if dask is not None:
        if reference is None or not isinstance(seeds, range):
            raise ValueError("a sweep on Dask needs the scenario's reference and a range of seeds")
        from ._dask import run_on_dask  # noqa: PLC0415  (imports dask.distributed: if used)

        outcomes = run_on_dask(dask, reference, seeds, options, on_seed=on_seed)
        return _report(outcomes, [], options, one)
    guide = Guide(scenario) if strategy == "guided" else None  # its seeds run in order, here
    if guide is not None:
        one = functools.partial(guide.run, options=options)
    elif (
        isinstance(seeds, range) and len(seeds) > 1 and workers > 1 and on_run is None and CAN_FORK
    ):
        ran, notes = run_in_workers(seeds, workers, one, digests=digests, on_seed=on_seed)
        return _report(ran, notes, options, one, workers)
    report = SweepReport(strategy)
    for seed in seeds:
        result, faults = one(seed)
        report.add(SeedOutcome.of(seed, result, faults, digests))
        if on_run is not None:
            on_run(result)
        if on_seed is not None:
            on_seed(seed)
        if result.violation is not None:
            report.failure = recorded(result, step_timeout=step_timeout)
            break
    if guide is not None:
        report.corpus = len(guide.corpus)
    return report


def _report(
    outcomes: list[SeedOutcome],
    notes: list[str],
    options: RunOptions,
    one: Callable[[int], tuple[RunResult, list[str]]],
    workers: int = 1,
) -> SweepReport:
    """The report of a sweep run elsewhere, from the outcomes a one-worker sweep would have
    seen; its failure, the lowest failing seed's, run again here as that sweep runs it."""
    report = SweepReport(options.strategy, workers=workers, notes=notes)
    for outcome in outcomes:
        report.add(outcome)
    if outcomes and outcomes[-1].failed:
        seed = outcomes[-1].seed
        result, _ = one(seed)  # raises here what it raised there, if it raised
        if result.violation is None:
            raise RabbleError(
                f"seed {seed} failed in a worker but not when run again here: {NOT_DETERMINISTIC}"
            )
        report.failure = recorded(result, step_timeout=options.step_timeout)
    return report
