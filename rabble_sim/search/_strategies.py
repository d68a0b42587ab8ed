"""Search strategies: how each seed of a sweep turns into a chooser."""

from __future__ import annotations

from ..sim import DrawingChooser, PCTChooser, RandomChooser, Scenario, swarm_faults

STRATEGIES = ("random", "swarm", "pct")
"""Seeded strategies, each seed on its own. ``guided`` (``_guided.py``) is seeded too, but
each of its seeds builds on the ones before; ``hypothesis`` is driven by ``check``."""
SEARCHES = (*STRATEGIES, "guided")
"""What a sweep takes as its strategy."""


def chooser_for(
    strategy: str, scenario: Scenario, seed: int, *, depth: int = 3, steps: int | None = None
) -> DrawingChooser:
    """The chooser of ``seed`` under ``strategy``, for runs of ``steps`` (default: the
    scenario's ``max_steps``).

    ``random`` draws every event uniformly with the scenario's faults; ``swarm`` does the
    same with a fault mix of the seed's own (some faults off, others lighter or heavier);
    ``pct`` is probabilistic concurrency testing with bug depth ``depth``.
    """
    if strategy == "random":
        return RandomChooser(seed)
    if strategy == "swarm":
        return RandomChooser(seed, faults=swarm_faults(scenario.faults, seed))
    if strategy == "pct":
        return PCTChooser(seed, depth=depth, steps=steps or scenario.max_steps)
    raise ValueError(f"unknown strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
