"""Exhaustive exploration: shortest counterexamples, fingerprints that ignore seqs and
absolute time, state counts against a brute-force enumeration, copy-on-write forks,
symmetry, stuck states and the fair ending, bounds."""

from __future__ import annotations

import copy
import dataclasses
import random
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import pytest

from rabble_sim import (
    ClockReading,
    CorrelationId,
    Envelope,
    Faults,
    HistoryEvent,
    Inputs,
    Liveness,
    Pid,
    Scenario,
    View,
    complete,
    invoke,
    message,
    read_clock,
    start_timer,
)
from rabble_sim.core import InvalidDefinition, UsageError, get_random
from rabble_sim.schedule import Schedule, load, load_scenario, loads, replay, shrink
from rabble_sim.search import Fingerprints, explore, fingerprint, sweep
from rabble_sim.sim import (
    MAX_INPUT_VARIANTS,
    Deliver,
    Drop,
    Duplicate,
    Link,
    World,
    branches,
    recorded,
)
from tests.search import lock
from tests.sim.cluster import Actor, Cluster, Note, nothing


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


# -- the state space ------------------------------------------------------------------------


def notes_to_b(count: int) -> Callable[[Actor], list[Envelope]]:
    """a's init: ``count`` distinct notes to b."""
    return lambda actor: [Envelope(Pid("p", "b"), actor.pid, Note(f"n{i}")) for i in range(count)]


def brute_force(notes: int, depth: int, *, drop: bool, duplicate: bool) -> int:
    """The states ``notes`` notes from a to b can reach within ``depth`` events, counted
    on a model written for this test: what b received, in order, and how many copies of
    each note are in flight."""
    start = ((), (1,) * notes)
    seen = {start}
    level = [start]
    for _ in range(depth):
        following = []
        for received, flying in level:
            for i, copies in enumerate(flying):
                if not copies:
                    continue
                fewer = (*flying[:i], copies - 1, *flying[i + 1 :])
                more = (*flying[:i], copies + 1, *flying[i + 1 :])
                nexts = [((*received, i), fewer)]
                nexts += [(received, fewer)] if drop else []
                nexts += [(received, more)] if duplicate else []
                for state in nexts:
                    if state not in seen:
                        seen.add(state)
                        following.append(state)
        level = following
    return len(seen)


@pytest.mark.parametrize(
    ("notes", "depth", "faults"),
    [
        (3, 10, Faults()),
        (2, 6, Faults(drop=0.1)),
        (2, 5, Faults(drop=0.1, duplicate=0.1)),
        (3, 4, Faults(duplicate=0.1)),
    ],
)
def test_the_distinct_states_are_those_a_brute_force_enumeration_finds(
    notes: int, depth: int, faults: Faults
) -> None:
    cluster = Cluster(
        ("a", "b"),
        lambda node: [Actor(Pid("p", node), notes_to_b(notes) if node == "a" else nothing)],
        faults=faults,
    )
    report = explore(cluster.scenario, depth=depth)
    expected = brute_force(notes, depth, drop=faults.drop > 0, duplicate=faults.duplicate > 0)
    assert report.ok and report.exhausted
    assert report.unique == expected


