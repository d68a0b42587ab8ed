"""The determinism self-check: run seeds of a scenario in two fresh interpreters with
different hash seeds, and name the first step at which their traces part.

Each interpreter writes, for each seed, one line of plain data per step (the event, what
was sent, and a hash of every process's state after the step); this interpreter compares
them. Fresh interpreters are the point: the order in which a set of strings iterates is
fixed when an interpreter starts, by ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from ..codec import canonical_json, to_plain
from ..core import UsageError
from ..schedule import load_scenario
from ..sim import DEFAULT_STEP_TIMEOUT, Scenario, World, run
from ._strategies import STRATEGIES, chooser_for

HASH_SEEDS = ("1", "2")
"""The hash seeds the two interpreters run under, unless told otherwise."""
COMPARED = ("kind", "seq", "sent", "states")
"""The parts of a step a difference is named by, beyond the whole line."""


@attrs.frozen
class TraceDifference:
    """Where the runs of one seed part: the first step whose lines differ, and that step
    as each interpreter saw it (None: that run had already ended)."""

    seed: int
    step: int
    left: dict[str, Any] | None
    right: dict[str, Any] | None

    @property
    def parts(self) -> tuple[str, ...]:
        """Which of the event's kind, its seq, what was sent and the process states
        differ (empty when one run is longer than the other)."""
        left, right = self.left or {}, self.right or {}
        return tuple(k for k in COMPARED if left.get(k) != right.get(k))


@attrs.frozen
class DeterminismReport:
    """What the check found: the seeds compared under which hash seeds, each seed's trace
    digest (that of the first interpreter), and the first difference, if any."""

    reference: str
    hash_seeds: tuple[str, str]
    digests: dict[int, str]
    """Each seed's trace digest, as ``run --json`` prints it, up to the seed that parted."""
    difference: TraceDifference | None

    @property
    def ok(self) -> bool:
        return self.difference is None

    @property
    def seeds(self) -> int:
        """How many seeds were compared."""
        return len(self.digests)


def check_determinism(
    reference: str,
    seeds: Iterable[int] = (0,),
    *,
    strategy: str = "swarm",
    hash_seeds: tuple[str, str] = HASH_SEEDS,
    step_timeout: float | None = DEFAULT_STEP_TIMEOUT,
) -> DeterminismReport:
    """Run each of ``seeds`` of the scenario ``MODULE:SCENARIO`` under ``strategy`` in two
    fresh interpreters, one per hash seed, and compare them step by step, in seed order,
    up to the first seed whose runs part.

    The scenario must load here first (else ``UsageError``, as for any bad reference);
    the interpreters import its module from where this one did. A run that fails in an
    interpreter (rather than finding a violation, which is part of its trace) is a
    ``UsageError`` naming its hash seed and the last line it wrote to stderr.
    """
    load_scenario(reference)
    if strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {strategy!r}: use one of {', '.join(STRATEGIES)}")
    if hash_seeds[0] == hash_seeds[1]:
        raise UsageError(f"the two hash seeds must differ, not both be {hash_seeds[0]!r}")
    chosen = list(seeds)
    with tempfile.TemporaryDirectory(prefix="rabble-sim-") as directory:
        folders = [Path(directory) / hash_seed for hash_seed in hash_seeds]
        children: list[subprocess.Popen[str]] = []
        try:
            for hash_seed, folder in zip(hash_seeds, folders, strict=True):
                children.append(
                    _start_child(reference, chosen, strategy, hash_seed, step_timeout, folder)
                )
            for hash_seed, child in zip(hash_seeds, children, strict=True):
                _wait_child(hash_seed, child)
        finally:
            for child in children:  # after a failure or Ctrl-C, the other one too
                if child.poll() is None:
                    child.kill()
                    child.wait()
        digests: dict[int, str] = {}
        for seed in chosen:
            left, right = (
                _read(folder, seed, h) for folder, h in zip(folders, hash_seeds, strict=True)
            )
            digests[seed] = left["digest"]
            difference = _first_difference(seed, left["steps"], right["steps"])
            if difference is not None:
                return DeterminismReport(reference, hash_seeds, digests, difference)
    return DeterminismReport(reference, hash_seeds, digests, None)


