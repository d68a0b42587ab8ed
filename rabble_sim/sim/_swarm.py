"""Swarm testing (Groce et al., ISSTA 2012; FoundationDB, TigerBeetle's VOPR): each seed
runs with its own fault mix drawn from the scenario's faults.

A run with every fault on at once hides bugs that one fault masks in another (heavy drops
starve the partition that a bug needs). Turning each fault off in some seeds, and scaling
its rate in others, covers more of the space in the same number of runs.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import attrs

from ._scenario import Faults
from ._topology import Link

SCALES = (0.0, 0.5, 1.0, 2.0)
RATE_SCALES = (0.5, 1.0, 2.0, 4.0)
DRIFT_SCALES = (0.0, 0.5, 1.0, 1.0)
"""A drift is a fraction below 1: never scaled up."""


def swarm_faults(base: Faults, seed: int) -> Faults:
    """The fault mix of ``seed``: each of ``base``'s faults off, lighter or heavier.

    Never a fault that ``base`` does not allow: a scenario's faults are its upper bound.
    """
    rng = random.Random(f"swarm:{seed}")

    def scaled(p: float, scales: tuple[float, ...] = SCALES) -> float:
        return min(1.0, p * rng.choice(scales))

    mix = attrs.evolve(
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
    # The faults added later draw only where the scenario has them, so that the mixes
    # of scenarios without them are what they always were.
    return _later_faults(base, mix, rng.randrange, rng.random)


class Decider(Protocol):
    def choose(self, n: int) -> int: ...

    def weighted(self, probabilities: Sequence[float]) -> int: ...


def swarm_mix(base: Faults, decider: Decider) -> Faults:
    """A fault mix as ``swarm_faults`` draws one, each choice made by ``decider`` (a
    chooser's choke point), its simplest outcome the lightest mix: each fault off, each
    rate halved."""

    def scaled(p: float, scales: tuple[float, ...] = SCALES) -> float:
        return min(1.0, p * scales[decider.choose(len(scales))]) if p else 0.0

    mix = attrs.evolve(
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
    # Each of the later faults: index 0 of every choice is the lightest (off, or halved).
    return _later_faults(base, mix, decider.choose, None)


def _later_faults(
    base: Faults, mix: Faults, choose: Callable[[int], int], uniform: Callable[[], float] | None
) -> Faults:
    """``mix`` with the faults of time, disks and links each turned off, kept, or scaled,
    as ``choose`` ("one of n"; with ``uniform``, a seeded draw of the same) decides: only
    those ``base`` has, so that nothing is drawn for the others."""
    changes: dict[str, Any] = {}

    def on(chance: float) -> bool:
        # A seeded mix keeps a fault with ``chance``; a decided one, at 1 of 4 off.
        return uniform() < chance if uniform is not None else choose(4) != 0

    def pick(p: float, scales: tuple[float, ...]) -> float:
        order = scales if uniform is not None else sorted(scales)
        return min(1.0, p * order[choose(len(order))])

    if base.one_way:
        changes["one_way"] = on(0.5)
    if (base.latency != (0, 0) or base.links) and not on(0.75):
        changes["latency"] = (0, 0)  # the links keep their own drop chances, not latencies
        changes["links"] = {
            pair: Link(drop=link.drop) for pair, link in base.links.items() if link.drop is not None
        }
    if base.disk_loss:
        changes["disk_loss"] = pick(base.disk_loss, SCALES)
    if base.disk_corruption:
        changes["disk_corruption"] = pick(base.disk_corruption, SCALES)
    if base.drift:
        changes["drift"] = round(base.drift * DRIFT_SCALES[choose(len(DRIFT_SCALES))], 3)
    if base.jump:
        changes["jump"] = base.jump if on(0.75) else 0
        changes["jump_rate"] = pick(base.jump_rate, RATE_SCALES)
    return attrs.evolve(mix, **changes) if changes else mix


def fault_kinds(faults: Faults) -> list[str]:
    """The faults a mix has on, by name, for summaries."""
    on = {
        "drop": faults.drops,
        "duplicate": faults.duplicate > 0,
        "crash": faults.crash > 0,
        "partition": faults.partition,
        "one_way": faults.partition and faults.one_way,
        "latency": faults.slow,
        "disk_loss": faults.crash > 0 and faults.disk_loss > 0,
        "disk_corruption": faults.crash > 0 and faults.disk_corruption > 0,
        "drift": faults.drift > 0,
        "jump": faults.jump > 0,
    }
    return [name for name, enabled in on.items() if enabled]
