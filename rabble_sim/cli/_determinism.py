"""``rabble-sim determinism``: run a seed in two fresh interpreters with different hash
seeds and name the first step where their traces part."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from ..codec import canonical_json, to_plain
from ..schedule import load_scenario
from ..search import STRATEGIES, chooser_for
from ..sim import Chooser, Event, FairChooser, World, run
from ._app import EXIT_OK, EXIT_VIOLATION, cli, fail
from ._options import json_option, step_timeout_option
from ._report import console, print_json

HASH_SEEDS = ("1", "2")


@cli.command()
@click.argument("reference", metavar="MODULE:SCENARIO")
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="The first seed."
)
@click.option(
    "--seeds", type=click.IntRange(min=1), default=1, show_default=True, help="How many seeds."
)
@click.option(
    "--strategy",
    type=click.Choice(STRATEGIES),
    default="swarm",
    show_default=True,
    help="The strategy whose runs to compare.",
)
@step_timeout_option
@json_option
def determinism(
    reference: str, seed: int, seeds: int, strategy: str, step_timeout: float | None, as_json: bool
) -> None:
    """Check that MODULE:SCENARIO runs the same whatever PYTHONHASHSEED is.

    Each seed runs in two fresh interpreters with different hash seeds; the first step at
    which the traces (events, messages sent, process states) differ is named. Exit 1 if
    they differ anywhere.
    """
    load_scenario(reference)  # a bad reference is a usage error here, not in the children
    for s in range(seed, seed + seeds):
        left, right = (_trace_in_child(reference, s, strategy, h, step_timeout) for h in HASH_SEEDS)
        difference = _first_difference(left, right)
        if difference is not None:
            _report(reference, s, difference, as_json)
            sys.exit(EXIT_VIOLATION)
    if as_json:
        print_json({"ok": True, "seeds": seeds, "reference": reference})
    else:
        console.print(
            f"[bold green]deterministic[/] {escape(reference)}: {seeds} seed(s) gave the same "
            f"trace under PYTHONHASHSEED={' and '.join(HASH_SEEDS)}"
        )
    sys.exit(EXIT_OK)


def _trace_in_child(
    reference: str, seed: int, strategy: str, hash_seed: str, step_timeout: float | None
) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    with tempfile.TemporaryDirectory(prefix="rabble-sim-") as directory:
        out = Path(directory) / "trace.jsonl"
        command = [
            sys.executable, "-m", "rabble_sim.cli", "trace", reference,
            "--seed", str(seed), "--strategy", strategy, "--out", str(out),
            "--step-timeout", str(step_timeout or 0),
        ]  # fmt: skip
        # The trace goes to a file, not stdout, which the protocol's own code may print to.
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no output"
            fail(f"the run under PYTHONHASHSEED={hash_seed} failed: {reason}")
        try:
            return [json.loads(line) for line in out.read_text().splitlines()]
        except (OSError, ValueError) as e:
            fail(f"the run under PYTHONHASHSEED={hash_seed} left no readable trace: {e}")


def _first_difference(
    left: list[dict[str, Any]], right: list[dict[str, Any]]
) -> tuple[int, dict[str, Any] | None, dict[str, Any] | None] | None:
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else None
        b = right[i] if i < len(right) else None
        if a != b:
            return i, a, b
    return None


def _report(reference: str, seed: int, difference: tuple[int, Any, Any], as_json: bool) -> None:
    step, a, b = difference
    if as_json:
        print_json(
            {"ok": False, "reference": reference, "seed": seed, "step": step, "left": a, "right": b}
        )
        return
    console.print(
        f"[bold red]nondeterministic[/] {escape(reference)} with seed {seed}: "
        f"the traces part at step {step}"
    )
    for hash_seed, line in zip(HASH_SEEDS, (a, b), strict=True):
        console.print(f"  PYTHONHASHSEED={hash_seed}: {escape(canonical_json(line)[:400])}")
    what = [k for k in ("kind", "seq", "sent", "states") if (a or {}).get(k) != (b or {}).get(k)]
    console.print(f"  they differ in: {', '.join(what) or 'length'}")
    console.print(
        "  Look for iteration over a set of strings, the global random module, the clock or id() "
        "in the processes that step touched."
    )


@cli.command(hidden=True)
@click.argument("reference", metavar="MODULE:SCENARIO")
@click.option("--seed", type=click.IntRange(min=0), default=0)
@click.option("--strategy", type=click.Choice(STRATEGIES), default="swarm")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@step_timeout_option
def trace(reference: str, seed: int, strategy: str, out: Path, step_timeout: float | None) -> None:
    """Write one JSON line per step of a run: the event, what was sent, and a hash of the
    process states after it."""
    scenario = load_scenario(reference)
    recorder = _StateRecorder()
    result = run(
        scenario,
        _Recording(chooser_for(strategy, scenario, seed), recorder),
        liveness_chooser=_Recording(FairChooser(), recorder),
        seed=seed,
        step_timeout=step_timeout,
    )
    recorder.record_final()
    with out.open("w", encoding="utf-8") as file:
        for step in range(len(result.trace)):
            line = result.trace.step_plain(step)
            line["states"] = recorder.states.get(step)
            file.write(canonical_json(line) + "\n")


class _StateRecorder:
    """Hashes the states of all processes after each step, by step."""

    def __init__(self) -> None:
        self.states: dict[int, str] = {}
        self._world: World | None = None

    def record(self, world: World) -> None:
        """Called before each step is chosen: the state is that after the last step."""
        self._world = world
        self.states[world.step] = _states(world)

    def record_final(self) -> None:
        if self._world is not None:
            self.states[self._world.step] = _states(self._world)


def _states(world: World) -> str:
    plain = {str(pid): to_plain(proc) for pid, proc in world.processes.items()}
    return hashlib.sha256(canonical_json(plain).encode()).hexdigest()[:16]


class _Recording:
    """A chooser that hashes the world's states before it lets ``chooser`` pick."""

    def __init__(self, chooser: Chooser, recorder: _StateRecorder) -> None:
        self._chooser = chooser
        self._recorder = recorder

    def next_event(self, world: World) -> Event | None:
        self._recorder.record(world)
        return self._chooser.next_event(world)