@pytest.mark.parametrize(
    "reference",
    [
        "protocols.echo:scenario",
        "protocols.omega:scenario",
        "protocols.sets:scenario",  # inputs
        "protocols.vr:scenario",  # a history check, clients
        "tests.sim.cluster:EVERYTHING",  # spawn, services, routing, watches, every fault
    ],
)
def test_a_fork_goes_on_as_a_deep_copy_would_and_leaves_its_parent_as_it_was(
    reference: str,
) -> None:
    scenario = load_scenario(reference)
    fingerprints = Fingerprints()
    for seed in range(8):
        rng = random.Random(seed)
        world = World(scenario)
        world.start()
        for _ in range(40):
            events = list(branches(world))
            if not events:
                break
            event = rng.choice(events)
            before, executors = fingerprints(world), executors_of(world)
            child, copied = world.fork(), copy.deepcopy(world)
            for other in (child, copied):
                other.begin_step(world.step + 1)
                other.apply(event)
            assert fingerprints(child) == fingerprints(copied)
            assert executors_of(child) == executors_of(copied)
            assert fingerprints(world) == before, "the child changed its parent"
            assert executors_of(world) == executors, "the child changed its parent's executors"
            if isinstance(event, Drop | Duplicate):  # known without applying it
                ahead = fingerprints.after_message_fault(world, fingerprints.state(world), event)
                assert ahead in (None, fingerprints(child))  # None: not known without it
            # The parent goes on too, and shares its processes and executors with the
            # child: neither may change the other's.
            twin = copy.deepcopy(world)
            step, number = rng.choice(events), world.step + 1
            for other in (world, twin):
                other.begin_step(number)
                other.apply(step)
            assert fingerprints(world) == fingerprints(twin)
            assert executors_of(world) == executors_of(twin)
            assert fingerprints(child) == fingerprints(copied), "the parent changed its child"
            assert executors_of(child) == executors_of(copied)
            world = rng.choice([child, copied, world])


def executors_of(world: World) -> list[Any]:
    """What every node's executor holds beyond the processes: a fork must copy it too."""
    return [
        (node, e.pids, e.watchers, e.links._watches, e.failed, e.dead_letters, e._router._turns)
        for node, e in world.executors.items()
    ]


# -- symmetry -----------------------------------------------------------------------------


def test_symmetry_cuts_the_states_and_keeps_the_verdicts() -> None:
    plain = explore(lock.scenario, depth=12, symmetry=())
    reduced = explore(lock.scenario)
    assert plain.ok and reduced.ok and plain.complete and reduced.complete
    assert reduced.unique * 3 < plain.unique, (reduced.unique, plain.unique)
    found = explore(lock.careless, symmetry=())
    found_reduced = explore(lock.careless)
    for report in (found, found_reduced):
        assert report.violation is not None and report.violation.check == "mutual_exclusion"
        assert report.failure is not None and report.failure.steps == 4
        assert report.failure.violation == report.violation


def test_a_symmetry_must_name_nodes_the_scenario_has() -> None:
    with pytest.raises(InvalidDefinition, match="symmetry names node 'x'"):
        lock.lock_scenario().__class__(
            "bad", ("a", "b"), lambda node, durable: [], symmetry=[["a", "x"]]
        )
    with pytest.raises(UsageError, match="twice"):
        explore(lock.scenario, symmetry=[["c1", "c2"], ["c2", "c3"]])


@pytest.mark.parametrize(
    ("config", "unlike"),
    [
        ({"clients": ["a"]}, "one is a client node"),
        ({"inputs": Inputs([Pid("p", "a")], lambda draw: Note("x"), max=1)}, "inputs[0] go to"),
        ({"topology": "line", "nodes": ("a", "b", "h")}, "the topology links them"),
        ({"faults": Faults(links={("a", "h"): Link(drop=0.5)})}, "Faults.links"),
    ],
    ids=["clients", "inputs", "topology", "links"],
)
def test_a_symmetry_must_swap_nodes_the_scenario_treats_alike(
    config: dict[str, Any], unlike: str
) -> None:
    """A relabelling that changes the scenario (a and b, where a is a client and is never
    crashed, say) would take states that behave differently for one: refused, saying why."""
    nodes = config.pop("nodes", ("h", "a", "b"))
    with pytest.raises(InvalidDefinition, match=f"swaps nodes 'a' and 'b'.*{re.escape(unlike)}"):
        Scenario("unlike", nodes, lambda node, durable: [], symmetry=[["a", "b"]], **config)
    scenario = Scenario("unlike", nodes, lambda node, durable: [], **config)
    with pytest.raises(UsageError, match=re.escape(unlike)):
        explore(scenario, symmetry=[["a", "b"]])


