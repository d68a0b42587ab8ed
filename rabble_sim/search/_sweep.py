"""Seed sweeps: run a scenario under one seed after another until one fails."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable

import attrs

from ..sim import DEFAULT_STEP_TIMEOUT, RunResult, Scenario, fault_kinds, recorded, run
from ._strategies import chooser_for
from ._workers import CAN_FORK, SeedOutcome, run_in_workers, summed


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
    sweep here).
    """

    def one(seed: int) -> tuple[RunResult, list[str]]:
        chooser = chooser_for(strategy, scenario, seed, depth=depth, steps=max_steps)
        result = run(
            scenario, chooser, max_steps=max_steps, seed=seed,
            messages=False, digest=digests, step_timeout=step_timeout,
        )  # fmt: skip
        return result, fault_kinds(chooser.faults or scenario.faults)

    parallel = workers > 1 and on_run is None and CAN_FORK and isinstance(seeds, range)
    if parallel and len(seeds) > 1:  # type: ignore[arg-type]
        return _in_workers(seeds, workers, one, strategy, digests, on_seed, step_timeout)  # type: ignore[arg-type]
    report = SweepReport(strategy)
    for seed in seeds:
        result, faults = one(seed)
        report.seeds += 1
        report.steps += result.steps
        report.events.update(result.trace.counts())
        report.faults.update(faults)
        report.dead_letters += result.dead_letters
        report.lost += result.lost
        if digests:
            report.digests.append((seed, result.trace.digest()))
        if on_run is not None:
            on_run(result)
        if on_seed is not None:
            on_seed(seed)
        if result.violation is not None:
            report.failure = recorded(result, step_timeout=step_timeout)
            break
    return report


def _in_workers(
    seeds: range,
    workers: int,
    one: Callable[[int], tuple[RunResult, list[str]]],
    strategy: str,
    digests: bool,
    on_seed: Callable[[int], None] | None,
    step_timeout: float | None,
) -> SweepReport:
    def done(outcome: SeedOutcome) -> None:
        if on_seed is not None:
            on_seed(outcome.seed)

    outcomes, notes = run_in_workers(seeds, workers, one, digests=digests, on_seed=done)
    report = SweepReport(strategy, **summed(outcomes), workers=workers, notes=notes)
    if digests:
        report.digests = [(o.seed, o.digest or "") for o in outcomes]
    if outcomes and outcomes[-1].failed:
        # The lowest failing seed, run again here as a one-worker sweep would have run it.
        result, _ = one(outcomes[-1].seed)
        report.failure = recorded(result, step_timeout=step_timeout)
    return report
