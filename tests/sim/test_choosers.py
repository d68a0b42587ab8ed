"""Choosers: deterministic per seed, only enabled events, faults as configured, 0 = FIFO."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import attrs
import pytest
from hypothesis import given, settings, strategies as st

from rabble_sim import Envelope, Faults, Pid, Scenario, View, run
from rabble_sim.sim import (
    EVENT_KINDS,
    Chooser,
    Crash,
    Deliver,
    DrawingChooser,
    Drop,
    Duplicate,
    Event,
    FairChooser,
    FireTimer,
    Heal,
    Input,
    InputOffer,
    Partition,
    RandomChooser,
    Restart,
    World,
)
from tests.sim.conftest import ALL_FAULTS, Ping, chatter, chatter_pid

seeds = st.integers(min_value=0, max_value=2**32)


class Simplest:
    """Every draw is the simplest: index 0, no fault ever drawn."""

    def choose(self, n: int) -> int:
        return 0

    def weighted(self, probabilities: Sequence[float]) -> int:
        return 0


def Fifo() -> DrawingChooser:  # noqa: N802  (reads as the chooser it makes)
    return DrawingChooser(Simplest())


class Watch:
    """Wraps a chooser; checks each event against the world before the run applies it."""

    def __init__(self, inner: Chooser) -> None:
        self.inner = inner
        self.events: list[Event] = []
        self.oldest: list[int | None] = []
        self.most_down = 0
        self.idle_at_end = False

    def next_event(self, world: World) -> Event | None:
        faults = getattr(self.inner, "faults", None) or world.scenario.faults
        enabled = list(world.enabled(faults))
        event = self.inner.next_event(world)
        if isinstance(event, Input):
            offer = InputOffer(event.source, event.to)
            assert offer in enabled, f"{offer} is not among the enabled events {enabled}"
        elif event is not None and not isinstance(event, Partition):
            assert event in enabled, f"{event} is not among the enabled events {enabled}"
        self.idle_at_end = len(world.network.deliverable) == 0 and world.timers.next() is None
        if event is not None:
            assert_enabled(world, event)
            self.events.append(event)
            self.oldest.append(
                world.network.deliverable.oldest() if len(world.network.deliverable) else None
            )
        self.most_down = max(self.most_down, len(world.down_nodes()))
        return event

    def kinds(self) -> Counter[str]:
        return Counter(event.kind for event in self.events)


def assert_enabled(world: World, event: Event) -> None:
    if isinstance(event, Input):
        inputs = world.scenario.inputs[event.source]
        assert world.inputs_given[event.source] < inputs.max, "no more of these inputs"
        assert event.to in inputs.to and world.up[event.to.node]
    elif isinstance(event, Deliver) and event.seq in world.network.transit:
        due = world.next_due()
        assert due is not None and due[1] == event.seq, f"{event} does not arrive next"
    elif isinstance(event, Deliver | Drop | Duplicate):
        assert event.seq in world.network.deliverable, (
            f"{event} names a message that is not deliverable"
        )
        if isinstance(event, Drop | Duplicate):
            env = world.envelope(event.seq)
            assert env is not None
            assert env.to.node != env.from_.node, "only messages between nodes are faulted"
    elif isinstance(event, FireTimer):
        assert event.seq == world.timers.next()
        due = world.next_due()
        assert due is not None and due[1] == event.seq, f"{event} is not what comes next"
    elif isinstance(event, Crash):
        assert event.node in world.up_nodes()
    elif isinstance(event, Restart):
        assert event.node in world.down_nodes()
    elif isinstance(event, Partition):
        assert not world.partitioned
        assert sorted(n for group in event.groups for n in group) == sorted(world.scenario.nodes)
        assert all(event.groups)
    elif isinstance(event, Heal):
        assert world.partitioned
    else:
        assert world.fault_problem(event) is None, world.fault_problem(event)


def watched_run(scenario: Scenario, chooser: Chooser, **kwargs: Any) -> Watch:
    watch = Watch(chooser)
    result = run(scenario, watch, **kwargs)
    assert result.ok, result.violation
    assert result.events() == watch.events
    return watch


@settings(max_examples=25, deadline=None)
@given(seeds)
def test_random_chooser_only_picks_enabled_events(seed: int) -> None:
    watched_run(chatter(faults=ALL_FAULTS, max_steps=300), RandomChooser(seed))


def test_random_chooser_with_all_faults_produces_every_kind_of_event() -> None:
    kinds: Counter[str] = Counter()
    for seed in range(12):
        kinds += watched_run(chatter(faults=ALL_FAULTS, max_steps=300), RandomChooser(seed)).kinds()
    assert set(kinds) == set(EVENT_KINDS) - {"input"}  # chatter takes no inputs


@settings(max_examples=10, deadline=None)
@given(seeds)
def test_random_chooser_is_deterministic_per_seed(seed: int) -> None:
    scenario = chatter(faults=ALL_FAULTS, max_steps=300)
    first = run(scenario, RandomChooser(seed))
    second = run(scenario, RandomChooser(seed))
    assert first.events() == second.events()
    assert first.trace.digest() == second.trace.digest()


def test_different_seeds_give_different_schedules() -> None:
    scenario = chatter(faults=ALL_FAULTS, max_steps=300)
    schedules = {tuple(run(scenario, RandomChooser(seed)).events()) for seed in range(5)}
    assert len(schedules) == 5


def test_chooser_faults_override_the_scenarios() -> None:
    scenario = chatter(faults=ALL_FAULTS, max_steps=300)
    watch = watched_run(scenario, RandomChooser(3, faults=Faults()))
    assert set(watch.kinds()) <= {"deliver", "timeout"}


def up_at_least(n: int) -> Any:
    def enough_nodes_up(view: View) -> None:
        assert len(view.up_nodes) >= n, f"only {view.up_nodes} are up"

    return enough_nodes_up


@settings(max_examples=15, deadline=None)
@given(seeds)
def test_random_chooser_respects_faults(seed: int) -> None:
    often = {"crash_rate": 0.5, "restart_rate": 0.1, "partition_rate": 0.3}
    nodes = ("n1", "n2", "n3", "n4")

    no_drops = Faults(drop=0.0, duplicate=0.5, crash=1, partition=True, **often)
    kinds = watched_run(chatter(nodes, faults=no_drops, max_steps=200), RandomChooser(seed))
    assert kinds.kinds()["drop"] == 0

    no_partitions = Faults(drop=0.3, crash=2, partition=False, **often)
    scenario = chatter(nodes, faults=no_partitions, invariants=[up_at_least(2)], max_steps=200)
    watch = watched_run(scenario, RandomChooser(seed))
    assert watch.kinds()["partition"] == watch.kinds()["heal"] == 0
    assert watch.most_down <= 2

    no_crashes = Faults(drop=0.3, crash=0, partition=True, **often)
    watch = watched_run(chatter(nodes, faults=no_crashes, max_steps=200), RandomChooser(seed))
    assert watch.kinds()["crash"] == watch.kinds()["restart"] == 0


def test_crash_limit_is_reached_but_never_passed() -> None:
    faults = Faults(crash=2, crash_rate=1.0, restart_rate=0.2)
    nodes = ("n1", "n2", "n3", "n4")
    watch = watched_run(
        chatter(nodes, faults=faults, invariants=[up_at_least(2)], max_steps=200),
        RandomChooser(1),
    )
    assert watch.most_down == 2


def test_choice_zero_everywhere_is_fifo_delivery_without_faults() -> None:
    always = Faults(
        drop=1.0,
        duplicate=1.0,
        crash=1,
        partition=True,
        crash_rate=1.0,
        restart_rate=1.0,
        partition_rate=1.0,
        heal_rate=1.0,
    )
    watch = watched_run(chatter(faults=always, rounds=4), Fifo())
    assert set(watch.kinds()) == {"deliver", "timeout"}
    delivered = []
    for event, oldest in zip(watch.events, watch.oldest, strict=True):
        if isinstance(event, Deliver):
            assert event.seq == oldest
            delivered.append(event.seq)
        else:
            assert oldest is None, "a timer fires only when no message is in flight"
    assert delivered == sorted(delivered)
    assert watch.kinds()["timeout"] == 3 * (1 + 4), "each process: its first timer and 4 rounds"


def test_choice_zero_is_the_oldest_message_not_the_first_slot() -> None:
    def start(node: str, durable: Any) -> list[Any]:
        return [Sender(Pid("p", node))]

    @attrs.define
    class Sender:
        pid: Pid

        def init(self, output: list[Envelope]) -> None:
            output.extend(Envelope(Pid("p", "b"), self.pid, Ping(i)) for i in range(4))

        def handle(self, *args: Any) -> None:
            pass

    world = World(Scenario("slots", ["a", "b"], start))
    world.start()
    world.apply(Deliver(0))  # the last message moves into the freed slot
    world.apply(Deliver(2))
    assert Fifo().next_event(world) == Deliver(1)


def test_fair_chooser_heals_restarts_then_serves_in_time_order() -> None:
    world = World(chatter(("n1", "n2", "n3", "n4"), faults=Faults(crash=2)))
    world.start()
    world.apply(Crash("n4"))
    world.apply(Crash("n2"))
    world.apply(Partition((("n1",), ("n2", "n3", "n4"))))
    blocked = len(world.network.held)
    assert blocked > 0

    fair = FairChooser()
    events: list[Event] = []
    while (event := fair.next_event(world)) is not None:
        # In time order, first in first out: a timer fires only once every message that
        # has arrived is delivered, unless it is due now and older than them.
        timer = world.timers.next()
        if isinstance(event, Deliver):
            assert event.seq == min(world.network.deliverable)
            if timer is not None:
                assert world.timers[timer].due > world.now or event.seq < timer
        if isinstance(event, FireTimer):
            assert event.seq == timer
            oldest = min(world.network.deliverable, default=None)
            assert oldest is None or (world.timers[timer].due == world.now and timer < oldest)
        events.append(event)
        world.apply(event)
        assert len(events) < 1000
    assert events[:3] == [Heal(), Restart("n2"), Restart("n4")]
    assert {type(event) for event in events[3:]} == {Deliver, FireTimer}
    assert world.timers.next() is None
    assert len(world.network.deliverable) == 0
    for node in ("n1", "n2", "n3", "n4"):
        assert world.processes[chatter_pid(node)].pongs, f"{node} heard from nobody"


@pytest.mark.parametrize("chooser", [Fifo(), RandomChooser(4)])
def test_a_run_ends_when_nothing_is_left_to_do(chooser: Chooser) -> None:
    watch = watched_run(chatter(max_steps=10_000), chooser)
    assert len(watch.events) < 10_000
    assert watch.idle_at_end


def test_a_chooser_allowed_more_crashes_than_nodes_stops_when_all_are_down() -> None:
    faults = Faults(crash=5, crash_rate=1.0, restart_rate=0.0)
    watch = watched_run(chatter(("n1", "n2")), RandomChooser(0, faults=faults))
    assert sorted(event.kind for event in watch.events) == ["crash", "crash"]
    assert watch.most_down == 2