def test_one_kind_of_input_per_node_of_a_group_is_symmetric() -> None:
    def make(draw: Any) -> Note:
        return Note("x")

    inputs = [Inputs([Pid("p", node)], make, max=1) for node in ("a", "b")]
    Scenario("alike", ("h", "a", "b"), lambda node, durable: [], inputs=inputs,
             symmetry=[["a", "b"]])  # fmt: skip
    with pytest.raises(InvalidDefinition, match=re.escape("inputs[0] go to ['p::a']")):
        uneven = [inputs[0], Inputs([Pid("p", "b")], make, max=2)]
        Scenario("unlike", ("h", "a", "b"), lambda node, durable: [], inputs=uneven,
                 symmetry=[["a", "b"]])  # fmt: skip


# -- liveness -----------------------------------------------------------------------------


def b_got_both(view: View) -> None:
    got = view.processes[Pid("p", "b")].notes()
    assert len(got) == 2, f"b got {got}"


def test_a_state_with_nothing_left_to_do_and_liveness_false_is_stuck() -> None:
    cluster = Cluster(
        ("a", "b"),
        lambda node: [Actor(Pid("p", node), notes_to_b(2) if node == "a" else nothing)],
        faults=Faults(drop=0.1),
        liveness=Liveness(b_got_both, within=10),
    )
    report = explore(cluster.scenario, depth=5)
    assert report.violation is not None
    assert report.violation.check == "liveness b_got_both"
    assert report.violation.message.startswith("stuck: b got ['n0']")
    assert report.failure is not None and report.failure.violation is not None
    assert report.failure.violation.check == "liveness b_got_both", "the run fails the same way"
    assert [event.kind for event in report.failure.events()] == ["deliver", "drop"]
    fine = Cluster(
        ("a", "b"),
        lambda node: [Actor(Pid("p", node), notes_to_b(2) if node == "a" else nothing)],
        liveness=Liveness(b_got_both, within=10),
    )
    assert explore(fine.scenario, depth=5).complete


def test_with_liveness_the_fair_ending_runs_from_every_state() -> None:
    report = explore(load_scenario("protocols.omega:bug_no_self"), depth=2, liveness=True)
    assert report.violation is not None
    assert report.violation.check == "liveness agree_on_smallest"
    known = load("schedules/omega/no-self.json")
    assert report.failure is not None and report.failure.steps <= len(known.events)
    assert explore(lock.scenario, depth=4, liveness=True).ok


# -- bounds -------------------------------------------------------------------------------


def test_max_states_cuts_the_search_and_says_so() -> None:
    report = explore(load_scenario("protocols.echo:scenario"), depth=10, max_states=50)
    assert report.ok and not report.exhausted and report.unique == 50
    assert explore(load_scenario("protocols.echo:scenario"), depth=2).exhausted


def test_depth_first_finds_the_same_bug_and_visits_the_same_states() -> None:
    bfs = explore(lock.scenario, depth=8, symmetry=())
    dfs = explore(lock.scenario, depth=8, symmetry=(), order="dfs")
    assert bfs.unique == dfs.unique
    # A state reached first at the bound and later higher up is not left at the bound.
    everything = load_scenario("tests.sim.cluster:EVERYTHING")
    bfs, dfs = (explore(everything, depth=3, order=order) for order in ("bfs", "dfs"))
    assert (bfs.unique, bfs.frontier) == (dfs.unique, dfs.frontier)
    found = explore(lock.careless, order="dfs", depth=8)
    assert found.violation is not None and found.violation.check == "mutual_exclusion"


