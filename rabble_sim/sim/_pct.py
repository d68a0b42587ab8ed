"""PCT, probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010), for actors.

Each channel (a sender-receiver pair, and each process's timers) gets a random priority;
every step serves the highest-priority channel, oldest message first. At ``depth - 1``
random steps the channel just served drops below all others. A bug that needs ``d``
ordering constraints is then found with probability at least 1/(n * k^(d-1)) per run, for
n channels and k steps, where uniform random scheduling can do exponentially worse.
Faults are drawn exactly as by the random chooser, and every draw (the change points,
each priority) is a decision like any other: recorded, and replayed by ``again``.
"""

from __future__ import annotations

from ._choosers import DrawingChooser, Draws, SeededDraws
from ._enabled import Enabled
from ._scenario import Faults
from ._world import World

PRIORITIES = 2**30
"""How finely a priority is drawn: ``choose(PRIORITIES) / PRIORITIES`` in [0, 1)."""


class PCTChooser(DrawingChooser):
    """PCT with bug depth ``depth`` over a run of at most ``steps`` steps, seeded with
    ``seed`` (or over ``draws``)."""

    def __init__(
        self,
        seed: int | None = None,
        depth: int = 3,
        steps: int = 1000,
        faults: Faults | None = None,
        *,
        draws: Draws | None = None,
    ) -> None:
        if depth < 1:
            raise ValueError(f"PCT depth must be at least 1, not {depth}")
        if draws is None and seed is None:
            raise ValueError("PCTChooser needs a seed or draws")
        super().__init__(draws or SeededDraws(f"pct:{seed}"), faults)
        self.seed = seed
        self.depth = depth
        self.steps = steps
        self._priority: dict[str, float] = {}
        changes = self._sample(depth - 1, max(steps, depth))
        self._change_at = {step: -float(i + 1) for i, step in enumerate(sorted(changes))}
        self._step = 0

    def again(self, draws: Draws) -> PCTChooser:
        return PCTChooser(depth=self.depth, steps=self.steps, faults=self.faults, draws=draws)

    def pick(self, world: World, enabled: Enabled) -> int | None:
        self._step += 1
        heads: dict[str, int | None] = {}  # channel -> its oldest message (None: the timer)
        for seq, parcel in world.network.deliverable.items():
            env = parcel[0]
            channel = f"{env.from_}->{env.to}"
            head = heads.get(channel)
            if head is None or seq < head:
                heads[channel] = seq
        timer = enabled.timer
        if timer is not None:  # the next timer, or a message in transit: what time brings
            pid = world.timers[timer].pid if timer in world.timers else f"transit:{timer}"
            heads[f"timer:{pid}"] = None
        for channel in sorted(heads):  # new channels get priorities in a stable order
            if channel not in self._priority:
                self._priority[channel] = self.depth + self.choose(PRIORITIES) / PRIORITIES
        served = max(sorted(heads), key=self._priority.__getitem__)
        lowered = self._change_at.get(self._step)
        if lowered is not None:
            self._priority[served] = lowered
        return heads[served]

    def _sample(self, k: int, n: int) -> list[int]:
        """``k`` distinct steps among 1..n, each pick a decision (Fisher-Yates, in
        O(k) memory however long the run)."""
        moved: dict[int, int] = {}
        picked = []
        for i in range(k):
            j = i + self.choose(n - i)
            picked.append(moved.get(j, j) + 1)
            moved[j] = moved.get(i, i)
        return picked
