"""PCT, probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010), for actors.

Each channel (a sender-receiver pair, and each process's timers) gets a random priority;
every step serves the highest-priority channel, oldest message first. At ``depth - 1``
random steps the channel just served drops below all others. A bug that needs ``d``
ordering constraints is then found with probability at least 1/(n * k^(d-1)) per run, for
n channels and k steps, where uniform random scheduling can do exponentially worse.
Faults are drawn exactly as by the random chooser.
"""

from __future__ import annotations

import random

from ._choosers import RandomChooser
from ._scenario import Faults
from ._world import World


class PCTChooser(RandomChooser):
    """PCT with bug depth ``depth`` over a run of at most ``steps`` steps, seeded; its
    draws (for faults) are a random chooser's, from a stream of its own."""

    def __init__(self, seed: int, depth: int = 3, steps: int = 1000, faults: Faults | None = None):
        super().__init__(seed, faults)
        if depth < 1:
            raise ValueError(f"PCT depth must be at least 1, not {depth}")
        rng = random.Random(f"pct:{seed}")
        self.depth = depth
        self._random = rng.random
        self._priority: dict[str, float] = {}
        changes = rng.sample(range(1, max(steps, depth) + 1), depth - 1)
        self._change_at = {step: -float(i + 1) for i, step in enumerate(sorted(changes))}
        self._step = 0

    def pick(self, world: World, n: int, timer: int | None) -> int | None:
        self._step += 1
        heads: dict[str, int | None] = {}  # channel -> its oldest message (None: the timer)
        for seq, parcel in world.messages.items():
            env = parcel[0]
            channel = f"{env.from_}->{env.to}"
            head = heads.get(channel)
            if head is None or seq < head:
                heads[channel] = seq
        if timer is not None:
            heads[f"timer:{world.timers[timer].pid}"] = None
        for channel in sorted(heads):  # new channels get priorities in a stable order
            if channel not in self._priority:
                self._priority[channel] = self.depth + self._random()
        served = max(sorted(heads), key=self._priority.__getitem__)
        lowered = self._change_at.get(self._step)
        if lowered is not None:
            self._priority[served] = lowered
        return heads[served]