def test_the_order_of_the_history_tells_states_apart() -> None:
    """Two clients each complete one operation when their own note arrives: either order
    leads to the same processes, but not to the same history, which checks read (the
    history check, and any invariant that reads ``view.history``)."""

    def note_to_self(actor: Actor) -> list[Envelope]:
        return [Envelope(actor.pid, actor.pid, Note("go"))]

    def operate(actor: Actor, msg: object, from_: Pid, cid: object) -> list[Envelope]:
        return [invoke(actor.pid, 0, "op"), complete(actor.pid, 0, "done")]

    def clients(**checks: Any) -> Scenario:
        return Cluster(
            ("c1", "c2"), lambda node: [Actor(Pid("p", node), note_to_self, operate)], **checks
        ).scenario

    def c1_first(view: View) -> None:
        done = [event.client.node for event in view.history if event.kind == "ok"]
        assert done != ["c2", "c1"], "c2 completed first"

    # The start, either note, both in either order.
    assert explore(clients()).unique == 5
    assert explore(clients(history=lambda history: None)).unique == 5
    report = explore(clients(invariants=[c1_first]))
    assert report.violation is not None and "c2 completed first" in report.violation.message


def test_the_history_check_runs_on_every_state_whose_history_grew() -> None:
    """A history check that allows one completed operation fails on the state where the
    second completes, whichever client completes first: found two events deep."""

    def note_to_self(actor: Actor) -> list[Envelope]:
        return [Envelope(actor.pid, actor.pid, Note("go"))]

    def operate(actor: Actor, msg: object, from_: Pid, cid: object) -> list[Envelope]:
        return [invoke(actor.pid, 0, "op"), complete(actor.pid, 0, "done")]

    def at_most_one(history: Sequence[HistoryEvent]) -> None:
        done = [event.client.node for event in history if event.kind == "ok"]
        assert len(done) <= 1, f"{done} completed"

    scenario = Cluster(
        ("c1", "c2"), lambda node: [Actor(Pid("p", node), note_to_self, operate)],
        history=at_most_one,
    ).scenario  # fmt: skip
    report = explore(scenario)
    assert report.violation is not None
    assert report.violation.check == "history at_most_one"
    assert report.violation.step == 2
    assert "['c1', 'c2'] completed" in report.violation.message


@message("test.explore.arm")
@attrs.frozen
class Arm:
    pass


@message("test.explore.ping")
@attrs.frozen
class Ping:
    pass


@attrs.define
class Racer:
    """Told by itself at the start, b's racer arms a 5 ms timer and a's pings b's racer;
    b's racer notes the order of the timeout and the ping, and its clock at each (the
    reading comes back as a message, by cid). Messages between nodes take exactly 5 ms."""

    pid: Pid
    order: list[str] = attrs.Factory(list)
    at: dict[int, int] = attrs.Factory(dict)
    """The clock at each, by what it was: 1 the ping, 2 the timeout."""

    def init(self, output: list[Envelope]) -> None:
        output.append(Envelope(self.pid, self.pid, Arm()))

    def handle(self, msg: object, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Arm) and self.pid.node == "a":
            output.append(Envelope(Pid("p", "b"), self.pid, Ping()))
        elif isinstance(msg, Arm):
            output.append(start_timer(self.pid, 5, CorrelationId(self.pid)))
        elif isinstance(msg, ClockReading):
            self.at[cid.request] = msg.ms
        else:
            pinged = isinstance(msg, Ping)
            self.order.append("ping" if pinged else "timeout")
            output.append(read_clock(self.pid, CorrelationId(self.pid, 1 if pinged else 2)))


def test_a_timer_can_win_a_tie_with_a_message_in_transit() -> None:
    """Armed before the ping is sent, the timer is due when the ping arrives and fires first
    (the one made first). That state fingerprints apart from the one where the ping was
    sent first, or the search would never see the timer win the tie."""

    def ping_wins_ties(view: View) -> None:
        racer = view.processes[Pid("p", "b")]
        tie = len(racer.at) == 2 and racer.at[1] == racer.at[2]
        assert not (tie and racer.order[0] == "timeout"), "the timer won a tie"

    scenario = Scenario(
        "race", ["a", "b"], lambda node, durable: [Racer(Pid("p", node))], [ping_wins_ties],
        Faults(latency=(5, 5)), max_steps=10,
    )  # fmt: skip
    report = explore(scenario)
    assert report.violation is not None and report.failure is not None
    assert "the timer won a tie" in report.violation.message
    assert report.failure.violation is not None  # its path, run again, fails as well


