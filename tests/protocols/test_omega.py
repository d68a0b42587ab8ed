"""The Omega leader detector: the correct scenario converges after faults, each known bug
is found (the round bug only with a crash of the smallest node) and replays, and the
detector's own rules hold."""

from __future__ import annotations

from pathlib import Path

import attrs

from protocols.omega import (
    NODES,
    Heartbeat,
    Omega,
    bug_no_self,
    bug_round_not_persisted,
    omega_pid,
    scenario,
    scenario_crash_stop,
)
from rabble_sim import (
    CorrelationId,
    Envelope,
    Faults,
    Persist,
    RandomChooser,
    RunResult,
    Scenario,
    StartTimer,
    Timeout,
    run,
)
from rabble_sim.search import check_determinism
from rabble_sim.search._mutants import judge, mutants_of
from rabble_sim.sim import Crash, ReplayChooser, Restart

SEEDS = 300
SMALLEST = min(NODES)
LIVENESS = "liveness agree_on_smallest"
ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "protocols" / "omega" / "processes.py"


def test_scenario_converges_after_faults_on_many_seeds() -> None:
    smallest_crashed = 0
    for seed in range(SEEDS):
        result = run(scenario, RandomChooser(seed))
        assert result.ok, f"seed {seed}: {result.violation}"
        smallest_crashed += Crash(SMALLEST) in result.events()
    # The sweep must include the fault the round bug needs, or passing proves little.
    assert smallest_crashed >= SEEDS // 2


def test_round_bug_is_found_after_a_crash_of_the_smallest_node_and_replays() -> None:
    seed, result = _first_failure(bug_round_not_persisted, seeds=60)
    assert result.violation is not None and result.liveness_from is not None
    assert result.violation.check == LIVENESS
    assert Crash(SMALLEST) in result.events(), f"seed {seed} failed without crashing a"

    events = result.events()
    k = result.liveness_from - 1
    again = run(
        bug_round_not_persisted,
        ReplayChooser(events[:k]),
        liveness_chooser=ReplayChooser(events[k:]),
    )
    assert again.violation is not None, f"seed {seed} did not replay"
    assert again.violation.check == LIVENESS
    assert again.trace.digest() == result.trace.digest()


def test_round_bug_needs_a_crash() -> None:
    faults = attrs.evolve(bug_round_not_persisted.faults, crash=0)
    without_crashes = attrs.evolve(bug_round_not_persisted, faults=faults)
    for seed in range(60):
        result = run(without_crashes, RandomChooser(seed))
        assert result.ok, f"seed {seed}: {result.violation}"


def test_no_self_bug_is_found_without_faults() -> None:
    assert bug_no_self.faults == Faults()
    result = run(bug_no_self, RandomChooser(0))
    assert result.violation is not None
    assert result.violation.check == LIVENESS
    assert f"{SMALLEST!r}: 'b'" in result.violation.message  # a trusts b, not itself


def test_a_change_of_leader_grows_the_period() -> None:
    b = Omega(omega_pid("b"), peers=("a", "c"), period=100, delta=20)

    def period(*heard_from: str) -> tuple[str | None, int]:
        for node in heard_from:
            b.handle(Heartbeat(b.round + 1), omega_pid(node), None, [])
        b.handle(Timeout(), b.pid, CorrelationId(b.pid), [])
        return b.leader, b.period

    assert period() == ("b", 120)  # the first election is a change, from no leader
    assert period("a", "c") == ("a", 140)
    assert period("a") == ("a", 140)  # same leader: same period
    assert period("c") == ("b", 160)  # a was not heard from this period
    assert period("c") == ("b", 160)


def test_each_period_persists_then_sends_the_next_round_to_every_peer() -> None:
    a = Omega(omega_pid("a"), peers=("b", "c", "d"), round=6)
    out: list[Envelope] = []
    a.handle(Timeout(), a.pid, CorrelationId(a.pid), out)
    assert [(env.to, env.msg) for env in out[1:4]] == [
        (omega_pid(node), Heartbeat(7)) for node in ("b", "c", "d")
    ]
    assert out[0].msg == Persist(7)
    assert out[-1].msg == StartTimer(a.period)


def test_stale_heartbeats_are_ignored() -> None:
    b = Omega(omega_pid("b"), peers=("a", "c"))
    b.handle(Heartbeat(5), omega_pid("a"), None, [])
    b.handle(Timeout(), b.pid, CorrelationId(b.pid), [])
    assert b.leader == "a"
    b.handle(Heartbeat(3), omega_pid("a"), None, [])  # delayed from before round 5
    b.handle(Timeout(), b.pid, CorrelationId(b.pid), [])
    assert b.leader == "b"


def test_a_restart_resumes_after_the_persisted_round_unless_buggy() -> None:
    pid = omega_pid("a")
    (restarted,) = scenario.start("a", {pid: 41})
    (forgetful,) = bug_round_not_persisted.start("a", {pid: 41})
    assert (restarted.round, forgetful.round) == (41, 0)
    out: list[Envelope] = []
    restarted.handle(Timeout(), pid, CorrelationId(pid), out)
    assert Heartbeat(42) in [env.msg for env in out]


def test_traces_do_not_depend_on_the_hash_seed() -> None:
    # The detector keeps sets of node names; the trace must not depend on their order.
    report = check_determinism("protocols.omega:scenario", range(3), strategy="random")
    assert report.ok, report.difference


def _first_failure(bug: Scenario, seeds: int) -> tuple[int, RunResult]:
    for seed in range(seeds):
        result = run(bug, RandomChooser(seed))
        if not result.ok:
            return seed, result
    raise AssertionError(f"no violation in {seeds} seeds")


def test_crash_stop_scenario_forgets_the_nodes_that_never_come_back() -> None:
    stayed_down = 0
    for seed in range(150):
        result = run(scenario_crash_stop, RandomChooser(seed))
        assert result.ok, f"seed {seed}: {result.violation}"
        liveness = result.events()[(result.liveness_from or 1) - 1 :]
        assert not any(isinstance(e, Restart) for e in liveness), "no restart after the faults"
        crashes = sum(isinstance(e, Crash) for e in result.events())
        restarts = sum(isinstance(e, Restart) for e in result.events())
        stayed_down += crashes > restarts
    assert stayed_down >= 10, "the check means something only if nodes stayed down"


def test_only_crash_stop_notices_a_detector_that_never_forgets_a_candidate() -> None:
    (never_forgets,) = [
        m for m in mutants_of(PROCESSES) if m.description == "deleted: self.candidates = set()"
    ]
    _, (restarting,) = judge("protocols.omega:scenario", [never_forgets], seeds=100, jobs=1)
    _, (crash_stop,) = judge(
        "protocols.omega:scenario_crash_stop", [never_forgets], seeds=100, jobs=1
    )
    assert restarting.outcome == "survived", "every node restarts: a stale candidate lives"
    assert crash_stop.outcome == "killed", crash_stop.detail
