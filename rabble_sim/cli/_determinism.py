"""``rabble-sim determinism``: run a seed in two fresh interpreters with different hash
seeds and name the first step where their traces part."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from typing import Any

import click
from rich.markup import escape

from ..codec import canonical_json, to_plain
from ..schedule import load_scenario
from ..sim import RandomChooser, Trace, World, run
from ._app import EXIT_OK, EXIT_VIOLATION, cli, fail
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
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def determinism(reference: str, seed: int, seeds: int, as_json: bool) -> None:
    """Check that MODULE:SCENARIO runs the same whatever PYTHONHASHSEED is.

    Each seed runs in two fresh interpreters with different hash seeds; the first step at
    which the traces (events, messages sent, process states) differ is named. Exit 1 if
    they differ anywhere.
    """
    load_scenario(reference)  # a bad reference is a usage error here, not in the children
    for s in range(seed, seed + seeds):
        left, right = (_trace_in_child(reference, s, hash_seed) for hash_seed in HASH_SEEDS)
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


def _trace_in_child(reference: str, seed: int, hash_seed: str) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    command = [sys.executable, "-m", "rabble_sim.cli", "trace", reference, "--seed", str(seed)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no output"
        fail(f"the run under PYTHONHASHSEED={hash_seed} failed: {reason}")
    return [json.loads(line) for line in done.stdout.splitlines()]


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
def trace(reference: str, seed: int) -> None:
    """Print one JSON line per step of a run: the event, what was sent, and a hash of states."""
    scenario = load_scenario(reference)
    recorder = _StateRecorder()
    result = run(scenario, _Recording(RandomChooser(seed), recorder), seed=seed)
    recorder.finish(result.trace)
    for step in range(len(result.trace)):
        line = result.trace.step_plain(step)
        line["states"] = recorder.states[step] if step < len(recorder.states) else None
        print(canonical_json(line))


class _StateRecorder:
    """Hashes the states of all processes before each step (so, after the previous one)."""

    def __init__(self) -> None:
        self.states: list[str] = []
        self._world: World | None = None

    def record(self, world: World) -> None:
        self._world = world
        self.states.append(_states(world))

    def finish(self, trace: Trace) -> None:
        if self._world is not None and len(self.states) < len(trace):
            self.states.append(_states(self._world))


def _states(world: World) -> str:
    plain = {str(pid): to_plain(proc) for pid, proc in world.processes.items()}
    return hashlib.sha256(canonical_json(plain).encode()).hexdigest()[:16]


class _Recording:
    def __init__(self, chooser: RandomChooser, recorder: _StateRecorder) -> None:
        self._chooser = chooser
        self._recorder = recorder

    def next_event(self, world: World) -> Any:
        self._recorder.record(world)
        return self._chooser.next_event(world)