@attrs.define
class ClockWatcher:
    """Reads its clock every ms of true time, and notes a reading of 6 or more."""

    pid: Pid
    late: bool = False

    def init(self, output: list[Envelope]) -> None:
        output.append(start_timer(self.pid, 1, CorrelationId(self.pid)))

    def handle(self, msg: object, from_: Pid, cid: object, output: list[Envelope]) -> None:
        if isinstance(msg, ClockReading):
            self.late = self.late or msg.ms >= 6
            output.append(start_timer(self.pid, 1, CorrelationId(self.pid)))
        else:
            output.append(read_clock(self.pid))


def test_a_fast_clock_is_explored_to_its_every_reading() -> None:
    """A clock at 1.5 times true time reads 1, 3, 4, 6... at true times 1 to 4: the states
    at 2 and 3 differ in the part of a ms it has run past its reading, and the search must
    go on from both to see the reading of 6."""

    def early(view: View) -> None:
        assert not view.processes[Pid("p", "a")].late, "the clock read 6"

    scenario = Scenario(
        "fast", ["a"], lambda node, durable: [ClockWatcher(Pid("p", node))], [early],
        Faults(drift=0.5), max_steps=12,
    )  # fmt: skip
    report = explore(scenario, depth=12)
    assert report.violation is not None and "the clock read 6" in report.violation.message


@dataclasses.dataclass
class Ticker:
    """Counts the notes it sends itself, in an attribute its class does not declare."""

    pid: Pid

    def init(self, output: list[Envelope]) -> None:
        self.count = 0
        output.append(Envelope(self.pid, self.pid, Note("tick")))

    def handle(self, msg: object, from_: Pid, cid: object, output: list[Envelope]) -> None:
        self.count += 1
        output.append(Envelope(self.pid, self.pid, Note("tick")))


def test_an_attribute_set_outside_the_declared_fields_counts() -> None:
    def below_three(view: View) -> None:
        assert view.processes[Pid("p", "a")].count < 3, "three ticks"

    scenario = Scenario(
        "ticks", ["a"], lambda node, durable: [Ticker(Pid("p", node))], [below_three]
    )  # fmt: skip
    report = explore(scenario, depth=5)
    assert report.violation is not None and report.violation.step == 3


@message("test.explore.put")
@attrs.frozen
class Put:
    pass


@message("test.explore.get")
@attrs.frozen
class Get:
    pass


@attrs.define
class Doorman:
    """Ignores the inputs it is given until its timer fires, then takes one."""

    pid: Pid
    open: bool = False
    ignored: int = 0
    taken: list[str] = attrs.Factory(list)

    def init(self, output: list[Envelope]) -> None:
        output.append(start_timer(self.pid, 10, CorrelationId(self.pid)))

    def handle(self, msg: object, from_: Pid, cid: object, output: list[Envelope]) -> None:
        if not isinstance(msg, Put | Get):
            self.open = True
        elif not self.open:
            self.ignored += 1
        elif not self.taken:
            self.taken.append(type(msg).__name__)


def test_each_kind_of_input_is_counted_apart() -> None:
    """A get given and ignored leaves the put to give, and a put given and ignored leaves the
    get: two states, though each gave one input to the same process."""

    def no_put_after_an_ignored_input(view: View) -> None:
        doorman = view.processes[Pid("p", "a")]
        assert not (doorman.ignored and doorman.taken == ["Put"]), "a put after a get"

    inputs = [
        Inputs([Pid("p", "a")], lambda draw: Put(), max=1),
        Inputs([Pid("p", "a")], lambda draw: Get(), max=1),
    ]
    scenario = Scenario(
        "doors", ["a"], lambda node, durable: [Doorman(Pid("p", node))],
        [no_put_after_an_ignored_input], inputs=inputs, max_steps=5,
    )  # fmt: skip
    report = explore(scenario)
    assert report.violation is not None and "a put after a get" in report.violation.message


