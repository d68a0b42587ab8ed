"""Coverage-guided search: a corpus of runs that reached new abstract states, mutated and
extended, seed after seed (the idea of AFL, and of ModelFuzz's abstract-state coverage).

A run is its decisions (``DrawingChooser.decisions``) under its seed's fault mix. Each
run's *coverage* is the set of abstract states it passed through: ``Scenario.coverage(view)``
if the scenario gives one, else ``default_coverage``, the small values of every process
(flags, roles, counters under 16, short strings: what a protocol's branches test). A run
that reaches an abstract state no run reached before joins the corpus. Each later seed,
three times in four, takes a run of the corpus, keeps a prefix of its decisions (cut at a
random point, one decision changed half the time) and draws the rest afresh; otherwise it
is a fresh swarm run. Everything is drawn from a generator seeded with the seed, and the
corpus grows in seed order: the same seeds give the same search, on one worker (a seed's
run depends on the seeds before it, so guided search never runs in parallel).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import attrs

from ..sim import (
    DrawingChooser,
    Faults,
    RunResult,
    Scenario,
    SeededDraws,
    View,
    World,
    swarm_faults,
)
from ._seeds import RunOptions, run_seed

SMALL = 16
"""Integers beyond it are data (a log index, a time), not a branch a protocol takes."""
SHORT = 24
"""Strings longer than it are data (a payload), not a role."""


def default_coverage(view: View) -> Hashable:
    """The small values of every process, by pid: its booleans, its ``None``s, its
    integers from -16 to 16 and its strings of up to 24 characters (roles, flags, terms,
    counters), field by field."""
    return tuple(
        (str(pid), tuple(_small_fields(proc))) for pid, proc in sorted(view.processes.items())
    )


def _small_fields(proc: Any) -> list[tuple[str, Any]]:
    names = (
        [field.name for field in attrs.fields(type(proc))]
        if attrs.has(type(proc))
        else sorted(getattr(proc, "__dict__", {}))
    )
    small = []
    for name in names:
        value = getattr(proc, name, None)
        if (
            value is None
            or isinstance(value, bool)
            or (isinstance(value, int) and -SMALL <= value <= SMALL)
            or (isinstance(value, str) and len(value) <= SHORT)
        ):
            small.append((name, value))
    return small


class PrefixDraws:
    """Draws that give back ``prefix`` first (each value folded into the range asked for,
    since a mutated prefix may ask for fewer options), then those of ``rest``."""

    def __init__(self, prefix: Sequence[int], rest: SeededDraws) -> None:
        self._prefix = list(prefix)[::-1]
        self._rest = rest

    def choose(self, n: int) -> int:
        return self._prefix.pop() % n if self._prefix else self._rest.choose(n)

    def weighted(self, probabilities: Sequence[float]) -> int:
        if self._prefix:
            return self._prefix.pop() % (len(probabilities) + 1)
        return self._rest.weighted(probabilities)


@attrs.define
class _Entry:
    mix_seed: int
    decisions: list[int]


class Guide:
    """The corpus of a guided search of ``scenario``, and the abstract states reached."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.coverage: Callable[[View], Hashable] = scenario.coverage or default_coverage
        self.corpus: list[_Entry] = []
        self.seen: set[Hashable] = set()

    def chooser(self, seed: int) -> tuple[DrawingChooser, int]:
        """The chooser of ``seed`` (a mutated run of the corpus, or a fresh one), and the
        seed of its fault mix (its parent's)."""
        rng = random.Random(f"guided:{seed}")
        mix_seed, prefix = seed, []
        if self.corpus and rng.random() < 0.75:
            parent = self.corpus[rng.randrange(len(self.corpus))]
            mix_seed = parent.mix_seed
            prefix = parent.decisions[: rng.randrange(len(parent.decisions) + 1)]
            if prefix and rng.random() < 0.5:
                at = rng.randrange(len(prefix))
                prefix[at] = rng.randrange(prefix[at] + 2)
        draws = PrefixDraws(prefix, SeededDraws(f"guided:{seed}:rest"))
        faults: Faults = swarm_faults(self.scenario.faults, mix_seed)
        return DrawingChooser(draws, faults), mix_seed

    def watcher(self) -> tuple[Callable[[World], None], set[Hashable]]:
        """An observer for a run, and the abstract states it collects."""
        states: set[Hashable] = set()
        coverage = self.coverage

        def observe(world: World) -> None:
            states.add(coverage(View(world)))

        return observe, states

    def run(self, seed: int, options: RunOptions) -> tuple[RunResult, list[str]]:
        """Run ``seed`` of the search, keep it if it reached a new abstract state; its
        result and the faults its mix had on, as ``run_seed`` gives them."""
        chooser, mix_seed = self.chooser(seed)
        observe, states = self.watcher()
        ran = run_seed(self.scenario, seed, options, chooser=chooser, observers=[observe])
        self.learn(chooser, mix_seed, states)
        return ran

    def learn(self, chooser: DrawingChooser, mix_seed: int, states: set[Hashable]) -> bool:
        """Keep the run ``chooser`` made (under the mix of ``mix_seed``) if it reached an
        abstract state no run did."""
        new = states - self.seen
        if not new:
            return False
        self.seen |= new
        self.corpus.append(_Entry(mix_seed, list(chooser.decisions)))
        return True
