"""VR with generated workloads: the correct scenario passes a sweep whose clients are given
every kind of kv call, a known bug is found with generated calls, shrunk, saved and fails
again on replay, inputs are recorded as input events and run in the order given, and a
client fed inputs never reuses a request number across lives."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

import protocols.vr
from protocols.vr import (
    BLOCK,
    INPUTS,
    Client,
    Submit,
    bug_no_dedup_generated,
    client_pid,
    draw_call,
    replica_pid,
    scenario_generated,
    two_groups_generated,
    vr_scenario,
)
from protocols.vr.checks import every_request_completes
from protocols.vr.kv import WRONG_TYPE, Result
from protocols.vr.messages import Reply, Request
from rabble_sim import (
    CorrelationId,
    Draw,
    Envelope,
    Faults,
    HistoryEvent,
    Persist,
    RandomChooser,
    RunResult,
    View,
    run,
)
from rabble_sim.core import Complete, Invoke
from rabble_sim.schedule import Schedule, load, replay, shrink
from rabble_sim.search import check_determinism, sweep
from rabble_sim.sim import Input, World

from .test_vr import BUGS

# Each bug's generated twin, and the seeds a sweep needs to find it (the first failing
# seed is fixed: these budgets leave room above it).
GENERATED_BUGS = {
    "bug_commit_without_quorum": 5,
    "bug_no_dedup": 10,
    "bug_no_recovery": 10,
    "bug_wrong_log": 30,
    "bug_local_reads": 40,
}

C1 = client_pid("c1", "g1")
CONFIG = tuple(replica_pid(node, "g1") for node in ("n1", "n2", "n3"))


class LastWorld:
    """An observer that keeps the world it saw last: after a run, the run's end."""

    def __init__(self) -> None:
        self.world: World | None = None

    def __call__(self, world: World) -> None:
        self.world = world


def test_the_generated_scenario_passes_a_sweep_over_every_kind_of_call() -> None:
    calls: Counter[str] = Counter()
    results: Counter[object] = Counter()

    def tally(result: RunResult) -> None:
        for event in result.events():
            if isinstance(event, Input):
                calls[event.msg.call[0]] += 1

    report = sweep(scenario_generated, range(40), on_run=tally)
    assert report.ok, report.failure and report.failure.violation  # liveness and history too
    assert report.events["crash"] >= 10 and report.events["input"] == 40 * 2 * INPUTS
    assert set(calls) == {"get", "put", "append", "push", "pop", "add", "cas"}

    # The values collide: a compare-and-swap can win, and an operation can meet a key of
    # another type. One seed's answers, read from its history, show both.
    for seed in range(5):
        last = LastWorld()
        assert run(scenario_generated, RandomChooser(seed), observers=[last]).ok
        assert last.world is not None
        answers = _answers(last.world.history)
        results.update(result for call, result in answers if call[0] == "cas")
        results.update(result for _, result in answers if result == WRONG_TYPE)
    assert results[True] and results[False] and results[WRONG_TYPE]


def test_each_client_runs_the_calls_it_is_given_in_order_and_they_are_recorded() -> None:
    last = LastWorld()
    result = run(two_groups_generated, RandomChooser(3), observers=[last])
    assert result.ok, result.violation
    given: dict[str, list[tuple[str, ...]]] = {}
    for event in result.events():
        if isinstance(event, Input):
            assert isinstance(event.msg, Submit)
            group = event.to.group
            assert event.msg.call[1].startswith(f"{group}/"), "a group's calls use its own keys"
            given.setdefault(str(event.to), []).append(event.msg.call)
    assert len(given) == 4 and all(len(calls) <= INPUTS for calls in given.values())
    assert last.world is not None
    invoked: dict[str, list[tuple[str, ...]]] = {}
    for line in last.world.history:
        if line.kind == "invoke":
            invoked.setdefault(str(line.client), []).append(tuple(line.value))
    assert invoked == given  # every input invoked once, in the order given, none lost


def test_a_saved_run_with_inputs_holds_them_as_input_events(tmp_path: Path) -> None:
    result = run(scenario_generated, RandomChooser(0))
    saved = Schedule.from_run(result, "protocols.vr:scenario_generated").save(tmp_path)
    inputs = [e for e in json.loads(saved.read_text())["events"] if e["kind"] == "input"]
    assert len(inputs) == 2 * INPUTS
    assert {e["to"] for e in inputs} == {"g1::client::c1", "g1::client::c2"}
    assert all(list(e["msg"]) == ["vr.submit"] and e["draws"] for e in inputs)
    again = replay(load(saved), scenario_generated)
    assert again.violation is None and not again.divergences


@pytest.mark.parametrize("name", list(GENERATED_BUGS))
def test_each_bug_is_found_with_generated_calls_by_the_checks_that_find_it(name: str) -> None:
    bug = getattr(protocols.vr, f"{name}_generated")
    report = sweep(bug, range(GENERATED_BUGS[name]))
    found = report.failure
    assert found is not None and found.violation is not None, f"{name}: not found"
    assert found.violation.check in BUGS[name][2], found.violation
    assert any(isinstance(event, Input) for event in found.events())


