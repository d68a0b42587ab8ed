"""Hypothesis-driven search: finds, shrinks, and is reproducible with a seed."""

from __future__ import annotations

import importlib
from collections import Counter

import pytest
from hypothesis.database import InMemoryExampleDatabase

from rabble_sim import run
from rabble_sim.schedule import Schedule, load_scenario, replay, shrink
from rabble_sim.search import check
from rabble_sim.sim import PCTChooser, RandomChooser, RecordedDraws, Scenario
from rabble_sim.sim._hypothesis import ByteDraws, HypothesisChooser


def test_check_finds_and_shrinks_the_echo_bug() -> None:
    reference = "protocols.echo:bug_shared_cache"
    scenario = load_scenario(reference)
    report = check(scenario, examples=50, seed=3)
    assert report.failure is not None and report.failure.violation is not None
    assert report.failure.violation.check == "postcondition replies_match_requests"
    found = Schedule.from_run(report.failure, reference)
    assert replay(found, scenario).reproduces(found)
    assert len(shrink(found, scenario).schedule.events) == 3


def test_check_with_a_seed_finds_the_same_failure_twice() -> None:
    scenario = load_scenario("protocols.echo:bug_shared_cache")
    first, second = (check(scenario, examples=30, seed=9) for _ in range(2))
    assert first.failure is not None and second.failure is not None
    assert first.failure.trace.digest() == second.failure.trace.digest()


def test_check_passes_a_correct_scenario() -> None:
    report = check(load_scenario("protocols.echo:scenario"), examples=20, seed=1)
    assert report.ok and report.runs >= 20


def test_zero_bytes_are_the_simplest_decisions_and_the_lightest_fault_mix() -> None:
    draws = ByteDraws(bytes(64), seed=3)
    assert [draws.choose(5), draws.weighted([0.75]), draws.choose(70_000)] == [0, 0, 0]
    scenario = load_scenario("protocols.omega:bug_round_not_persisted")
    mix = HypothesisChooser(ByteDraws(bytes(64), seed=3), scenario.faults).faults
    assert (mix.drop, mix.duplicate, mix.crash, mix.partition) == (0.0, 0.0, 0, False)
    # Drops and duplicates twice as likely, the most crashes, partitions on: the heaviest.
    heaviest = bytes([0, 3, 0, 3, 0, 2, 255, 255])
    heavy = HypothesisChooser(ByteDraws(heaviest, seed=3), scenario.faults).faults
    assert heavy.drop == 2 * scenario.faults.drop and heavy.duplicate == 2 * scenario.faults.drop
    assert heavy.crash == scenario.faults.crash and heavy.partition


def test_byte_decisions_come_true_to_their_probabilities() -> None:
    # Every two-byte value once: the shares are exact, as uniform bytes make them.
    every = b"".join(v.to_bytes(2, "big") for v in range(1 << 16))
    weighted, chosen = ByteDraws(every, seed=0), ByteDraws(every, seed=0)
    outcomes = Counter(weighted.weighted([0.2, 0.1]) for _ in range(1 << 16))
    assert [round(outcomes[i] / (1 << 16), 3) for i in range(3)] == [0.7, 0.2, 0.1]
    thirds = Counter(chosen.choose(3) for _ in range(1 << 16))
    assert max(thirds.values()) - min(thirds.values()) <= 1


def test_past_its_bytes_a_run_decides_from_its_seed() -> None:
    def decisions(prefix: bytes, seed: int) -> list[int]:
        draws = ByteDraws(prefix, seed)
        return [draws.choose(1000) for _ in range(20)]

    assert decisions(b"", 7) == decisions(b"", 7)
    assert decisions(b"", 7) != decisions(b"", 8)
    assert decisions(b"\x00\x05", 7)[0] == 5
    assert decisions(b"\x00\x05", 7)[1:] == decisions(b"", 7)[:19]


BUGS = [
    f"{module}:{name}"
    for module in ("protocols.echo", "protocols.omega", "protocols.sets", "protocols.vr")
    for name, value in sorted(vars(importlib.import_module(module)).items())
    if name.startswith("bug_") and isinstance(value, Scenario)
]


@pytest.mark.parametrize("reference", BUGS)
def test_check_finds_every_reference_bug_with_its_default_examples(reference: str) -> None:
    scenario = load_scenario(reference)
    report = check(scenario, seed=0, shrink=False, profile="rabble-dev")
    assert report.failure is not None and report.failure.violation is not None
    assert report.runs <= 100
    found = Schedule.from_run(report.failure, reference)
    assert replay(found, scenario).reproduces(found)


def test_shrinking_stops_when_its_time_is_up_and_says_so() -> None:
    reference = "protocols.omega:bug_round_not_persisted"
    scenario = load_scenario(reference)
    report = check(scenario, seed=1, shrink=False)
    assert report.failure is not None
    found = Schedule.from_run(report.failure, reference)
    result = shrink(found, scenario, seconds=0.0)
    assert result.reproduced is True
    assert result.note == "stopped after 0 s: shorter may exist"
    assert result.attempts == 1, "the one replay that checks the failure reproduces"


def test_a_run_is_made_again_from_its_decisions_alone() -> None:
    scenario = load_scenario("protocols.echo:bug_shared_cache")
    first = check(scenario, examples=30, seed=9)
    assert first.failure is not None and first.failure.decisions is not None
    for chooser in (RandomChooser(5), PCTChooser(5, depth=3, steps=200)):
        result = run(scenario, chooser)
        again = run(scenario, chooser.again(RecordedDraws(result.decisions or ())))
        assert again.trace.digest() == result.trace.digest()


def test_a_failure_in_the_example_database_is_tried_first() -> None:
    scenario = load_scenario("protocols.sets:bug_add_twice")
    database = InMemoryExampleDatabase()
    # No seed: Hypothesis leaves the database alone under @seed.
    first = check(scenario, shrink=False, database=database)
    assert first.failure is not None and first.runs > 2
    again = check(scenario, shrink=False, database=database)
    # The saved failure, replayed first, then once more as Hypothesis reports it.
    assert again.failure is not None and again.runs == 2
    other = check(load_scenario("protocols.echo:scenario"), examples=20, database=database)
    assert other.ok, "another scenario's examples are kept apart"
