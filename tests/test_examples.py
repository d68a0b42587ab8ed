"""The README's example does what the README says."""

from __future__ import annotations

import sys
from pathlib import Path

from rabble_sim import RandomChooser, run
from rabble_sim.search import explore, sweep

sys.path.insert(0, str(Path(__file__).parent.parent / "examples"))

import lock


def test_the_correct_lock_passes_many_seeds() -> None:
    assert sweep(lock.scenario, range(300)).ok


def test_the_double_grant_is_found_at_once() -> None:
    result = run(lock.bug_double_grant, RandomChooser(0))
    assert result.violation is not None
    assert result.violation.check == "one_holder"
    assert "all hold the lock" in result.violation.message


def test_the_correct_lock_passes_depth_8_with_and_without_symmetry() -> None:
    reduced, plain = explore(lock.scenario, depth=8), explore(lock.scenario, depth=8, symmetry=())
    assert reduced.ok and plain.ok and reduced.exhausted and plain.exhausted
    assert reduced.unique < plain.unique


def test_exploration_finds_the_double_grant_in_four_steps() -> None:
    report = explore(lock.bug_double_grant)
    assert report.violation is not None and report.violation.check == "one_holder"
    assert report.failure is not None and report.failure.steps == 4
