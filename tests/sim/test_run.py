"""The run loop: failures become violations at their step; checks see what they should."""

from __future__ import annotations

import copy
import gc
import time
import weakref
from typing import Any

import attrs
import pytest

from rabble_sim import (
    CorrelationId,
    Envelope,
    Liveness,
    Pid,
    RandomChooser,
    Scenario,
    View,
    run,
    start_timer,
)
from rabble_sim.core import RabbleError, RabbleInternalError
from rabble_sim.sim import Crash, Deliver, Heal, Partition, ReplayChooser, Restart, recorded
from tests.sim.conftest import ALL_FAULTS, Ping, chatter, chatter_pid

A, B = Pid("p", "a"), Pid("p", "b")


@attrs.define
class Volley:
    """Pings its peer at start and answers every ping with the next, up to round 5."""

    pid: Pid
    peer: Pid
    count: int = 0
    fail_at: int | None = None
    fail_init: bool = False

    def init(self, output: list[Envelope]) -> None:
        if self.fail_init:
            raise RuntimeError("cannot start")
        output.append(Envelope(self.peer, self.pid, Ping(0), CorrelationId(self.pid)))

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        self.count += 1
        if self.count == self.fail_at:
            raise ZeroDivisionError("boom")
        if msg.round < 5:
            output.append(Envelope(from_, self.pid, Ping(msg.round + 1), cid))


def volley(**kwargs: Any) -> Scenario:
    """Two Volleys on nodes a and b; ``a_``/``b_`` kwargs configure each, the rest the Scenario."""
    per_node: dict[str, dict[str, Any]] = {"a": {}, "b": {}}
    for key in [k for k in kwargs if k[:2] in ("a_", "b_")]:
        per_node[key[0]][key[2:]] = kwargs.pop(key)
    restart_only = kwargs.pop("fail_init_on_restart", None)

    def start(node: str, durable: dict[Pid, Any] | None) -> list[Volley]:
        options = dict(per_node[node])
        if restart_only == node and durable is not None:
            options["fail_init"] = True
        pid, peer = (A, B) if node == "a" else (B, A)
        return [Volley(pid, peer, **options)]

    return Scenario("volley", ["a", "b"], start, **kwargs)


# At start a sends #0 to b and b sends #1 to a; each delivery answers with the next seq.
FIRST_STEPS = [Deliver(0), Deliver(1), Deliver(2), Deliver(3)]


def test_an_exception_in_handle_is_a_violation_at_its_step() -> None:
    result = run(volley(b_fail_at=2), ReplayChooser(FIRST_STEPS))
    assert not result.ok
    v = result.violation
    assert v is not None
    assert v.check == "exception in handle of p::b"
    assert v.message == "ZeroDivisionError('boom') while handling Ping"
    assert v.step == 4
    assert v.traceback is not None
    assert "in handle" in v.traceback
    assert "ZeroDivisionError: boom" in v.traceback
    assert result.steps == 4
    event, env, sent = result.trace.step(result.steps)
    assert event == Deliver(3)
    assert env is not None
    assert (env.from_, env.to, env.msg) == (A, B, Ping(1))
    assert sent == ()


def test_an_exception_in_init_at_start_is_a_violation_at_step_0() -> None:
    result = run(volley(b_fail_init=True), ReplayChooser(FIRST_STEPS))
    assert result.violation is not None
    assert result.violation.check == "exception in init of p::b"
    assert result.violation.message == "RuntimeError('cannot start')"
    assert result.violation.step == 0
    assert "RuntimeError: cannot start" in (result.violation.traceback or "")
    assert result.steps == 0


def test_an_exception_in_init_on_restart_is_a_violation_at_the_restart() -> None:
    events = [Deliver(0), Crash("a"), Restart("a"), Deliver(1)]
    result = run(volley(fail_init_on_restart="a"), ReplayChooser(events))
    assert result.violation is not None
    assert result.violation.check == "exception in init of p::a"
    assert result.violation.step == 3


