"""The lock protocol: the server that trusts ``ConnectionLost`` is caught by a sweep with
partitions, replays, and shrinks to a schedule that keeps the partition, but passes a
sweep without them, where crashes still make the link loss fire; the correct lease lock
survives both; and the lease rules of server and client hold."""

from __future__ import annotations

from pathlib import Path

import attrs

from protocols.lock import (
    CLIENTS,
    LEASE,
    RESEND,
    SERVER,
    Ack,
    Acquire,
    Grant,
    Held,
    LockClient,
    LockServer,
    Release,
    bug_regrants_on_connection_lost,
    restored_server,
    scenario,
)
from rabble_sim import (
    CancelTimer,
    ConnectionLost,
    CorrelationId,
    Durable,
    Envelope,
    Persist,
    RunResult,
    StartTimer,
    Timeout,
    Unwatch,
    Watch,
    run,
)
from rabble_sim.schedule import Schedule, load, replay, shrink
from rabble_sim.search import chooser_for, sweep
from rabble_sim.sim import Crash, ReplayChooser

SEEDS = 2000
A, B = CLIENTS
WITHOUT_PARTITIONS = attrs.evolve(
    bug_regrants_on_connection_lost,
    faults=attrs.evolve(bug_regrants_on_connection_lost.faults, partition=False),
)


def test_scenario_passes_a_sweep_with_partitions_and_crashes() -> None:
    report = sweep(scenario, range(300))
    assert report.ok, report.failure and report.failure.violation
    assert report.events["partition"] >= 300
    assert report.events["crash"] >= 300


def test_the_connection_lost_bug_is_found_replays_and_shrinks_keeping_the_partition(
    tmp_path: Path,
) -> None:
    found = sweep(bug_regrants_on_connection_lost, range(SEEDS)).failure
    assert found is not None and found.violation is not None
    assert found.violation.check == "one_holder"
    assert "both hold the lock" in found.violation.message

    events = found.events()
    again = run(bug_regrants_on_connection_lost, ReplayChooser(events), max_steps=len(events))
    assert again.violation is not None, f"seed {found.seed} did not replay"
    assert (again.violation.check, again.violation.step) == (
        found.violation.check,
        found.violation.step,
    )

    reference = "protocols.lock:bug_regrants_on_connection_lost"
    shrunk = shrink(Schedule.from_run(found, reference), bug_regrants_on_connection_lost)
    assert shrunk.reproduced
    kinds = [e["kind"] for e in shrunk.schedule.events]
    assert "partition" in kinds, kinds  # a crash would have taken the holder with it
    assert "crash" not in kinds, kinds
    assert len(kinds) <= 10, kinds
    replayed = replay(load(shrunk.schedule.save(tmp_path)), bug_regrants_on_connection_lost)
    assert replayed.violation is not None and replayed.violation.check == "one_holder"


def test_the_connection_lost_bug_passes_a_sweep_without_partitions() -> None:
    client_crashes = 0

    def tally(result: RunResult) -> None:
        nonlocal client_crashes
        client_crashes += sum(
            isinstance(e, Crash) and e.node != SERVER.node for e in result.events()
        )

    report = sweep(WITHOUT_PARTITIONS, range(SEEDS), on_run=tally)
    assert report.ok, report.failure and report.failure.violation
    assert report.events["partition"] == 0
    assert client_crashes >= 1000


def test_without_partitions_the_bug_still_regrants_the_lock_of_crashed_holders() -> None:
    # The sweep above passes although the bug acts on ConnectionLost: after a crash, the
    # holder it reports is gone, and the lock may go to the next client.
    heard = regrants = 0
    for seed in range(100):
        chooser = chooser_for("swarm", WITHOUT_PARTITIONS, seed)
        result = run(WITHOUT_PARTITIONS, chooser, seed=seed)
        assert result.ok, f"seed {seed}: {result.violation}"
        for step in range(1, result.steps + 1):
            delivered, sent = result.trace.envelopes(step)
            if delivered is not None and isinstance(delivered.msg, ConnectionLost):
                heard += 1
                regrants += any(isinstance(env.msg, Grant) for env in sent)
    assert heard >= 20
    assert regrants >= 5


def test_a_client_starts_its_lease_before_it_acknowledges_the_grant() -> None:
    client = LockClient(A, SERVER, rounds=1)
    out: list[Envelope] = []
    client.init(out)
    assert [env.msg for env in out] == [Persist(1), Acquire(1), StartTimer(client.resend_ms)]

    out.clear()
    client.handle(Grant(1), SERVER, None, out)
    assert client.holding
    assert [env.msg for env in out] == [
        CancelTimer(CorrelationId(A, 1, RESEND)),
        StartTimer(client.lease_ms),
        Ack(1),
    ]
    assert out[1].cid == CorrelationId(A, 1, LEASE)

    out.clear()
    client.handle(Grant(1), SERVER, None, out)  # sent again: acknowledged again
    client.handle(Grant(0), SERVER, None, out)  # not one it holds: given back
    assert [env.msg for env in out] == [Ack(1), Release(0)]

    out.clear()
    client.handle(Timeout(), A, CorrelationId(A, 1, LEASE), out)
    assert (client.holding, client.done) == (False, True)
    assert [env.msg for env in out] == [Release(1)]


def test_the_server_starts_its_lease_on_the_ack_and_only_the_bug_trusts_a_lost_link() -> None:
    for trusting in (False, True):
        server = LockServer(SERVER, trust_connection_lost=trusting)
        out: list[Envelope] = []
        server.handle(Acquire(1), A, None, out)
        server.handle(Acquire(1), B, None, out)
        assert [env.msg for env in out] == [
            Persist(Held(A, 1)),
            Watch(A.node, A),
            Grant(1),
            StartTimer(server.resend_ms),
        ]
        out.clear()
        server.handle(Ack(1), A, None, out)
        assert [env.msg for env in out] == [
            CancelTimer(CorrelationId(SERVER, 1, RESEND)),
            StartTimer(server.lease_ms),
        ]
        out.clear()
        server.handle(ConnectionLost(A.node, A), SERVER, CorrelationId(SERVER, 1), out)
        if not trusting:
            assert out == [] and server.holder == A  # A may be alive behind a cut
        else:
            assert server.holder == B
            assert Unwatch(A.node, A) in [env.msg for env in out]
            assert [env.msg for env in out if env.to == B] == [Grant(1)]


def test_a_restarted_server_grants_its_holder_again_and_waits_for_a_new_ack() -> None:
    server = restored_server(SERVER, Durable({SERVER: Held(A, 3)}))
    assert (server.holder, server.holder_n, server.acked) == (A, 3, False)
    out: list[Envelope] = []
    server.init(out)
    assert [env.msg for env in out] == [Watch(A.node, A), Grant(3), StartTimer(server.resend_ms)]

    out.clear()
    server.handle(Acquire(1), B, None, out)
    server.handle(Acquire(4), A, None, out)  # A asks anew: it gave request 3 up
    assert server.holder == B
    assert server.queue == [(A, 4)]
