"""The lease protocol: only a drifting clock shows the bug of a client that holds the lease
for the server's full time, the correct margin survives drift, a jump defeats the margin,
and the server and clients follow their rules."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from protocols.lease import (
    CLIENTS,
    DRIFT,
    LEASE_MS,
    SERVER,
    Acquire,
    Busy,
    Grant,
    LeaseClient,
    LeaseServer,
    bug_clock_jumps,
    bug_lease_assumes_clocks_agree,
    safe_hold,
    scenario,
)
from rabble_sim import (
    CancelTimer,
    CorrelationId,
    Envelope,
    Faults,
    Pid,
    RunResult,
    Scenario,
    StartTimer,
    Timeout,
    run,
)
from rabble_sim.schedule import Schedule, load, replay, shrink
from rabble_sim.search import explore, sweep
from rabble_sim.sim import Deliver, Drift, FireTimer, ReplayChooser, World

C1, C2 = CLIENTS
ONE_HOLDER = "one_holder"


def test_the_bug_is_found_replays_and_shrinks_to_a_drifting_clock(tmp_path: Path) -> None:
    failure = _found(bug_lease_assumes_clocks_agree)
    assert failure.violation is not None and failure.violation.check == ONE_HOLDER
    _replays(bug_lease_assumes_clocks_agree, failure)

    shrunk = _shrunk(failure, "bug_lease_assumes_clocks_agree", bug_lease_assumes_clocks_agree)
    drifts = [e for e in shrunk.events if e["kind"] == "drift"]
    assert drifts, "the bug needs a clock that drifts"
    # A client slow (it holds too long) or the server fast (its lease ends too soon).
    assert any((e["node"] == SERVER.node) == (e["rate"] > 1) for e in drifts), drifts
    again = replay(load(shrunk.save(tmp_path)), bug_lease_assumes_clocks_agree)
    assert again.reproduces(shrunk) and again.divergences == ()


def test_the_bug_needs_a_drift() -> None:
    no_drift = _without(bug_lease_assumes_clocks_agree, drift=0.0)
    report = sweep(no_drift, range(2000))
    assert report.ok, report.failure and report.failure.violation
    assert report.events["drift"] == 0 and report.events["drop"] > 0


def test_scenario_keeps_one_holder_under_drift() -> None:
    report = sweep(scenario, range(300))
    assert report.ok, report.failure and report.failure.violation
    assert report.faults["drift"] >= 200, "the sweep must drift clocks to mean anything"


def test_a_jump_defeats_the_margin_for_drift() -> None:
    failure = _found(bug_clock_jumps)
    shrunk = _shrunk(failure, "bug_clock_jumps", bug_clock_jumps)
    jumps = [e for e in shrunk.events if e["kind"] == "jump"]
    assert [e["node"] for e in jumps] == [SERVER.node], "the server's clock jumps"
    report = sweep(_without(bug_clock_jumps, jump=0), range(500))
    assert report.ok, report.failure and report.failure.violation


def test_clocks_that_agree_need_no_margin_even_when_timers_are_due_together() -> None:
    # No time passes between the request and the grant: the client's timer and the
    # server's are due at the same instant, and the client's, started first, fires first.
    world = World(attrs.evolve(bug_lease_assumes_clocks_agree, faults=Faults()))
    world.start()
    acquire = next(seq for seq, env in world.in_flight() if env.from_ == C1)
    world.apply(Deliver(acquire))
    due = {timer.pid: timer.due for _, timer in world.timers.by_due()}
    assert due[C1] == due[SERVER] == LEASE_MS
    first = world.timers.next()
    assert first is not None and world.timers[first].pid == C1
    world.apply(FireTimer(first))
    assert world.processes[C1].state == "idle" and world.processes[SERVER].holder == C1


def test_the_margin_holds_at_both_ends_of_the_drift() -> None:
    hold = safe_hold(LEASE_MS, DRIFT)
    assert hold == 600
    # The longest a client holds (its clock slow) is shorter than the shortest lease the
    # server gives (its clock fast), in true time.
    assert hold / (1 - DRIFT) < LEASE_MS / (1 + DRIFT)
    assert LEASE_MS / (1 - DRIFT) > LEASE_MS / (1 + DRIFT), "without the margin it does not"


def test_the_client_counts_its_lease_from_the_request() -> None:
    client = LeaseClient(C1, SERVER, hold_ms=600)
    out: list[Envelope] = []
    client.init(out)
    lease = CorrelationId(C1, 1)
    assert [(env.msg, env.cid) for env in out] == [(StartTimer(600), lease), (Acquire(1), lease)]

    client.handle(Grant(1), SERVER, lease, [])
    assert (client.state, client.leases) == ("holding", 1)
    out.clear()
    client.handle(Timeout(), C1, lease, out)  # the lease is over, by the client's clock
    assert client.state == "idle"
    assert [env.msg for env in out] == [StartTimer(client.retry_ms)]


@pytest.mark.parametrize("late", [Grant(1), Busy(1)])
def test_an_answer_to_an_earlier_request_is_ignored(late: object) -> None:
    client = LeaseClient(C1, SERVER, hold_ms=600)
    client.init([])
    client.handle(Timeout(), C1, CorrelationId(C1, 1), [])  # no answer in time
    client.handle(Timeout(), C1, CorrelationId(C1), [])  # asks again: request 2
    assert (client.state, client.n) == ("waiting", 2)
    out: list[Envelope] = []
    client.handle(late, SERVER, CorrelationId(C1, 1), out)
    assert client.state == "waiting" and out == []


def test_busy_ends_the_wait_and_the_client_asks_again_later() -> None:
    client = LeaseClient(C1, SERVER, hold_ms=600)
    client.init([])
    out: list[Envelope] = []
    client.handle(Busy(1), SERVER, CorrelationId(C1, 1), out)
    assert client.state == "idle"
    assert [env.msg for env in out] == [CancelTimer(CorrelationId(C1, 1)), StartTimer(50)]
    out.clear()
    client.handle(Timeout(), C1, CorrelationId(C1), out)
    assert [env.msg for env in out][1] == Acquire(2)


def test_the_server_grants_one_client_at_a_time() -> None:
    server = LeaseServer(SERVER, lease_ms=LEASE_MS)

    def answer(client: Pid, n: int) -> list[object]:
        out: list[Envelope] = []
        server.handle(Acquire(n), client, None, out)
        return [env.msg for env in out]

    assert answer(C1, 1) == [StartTimer(LEASE_MS), Grant(1)]
    assert answer(C2, 1) == [Busy(1)]
    assert answer(C1, 2) == [StartTimer(LEASE_MS), Grant(2)], "the holder's lease starts over"
    server.handle(Timeout(), SERVER, CorrelationId(SERVER), [])
    assert server.holder is None
    assert answer(C2, 2) == [StartTimer(LEASE_MS), Grant(2)]


# -- helpers ----------------------------------------------------------------------------------


def _found(bug: Scenario) -> RunResult:
    report = sweep(bug, range(2000))
    assert report.failure is not None, f"{bug.name}: no violation in 2,000 seeds"
    return report.failure


def _replays(bug: Scenario, failure: RunResult) -> None:
    events = failure.events()
    again = run(bug, ReplayChooser(events, failure.trace.all_randoms()), max_steps=len(events))
    assert again.violation is not None and failure.violation is not None
    assert (again.violation.check, again.violation.step) == (
        failure.violation.check,
        failure.violation.step,
    )
    assert again.trace.digest() == failure.trace.digest()


def _shrunk(failure: RunResult, name: str, bug: Scenario) -> Schedule:
    result = shrink(Schedule.from_run(failure, f"protocols.lease:{name}"), bug)
    assert result.reproduced is True
    assert len(result.schedule.events) < failure.steps
    return result.schedule


def _without(bug: Scenario, **fault: float) -> Scenario:
    return attrs.evolve(bug, faults=attrs.evolve(bug.faults, **fault))


def test_exploration_finds_the_shortest_schedule_with_a_drift_and_none_without() -> None:
    report = explore(bug_lease_assumes_clocks_agree, depth=6)
    assert report.violation is not None and report.failure is not None
    events = report.failure.events()
    assert len(events) == 6 and isinstance(events[0], Drift), events
    agreeing = attrs.evolve(
        bug_lease_assumes_clocks_agree,
        faults=attrs.evolve(bug_lease_assumes_clocks_agree.faults, drift=0.0),
    )
    clean = explore(agreeing, depth=6)
    assert clean.ok and clean.exhausted
