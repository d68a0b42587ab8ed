"""The Hypothesis chooser: every decision of a run is a Hypothesis draw, which Hypothesis
then shrinks.

Imported only when used (``rabble_sim.search.check`` does), so that the simulator itself
never imports Hypothesis. It uses Hypothesis' public API only: a run is built inside a
``@st.composite`` strategy, whose ``draw`` this chooser calls. "One of n" is
``st.integers(0, n - 1)``, whose simplest value is 0. A weighted decision is made with
fair coins (``st.booleans()``, true half the time, False simplest): they pick a binary
fraction bit by bit until it falls inside one outcome's share of [0, 1), the shares laid
out with the simplest outcome's first. So outcomes come true to their probabilities,
which Hypothesis' integers and floats are not (both lean hard towards small values), and
all coins False is the simplest outcome.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from hypothesis import strategies as st

from ._choosers import DrawingChooser, Draws
from ._events import Event
from ._scenario import Faults
from ._world import World

StrategyDraw = Callable[[st.SearchStrategy[Any]], Any]
"""The ``draw`` of a ``@st.composite`` strategy."""
_COIN = st.booleans()


@functools.lru_cache(maxsize=512)
def _indexes(n: int) -> st.SearchStrategy[int]:
    return st.integers(0, n - 1)


class HypothesisDraws:
    """Decisions drawn from Hypothesis."""

    def __init__(self, draw: StrategyDraw) -> None:
        self._draw = draw

    def choose(self, n: int) -> int:
        value: int = self._draw(_indexes(n))
        return value

    def weighted(self, probabilities: Sequence[float]) -> int:
        edges = []  # the upper edge of each outcome's share, the simplest outcome's first
        edge = 1.0 - sum(probabilities)
        for p in (0.0, *probabilities):
            edge += p
            edges.append(edge)
        edges[-1] = 1.0
        low, high = 0.0, 1.0
        while True:
            outcome = next(i for i, upper in enumerate(edges) if low < upper)
            if high <= edges[outcome] or high - low < 1e-12:
                return outcome
            middle = (low + high) / 2
            if self._draw(_COIN):
                low = middle
            else:
                high = middle


class HypothesisChooser(DrawingChooser):
    """The policy over ``draws`` (``HypothesisDraws`` in a search).

    The run is while-shaped: before each step it decides whether to go on (going on is
    likely; stopping is the simplest), so that cutting a run short, or deleting a stretch
    of its draws, is a valid shrink. The fault mix (swarm testing) is decided first, each
    fault off being simplest, so that shrinking also turns faults off.
    """

    def __init__(self, draws: Draws, faults: Faults, *, max_steps: int) -> None:
        super().__init__(draws)
        self.max_steps = max_steps
        self._base = faults
        self._go_on = 1.0 - 1.0 / max(max_steps, 2)
        self.faults = self._mix(faults)

    def again(self, draws: Draws) -> HypothesisChooser:
        return HypothesisChooser(draws, self._base, max_steps=self.max_steps)

    def _mix(self, faults: Faults) -> Faults:
        def keep() -> bool:
            return self.weighted([0.75]) == 1

        return attrs.evolve(
            faults,
            drop=faults.drop if faults.drop and keep() else 0.0,
            duplicate=faults.duplicate if faults.duplicate and keep() else 0.0,
            crash=faults.crash if faults.crash and keep() else 0,
            partition=faults.partition and keep(),
        )

    def next_event(self, world: World) -> Event | None:
        if self.weighted([self._go_on]) == 0:
            return None
        return super().next_event(world)
