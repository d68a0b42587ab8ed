"""Check quorum: only a one-way cut shows the bug of a leader that counts any message it
hears as proof that it is followed; the leader that counts acknowledgements survives every
cut; and a node follows its rules of loyalty, votes and rounds."""

from __future__ import annotations

import attrs

from protocols.checkquorum import (
    Ack,
    Heartbeat,
    Ping,
    QuorumNode,
    RequestVote,
    Stale,
    Timing,
    Vote,
    bug_counts_any_message,
    node_pid,
    scenario,
)
from rabble_sim import (
    ConnectionLost,
    CorrelationId,
    Envelope,
    Pid,
    RunResult,
    StartTimer,
    Timeout,
    Watch,
    run,
)
from rabble_sim.schedule import Schedule, shrink
from rabble_sim.search import sweep
from rabble_sim.sim import Partition, ReplayChooser

A, B, C = (node_pid(node) for node in "abc")
ROUND, QUIET, CAMPAIGN, PING = range(4)


def test_the_bug_is_found_replays_and_shrinks_to_a_one_way_cut_of_the_leader() -> None:
    report = sweep(bug_counts_any_message, range(2000))
    failure = report.failure
    assert failure is not None and failure.violation is not None
    assert failure.violation.check == "one_leader"
    assert "both lead" in failure.violation.message

    events = failure.events()
    again = run(
        bug_counts_any_message,
        ReplayChooser(events, failure.trace.all_randoms()),
        max_steps=len(events),
    )
    assert again.violation is not None and again.violation.step == failure.violation.step
    assert again.trace.digest() == failure.trace.digest()

    reference = "protocols.checkquorum:bug_counts_any_message"
    result = shrink(Schedule.from_run(failure, reference), bug_counts_any_message)
    assert result.reproduced is True
    cuts = [(e["groups"], e["one_way"]) for e in result.schedule.events if e["kind"] == "partition"]
    # Its followers hear nothing from the leader, which hears them all.
    assert cuts == [([["b", "c"], ["a"]], True)], cuts


def test_the_bug_needs_a_one_way_cut() -> None:
    both_ways = attrs.evolve(
        bug_counts_any_message,
        faults=attrs.evolve(bug_counts_any_message.faults, one_way=False),
    )
    leader_cut_off = 0

    def tally(result: RunResult) -> None:
        nonlocal leader_cut_off
        leader_cut_off += any(
            isinstance(e, Partition) and ("a",) in e.groups for e in result.events()
        )

    report = sweep(both_ways, range(2000), on_run=tally)
    assert report.ok, report.failure and report.failure.violation
    # Cut off both ways, the leader hears nothing and steps down before the others elect.
    assert leader_cut_off >= 400


def test_scenario_keeps_one_leader_through_cuts_either_way() -> None:
    report = sweep(scenario, range(300))
    assert report.ok, report.failure and report.failure.violation
    assert report.faults["one_way"] >= 100


def test_only_acknowledgements_of_the_round_count_unless_buggy() -> None:
    def followed(node: QuorumNode, *heard: tuple[object, Pid]) -> set[str]:
        for msg, sender in heard:
            node.handle(msg, sender, None, [])
        return node.followed

    heard = [(Ping(), B), (Ack(1, 0), B), (Ack(0, 3), C), (RequestVote(2), C)]
    assert followed(_leader(), *heard) == set(), "none of these acknowledges round 3"
    assert followed(_leader(), (Ack(1, 3), C)) == {"c"}
    assert followed(_leader(acks_only=False), *heard) == {"b", "c"}


def test_a_leader_not_followed_in_a_round_steps_down() -> None:
    leader = _leader()
    out = _fire(leader, ROUND)
    assert (leader.role, leader.leader, leader.quiet) == ("follower", None, False)
    assert [env.msg for env in out] == [StartTimer(300), StartTimer(350)]

    leader = _leader()
    leader.handle(Ack(1, 3), B, None, [])
    out = _fire(leader, ROUND)
    assert (leader.role, leader.round, leader.followed) == ("leader", 4, set())
    assert [env.msg for env in out] == [Heartbeat(1, 4), Heartbeat(1, 4), StartTimer(100)]