def test_an_exception_in_start_is_a_violation() -> None:
    def start(node: str, durable: Any) -> list[Any]:
        raise KeyError(node)

    result = run(Scenario("broken", ["a"], start), ReplayChooser([]))
    assert result.violation is not None
    assert result.violation.check == "exception in start('a')"
    assert result.violation.step == 0


def test_a_failing_invariant_is_a_violation_with_its_message() -> None:
    def at_most_two_pings(view: View) -> None:
        counts = [proc.count for proc in view.processes.values()]
        assert sum(counts) <= 2, f"counts are {counts}"

    result = run(volley(invariants=[at_most_two_pings]), ReplayChooser(FIRST_STEPS))
    assert result.violation is not None
    # Checks are named by their function name; pytest adds its explanation to the message.
    assert result.violation.check == "at_most_two_pings"
    assert result.violation.message.splitlines()[0] == "counts are [2, 1]"
    assert result.violation.step == 3


def test_an_exception_inside_an_invariant_is_a_violation_with_the_traceback() -> None:
    def looks_up_a_missing_pid(view: View) -> None:
        if view.step == 2:
            _ = view.processes[Pid("missing", "a")].count

    result = run(volley(invariants=[looks_up_a_missing_pid]), ReplayChooser(FIRST_STEPS))
    v = result.violation
    assert v is not None
    assert v.check == "looks_up_a_missing_pid"
    assert v.message.startswith("raised KeyError(")
    assert v.step == 2
    assert 'view.processes[Pid("missing", "a")]' in (v.traceback or "")


def test_invariants_are_checked_after_the_start() -> None:
    def never(view: View) -> None:
        raise AssertionError("checked at once")

    result = run(volley(invariants=[never]), ReplayChooser(FIRST_STEPS))
    assert result.violation is not None
    assert result.violation.step == 0


def test_a_precondition_sees_the_process_and_message_before_handle() -> None:
    seen: list[tuple[Any, ...]] = []

    def record(proc: Volley, msg: Any, from_: Pid, cid: CorrelationId | None) -> None:
        seen.append((proc, proc.count, msg, from_, cid))

    result = run(volley(preconditions={Ping: [record]}), ReplayChooser(FIRST_STEPS[:1]))
    assert result.ok
    ((proc, count, msg, from_, cid),) = seen
    assert proc.pid == B
    assert count == 0
    assert proc.count == 1, "the live process, which handle then changed"
    assert (msg, from_, cid) == (Ping(0), A, CorrelationId(A))


def test_a_failing_precondition_is_a_violation_and_handle_does_not_run() -> None:
    handled: list[int] = []

    def only_round_zero(proc: Volley, msg: Any, from_: Pid, cid: Any) -> None:
        handled.append(proc.count)
        assert msg.round == 0, f"round {msg.round}"

    result = run(volley(preconditions={Ping: [only_round_zero]}), ReplayChooser(FIRST_STEPS))
    assert result.violation is not None
    assert result.violation.check.startswith("precondition ")
    assert result.violation.check.endswith("only_round_zero")
    assert result.violation.message.splitlines()[0] == "round 1"
    assert result.violation.step == 3
    assert handled == [0, 0, 1]


def test_a_postcondition_sees_a_copy_before_the_process_after_and_the_outputs() -> None:
    seen: list[tuple[Any, ...]] = []

    def record(before: Volley, after: Volley, msg: Any, outputs: list[Envelope]) -> None:
        seen.append((before, copy.deepcopy(after), after, msg, list(outputs)))

    result = run(volley(postconditions={Ping: [record]}), ReplayChooser(FIRST_STEPS[:2]))
    assert result.ok
    before, after_then, after, msg, outputs = seen[0]
    assert before is not after
    assert before.pid == after.pid == B
    assert (before.count, after_then.count) == (0, 1)
    assert msg == Ping(0)
    assert outputs == [Envelope(A, B, Ping(1), CorrelationId(A))]


