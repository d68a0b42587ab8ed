"""The echo protocol: the correct scenario survives faults, the shared-cache bug is found
and replays, and the client retries and ignores stale replies."""

from __future__ import annotations

import attrs

from protocols.echo import (
    SERVER,
    EchoClient,
    EchoReply,
    EchoRequest,
    EchoServer,
    bug_shared_cache,
    client_pid,
    every_client_done,
    many_clients,
    payload_for,
    scenario,
)
from rabble_sim import (
    CancelTimer,
    CorrelationId,
    Envelope,
    Liveness,
    RandomChooser,
    RunResult,
    Scenario,
    StartTimer,
    Timeout,
    run,
)
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


def _first_failure(bug: Scenario, seeds: int) -> tuple[int, RunResult]:
    for seed in range(seeds):
        result = run(bug, RandomChooser(seed))
        if not result.ok:
            return seed, result
    raise AssertionError(f"no violation in {seeds} seeds")
