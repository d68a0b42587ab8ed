"""The README's example does what the README says."""

from __future__ import annotations

import sys
from pathlib import Path

from rabble_sim import RandomChooser, run
from rabble_sim.search import sweep

sys.path.insert(0, str(Path(__file__).parent.parent / "examples"))

import lock


def test_the_correct_lock_passes_many_seeds() -> None:
    assert sweep(lock.scenario, range(300)).ok


def test_the_double_grant_is_found_at_once() -> None:
    result = run(lock.bug_double_grant, RandomChooser(0))
    assert result.violation is not None
    assert result.violation.check == "one_holder"
    assert "all hold the lock" in result.violation.message
