"""What every reference protocol's tests ask of a known bug: a sweep finds it with the
expected check, and its shrunk schedule, saved and loaded, replays the same violation; and
the command line, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from rabble_sim import Scenario
from rabble_sim.schedule import Schedule, load, replay, shrink
from rabble_sim.search import sweep

ROOT = Path(__file__).resolve().parents[2]


def found_shrunk_and_replayed(
    reference: str, bug: Scenario, seeds: int, checks: set[str], tmp_path: Path
) -> None:
    """``bug`` (the scenario ``reference`` names) fails within ``seeds`` seeds, by one of
    ``checks``, and its shrunk schedule replays the same violation."""
    report = sweep(bug, range(seeds))
    found = report.failure
    assert found is not None and found.violation is not None, f"{reference}: none in {seeds}"
    assert found.violation.check in checks, found.violation

    schedule = Schedule.from_run(found, reference)
    shrunk = shrink(schedule, bug, max_attempts=150).schedule
    assert len(shrunk.events) <= len(schedule.events)
    again = replay(load(shrunk.save(tmp_path)), bug)
    assert again.reproduces(shrunk), f"{reference}: {again.violation} after shrinking"


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``rabble-sim ARGS`` run in ``cwd``, with the repository importable."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "rabble_sim.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def found_by_the_command_line(cwd: Path, reference: str, seeds: int) -> str:
    """``rabble-sim run REFERENCE --seeds SEEDS --json`` finds a violation, and the schedule
    it saved fails again on ``rabble-sim replay``; the check it names."""
    found = cli(cwd, "run", reference, "--seeds", str(seeds), "--json")
    assert found.returncode == 1, found.stderr
    report = json.loads(found.stdout)
    replayed = cli(cwd, "replay", report["schedule"])
    assert replayed.returncode == 1 and "reproduced" in replayed.stdout
    return str(report["violation"]["check"])