@message("test.explore.ball")
@attrs.frozen
class Ball:
    n: int


@attrs.define
class Player:
    """a and b pass a ball to and fro, ``rounds`` times, each pass taking ``pause`` s."""

    pid: Pid
    rounds: int = 8
    pause: float = 0.0
    count: int = 0

    def init(self, output: list[Envelope]) -> None:
        if self.pid.node == "a":
            output.append(Envelope(Pid("p", "b"), self.pid, Ball(0)))

    def handle(self, msg: Any, from_: Pid, cid: object, output: list[Envelope]) -> None:
        time.sleep(self.pause)
        self.count = msg.n + 1
        if msg.n == 5:
            output.append(invoke(self.pid, 0, "late"))
        if msg.n < self.rounds:
            output.append(Envelope(from_, self.pid, Ball(msg.n + 1)))


def players(**checks: Any) -> Scenario:
    rounds = checks.pop("rounds", 8)
    pause = checks.pop("pause", 0.0)

    def done(view: View) -> None:
        assert all(p.count >= rounds for p in view.processes.values()), "not done"

    return Scenario(
        "players", ("a", "b"), lambda node, durable: [Player(Pid("p", node), rounds, pause)],
        liveness=Liveness(done, within=50), **checks,
    )  # fmt: skip


def test_a_check_that_fails_in_a_liveness_phase_replays_with_it() -> None:
    def below_four(view: View) -> None:
        assert all(p.count < 4 for p in view.processes.values()), "four passes"

    report = explore(players(invariants=[below_four]), depth=1, liveness=True)
    assert report.violation is not None and report.violation.check == "below_four"
    assert report.failure is not None and report.failure.violation is not None
    assert report.failure.violation.check == "below_four"
    assert report.failure.liveness_from is not None  # found in its liveness phase


def test_the_history_check_ends_each_liveness_phase_as_it_ends_a_run() -> None:
    def no_operations(history: Sequence[HistoryEvent]) -> None:
        assert not history, f"{len(history)} operations"

    report = explore(players(history=no_operations), depth=0, liveness=True)
    assert report.violation is not None
    assert report.violation.check == "history no_operations"


def test_a_long_liveness_phase_of_quick_steps_is_no_step_timeout() -> None:
    """24 passes of 0.05 s each make a liveness phase of 1.2 s, each step within the 0.5 s
    a step may take."""
    report = explore(players(rounds=24, pause=0.05), depth=0, liveness=True, step_timeout=0.5)
    assert report.ok, report.violation


@attrs.define
class Picker:
    """Takes the number it is given."""

    pid: Pid
    number: int = 0

    def handle(self, msg: Any, from_: Pid, cid: object, output: list[Envelope]) -> None:
        self.number = msg.n


def test_inputs_cut_at_what_exploration_tries_are_said_and_leave_the_search_unexhausted() -> None:
    def below(bound: int) -> Callable[[View], None]:
        def below(view: View) -> None:
            assert view.processes[Pid("p", "a")].number < bound, "too big"

        return below

    def scenario(bound: int) -> Scenario:
        inputs = Inputs([Pid("p", "a")], lambda draw: Ball(draw.integer(0, 99)), max=1)
        start = lambda node, durable: [Picker(Pid("p", node))]  # noqa: E731
        return Scenario("picks", ["a"], start, [below(bound)], inputs=inputs, max_steps=3)

    report = explore(scenario(100))
    assert report.ok and not report.exhausted and not report.complete
    assert report.inputs_cut == 1 and report.unique == 1 + MAX_INPUT_VARIANTS
    assert explore(scenario(MAX_INPUT_VARIANTS - 1)).violation is not None  # within reach


