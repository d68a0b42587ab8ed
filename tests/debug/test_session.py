"""DebugSession: stepping both ways lands on the same states, breakpoints stop where they
should, and state, diffs and pending work match the world."""

from __future__ import annotations

import copy
import random
import threading

import pytest

from rabble_sim import Envelope, Persist, Pid, Scenario, View, persist, start_timer
from rabble_sim.core import Metrics, UsageError
from rabble_sim.debug import (
    MISSING,
    DebugSession,
    OnKind,
    OnMessage,
    OnNode,
    OnPid,
    OnViolation,
    When,
    diff,
    parse_breakpoint,
)
from rabble_sim.schedule import Schedule
from rabble_sim.sim import FairChooser, World, run

from .conftest import ROUND_BUG, SHARED_CACHE, WALKTHROUGH


def states_walking_forward(session: DebugSession) -> list[dict[Pid, object]]:
    session.goto(0)
    states = [session.states()]
    while session.step < session.last:
        session.next()
        states.append(session.states())
    return states


def test_back_and_goto_land_on_the_states_seen_walking_forward(
    walkthrough: DebugSession,
) -> None:
    forward = states_walking_forward(walkthrough)
    assert walkthrough.step == walkthrough.last == 300
    for number in range(walkthrough.last, 0, -1):
        walkthrough.back()
        assert walkthrough.states() == forward[number - 1], f"back to step {number - 1}"
    shuffled = list(range(walkthrough.last + 1))
    random.Random(7).shuffle(shuffled)
    for number in shuffled[:60]:
        walkthrough.goto(number)
        assert walkthrough.states() == forward[number], f"goto {number}"


def test_snapshot_spacing_changes_nothing_but_speed() -> None:
    every_step = DebugSession.open(ROUND_BUG, snapshot_every=1)
    sparse = DebugSession.open(ROUND_BUG, snapshot_every=1000)
    assert states_walking_forward(every_step) == states_walking_forward(sparse)
    for number in (5, 300, 17, 0, 366):
        assert every_step.goto(number) == sparse.goto(number)
        assert every_step.states() == sparse.states()
        assert every_step.pending() == sparse.pending()


def test_the_session_ends_on_the_violation_the_file_records(round_bug: DebugSession) -> None:
    assert round_bug.violation is not None
    assert round_bug.violation.check == round_bug.schedule.violation["check"]
    assert round_bug.steps[-1].violation == round_bug.violation
    assert [s.number for s in round_bug.steps if s.violation] == [round_bug.last]
    assert round_bug.steps[round_bug.schedule.liveness_from or 0].liveness
    assert not round_bug.divergences


def test_moves_stop_at_the_ends_and_refuse_steps_that_do_not_exist(
    walkthrough: DebugSession,
) -> None:
    assert walkthrough.back().number == 0
    assert walkthrough.next(10_000).number == walkthrough.last
    with pytest.raises(UsageError, match="there is no step 301"):
        walkthrough.goto(301)
    with pytest.raises(UsageError, match="there is no step -1"):
        walkthrough.goto(-1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind crash", OnKind("crash")),
        ("message Heartbeat", OnMessage("Heartbeat")),
        ("msg omega.heartbeat", OnMessage("omega.heartbeat")),
        ("pid omega::b", OnPid(Pid("omega", "b"))),
        ("node c", OnNode("c")),
        ("violation", OnViolation()),
    ],
)
def test_breakpoints_read_their_written_form(text: str, expected: object) -> None:
    assert parse_breakpoint(text) == expected
    assert str(expected) in (text, text.replace("msg", "message"))


@pytest.mark.parametrize("text", ["", "kind explode", "pid nonsense", "step 4", "node"])
def test_unreadable_breakpoints_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_breakpoint(text)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("message Hearbeat", "no message type or tag is called 'Hearbeat'"),
        ("node zz", "the nodes are a, b, c, d"),
        ("pid omega::zz", "no step delivers to or from omega::zz"),
    ],
)
def test_a_breakpoint_that_could_never_stop_is_refused(
    round_bug: DebugSession, text: str, says: str
) -> None:
    with pytest.raises(UsageError, match=says):
        round_bug.add_breakpoint(text)
    assert round_bug.breakpoints == []


def test_continue_stops_at_each_matching_step_in_turn(round_bug: DebugSession) -> None:
    crashes = [s.number for s in round_bug.steps if s.kind == "crash"]
    restarts = [s.number for s in round_bug.steps if s.kind == "restart"]
    assert crashes and restarts
    round_bug.add_breakpoint("kind crash")
    round_bug.add_breakpoint(OnKind("restart"))
    stops = []
    while (stop := round_bug.continue_()).breakpoint is not None:
        stops.append(stop.step)
    assert stops == sorted(crashes + restarts)
    assert round_bug.step == round_bug.last
    backward = []
    while (stop := round_bug.continue_back()).breakpoint is not None:
        backward.append(stop.step)
    assert backward == sorted(crashes + restarts, reverse=True)
    assert round_bug.step == 0


