"""A bug that needs particular inputs (protocols.sets: an element added twice is lost) is
found by run and by check, shrunk to the fewest and simplest inputs, and replayed from the
file without calling make; the correct server passes 2,000 seeds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from protocols import sets
from rabble_sim import Draw
from rabble_sim.schedule import Schedule, load, loads, replay, shrink
from rabble_sim.search import check, sweep
from rabble_sim.sim import Input
from rabble_sim.sim._scenario import Scenario

REFERENCE = "protocols.sets:bug_add_twice"
SIMPLEST = [sets.Add(0), sets.Add(0), sets.Read()]
"""Two adds of the simplest element, and the read that sees it missing."""


def inputs_in(schedule: Schedule) -> list[object]:
    from rabble_sim.schedule._format import to_event

    events = [to_event(e) for e in schedule.events if e["kind"] == "input"]
    return [e.msg for e in events if isinstance(e, Input)]


def shrunk(schedule: Schedule) -> Schedule:
    result = shrink(schedule, sets.bug_add_twice)
    assert result.reproduced is True
    return result.schedule


def test_run_finds_it_and_shrinks_it_to_two_adds_of_the_simplest_element_and_a_read() -> None:
    report = sweep(sets.bug_add_twice, range(300))
    assert report.failure is not None
    found = Schedule.from_run(report.failure, REFERENCE)
    best = shrunk(found)
    assert inputs_in(best) == SIMPLEST
    assert best.violation is not None
    assert "read the set without [0]" in best.violation["message"]
    assert len(best.events) < len(found.events)


def test_check_finds_it_and_the_same_shrinking_follows() -> None:
    report = check(sets.bug_add_twice, examples=1000, seed=2)
    assert report.failure is not None
    assert report.failure.violation is not None
    assert report.failure.violation.check == "reads_see_every_acknowledged_add"
    assert inputs_in(shrunk(Schedule.from_run(report.failure, REFERENCE))) == SIMPLEST


def test_the_saved_schedule_replays_without_calling_make(monkeypatch: pytest.MonkeyPatch) -> None:
    report = sweep(sets.bug_add_twice, range(300))
    assert report.failure is not None
    text = shrunk(Schedule.from_run(report.failure, REFERENCE)).dumps()

    def make_nothing(draw: Draw) -> object:
        raise AssertionError("replay called make")

    inputs = sets.bug_add_twice.inputs[0]
    without_make = Scenario(
        "bug_add_twice",
        sets.bug_add_twice.nodes,
        sets.bug_add_twice.start,
        invariants=sets.bug_add_twice.invariants,
        inputs=type(inputs)(inputs.to, make_nothing, inputs.max),
    )
    schedule = loads(text)
    outcome = replay(schedule, without_make)
    assert outcome.reproduces(schedule) and outcome.divergences == ()


def test_the_correct_server_passes_2000_seeds() -> None:
    report = sweep(sets.scenario, range(2000))
    assert report.ok
    assert report.events["input"] >= 2000 * 3  # every run gave inputs


def test_the_command_line_saves_inputs_as_events_and_replays_them(tmp_path: Path) -> None:
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "rabble_sim.cli",
            "run",
            REFERENCE,
            "--seeds",
            "300",
            "--save-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 1, ran.stderr
    (saved,) = tmp_path.glob("*.json")
    given = [e for e in json.loads(saved.read_text())["events"] if e["kind"] == "input"]
    assert [e["msg"] for e in given] == [
        {"sets.add": {"element": 0}},
        {"sets.add": {"element": 0}},
        {"sets.read": {}},
    ]
    assert all("draws" in e for e in given)
    # The clients are alike: shrinking swaps them so that the first input goes to the first.
    assert given[0]["to"] == "client::c1"
    assert load(saved).violation is not None
    replayed = subprocess.run(
        [sys.executable, "-m", "rabble_sim.cli", "replay", str(saved)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert replayed.returncode == 1
    assert "violation (reproduced)" in replayed.stdout
