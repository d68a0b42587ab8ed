"""Sweeps on several cores: the same verdict, counts and digest as one worker; a worker that
dies is named and its seeds run again; a seed that kills workers is named, not skipped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import attrs
import pytest

from protocols.lease import bug_lease_assumes_clocks_agree
from protocols.votes import scenario as votes
from rabble_sim.core import InvalidDefinition
from rabble_sim.search import WorkerDied, sweep
from rabble_sim.search._workers import run_in_workers
from rabble_sim.sim import RandomChooser, RunResult, run

from .cli_json import run_json

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="workers are forked")


def report_of(workers: int, scenario: object, seeds: range) -> dict[str, object]:
    report = sweep(scenario, seeds, workers=workers, digests=True)  # type: ignore[arg-type]
    failure = report.failure
    return {
        "seeds": report.seeds,
        "steps": report.steps,
        "events": list(report.events.items()),
        "faults": list(report.faults.items()),
        "dead_letters": report.dead_letters,
        "lost": report.lost,
        "digest": report.trace_digest,
        "failure": None if failure is None else (failure.seed, failure.trace.digest()),
    }


@pytest.mark.parametrize("workers", [2, 3])
def test_the_lowest_failing_seed_and_every_count_are_a_single_workers(workers: int) -> None:
    seeds = range(3, 200)  # failing seeds from 19 on: a later one is often found first
    one = report_of(1, bug_lease_assumes_clocks_agree, seeds)
    assert one["failure"] is not None
    assert report_of(workers, bug_lease_assumes_clocks_agree, seeds) == one


def test_a_sweep_that_passes_has_the_same_digest_on_any_number_of_workers() -> None:
    seeds = range(0, 150)
    one = report_of(1, votes, seeds)
    assert one["failure"] is None and one["seeds"] == 150
    assert report_of(2, votes, seeds) == one


def _run_seed(seed: int) -> tuple[RunResult, list[str]]:
    return run(votes, RandomChooser(seed), messages=False), []


def test_a_worker_that_dies_is_named_and_its_seeds_run_again(tmp_path: Path) -> None:
    marker = tmp_path / "died"

    def dies_once_on_seed_7(seed: int) -> tuple[RunResult, list[str]]:
        if seed == 7 and not marker.exists():
            marker.touch()
            os._exit(9)  # as protocol code that exits the process would
        return _run_seed(seed)

    outcomes, notes = run_in_workers(range(20), 2, dies_once_on_seed_7, digests=False)
    assert [o.seed for o in outcomes] == list(range(20)), "no seed skipped"
    assert len(notes) == 1 and "died running seed 7" in notes[0], notes
    alone, _ = run_in_workers(range(20), 1, _run_seed, digests=False)
    assert [o.steps for o in outcomes] == [o.steps for o in alone]


def test_a_seed_that_kills_its_worker_twice_is_named() -> None:
    def always_dies_on_seed_5(seed: int) -> tuple[RunResult, list[str]]:
        if seed == 5:
            os._exit(9)
        return _run_seed(seed)

    with pytest.raises(WorkerDied, match="seed 5 killed the worker running it twice"):
        run_in_workers(range(12), 2, always_dies_on_seed_5, digests=False)


def test_progress_hears_of_every_seed_up_to_the_verdict() -> None:
    heard: list[int] = []

    run_in_workers(range(40), 2, _run_seed, digests=False, on_seed=heard.append)
    assert sorted(heard) == list(range(40))


def test_run_json_is_the_same_for_one_worker_and_two(tmp_path: Path) -> None:
    bug = "protocols.lease:bug_lease_assumes_clocks_agree"
    two = run_json(bug, 120, tmp_path / "two", "--workers", "2")
    assert two == run_json(bug, 120, tmp_path / "one", "--workers", "1")


def test_a_real_ctrl_c_stops_every_worker_and_says_which_seeds_were_done(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "rabble_sim.cli", "run", "protocols.votes:scenario",
            "--seeds", "987654", "--workers", "2"]  # fmt: skip
    child = subprocess.Popen(args, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 130, err
    line = err.strip().splitlines()[-1]
    assert line.startswith("rabble-sim: interrupted: every worker stopped; seeds 0 to "), line
    left = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    assert "987654" not in left.stdout, "a worker outlived the sweep"


def test_a_seed_whose_run_raises_in_a_worker_raises_as_with_one_worker() -> None:
    def start(node: str, durable: object) -> object:
        built = votes.start(node, None)
        return built[0] if node == "v2" else built  # v2 returns one process, not a list

    lonely = attrs.evolve(votes, start=start)
    with pytest.raises(InvalidDefinition) as alone:
        sweep(lonely, range(10), workers=1)
    with pytest.raises(InvalidDefinition) as together:
        sweep(lonely, range(10), workers=2)
    assert str(together.value) == str(alone.value)
