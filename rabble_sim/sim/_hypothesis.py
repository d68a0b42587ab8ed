"""The Hypothesis chooser: the run loop's draws come from Hypothesis, which then shrinks them.

Imported only when used (``rabble_sim.search.check`` does), so that the simulator itself
never imports Hypothesis. Draws go straight to the test case's ``ConjectureData``: its
``draw_integer`` and ``draw_boolean`` are what every Hypothesis strategy reduces to, an
order of magnitude cheaper per draw than ``data.draw(st.integers(...))``, and they give a
biased coin whose simplest value is False.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from ._choosers import DrawingChooser
from ._events import Event
from ._scenario import Faults
from ._world import World


class HypothesisChooser(DrawingChooser):
    """Draws every choice from Hypothesis' ``st.data()`` object.

    The run is while-shaped: before each step it draws whether to go on (going on is
    likely; stopping is the simplest value), so that cutting a run short, or deleting a
    stretch of its choices, is a valid shrink. The fault mix (swarm testing) is drawn
    first, each fault off being simplest, so that shrinking also turns faults off.
    """

    def __init__(self, data: Any, faults: Faults, *, max_steps: int):
        self._draws = data.conjecture_data
        self._go_on = 1.0 - 1.0 / max(max_steps, 2)
        super().__init__(self._mix(faults))

    def _mix(self, faults: Faults) -> Faults:
        draw = self._draws.draw_boolean
        return attrs.evolve(
            faults,
            drop=faults.drop if faults.drop and draw(0.75) else 0.0,
            duplicate=faults.duplicate if faults.duplicate and draw(0.75) else 0.0,
            crash=faults.crash if faults.crash and draw(0.75) else 0,
            partition=faults.partition and draw(0.75),
        )

    def choose(self, n: int) -> int:
        value: int = self._draws.draw_integer(0, n - 1)
        return value

    def weighted(self, probabilities: Sequence[float]) -> int:
        # One biased coin per option: Hypothesis generates draw_boolean(p) true to p,
        # where a weighted draw_integer strays far from its weights while generating.
        left = 1.0
        for i, p in enumerate(probabilities, 1):
            if self._draws.draw_boolean(min(1.0, p / left)):
                return i
            left -= p
        return 0

    def next_event(self, world: World) -> Event | None:
        if not self._draws.draw_boolean(self._go_on):
            return None
        return super().next_event(world)
