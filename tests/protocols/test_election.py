"""The election: only latency shows the bug of a timeout below the round trip (no one is
ever elected), the correct timeout elects a leader under latency, and a node follows
Raft's rules for terms and votes."""

from __future__ import annotations

import attrs

from protocols.election import (
    LATENCY,
    ElectionNode,
    Heartbeat,
    RequestVote,
    Vote,
    bug_timeout_below_latency,
    node_pid,
    scenario,
)
from rabble_sim import (
    CorrelationId,
    Envelope,
    Faults,
    Pid,
    RandomChooser,
    RunResult,
    StartTimer,
    Timeout,
    run,
)
from rabble_sim.schedule import Schedule, replay, shrink
from rabble_sim.search import sweep
from rabble_sim.sim import ReplayChooser, World

LIVENESS = "liveness leader_elected"
A, B, C = (node_pid(node) for node in "abc")


def test_the_bug_is_found_and_replays() -> None:
    failure = _found()
    assert failure.violation is not None and failure.violation.check == LIVENESS
    assert "no leader" in failure.violation.message
    events, randoms = failure.events(), failure.trace.all_randoms()
    assert failure.liveness_from is not None
    k = failure.liveness_from - 1
    again = run(
        bug_timeout_below_latency,
        ReplayChooser(events[:k], randoms),
        liveness_chooser=ReplayChooser(events[k:], randoms, first=k + 1),
    )
    assert again.violation is not None and again.violation.check == LIVENESS
    assert again.trace.digest() == failure.trace.digest()


def test_with_latency_no_candidate_is_ever_elected() -> None:
    # Without cuts: a message a cut holds is delivered at the heal without its latency, and
    # a vote that skips it may come back in time (for a moment: its leader's heartbeats
    # come too late for the others' timeouts, and it is deposed).
    uncut = attrs.evolve(bug_timeout_below_latency, faults=Faults(latency=LATENCY, drop=0.05))
    leaders: set[str] = set()

    def watch_leaders(world: World) -> None:
        leaders.update(p.pid.node for p in world.processes.values() if p.role == "leader")

    for seed in range(30):
        result = run(uncut, RandomChooser(seed), observers=[watch_leaders])
        assert result.violation is not None and result.violation.check == LIVENESS, seed
    assert leaders == set(), "every vote came back after its candidate had moved on"


def test_shrinking_keeps_the_latency() -> None:
    failure = _found()
    reference = "protocols.election:bug_timeout_below_latency"
    result = shrink(Schedule.from_run(failure, reference), bug_timeout_below_latency)
    assert result.reproduced is True
    shrunk = result.schedule
    assert shrunk.liveness_from == 1, "no fault event is needed: the latency is enough"
    # What a step records of a delay is what it took beyond its link's least: a replay past
    # its record, as a shrink candidate's fresh liveness phase is, takes the least.
    extras = [d for e in shrunk.events for d in e.get("random", ())]
    assert extras and all(0 <= d <= LATENCY[1] - LATENCY[0] for d in extras)
    assert replay(shrunk, bug_timeout_below_latency).violation is not None


def test_the_bug_needs_latency() -> None:
    no_latency = attrs.evolve(
        bug_timeout_below_latency,
        faults=attrs.evolve(bug_timeout_below_latency.faults, latency=(0, 0)),
    )
    report = sweep(no_latency, range(2000))
    assert report.ok, report.failure and report.failure.violation
    assert report.faults["partition"] > 1000, "the liveness phase also undoes partitions"


def test_scenario_elects_a_leader_under_latency() -> None:
    report = sweep(scenario, range(300))
    assert report.ok, report.failure and report.failure.violation
    assert report.faults["latency"] >= 200


def test_a_candidate_that_times_out_again_ignores_the_votes_of_its_last_term() -> None:
    a = _node(A, base_ticks=2)
    _ticks(a, 2)
    assert (a.role, a.term) == ("candidate", 1)
    _ticks(a, 2)  # no votes in two ticks: it starts over
    assert (a.role, a.term) == ("candidate", 2)
    out: list[Envelope] = []
    a.handle(Vote(1), B, None, out)
    assert a.role == "candidate" and out == [], "a vote of term 1 is wasted"
    a.handle(Vote(2), B, None, out)
    assert a.role == "leader"
    assert [(env.to, env.msg) for env in out] == [(B, Heartbeat(2)), (C, Heartbeat(2))]


def test_votes_that_come_before_the_timeout_elect() -> None:
    a = _node(A, base_ticks=2)
    _ticks(a, 1)
    out = _ticks(a, 1)  # the tick is started again after the requests: see ElectionNode
    assert [env.msg for env in out] == [RequestVote(1), RequestVote(1), StartTimer(10)]
    _ticks(a, 1)  # one tick of two: still waiting
    a.handle(Vote(1), C, None, [])
    assert (a.role, a.leader) == ("leader", "a")


def test_a_follower_votes_once_per_term_and_restarts_its_timeout() -> None:
    b = _node(B, base_ticks=5)
    _ticks(b, 3)
    out: list[Envelope] = []
    b.handle(RequestVote(1), A, None, out)
    b.handle(RequestVote(1), C, None, out)
    assert [(env.to, env.msg) for env in out] == [(A, Vote(1))]
    assert (b.voted_for, b.elapsed) == ("a", 0)
    b.handle(RequestVote(2), C, None, out)
    assert out[-1].to == C and out[-1].msg == Vote(2), "a newer term, a new vote"


def test_a_higher_term_makes_a_leader_follow_and_a_heartbeat_names_the_leader() -> None:
    a = _node(A, base_ticks=2)
    _ticks(a, 2)
    a.handle(Vote(1), B, None, [])
    assert a.role == "leader"
    a.handle(RequestVote(3), C, None, [])
    assert (a.role, a.term, a.leader, a.voted_for) == ("follower", 3, None, "c")
    a.handle(Heartbeat(3), C, None, [])
    assert (a.leader, a.elapsed) == ("c", 0)


def test_timeouts_differ_between_nodes_and_terms() -> None:
    nodes = [_node(pid, base_ticks=4, spread_ticks=7) for pid in (A, B, C)]
    assert len({n.timeout() for n in nodes}) == 3
    a = nodes[0]
    assert {attrs.evolve(a, term=t).timeout() for t in range(7)} == set(range(4, 11))


# -- helpers ----------------------------------------------------------------------------------


def _found() -> RunResult:
    report = sweep(bug_timeout_below_latency, range(2000))
    assert report.failure is not None, "no violation in 2,000 seeds"
    return report.failure


def _node(pid: Pid, base_ticks: int, spread_ticks: int = 1) -> ElectionNode:
    peers = tuple(p for p in (A, B, C) if p != pid)
    rank = (A, B, C).index(pid)
    return ElectionNode(pid, peers, rank, base_ticks, spread_ticks)


def _ticks(node: ElectionNode, n: int) -> list[Envelope]:
    out: list[Envelope] = []
    for _ in range(n):
        node.handle(Timeout(), node.pid, CorrelationId(node.pid), out)
    return out