def test_event_breakpoints_match_what_the_step_touches(round_bug: DebugSession) -> None:
    b = Pid("omega", "b")
    round_bug.add_breakpoint(OnPid(b))
    stop = round_bug.continue_()
    env = round_bug.current.envelope
    assert env is not None and b in (env.to, env.from_)
    assert all(
        s.envelope is None or b not in (s.envelope.to, s.envelope.from_)
        for s in round_bug.steps[1 : stop.step]
    )
    round_bug.remove_breakpoint(0)
    round_bug.add_breakpoint("node c")
    stop = round_bug.continue_()
    event, env = round_bug.current.event, round_bug.current.envelope
    assert getattr(event, "node", None) == "c" or (env is not None and env.to.node == "c")


def test_without_breakpoints_continue_runs_to_the_violation(round_bug: DebugSession) -> None:
    stop = round_bug.continue_()
    assert stop.breakpoint is None and stop.step == round_bug.last
    round_bug.goto(3)
    round_bug.add_breakpoint("violation")
    assert round_bug.continue_().step == round_bug.violation.step


def test_a_condition_breakpoint_sees_the_world_at_each_step(walkthrough: DebugSession) -> None:
    d = Pid("omega", "d")

    def d_trusts_b(view: View) -> bool:
        return bool(view.processes[d].leader == "b")

    forward = states_walking_forward(walkthrough)
    trusts = [states[d]["leader"] == "b" for states in forward]
    becomes_true = [n for n in range(1, len(trusts)) if trusts[n] and not trusts[n - 1]]
    assert becomes_true, "in the walkthrough, d follows b while the partition lasts"
    walkthrough.goto(0)
    walkthrough.add_breakpoint(When(d_trusts_b, "d trusts b"))
    stops = []
    while (stop := walkthrough.continue_()).breakpoint is not None:
        stops.append(stop.step)
    assert stops == becomes_true, "stops where it becomes true, and continuing moves on"
    assert walkthrough.continue_back().step == becomes_true[-1]


def test_a_condition_that_raises_is_reported_not_crashed_on(walkthrough: DebugSession) -> None:
    walkthrough.add_breakpoint(When(lambda view: 1 / 0, "divide"))
    with pytest.raises(UsageError, match="when divide never held; it raised ZeroDivision"):
        walkthrough.continue_()


def test_a_condition_on_a_process_that_is_down_is_false_there(round_bug: DebugSession) -> None:
    c = Pid("omega", "c")
    crash = next(s.number for s in round_bug.steps if s.kind == "crash" and s.event.node == "c")
    round_bug.add_breakpoint(When(lambda view: view.processes[c].leader == "b", "c follows b"))
    stops = []
    while (stop := round_bug.continue_()).breakpoint is not None:
        stops.append(stop.step)
    assert stops, "c follows b at some point of the round bug"
    for number in stops:
        round_bug.goto(number)
        assert round_bug.state(c)["leader"] == "b"
    assert crash not in stops


def test_diff_shows_what_the_delivery_changed_and_nothing_else(
    walkthrough: DebugSession,
) -> None:
    number = next(s.number for s in walkthrough.steps if s.kind == "deliver" and s.number > 1)
    walkthrough.goto(number - 1)
    before = walkthrough.states()
    step = walkthrough.goto(number)
    after = walkthrough.states()
    receiver = step.envelope.to
    changes = walkthrough.changes()
    assert set(changes) <= {receiver}
    for change in walkthrough.diff(receiver):
        assert change.before != change.after
    changed_fields = {c.keys[0] for c in walkthrough.diff(receiver)}
    assert changed_fields == {
        k for k in after[receiver] if after[receiver][k] != before[receiver][k]
    }


def test_a_crash_stops_processes_and_a_restart_starts_them(round_bug: DebugSession) -> None:
    round_bug.add_breakpoint("kind crash")
    stop = round_bug.continue_()
    node = round_bug.current.event.node
    for pid, changes in round_bug.changes().items():
        assert pid.node == node
        assert [(c.keys, c.after) for c in changes] == [((), MISSING)]
    assert all(round_bug.state(pid) is None for pid in round_bug.pids if pid.node == node)
    assert stop.step > 0


