"""Swarm testing and PCT: deterministic per seed, within the scenario's faults, and they
find the reference bugs."""

from __future__ import annotations

import pytest

from rabble_sim import Faults, run
from rabble_sim.schedule import load_scenario
from rabble_sim.search import STRATEGIES, chooser_for, sweep
from rabble_sim.sim import PCTChooser, fault_kinds, swarm_faults

BUGS = [
    "protocols.echo:bug_shared_cache",
    "protocols.omega:bug_no_self",
    "protocols.omega:bug_round_not_persisted",
]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("reference", BUGS)
def test_every_strategy_finds_every_reference_bug(strategy: str, reference: str) -> None:
    report = sweep(load_scenario(reference), range(300), strategy=strategy)
    assert report.failure is not None, f"{strategy} missed {reference} in 300 seeds"


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_strategy_is_deterministic_per_seed(strategy: str) -> None:
    scenario = load_scenario("protocols.omega:scenario")
    digests = {run(scenario, chooser_for(strategy, scenario, 11)).trace.digest() for _ in range(2)}
    assert len(digests) == 1
    other = run(scenario, chooser_for(strategy, scenario, 12)).trace.digest()
    assert other not in digests


def test_swarm_mixes_stay_within_the_scenarios_faults_and_vary() -> None:
    base = Faults(drop=0.2, duplicate=0.1, crash=2, partition=True)
    mixes = [swarm_faults(base, seed) for seed in range(200)]
    assert mixes == [swarm_faults(base, seed) for seed in range(200)]
    assert all(m.drop <= 0.4 and m.duplicate <= 0.2 and m.crash <= 2 for m in mixes)
    assert {m.drop == 0 for m in mixes} == {True, False}, "drops are off in some seeds only"
    assert {m.partition for m in mixes} == {True, False}
    assert {m.crash for m in mixes} == {0, 1, 2}
    quiet = Faults()
    assert all(fault_kinds(swarm_faults(quiet, seed)) == [] for seed in range(20)), "adds no fault"


def test_a_sweep_reports_its_fault_mixes() -> None:
    scenario = load_scenario("protocols.omega:scenario")
    report = sweep(scenario, range(40), strategy="swarm")
    assert report.strategy == "swarm" and report.seeds == 40
    assert 0 < report.faults["partition"] < 40
    uniform = sweep(scenario, range(40), strategy="random")
    assert uniform.faults["partition"] == 40


def test_pct_serves_the_highest_priority_channel_and_lowers_it_at_change_points() -> None:
    scenario = load_scenario("protocols.echo:bug_shared_cache")
    chooser = PCTChooser(5, depth=3, steps=50)
    assert len(chooser._change_at) == 2
    result = run(scenario, chooser, max_steps=50)
    assert result.steps > 0
    # Same seed, same depth: the same schedule.
    again = run(scenario, PCTChooser(5, depth=3, steps=50), max_steps=50)
    assert again.trace.digest() == result.trace.digest()
    with pytest.raises(ValueError, match="depth must be at least 1"):
        PCTChooser(0, depth=0)
