"""One seed of a sweep, what it leaves, and the ledger of a sweep run out of order.

A sweep run in parallel (forked workers, a Dask cluster) gets its seeds' outcomes in any
order; ``SeedLedger`` keeps them and the lowest failing seed, says which seeds are still
worth running (those below it), and gives back the outcomes a one-worker sweep would have
seen: every seed up to the lowest failing one, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from ..sim import DrawingChooser, Observer, RunResult, Scenario, fault_kinds, run
from ._strategies import chooser_for


@attrs.frozen
class RunOptions:
    """How each seed of a sweep runs: plain data, the same in every worker."""

    strategy: str = "swarm"
    depth: int = 3
    max_steps: int | None = None
    step_timeout: float | None = None
    digests: bool = False


def run_seed(
    scenario: Scenario,
    seed: int,
    options: RunOptions,
    *,
    chooser: DrawingChooser | None = None,
    observers: Sequence[Observer] = (),
) -> tuple[RunResult, list[str]]:
    """Run ``seed`` of a sweep (with ``chooser``, or the strategy's): its result (events
    only) and the faults its mix had on."""
    if chooser is None:
        chooser = chooser_for(
            options.strategy, scenario, seed, depth=options.depth, steps=options.max_steps
        )
    result = run(
        scenario, chooser, max_steps=options.max_steps, seed=seed, messages=False,
        digest=options.digests, step_timeout=options.step_timeout, observers=observers,
    )  # fmt: skip
    return result, fault_kinds(chooser.faults or scenario.faults)


@attrs.frozen
class SeedOutcome:
    """What one seed's run left, as a worker reports it: enough to sum a sweep's counts."""

    seed: int
    steps: int
    events: dict[str, int]
    faults: list[str]
    dead_letters: int
    lost: int
    digest: str | None
    failed: bool

    @classmethod
    def of(cls, seed: int, result: RunResult, faults: list[str], digest: bool) -> SeedOutcome:
        return cls(
            seed, result.steps, dict(result.trace.counts()), faults, result.dead_letters,
            result.lost, result.trace.digest() if digest else None, result.violation is not None,
        )  # fmt: skip

    @classmethod
    def raised(cls, seed: int) -> SeedOutcome:
        """A seed whose run raised (a scenario's ``start`` that returns no list, say): it
        counts as failing, and the caller runs it again itself, where it raises as it
        would have in a sweep of one worker."""
        return cls(seed, 0, {}, [], 0, 0, None, True)

    def plain(self) -> dict[str, Any]:
        return attrs.asdict(self)


class SeedLedger:
    """The outcomes of a sweep's ``seeds`` as they come, in any order."""

    def __init__(self, seeds: range) -> None:
        self.seeds = seeds
        self.outcomes: dict[int, SeedOutcome] = {}
        self.lowest = seeds.stop
        """The lowest failing seed so far (``seeds.stop``: none)."""
        self.done_below = seeds.start
        """Every seed from the first up to this one (not included) has run."""

    def add(self, outcome: SeedOutcome) -> bool:
        """Keep ``outcome``; whether it counts (it is not past the lowest failing seed)."""
        self.outcomes[outcome.seed] = outcome
        if outcome.failed and outcome.seed < self.lowest:
            self.lowest = outcome.seed
        while self.done_below in self.outcomes:
            self.done_below += 1
        return outcome.seed <= self.lowest

    def wanted(self, batch: list[int]) -> list[int]:
        """The seeds of ``batch`` still worth running: those below the lowest failing one."""
        return [seed for seed in batch if seed < self.lowest]

    def complete(self) -> bool:
        """Whether every seed up to the lowest failing one (or every seed) has run."""
        return self.done_below > min(self.lowest, self.seeds.stop - 1)

    def counted(self) -> list[SeedOutcome]:
        """The outcomes a one-worker sweep would have seen, in seed order."""
        return [self.outcomes[s] for s in self.seeds if s <= self.lowest and s in self.outcomes]


def batches(seeds: range, workers: int, most: int, each: int = 32) -> list[list[int]]:
    """``seeds`` in batches of at most ``most``, small enough to balance ``workers``
    (``each`` a worker or more: while the last batches finish, the other workers idle)."""
    size = max(1, min(most, len(seeds) // (each * workers)))
    return [list(seeds[start : start + size]) for start in range(0, len(seeds), size)]