def test_pending_matches_the_world_and_shrinks_on_delivery(walkthrough: DebugSession) -> None:
    number = next(s.number for s in walkthrough.steps if s.kind == "deliver")
    walkthrough.goto(number - 1)
    before = {m.seq for m in walkthrough.pending().messages}
    delivered = walkthrough.next().seq
    after = {m.seq for m in walkthrough.pending().messages}
    assert delivered in before and delivered not in after
    assert after - before == set(walkthrough.current.created) - {
        t.seq for t in walkthrough.pending().timers
    }
    timers = walkthrough.pending().timers
    assert [t.due for t in timers] == sorted(t.due for t in timers)


def test_partitioned_messages_are_shown_as_held(walkthrough: DebugSession) -> None:
    walkthrough.add_breakpoint("kind partition")
    walkthrough.continue_()
    walkthrough.next(3)
    held = [m for m in walkthrough.pending().messages if m.blocked]
    assert held, "the walkthrough's partition holds messages between its sides"


def test_each_delivery_comes_from_the_step_that_sent_it(walkthrough: DebugSession) -> None:
    for step in walkthrough.steps:
        if step.kind != "deliver":
            continue
        origin = walkthrough.sender_step(step.seq)
        assert origin is not None and origin < step.number
        assert step.envelope in walkthrough.steps[origin].sent


def test_find_goes_to_the_next_step_that_mentions_the_text(walkthrough: DebugSession) -> None:
    found = walkthrough.find("PARTITION")
    assert found is not None and walkthrough.steps[found].kind == "partition"
    walkthrough.goto(found)
    assert walkthrough.find("partition", backward=True) is None


def test_unknown_processes_and_files_are_usage_errors(walkthrough: DebugSession) -> None:
    with pytest.raises(UsageError, match="no process omega::zz"):
        walkthrough.state("omega::zz")
    with pytest.raises(UsageError, match="not a pid"):
        walkthrough.diff("nonsense")
    with pytest.raises(UsageError):
        DebugSession.open(WALKTHROUGH.parent / "missing.json")
    with pytest.raises(UsageError):
        DebugSession(
            DebugSession.open(SHARED_CACHE).schedule,
            DebugSession.open(SHARED_CACHE).scenario,
            snapshot_every=0,
        )


def test_a_world_snapshot_is_independent_of_the_world(walkthrough: DebugSession) -> None:
    walkthrough.goto(40)
    world = walkthrough._world
    snapshot: World = copy.deepcopy(world)
    assert snapshot.scenario is world.scenario
    assert snapshot.processes.keys() == world.processes.keys()
    assert snapshot.processes_view.keys() == world.processes_view.keys()
    pid = next(iter(world.processes))
    snapshot.processes[pid].leader = "changed"
    assert world.processes[pid].leader != "changed"
    assert dict(snapshot.processes_view)[pid].leader == "changed"


def test_diff_paths_read_one_way_even_when_keys_hold_dots() -> None:
    changes = diff(
        {"pending": {"echo.request": {"n": 1}}, "log": [1]},
        {"pending": {"echo.request": {"n": 2}}, "log": [1, {"view": 3}]},
    )
    assert [(c.keys, c.path, str(c)) for c in changes] == [
        (("log", 1), "log[1]", 'log[1] + {"view":3}'),
        (
            ("pending", "echo.request", "n"),
            'pending["echo.request"].n',
            'pending["echo.request"].n: 1 -> 2',
        ),
    ]


class SetOrder:
    """Sends to ``p::b`` in the order of a set of ints whose table has had deletions: a
    deep copy of the set can iterate in another order than the original."""

    def __init__(self, pid: Pid) -> None:
        self.pid = pid
        self.numbers = set(range(40))
        for n in range(40):
            if n not in (1, 8):
                self.numbers.discard(n)  # iterates 1, 8; a deep copy of it iterates 8, 1
        self.order: list[int] = []

    def init(self, output: list[Envelope]) -> None:
        output.append(start_timer(self.pid, 10, None))

    def handle(self, msg: object, from_: Pid, cid: object, output: list[Envelope]) -> None:
        self.order = list(self.numbers)
        output += [Envelope(Pid("p", "b"), self.pid, Metrics(Pid("p", str(n)))) for n in self.order]