def test_a_failing_postcondition_is_a_violation() -> None:
    def answers_every_ping(before: Volley, after: Volley, msg: Any, outputs: Any) -> None:
        assert outputs, f"no answer to {msg}"

    scenario = volley(postconditions={Ping: [answers_every_ping]})
    result = run(scenario, RandomChooser(0))
    assert result.violation is not None
    assert result.violation.check.endswith("answers_every_ping")
    assert result.violation.message.splitlines()[0] == "no answer to Ping(round=5)"


def test_max_steps_ends_a_run_without_a_violation() -> None:
    result = run(chatter(rounds=50), RandomChooser(1), max_steps=7)
    assert result.ok
    assert result.steps == 7
    result = run(chatter(rounds=50, max_steps=11), RandomChooser(1))
    assert result.ok
    assert result.steps == 11


def everyone_heard_from_everyone(view: View) -> None:
    for pid, proc in view.processes.items():
        assert len(proc.pongs) == 2, f"{pid} has pongs from {sorted(map(str, proc.pongs))}"


def test_liveness_that_comes_true_under_fair_delivery_passes() -> None:
    scenario = chatter(liveness=everyone_heard_from_everyone)
    faults = [Partition((("n1",), ("n2", "n3"))), Crash("n2")]
    result = run(scenario, ReplayChooser(faults))
    assert result.ok, result.violation
    assert result.liveness_from == 3
    assert result.events()[:4] == [*faults, Heal(), Restart("n2")]


def test_liveness_that_never_comes_true_is_a_liveness_violation() -> None:
    def hundred_pongs(view: View) -> None:
        got = view.processes[chatter_pid("n1")].pongs
        assert sum(got.values()) >= 100, f"n1 has {sum(got.values())} pongs"

    scenario = chatter(liveness=Liveness(hundred_pongs, within=200))
    result = run(scenario, RandomChooser(5), max_steps=10)
    v = result.violation
    assert v is not None
    assert v.check == "liveness hundred_pongs"
    first_line = v.message.splitlines()[0]
    assert first_line == "not true 50 steps after faults stopped: n1 has 8 pongs"
    assert result.liveness_from == 11


def test_liveness_is_bounded_by_within() -> None:
    def never(view: View) -> None:
        raise AssertionError("not yet")

    result = run(chatter(rounds=100, liveness=Liveness(never, within=25)), ReplayChooser([]))
    assert result.violation is not None
    assert result.violation.message == "not true 25 steps after faults stopped: not yet"
    assert result.steps == 25


def test_equal_runs_have_equal_digests_and_different_seeds_differ() -> None:
    scenario = chatter(faults=ALL_FAULTS, max_steps=300)
    digests = [run(scenario, RandomChooser(seed)).trace.digest() for seed in (7, 7, 8, 9)]
    assert digests[0] == digests[1]
    assert len(set(digests)) == 3


@pytest.mark.parametrize(
    ("bad", "check", "message"),
    [
        (
            lambda me: "not an envelope",
            "bad output of e::a",
            "appended 'not an envelope' to output, which is not an Envelope",
        ),
        (
            lambda me: Envelope("e::a", me, Ping(9)),
            "bad output of e::a",
            "its to and from_ must be Pids",
        ),
        (
            lambda me: start_timer(me, None, CorrelationId(me)),  # type: ignore[arg-type]
            "bad request of e::a to its executor",
            "StartTimer(ms=None) raised TypeError(",
        ),
    ],
)
def test_malformed_output_is_a_violation_not_a_crash_of_the_harness(
    bad: Any, check: str, message: str
) -> None:
    @attrs.define
    class Emitter:
        pid: Pid

        def init(self, output: list[Envelope]) -> None:
            output.append(Envelope(self.pid, self.pid, Ping(0)))

        def handle(self, msg: Any, from_: Pid, cid: Any, output: list[Any]) -> None:
            output.extend([Envelope(self.pid, self.pid, Ping(1)), bad(self.pid)])

    scenario = Scenario("emit", ["a"], lambda node, durable: [Emitter(Pid("e", node))])
    result = run(scenario, ReplayChooser([Deliver(0), Deliver(1)]))
    assert result.violation is not None
    assert result.violation.check == check
    assert message in result.violation.message
    assert result.violation.step == 1


