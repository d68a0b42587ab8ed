"""Exhaustive exploration (a first slice of issue 15): shortest counterexamples, state
fingerprints that ignore seqs and absolute time, and an exhausted bound."""

from __future__ import annotations

import copy

from rabble_sim import Envelope, Pid
from rabble_sim.schedule import Schedule, load_scenario, loads, replay
from rabble_sim.search import explore, fingerprint
from rabble_sim.sim import Deliver
from tests.sim.cluster import Actor, Cluster, Note


def test_explore_finds_the_echo_bug_with_a_shortest_schedule_that_replays() -> None:
    reference = "protocols.echo:bug_shared_cache"
    scenario = load_scenario(reference)
    report = explore(scenario, depth=6)
    assert report.violation is not None
    assert report.violation.check == "postcondition replies_match_requests"
    assert report.failure is not None and report.failure.steps == 3, "the shortest known"
    schedule = loads(Schedule.from_run(report.failure, reference).dumps())
    assert replay(schedule, scenario).reproduces(schedule)


def two_notes(actor: Actor) -> list[Envelope]:
    """a's init: one note to b, one to c."""
    return [Envelope(Pid("p", node), actor.pid, Note(f"to {node}")) for node in ("b", "c")]


def test_a_fingerprint_ignores_the_order_that_led_to_a_state_and_its_seqs() -> None:
    cluster = Cluster(
        ("a", "b", "c"),
        lambda node: [Actor(Pid("p", node), two_notes if node == "a" else lambda a: [])],
    )
    first, second = cluster.world, copy.deepcopy(cluster.world)
    to_b, to_c = cluster.seqs()
    for world, order in ((first, (to_b, to_c)), (second, (to_c, to_b))):
        for seq in order:
            world.apply(Deliver(seq))
    assert fingerprint(first) == fingerprint(second)
    assert fingerprint(first) != fingerprint(cluster.world.__class__(cluster.scenario))


def test_a_small_correct_scenario_is_exhausted_without_a_violation() -> None:
    cluster = Cluster(
        ("a", "b", "c"),
        lambda node: [Actor(Pid("p", node), two_notes if node == "a" else lambda a: [])],
    )
    report = explore(cluster.scenario, depth=10)
    assert report.ok and report.exhausted
    # Two notes in flight, delivered in either order: 1 + 2 + 1 distinct states.
    assert report.unique == 4 and report.depth == 2