def test_going_back_stays_true_to_the_run_when_a_copy_would_not() -> None:
    scenario = Scenario(
        name="set-order",
        nodes=["a", "b"],
        start=lambda node, durable: [SetOrder(Pid("p", "a"))] if node == "a" else [],
    )
    result = run(scenario, FairChooser(), max_steps=3, check_liveness=False)
    numbers = SetOrder(Pid("p", "a")).numbers
    assert list(copy.deepcopy(numbers)) != list(numbers), "the premise of this test"
    session = DebugSession(
        Schedule.from_run(result, "unused:set_order"), scenario, snapshot_every=1
    )
    session.goto(2)
    assert session.state("p::a")["order"] == [1, 8]
    session.goto(1)  # from a copy of step 0's world, which would send 8 first
    assert session.state("p::a")["order"] == [1, 8], "the state the run really had"
    sent = [m.envelope.msg.pid.node for m in session.pending().messages]
    assert sent == ["1", "8"], "the messages, in the order the run sent them"
    assert session.notes == [
        "step 1 happened differently on a copy of the world (a process depends on the order "
        "of a set, say): going back now replays from the start"
    ]


class HoldsALock:
    """State that cannot be copied (it should be plain data, but a session must cope)."""

    def __init__(self, pid: Pid) -> None:
        self.pid = pid
        self.lock = threading.Lock()
        self.ticks = 0

    def init(self, output: list[Envelope]) -> None:
        output.append(start_timer(self.pid, 10, None))

    def handle(self, msg: object, from_: Pid, cid: object, output: list[Envelope]) -> None:
        self.ticks += 1
        output.append(start_timer(self.pid, 10, None))


def test_a_world_that_cannot_be_copied_is_rebuilt_from_the_start() -> None:
    scenario = Scenario(
        name="lock", nodes=["a"], start=lambda node, durable: [HoldsALock(Pid("p", "a"))]
    )
    result = run(scenario, FairChooser(), max_steps=5, check_liveness=False)
    session = DebugSession(Schedule.from_run(result, "unused:lock"), scenario, snapshot_every=2)
    assert "the world cannot be copied" in session.notes[0]
    session.goto(5)
    session.goto(3)
    assert session.state("p::a")["ticks"] == 3
    assert [str(c) for c in session.diff("p::a")] == ["ticks: 2 -> 3"]


class PersistsItsOwnDict:
    """Persists a dict that is part of its live state, then keeps changing it: what was
    persisted at a step must stay what it was then."""

    def __init__(self, pid: Pid) -> None:
        self.pid = pid
        self.state: dict[str, list[int]] = {"last_op": []}

    def init(self, output: list[Envelope]) -> None:
        output.append(start_timer(self.pid, 10, None))

    def handle(self, msg: object, from_: Pid, cid: object, output: list[Envelope]) -> None:
        self.state["last_op"].append(len(self.state["last_op"]))
        output.append(persist(self.pid, self.state))
        output.append(start_timer(self.pid, 10, None))


def test_a_process_that_persists_its_live_state_steps_forward_and_back() -> None:
    scenario = Scenario("live", ["a"], lambda node, durable: [PersistsItsOwnDict(Pid("p", "a"))])
    result = run(scenario, FairChooser(), max_steps=6, check_liveness=False)
    session = DebugSession(Schedule.from_run(result, "unused:live"), scenario, snapshot_every=2)
    for _ in range(6):
        session.next()  # the first of these said "the protocol is not deterministic"
    assert session.state("p::a") == {"pid": "p::a", "state": {"last_op": [0, 1, 2, 3, 4, 5]}}
    session.goto(2)
    assert session.state("p::a") == {"pid": "p::a", "state": {"last_op": [0, 1]}}
    (persisted, _) = session.current.sent
    assert persisted.msg == Persist({"last_op": [0, 1]}), "what was persisted at step 2"
    assert not session.notes


class Nondeterministic:
    """Sends a different message each time its step is replayed: not a protocol."""

    replays = 0

    def __init__(self, pid: Pid) -> None:
        self.pid = pid

    def init(self, output: list[Envelope]) -> None:
        output.append(start_timer(self.pid, 10, None))

    def handle(self, msg: object, from_: Pid, cid: object, output: list[Envelope]) -> None:
        Nondeterministic.replays += 1  # state outside the process: replays differ
        output.append(start_timer(self.pid, 10 + Nondeterministic.replays, None))


def test_after_a_failed_move_the_session_stays_on_its_step() -> None:
    scenario = Scenario("nd", ["a"], lambda node, durable: [Nondeterministic(Pid("p", "a"))])
    result = run(scenario, FairChooser(), max_steps=4, check_liveness=False)
    session = DebugSession(Schedule.from_run(result, "unused:nd"), scenario)
    before = session.states(), session.pending()
    for move in (session.next, lambda: session.goto(3)):
        with pytest.raises(UsageError, match="not deterministic"):
            move()
        assert session.step == 0 and session.current.number == 0
        assert (session.states(), session.pending()) == before, "the world of step 0, whole"
