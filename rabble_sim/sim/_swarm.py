"""Swarm testing (Groce et al., ISSTA 2012; FoundationDB, TigerBeetle's VOPR): each seed
runs with its own fault mix drawn from the scenario's faults.

A run with every fault on at once hides bugs that one fault masks in another (heavy drops
starve the partition that a bug needs). Turning each fault off in some seeds, and scaling
its rate in others, covers more of the space in the same number of runs.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Protocol

import attrs

from ._scenario import Faults

SCALES = (0.0, 0.5, 1.0, 2.0)
RATE_SCALES = (0.5, 1.0, 2.0, 4.0)


def swarm_faults(base: Faults, seed: int) -> Faults:
    """The fault mix of ``seed``: each of ``base``'s faults off, lighter or heavier.

    Never a fault that ``base`` does not allow: a scenario's faults are its upper bound.
    """
    rng = random.Random(f"swarm:{seed}")

    def scaled(p: float, scales: tuple[float, ...] = SCALES) -> float:
        return min(1.0, p * rng.choice(scales))

    return attrs.evolve(
        base,
        drop=scaled(base.drop),
        duplicate=scaled(base.duplicate),
        crash=rng.randint(0, base.crash),
        partition=base.partition and rng.random() < 0.75,
        crash_rate=scaled(base.crash_rate, RATE_SCALES),
        restart_rate=scaled(base.restart_rate, RATE_SCALES),
        partition_rate=scaled(base.partition_rate, RATE_SCALES),
        heal_rate=scaled(base.heal_rate, RATE_SCALES),
    )


class Decider(Protocol):
    def choose(self, n: int) -> int: ...

    def weighted(self, probabilities: Sequence[float]) -> int: ...


def swarm_mix(base: Faults, decider: Decider) -> Faults:
    """A fault mix as ``swarm_faults`` draws one, each choice made by ``decider`` (a
    chooser's choke point), its simplest outcome the lightest mix: each fault off, each
    rate halved."""

    def scaled(p: float, scales: tuple[float, ...] = SCALES) -> float:
        return min(1.0, p * scales[decider.choose(len(scales))]) if p else 0.0

    return attrs.evolve(
        base,
        drop=scaled(base.drop),
        duplicate=scaled(base.duplicate),
        crash=decider.choose(base.crash + 1) if base.crash else 0,
        partition=base.partition and decider.weighted([0.75]) == 1,
        crash_rate=scaled(base.crash_rate, RATE_SCALES),
        restart_rate=scaled(base.restart_rate, RATE_SCALES),
        partition_rate=scaled(base.partition_rate, RATE_SCALES),
        heal_rate=scaled(base.heal_rate, RATE_SCALES),
    )


def fault_kinds(faults: Faults) -> list[str]:
    """The faults a mix has on, by name, for summaries."""
    on = {
        "drop": faults.drop > 0,
        "duplicate": faults.duplicate > 0,
        "crash": faults.crash > 0,
        "partition": faults.partition,
    }
    return [name for name, enabled in on.items() if enabled]
