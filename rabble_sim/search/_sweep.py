"""Seed sweeps: run a scenario under one seed after another until one fails."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable

import attrs

from ..sim import DEFAULT_STEP_TIMEOUT, RunResult, Scenario, fault_kinds, recorded, run
from ._strategies import chooser_for


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
    max_steps: int | None = None,
    step_timeout: float | None = DEFAULT_STEP_TIMEOUT,
) -> SweepReport:
    """Run ``scenario`` once per seed, in order, under ``strategy`` (see ``chooser_for``),
    stopping at the first violation.

    Runs keep only their events, however long they are; the failing run, if any, is run
    again to record what each of its steps delivered and sent. With ``digests``, the
    report keeps each run's trace digest (computing one costs about as much as the run
    itself, so it is off unless asked for). ``max_steps`` overrides the scenario's bound,
    and a step that takes longer than ``step_timeout`` seconds is a violation.
    """
    report = SweepReport(strategy)
    for seed in seeds:
        chooser = chooser_for(strategy, scenario, seed, depth=depth, steps=max_steps)
        result = run(
            scenario, chooser, max_steps=max_steps, seed=seed,
            messages=False, digest=digests, step_timeout=step_timeout,
        )  # fmt: skip
        report.seeds += 1
        report.steps += result.steps
        report.events.update(result.trace.counts())
        report.faults.update(fault_kinds(chooser.faults or scenario.faults))
        report.dead_letters += result.dead_letters
        report.lost += result.lost
        if digests:
            report.digests.append((seed, result.trace.digest()))
        if on_run is not None:
            on_run(result)
        if result.violation is not None:
            report.failure = recorded(result, step_timeout=step_timeout)
            break
    return report