def test_a_bug_with_generated_calls_is_found_shrunk_and_fails_again_on_replay(
    tmp_path: Path,
) -> None:
    report = sweep(bug_no_dedup_generated, range(20))
    found = report.failure
    assert found is not None and found.violation is not None
    assert found.violation.check == "postcondition requests_execute_at_most_once"

    schedule = Schedule.from_run(found, "protocols.vr:bug_no_dedup_generated")
    shrunk = shrink(schedule, bug_no_dedup_generated, max_attempts=150)
    assert shrunk.reproduced
    kinds = Counter(event["kind"] for event in shrunk.schedule.events)
    assert 1 <= kinds["input"] <= Counter(e["kind"] for e in schedule.events)["input"]
    assert len(shrunk.schedule.events) < len(schedule.events)

    again = replay(load(shrunk.schedule.save(tmp_path)), bug_no_dedup_generated)
    assert again.violation is not None
    assert again.violation.check == "postcondition requests_execute_at_most_once"
    assert again.reproduces(shrunk.schedule)


def test_a_client_fed_inputs_queues_them_and_reserves_request_numbers_in_blocks() -> None:
    calls = [("put", "g1/x", str(i)) for i in range(BLOCK + 2)]
    c = Client(C1, CONFIG, block=BLOCK)
    out: list[Envelope] = []
    c.init(out)
    assert out == [] and c.done  # no call yet: nothing pending, nothing to wait for

    c.handle(Submit(calls[0]), C1, None, out)
    assert [env.msg for env in out][:3] == [Persist(1 + BLOCK), Invoke(1, calls[0]), _req(c, 1)]
    for call in calls[1:]:  # given while request 1 is pending: they wait their turn
        out.clear()
        c.handle(Submit(call), C1, None, out)
        assert out == []
    assert not c.done and c.pending == 1

    persisted = []
    for n in range(1, len(calls) + 1):
        out.clear()
        c.handle(_reply(n), CONFIG[0], CorrelationId(C1, n), out)
        assert out[0].msg == Complete(n, "ok")
        persisted += [env.msg.data for env in out if isinstance(env.msg, Persist)]
        invoked = [env.msg for env in out if isinstance(env.msg, Invoke)]
        assert invoked == ([Invoke(n + 1, calls[n])] if n < len(calls) else [])
    # Request 1 reserved 1-4; request 5 found 2 calls left and reserved a block again.
    assert persisted == [5 + BLOCK] and c.done and c.reserved == 5 + BLOCK

    # A restart hands back what was persisted: the next life numbers above every request.
    sc = vr_scenario("vr", ops=0, inputs=INPUTS, faults=Faults(), max_steps=1, within=1)
    (after,) = sc.start("c1", {C1: c.reserved})
    assert isinstance(after, Client) and after.first == 5 + BLOCK and after.done
    out.clear()
    after.handle(Submit(calls[0]), C1, None, out)
    assert [env.msg for env in out][:2] == [Persist(5 + 2 * BLOCK), Invoke(5 + BLOCK, calls[0])]


def test_a_client_is_done_once_no_call_is_pending() -> None:
    c = Client(C1, CONFIG)
    done = every_request_completes([C1])
    view = _view(c)
    done(view)  # nothing given yet: done
    c.handle(Submit(("get", "g1/x")), C1, None, [])
    with pytest.raises(AssertionError, match=r"has 0 of 1 answers \(request 1 unanswered"):
        done(view)
    c.handle(_reply(1, None), CONFIG[0], CorrelationId(C1, 1), [])
    done(view)


def test_a_submitted_call_that_is_not_a_kv_call_fails_at_the_client() -> None:
    with pytest.raises(ValueError, match="not a kv call"):
        Client(C1, CONFIG).handle(Submit(("put", "g1/x")), C1, None, [])


def test_the_simplest_generated_call_is_a_read_of_the_first_blob() -> None:
    assert draw_call(Draw.replaying([]), "g1") == ("get", "g1/x")
    assert draw_call(Draw.replaying([6, 0, 1, 2]), "g2") == ("cas", "g2/x", "b", "c")


def test_generated_calls_do_not_depend_on_the_hash_seed() -> None:
    # The calls are drawn from the run's seed: equal traces under any PYTHONHASHSEED.
    report = check_determinism("protocols.vr:two_groups_generated", range(2), strategy="swarm")
    assert report.ok, report.difference


def _req(c: Client, n: int) -> Request:
    return Request(c.call_of(n), C1, n)


def _reply(n: int, result: Result = "ok") -> Reply:
    return Reply(0, n, result)


def _view(*procs: Client) -> View:
    return SimpleNamespace(processes={p.pid: p for p in procs})  # type: ignore[return-value]


def _answers(history: list[HistoryEvent]) -> list[tuple[tuple[str, ...], object]]:
    """Each answered call of a history, with its result."""
    calls = {(line.client, line.op): tuple(line.value) for line in history if line.kind == "invoke"}
    return [(calls[(line.client, line.op)], line.value) for line in history if line.kind == "ok"]
