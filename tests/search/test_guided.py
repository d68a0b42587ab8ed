"""Coverage-guided search: deterministic per seed range, a corpus of runs that reached new
abstract states, a scenario's own abstraction, and bugs found that replay."""

from __future__ import annotations

from collections.abc import Hashable

import attrs

from protocols.lease import bug_lease_assumes_clocks_agree
from protocols.votes import scenario as votes
from rabble_sim.search import Guide, default_coverage, sweep
from rabble_sim.search._seeds import RunOptions
from rabble_sim.sim import ReplayChooser, View, World, run

OPTIONS = RunOptions(strategy="guided")


def test_the_same_seeds_give_the_same_guided_search() -> None:
    first = sweep(votes, range(120), strategy="guided", digests=True)
    again = sweep(votes, range(120), strategy="guided", digests=True, workers=2)
    assert first.ok and first.trace_digest == again.trace_digest
    assert 0 < first.corpus == again.corpus < 120, "some runs reached new states, not all"


def test_guided_search_finds_a_bug_whose_schedule_replays() -> None:
    report = sweep(bug_lease_assumes_clocks_agree, range(300), strategy="guided")
    failure = report.failure
    assert failure is not None and failure.violation is not None
    events = failure.events()
    again = run(
        bug_lease_assumes_clocks_agree,
        ReplayChooser(events, failure.trace.all_randoms()),
        max_steps=len(events),
    )
    assert again.violation is not None and again.violation.check == failure.violation.check


def test_a_run_joins_the_corpus_exactly_when_it_reaches_an_abstract_state_first() -> None:
    guide = Guide(votes)
    grew = []
    for seed in range(60):
        corpus, seen = len(guide.corpus), len(guide.seen)
        guide.run(seed, options=OPTIONS)
        assert (len(guide.corpus) > corpus) == (len(guide.seen) > seen)
        grew.append(len(guide.corpus) > corpus)
    assert grew[0] and not all(grew)


def test_a_scenarios_own_coverage_is_what_counts() -> None:
    def roles_only(view: View) -> Hashable:
        return frozenset(type(p).__name__ for p in view.processes.values())

    guide = Guide(attrs.evolve(votes, coverage=roles_only))
    for seed in range(20):
        guide.run(seed, options=OPTIONS)
    assert guide.seen == {frozenset({"Voter", "Candidate"})}, "one abstract state: one run kept"
    assert len(guide.corpus) == 1


def test_the_default_coverage_keeps_the_small_values_of_every_process() -> None:
    world = World(votes)
    world.start()
    world_view = View(world)
    covered = dict(default_coverage(world_view))  # type: ignore[arg-type]
    assert set(covered) == {str(pid) for pid in world_view.processes}
    for fields in covered.values():
        for _, value in fields:
            assert value is None or isinstance(value, bool | int | str)
