"""The echo protocol: the correct scenario survives faults, the shared-cache bug is found
and replays, and the client retries and ignores stale replies; with generated payloads,
too, where a restarted client must not reuse a request number."""

from __future__ import annotations

from pathlib import Path

import attrs

from protocols.echo import (
    SERVER,
    EchoClient,
    EchoReply,
    EchoRequest,
    EchoServer,
    Say,
    bug_shared_cache,
    bug_shared_cache_generated,
    client_pid,
    every_client_done,
    many_clients,
    payload_for,
    scenario,
    scenario_generated,
)
from rabble_sim import (
    CancelTimer,
    CorrelationId,
    Envelope,
    Liveness,
    Persist,
    RandomChooser,
    RunResult,
    Scenario,
    StartTimer,
    Timeout,
    run,
)
from rabble_sim.schedule import Schedule, load, replay, shrink
from rabble_sim.search import sweep
from rabble_sim.sim import Crash, ReplayChooser

SEEDS = 300
CLIENT = client_pid(1)


def test_scenario_passes_many_seeds_with_server_crashes() -> None:
    server_crashes = 0
    for seed in range(SEEDS):
        result = run(scenario, RandomChooser(seed))
        assert result.ok, f"seed {seed}: {result.violation}"
        server_crashes += Crash(SERVER.node) in result.events()
    # The sweep only means something if the server really crashed in it.
    assert server_crashes >= SEEDS // 10


def test_shared_cache_bug_is_found_and_replays() -> None:
    seed, result = _first_failure(bug_shared_cache, seeds=10)
    assert result.violation is not None
    assert result.violation.check == "postcondition replies_match_requests"
    assert "accepted" in result.violation.message

    events = result.events()
    again = run(bug_shared_cache, ReplayChooser(events), max_steps=len(events))
    assert again.violation is not None, f"seed {seed} did not replay"
    assert again.violation.check == result.violation.check
    assert again.violation.step == result.violation.step
    assert again.trace.digest() == result.trace.digest()


def test_client_retries_the_pending_request_after_a_timeout() -> None:
    client = EchoClient(CLIENT, SERVER, requests=2)
    out: list[Envelope] = []
    client.init(out)
    request = EchoRequest(1, payload_for(CLIENT, 1))
    cid = CorrelationId(CLIENT, 1)
    assert [env.msg for env in out] == [request, StartTimer(client.retry_ms)]
    assert all(env.cid == cid for env in out)

    out.clear()
    client.handle(Timeout(), CLIENT, cid, out)
    assert [env.msg for env in out] == [request, StartTimer(client.retry_ms)]
    assert client.retries == 1


def test_client_cancels_its_timer_and_ignores_stale_replies() -> None:
    client = EchoClient(CLIENT, SERVER, requests=2)
    client.init([])
    reply = EchoReply(1, payload_for(CLIENT, 1))

    out: list[Envelope] = []
    client.handle(reply, SERVER, CorrelationId(CLIENT, 1), out)
    assert client.got == [reply]
    assert out[0].msg == CancelTimer(CorrelationId(CLIENT, 1))
    assert out[1].msg == EchoRequest(2, payload_for(CLIENT, 2))

    # A duplicate of the first reply, and the timeout of the answered request, do nothing.
    out.clear()
    client.handle(reply, SERVER, CorrelationId(CLIENT, 1), out)
    client.handle(Timeout(), CLIENT, CorrelationId(CLIENT, 1), out)
    assert out == []
    assert client.got == [reply]
    assert client.retries == 0


def test_server_cache_keeps_clients_apart_unless_buggy() -> None:
    other = client_pid(2)

    def replies(server: EchoServer) -> list[object]:
        out: list[Envelope] = []
        for pid in (CLIENT, other, CLIENT):  # the last one is a retry
            server.handle(EchoRequest(1, payload_for(pid, 1)), pid, None, out)
        return [env.msg for env in out]

    mine, theirs = EchoReply(1, payload_for(CLIENT, 1)), EchoReply(1, payload_for(other, 1))
    assert replies(EchoServer(SERVER)) == [mine, theirs, mine]
    assert replies(EchoServer(SERVER, per_client=False)) == [mine, mine, mine]


def test_many_clients_is_unchecked_and_runs_to_completion() -> None:
    load = many_clients(clients=5, requests=10)
    assert load.faults.drop == load.faults.duplicate == load.faults.crash == 0
    assert not load.invariants and not load.postconditions and load.liveness is None
    # Checked once, at the end: with no faults every client has all its replies.
    pids = [client_pid(i) for i in range(1, 6)]
    finished = attrs.evolve(load, liveness=Liveness(every_client_done(pids), within=0))
    result = run(finished, RandomChooser(0))
    assert result.ok, result.violation
    assert result.steps < load.max_steps


def test_generated_payloads_pass_with_client_crashes() -> None:
    client_crashes = 0

    def tally(result: RunResult) -> None:
        nonlocal client_crashes
        client_crashes += sum(
            isinstance(e, Crash) and e.node != SERVER.node for e in result.events()
        )

    report = sweep(scenario_generated, range(200), on_run=tally)
    assert report.ok, report.failure and report.failure.violation
    assert report.events["input"] == 200 * 3 * 4
    # A restarted client numbers its requests above its earlier life's: the server's
    # cache would otherwise answer its new request 1 with the old life's payload.
    assert client_crashes >= 50


def test_shared_cache_bug_with_generated_payloads_needs_two_that_differ(tmp_path: Path) -> None:
    found = sweep(bug_shared_cache_generated, range(10)).failure
    assert found is not None
    schedule = Schedule.from_run(found, "protocols.echo:bug_shared_cache_generated")
    shrunk = shrink(schedule, bug_shared_cache_generated).schedule
    said = [e["msg"]["echo.say"]["payload"] for e in shrunk.events if e["kind"] == "input"]
    assert len(said) == 2 and said[0] != said[1], said  # equal payloads would hide the bug
    again = replay(load(shrunk.save(tmp_path)), bug_shared_cache_generated)
    assert again.violation is not None
    assert again.violation.check == "postcondition replies_match_requests"


def test_a_restarted_client_numbers_requests_for_payloads_above_its_earlier_life() -> None:
    client = EchoClient(CLIENT, SERVER, requests=0)
    out: list[Envelope] = []
    client.init(out)
    client.handle(Say("b"), CLIENT, None, out)
    assert [env.msg for env in out] == [Persist(2), EchoRequest(1, "b"), StartTimer(100)]
    server = EchoServer(SERVER)
    server.handle(EchoRequest(1, "b"), CLIENT, None, [])

    (after,) = scenario_generated.start(CLIENT.node, {CLIENT: 2})
    assert isinstance(after, EchoClient) and after.first == 2
    out.clear()
    after.handle(Say("c"), CLIENT, None, out)
    assert [env.msg for env in out][:2] == [Persist(3), EchoRequest(2, "c")]
    replies: list[Envelope] = []
    server.handle(out[1].msg, CLIENT, None, replies)
    assert [env.msg for env in replies] == [EchoReply(2, "c")]  # not the old life's "b"


def _first_failure(bug: Scenario, seeds: int) -> tuple[int, RunResult]:
    for seed in range(seeds):
        result = run(bug, RandomChooser(seed))
        if not result.ok:
            return seed, result
    raise AssertionError(f"no violation in {seeds} seeds")
