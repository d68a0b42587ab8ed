"""The Hypothesis chooser: a run's decisions as one byte string that Hypothesis draws in
bulk and shrinks by deleting and lowering bytes.

Imported only when used (``rabble_sim.search.check`` does), so that the simulator itself
never imports Hypothesis; it uses Hypothesis' public API only (``runs`` is a strategy built
with ``st.tuples``). A run draws a byte string and a seed. Each decision reads two bytes,
big-endian (four for a "one of n" with n above 65,536): "one of n" is the value modulo n, a
weighted decision the value as a fraction of 65,536 against the outcomes' shares, the
simplest outcome's first, so that zero bytes are always the simplest outcome (the oldest
message, no fault). Hypothesis generates bytes close to uniform, so every decision is about
as likely as in a seeded run, and the fault mix is drawn as the swarm strategy draws it:
``check`` searches the same space as ``run``. Past the end of the bytes, decisions come
from a generator seeded with the drawn seed, so a run is as long as a seeded one however
many bytes Hypothesis generated.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from ._choosers import DrawingChooser, Draws
from ._scenario import Faults
from ._swarm import swarm_mix

SPAN = 1 << 16
"""The values one decision's two bytes can take."""


class ByteDraws:
    """Decisions read from ``decisions``, then drawn from a generator seeded with ``seed``."""

    def __init__(self, decisions: bytes, seed: int) -> None:
        self._bytes = decisions
        self._at = 0
        self._rest = random.Random(seed).random

    def choose(self, n: int) -> int:
        if n <= SPAN:
            value = self._read(2)
            return int(self._rest() * n) if value is None else value % n
        value = self._read(4)
        return int(self._rest() * n) if value is None else value % n

    def weighted(self, probabilities: Sequence[float]) -> int:
        value = self._read(2)
        r = self._rest() if value is None else value / SPAN
        edge = 1.0 - sum(probabilities)  # the simplest outcome's share comes first
        if r < edge:
            return 0
        for i, p in enumerate(probabilities, 1):
            edge += p
            if r < edge:
                return i
        return len(probabilities)

    def _read(self, size: int) -> int | None:
        at = self._at
        if at + size > len(self._bytes):
            self._at = len(self._bytes)
            return None
        self._at = at + size
        return int.from_bytes(self._bytes[at : at + size], "big")


class HypothesisChooser(DrawingChooser):
    """The policy over ``draws`` (``ByteDraws`` in a search), with a fault mix of its own
    drawn first from ``faults`` as the swarm strategy draws one (each fault off being the
    simplest)."""

    def __init__(self, draws: Draws, faults: Faults) -> None:
        super().__init__(draws)
        self._base = faults
        self.faults = swarm_mix(faults, self)

    def again(self, draws: Draws) -> HypothesisChooser:
        return HypothesisChooser(draws, self._base)
