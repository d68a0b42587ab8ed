"""What an exploration reports: its verdict and counts when it ends, and how far it has got
while it runs."""

from __future__ import annotations

import attrs

from ..sim import RunResult, Violation


@attrs.frozen
class ExploreReport:
    """What an exploration did: the states visited (every event tried from every distinct
    state, and the start), the distinct states among them, the deepest level reached, and
    whether every state within the bound was visited (``exhausted``: neither ``max_states``
    nor the inputs exploration tries cut anything). ``frontier`` counts the states at the
    depth bound that had events left untried: when it is 0 too, the whole reachable space
    was explored. On a violation, the run of its path (``failure``), from which
    ``Schedule.from_run`` makes a file. ``inputs_cut`` counts the states in which an input
    offer had more inputs than exploration tries (``MAX_INPUT_VARIANTS``). ``drew``: a
    process drew a random number or a message a delay, which exploration takes as the
    simplest, 0, and does not branch on. ``read_clock``: a process read its node's clock,
    whose readings are absolute, while no absolute time is part of a state (readings must
    be compared only with each other)."""

    states: int
    unique: int
    depth: int
    exhausted: bool
    frontier: int = 0
    seconds: float = 0.0
    violation: Violation | None = None
    failure: RunResult | None = None
    inputs_cut: int = 0
    drew: bool = False
    read_clock: bool = False

    @property
    def ok(self) -> bool:
        return self.violation is None

    @property
    def complete(self) -> bool:
        """Whether every reachable state was visited, at any depth."""
        return self.exhausted and self.frontier == 0 and self.ok

    def counts(self) -> dict[str, int | bool]:
        """The verdict and the counts, as a JSON object has them (``explore --json``)."""
        return {
            "ok": self.ok,
            "states": self.states,
            "unique": self.unique,
            "depth": self.depth,
            "exhausted": self.exhausted,
            "frontier": self.frontier,
            "complete": self.complete,
            "inputs_cut": self.inputs_cut,
            "drew": self.drew,
            "read_clock": self.read_clock,
        }


@attrs.frozen
class Progress:
    """How far an exploration has got, for a progress line."""

    states: int
    unique: int
    depth: int
    seconds: float