def traced_run(
    scenario: Scenario, seed: int, strategy: str, step_timeout: float | None
) -> dict[str, Any]:
    """One run of ``seed`` in this interpreter, as plain data: its trace digest, and per
    step the event, what was sent, and a hash of the process states after it."""
    states = _StateHashes()
    result = run(
        scenario,
        chooser_for(strategy, scenario, seed),
        seed=seed,
        step_timeout=step_timeout,
        observers=[states],
    )
    states.final()
    steps = []
    for step in range(len(result.trace)):
        line = result.trace.step_plain(step)
        line["states"] = states.by_step.get(step)
        steps.append(line)
    return {"digest": result.trace.digest(), "steps": steps}


class _StateHashes:
    """An observer of a run: a hash of every process's state after each step, by step."""

    def __init__(self) -> None:
        self.by_step: dict[int, str] = {}
        self._world: World | None = None

    def __call__(self, world: World) -> None:
        self._world = world
        self.by_step[world.step] = _hash_states(world)

    def final(self) -> None:
        """The state after a step that failed part-way: observers only see steps that
        completed, and where a protocol's code raised is where runs often part."""
        world = self._world
        if world is not None and world.step not in self.by_step:
            self.by_step[world.step] = _hash_states(world)


def _hash_states(world: World) -> str:
    plain = {str(pid): to_plain(proc) for pid, proc in world.processes.items()}
    return hashlib.sha256(canonical_json(plain).encode()).hexdigest()[:16]


def _start_child(
    reference: str,
    seeds: Sequence[int],
    strategy: str,
    hash_seed: str,
    step_timeout: float | None,
    folder: Path,
) -> subprocess.Popen[str]:
    folder.mkdir()
    path = [*_import_roots(reference), *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    env = {
        **os.environ,
        "PYTHONHASHSEED": hash_seed,
        "PYTHONPATH": os.pathsep.join(p for p in path if p),
    }
    command = [
        sys.executable, "-m", "rabble_sim.search._determinism_child", reference,
        "--strategy", strategy, "--step-timeout", str(step_timeout or 0),
        "--out", str(folder), *map(str, seeds),
    ]  # fmt: skip
    # The traces go to files, not stdout, which the protocol's own code may print to.
    return subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def _wait_child(hash_seed: str, child: subprocess.Popen[str]) -> None:
    _, stderr = child.communicate()
    if child.returncode != 0:
        reason = stderr.strip().splitlines()[-1] if stderr.strip() else "no output"
        raise UsageError(f"the run under PYTHONHASHSEED={hash_seed} failed: {reason}")


def _import_roots(reference: str) -> list[str]:
    """The folders this interpreter imported the reference's top-level module from, so
    that the child imports the same file whatever its working directory and path."""
    top = reference.partition(":")[0].partition(".")[0]
    spec = getattr(sys.modules.get(top), "__spec__", None)
    if spec is None:
        return []
    if spec.origin is None or spec.origin == "namespace":
        return [str(Path(p).parent) for p in spec.submodule_search_locations or ()]
    origin = Path(spec.origin)
    if not origin.is_file():
        return []
    return [str(origin.parent.parent if spec.submodule_search_locations else origin.parent)]


def _read(folder: Path, seed: int, hash_seed: str) -> dict[str, Any]:
    try:
        found: dict[str, Any] = json.loads((folder / f"{seed}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UsageError(
            f"the run under PYTHONHASHSEED={hash_seed} left no readable trace: {e}"
        ) from None
    return found


def _first_difference(
    seed: int, left: list[dict[str, Any]], right: list[dict[str, Any]]
) -> TraceDifference | None:
    for step in range(max(len(left), len(right))):
        a = left[step] if step < len(left) else None
        b = right[step] if step < len(right) else None
        if a != b:
            return TraceDifference(seed, step, a, b)
    return None
