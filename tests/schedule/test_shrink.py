"""The delta-debugging shrinker: shortest known schedules, and the violation kept."""

from __future__ import annotations

import sys
from pathlib import Path

import attrs
import pytest

from protocols.echo import bug_shared_cache
from rabble_sim import Faults, Scenario, View, run
from rabble_sim.schedule import Schedule, load_scenario, loads, replay, shrink
from rabble_sim.search import sweep
from rabble_sim.sim import STEP_TIMEOUT, Crash, ReplayChooser, Restart

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

# The shortest schedules known for the reference bugs (found by hand and by long searches):
# two clients' first requests and one reply; two acquires and two grants.
SHORTEST = {"protocols.echo:bug_shared_cache": 3, "lock:bug_double_grant": 4}


def found(reference: str, strategy: str, first_seed: int) -> Schedule:
    report = sweep(load_scenario(reference), range(first_seed, first_seed + 200), strategy=strategy)
    assert report.failure is not None
    return Schedule.from_run(report.failure, reference)


@pytest.mark.parametrize("reference", sorted(SHORTEST))
@pytest.mark.parametrize(("strategy", "first_seed"), [("random", 0), ("swarm", 7), ("pct", 3)])
def test_the_shrinker_reaches_the_shortest_known_schedule(
    reference: str, strategy: str, first_seed: int
) -> None:
    scenario = load_scenario(reference)
    original = found(reference, strategy, first_seed)
    result = shrink(original, scenario)
    assert result.reproduced is True
    shrunk = result.schedule
    assert len(shrunk.events) == SHORTEST[reference]
    assert shrunk.violation is not None and original.violation is not None
    assert shrunk.violation["check"] == original.violation["check"]
    # The shrunk file replays, exactly, to the same violation.
    outcome = replay(loads(shrunk.dumps()), scenario)
    assert outcome.reproduces(shrunk) and outcome.divergences == ()


def test_shrinking_removes_faults_the_bug_does_not_need() -> None:
    reference = "protocols.echo:bug_shared_cache"
    scenario = load_scenario(reference)
    # A run with drops and duplicates in it, before the violation.
    noisy = next(
        s
        for seed in range(300)
        if (s := found(reference, "random", seed))
        and any(e["kind"] in ("drop", "duplicate") for e in s.events)
    )
    shrunk = shrink(noisy, scenario).schedule
    assert all(e["kind"] == "deliver" for e in shrunk.events)


def test_a_liveness_violation_keeps_its_liveness_phase() -> None:
    reference = "protocols.omega:bug_no_self"
    scenario = load_scenario(reference)
    original = found(reference, "random", 0)
    shrunk = shrink(original, scenario, max_attempts=50).schedule
    assert (
        shrunk.violation is not None and shrunk.violation["check"] == "liveness agree_on_smallest"
    )
    assert len(shrunk.events) < len(original.events)
    assert shrunk.liveness_from == 1, "no main-phase event is needed: the bug shows without faults"
    assert replay(shrunk, scenario).reproduces(shrunk)


def test_a_schedule_that_does_not_reproduce_comes_back_unchanged() -> None:
    reference = "protocols.echo:bug_shared_cache"
    original = found(reference, "random", 0)
    fixed = load_scenario("protocols.echo:scenario")
    result = shrink(original, fixed)
    assert result.schedule == original
    assert result.attempts == 1
    assert result.reproduced is False
    assert result.note is not None and "not deterministic" in result.note


def test_a_schedule_that_reproduces_says_so_even_when_no_replay_is_left_to_shrink_it() -> None:
    reference = "protocols.echo:bug_shared_cache"
    original = found(reference, "random", 0)
    result = shrink(original, load_scenario(reference), max_attempts=1)
    assert result.reproduced is True and result.note is None
    # One replay, spent on reproducing: the schedule comes back as it was, yet reproduced.
    assert result.attempts == 1 and result.schedule == original


def test_a_step_timeout_is_not_tried_which_is_not_a_failure_to_reproduce() -> None:
    reference = "protocols.echo:bug_shared_cache"
    original = found(reference, "random", 0)
    timed_out = attrs.evolve(
        original, violation={"check": STEP_TIMEOUT, "message": "step 3 ran for more than 1 s"}
    )
    result = shrink(timed_out, load_scenario(reference))
    assert result.reproduced is None and result.attempts == 0
    assert result.schedule == timed_out
    assert result.note is not None and "step timeout" in result.note


def test_a_schedule_without_violation_cannot_be_shrunk() -> None:
    reference = "protocols.echo:bug_shared_cache"
    original = attrs.evolve(found(reference, "random", 0), violation=None)
    with pytest.raises(Exception, match="no violation to keep"):
        shrink(original, load_scenario(reference))


def test_faults_of_time_disks_and_links_that_a_failure_does_not_need_are_shrunk_away() -> None:
    faults = attrs.evolve(
        bug_shared_cache.faults,
        crash=1, partition=True, one_way=True, latency=(0, 5),
        disk_loss=0.5, disk_corruption=0.5, drift=0.2, jump=50, jump_rate=0.05,
    )  # fmt: skip
    scenario = attrs.evolve(bug_shared_cache, faults=faults)
    report = sweep(scenario, range(200), strategy="random")
    assert report.failure is not None
    new_kinds = {"drift", "jump", "lose_disk", "corrupt_disk"}
    before = Schedule.from_run(report.failure, "protocols.echo:bug_shared_cache")
    assert new_kinds & {event["kind"] for event in before.events}, "the run had some"
    shrunk = shrink(before, scenario).schedule
    assert not new_kinds & {event["kind"] for event in shrunk.events}
    assert not any(event.get("one_way") for event in shrunk.events)
    assert replay(shrunk, scenario).violation is not None


def _nothing_down_after_the_start(view: View) -> None:
    assert view.step < 2 or len(view.up_nodes) == 3, f"down at step {view.step}"


THREE = Scenario(
    "three", ["a", "b", "c"], lambda node, durable: [], faults=Faults(crash=1),
    invariants=[_nothing_down_after_the_start],
)  # fmt: skip


def test_shrinking_keeps_to_the_faults_the_scenario_allows() -> None:
    # Without its restart, "crash a, restart a, crash b" would be a shorter failure, with
    # two nodes down at once: a counterexample outside the scenario's fault model.
    result = run(THREE, ReplayChooser([Crash("a"), Restart("a"), Crash("b")]))
    assert result.violation is not None and result.violation.step == 3
    found = Schedule.from_run(result, "tests.schedule.test_shrink:THREE")
    shrunk = shrink(found, THREE)
    assert shrunk.reproduced is True
    assert [e["kind"] for e in shrunk.schedule.events] == ["crash", "restart", "crash"]