def test_a_follower_acknowledges_and_watches_its_leader() -> None:
    b = _follower(B, leader=None)
    out: list[Envelope] = []
    b.handle(Heartbeat(1, 5), A, None, out)
    assert b.leader == "a" and b.watching == "a"
    msgs = [env.msg for env in out]
    assert msgs[0] == Watch("a") and msgs[-1] == Ack(1, 5)


def test_a_loyal_follower_ignores_requests_for_votes_until_it_loses_its_leader() -> None:
    b = _follower(B)
    b.quiet = True
    out: list[Envelope] = []
    b.handle(RequestVote(2), C, None, out)
    assert out == [] and b.term == 1, "loyal to a"

    b.handle(ConnectionLost("a"), Pid("executor", "b", "rabble"), None, out)
    assert (b.leader, b.quiet) == (None, False), "it waits quiet_ms before it votes"
    b.handle(RequestVote(2), C, None, out)
    assert Vote(2) not in [env.msg for env in out]
    _fire(b, QUIET)
    out.clear()
    b.handle(RequestVote(2), C, None, out)
    assert [(env.to, env.msg) for env in out][-1] == (C, Vote(2))
    assert b.voted_for == "c"


def test_a_request_for_votes_from_the_leader_itself_ends_loyalty() -> None:
    b = _follower(B)
    b.quiet = True  # a stepped down, and has been silent since
    out: list[Envelope] = []
    b.handle(RequestVote(2), A, None, out)
    assert b.leader is None and [env.msg for env in out][-1] == Vote(2)


def test_a_stale_leader_is_told_and_steps_down() -> None:
    b = _follower(B, leader=None, term=3)
    out: list[Envelope] = []
    b.handle(Heartbeat(1, 0), A, None, out)
    assert [(env.to, env.msg) for env in out] == [(A, Stale(3))] and b.leader is None
    leader = _leader()
    leader.handle(Stale(3), B, None, [])
    assert (leader.role, leader.term) == ("follower", 3)


def test_a_candidate_elected_by_a_majority_starts_round_zero() -> None:
    c = _follower(C, leader=None)
    _fire(c, CAMPAIGN)
    assert (c.role, c.term, c.votes) == ("candidate", 2, {"c"})
    out: list[Envelope] = []
    c.handle(Vote(2), B, None, out)
    assert (c.role, c.leader, c.round) == ("leader", "c", 0)
    assert [env.msg for env in out][:2] == [Heartbeat(2, 0), Heartbeat(2, 0)]


def test_timing_keeps_a_follower_loyal_longer_than_a_leader_leads_on() -> None:
    Timing()  # the defaults hold
    for bad in ({"quiet_ms": 200}, {"campaign_ms": 200}):
        try:
            Timing(**bad)
        except AssertionError:
            continue
        raise AssertionError(f"Timing({bad}) was accepted")


# -- helpers ----------------------------------------------------------------------------------


def _peers(pid: Pid) -> tuple[Pid, ...]:
    return tuple(p for p in (A, B, C) if p != pid)


def _leader(*, acks_only: bool = True) -> QuorumNode:
    return QuorumNode(
        A, _peers(A), 0, acks_only=acks_only, term=1, role="leader", leader="a", round=3
    )


def _follower(pid: Pid, leader: str | None = "a", term: int = 1) -> QuorumNode:
    node = QuorumNode(pid, _peers(pid), (A, B, C).index(pid), term=term, leader=leader)
    node.init([])  # watches its leader, if any
    return node


def _fire(node: QuorumNode, which: int) -> list[Envelope]:
    out: list[Envelope] = []
    node.handle(Timeout(), node.pid, CorrelationId(node.pid, which), out)
    return out