def test_random_numbers_are_taken_as_zero_and_said_to_be() -> None:
    @attrs.define
    class Coin:
        pid: Pid
        side: int = 0

        def init(self, output: list[Envelope]) -> None:
            output.append(get_random(self.pid, 2, CorrelationId(self.pid)))

        def handle(self, msg: Any, from_: Pid, cid: object, output: list[Envelope]) -> None:
            self.side = msg.value

    report = explore(Scenario("coin", ["a"], lambda node, durable: [Coin(Pid("p", node))]))
    assert report.complete and report.drew
    assert not explore(players(), depth=3).drew


def test_a_process_that_reads_its_clock_is_said_to() -> None:
    """Readings are absolute and no absolute time is part of a state: the report says a
    process read one, so that a user can check it compares readings only with each other."""
    watcher = Scenario("watch", ["a"], lambda node, durable: [ClockWatcher(Pid("p", node))])
    assert explore(watcher, depth=4).read_clock
    assert not explore(players(), depth=3).read_clock


# -- the bundled protocols ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bug_shared_cache", "bug_shared_cache_generated"])
def test_every_echo_bug_is_found_no_longer_than_run_shrinks_it(name: str) -> None:
    reference = f"protocols.echo:{name}"
    scenario = load_scenario(reference)
    report = explore(scenario, depth=6)
    assert report.violation is not None and report.failure is not None
    assert report.violation.check == "postcondition replies_match_requests"
    sampled = sweep(scenario, range(200))
    assert sampled.failure is not None
    shrunk = shrink(Schedule.from_run(recorded(sampled.failure), reference), scenario)
    assert report.failure.steps <= len(shrunk.schedule.events)


@pytest.mark.parametrize(
    ("reference", "depth"), [("protocols.echo:scenario", 4), ("protocols.omega:scenario", 4)]
)
def test_the_correct_scenarios_pass_the_bounds_the_guide_states(reference: str, depth: int) -> None:
    report = explore(load_scenario(reference), depth=depth)
    assert report.ok and report.exhausted and report.depth == depth


def test_timers_due_at_once_count_in_the_order_they_fire() -> None:
    """Of two timers due at once, the one started first fires first: which one that is
    changes what can happen next, so the two orders are two states."""
    cluster = Cluster(("a", "b"), lambda node: [Actor(Pid("p", node))])
    first, second = cluster.world, copy.deepcopy(cluster.world)
    a, b = Pid("p", "a"), Pid("p", "b")
    for world, order in ((first, (a, b)), (second, (b, a))):
        for pid in order:
            world.timers.start(pid, CorrelationId(pid), 10)
    assert fingerprint(first) != fingerprint(second)
    again = copy.deepcopy(cluster.world)
    for pid in (a, b):
        again.timers.start(pid, CorrelationId(pid), 10)
    assert fingerprint(again) == fingerprint(first)


def test_with_the_liveness_phase_the_order_things_were_made_in_counts() -> None:
    """A fair liveness phase serves the oldest message or timer first: two states with the
    same messages in flight, made in two orders, end alike in a run's fault phase but not
    necessarily in its liveness phase, so with ``liveness`` they are two states."""
    cluster = Cluster(
        ("a", "b", "c"),
        lambda node: [Actor(Pid("p", node), two_notes if node == "a" else nothing)],
    )
    one, other = copy.deepcopy(cluster.world), copy.deepcopy(cluster.world)
    for world, order in ((one, ("b", "c")), (other, ("c", "b"))):
        for target in order:  # each note made again, in turn: a new copy, the old one gone
            (seq,) = [s for s, env in world.in_flight() if env.to.node == target]
            world.apply(Duplicate(seq))
            world.apply(Drop(seq))
    assert Fingerprints()(one) == Fingerprints()(other)
    assert Fingerprints(ages=True)(one) != Fingerprints(ages=True)(other)