def test_a_run_without_messages_keeps_its_events_and_records_them_again_on_demand() -> None:
    scenario = chatter(faults=ALL_FAULTS)
    full = run(scenario, RandomChooser(5), seed=5)
    lean = run(scenario, RandomChooser(5), seed=5, messages=False, digest=True)
    assert not lean.trace.has_messages and lean.events() == full.events()
    assert lean.trace.digest() == full.trace.digest(), "the same digest, computed on the way"
    with pytest.raises(RabbleInternalError):
        lean.trace.step_plain(1)
    again = recorded(lean)
    assert again.trace.has_messages and list(again.trace) == list(full.trace)
    assert recorded(full) is full


class Forgetful:
    """Sends a different message each time it runs: a protocol that is not deterministic."""

    runs = 0

    def __init__(self, pid: Pid) -> None:
        self.pid = pid

    def init(self, output: list[Envelope]) -> None:
        Forgetful.runs += 1
        for _ in range(Forgetful.runs % 2 + 1):
            output.append(Envelope(self.pid, self.pid, Ping(0)))

    def handle(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        assert msg.round == 0


def test_recording_a_run_again_names_a_protocol_that_is_not_deterministic() -> None:
    scenario = Scenario("forgetful", ["n"], lambda node, durable: [Forgetful(Pid("f", node))])
    lean = run(scenario, RandomChooser(0), seed=3, messages=False)
    with pytest.raises(RabbleError, match="the protocol is not deterministic"):
        recorded(lean)


def test_observers_see_the_world_after_the_start_and_after_every_step() -> None:
    seen: list[tuple[int, int]] = []
    result = run(
        chatter(faults=ALL_FAULTS), RandomChooser(2),
        observers=[lambda world: seen.append((world.step, len(world.processes)))],
    )  # fmt: skip
    assert [step for step, _ in seen] == list(range(result.steps + 1))
    assert seen[0][1] > 0, "the processes have started when the first call comes"


def test_a_run_frees_its_world_as_it_ends_without_the_cyclic_collector() -> None:
    # A sweep runs thousands of worlds: each must go as its run ends, by reference
    # counting (the collector is paused during runs, and would otherwise have to search
    # the whole world when it resumes). An observer that keeps the world can still read it.
    worlds: list[Any] = []
    kept = run(chatter(faults=ALL_FAULTS), RandomChooser(1), observers=[worlds.append])
    assert worlds[-1].processes and worlds[-1].step == kept.steps
    # The slow one runs long enough for the watchdog thread to look at it several times.
    for scenario in (chatter(faults=ALL_FAULTS), _slow):
        freed: list[weakref.ref[Any]] = []
        gc.disable()
        try:
            run(scenario, RandomChooser(1), observers=[_keep_a_weak_ref(freed)])
            assert freed and freed[-1]() is None, f"the world of {scenario.name} outlived its run"
        finally:
            gc.enable()


@attrs.define
class Dawdler:
    """Pings itself once, and takes a quarter of a second over it."""

    pid: Pid

    def init(self, output: list[Envelope]) -> None:
        output.append(Envelope(self.pid, self.pid, Ping(0)))

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        time.sleep(0.25)


_slow = Scenario("slow", ["n"], lambda node, durable: [Dawdler(Pid("d", node))])


def _keep_a_weak_ref(refs: list[weakref.ref[Any]]) -> Any:
    def observe(world: Any) -> None:
        if not refs:
            refs.append(weakref.ref(world))

    return observe
