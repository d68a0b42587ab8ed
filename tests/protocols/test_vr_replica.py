"""VR's replica and client, one handler at a time: normal operation and the client table,
the log a view change picks, recovery with its nonce, state transfer, and retries."""

from __future__ import annotations

import attrs
import pytest

from protocols.vr import (
    NORMAL,
    RECOVERING,
    TRANSFERRING,
    VIEW_CHANGE,
    Bugs,
    Cached,
    Client,
    Replica,
    client_pid,
    replica_pid,
    vr_scenario,
)
from protocols.vr.client import STALL_RETRIES
from protocols.vr.messages import (
    Commit,
    DoViewChange,
    GetState,
    LogEntry,
    NewState,
    Prepare,
    PrepareOk,
    Recovery,
    RecoveryResponse,
    Reply,
    Request,
    StartView,
    StartViewChange,
)
from protocols.vr.state import NO_BUGS
from rabble_sim import (
    CancelTimer,
    CorrelationId,
    Envelope,
    Faults,
    Persist,
    StartTimer,
    Timeout,
)
from rabble_sim.codec import to_plain
from rabble_sim.core import Complete, Invoke

N1, N2, N3 = (replica_pid(node, "g1") for node in ("n1", "n2", "n3"))
CONFIG = (N1, N2, N3)
C1 = client_pid("c1", "g1")
PUT = ("put", "x", "a")


def sent(output: list[Envelope]) -> list[tuple[object, object]]:
    return [(env.to, env.msg) for env in output]


def entry(request: int, call: tuple[str, ...] = PUT) -> LogEntry:
    return LogEntry(C1, request, call)


def primary(bugs: Bugs = NO_BUGS) -> Replica:
    return Replica.first(N1, CONFIG, bugs)


def test_a_request_is_prepared_at_every_backup_and_committed_with_one_ack() -> None:
    p, out = primary(), []
    p.handle(Request(PUT, C1, 1), C1, CorrelationId(C1, 1), out)
    assert sent(out) == [(N2, Prepare(0, entry(1), 1, 0)), (N3, Prepare(0, entry(1), 1, 0))]
    assert (p.op, p.commit) == (1, 0)

    out.clear()
    p.handle(PrepareOk(0, 1), N3, None, out)  # f = 1: the primary and one backup suffice
    assert p.commit == 1 and p.store == {"x": ("blob", "a")}
    assert out == [Envelope(C1, N1, Reply(0, 1, "ok"), CorrelationId(C1, 1))]
    assert p.table == {str(C1): Cached(1, "ok")}


def test_the_client_table_answers_retries_without_executing_them_again() -> None:
    p = primary()
    p.handle(Request(PUT, C1, 1), C1, None, [])
    in_progress: list[Envelope] = []
    p.handle(Request(PUT, C1, 1), C1, None, in_progress)
    assert in_progress == [] and p.op == 1  # in progress: its reply comes with its commit

    p.handle(PrepareOk(0, 1), N2, None, [])
    retry: list[Envelope] = []
    p.handle(Request(PUT, C1, 1), C1, None, retry)
    assert [env.msg for env in retry] == [Reply(0, 1, "ok")] and p.op == 1
    older: list[Envelope] = []
    p.handle(Request(PUT, C1, 0), C1, None, older)
    assert older == []

    forgetful = primary(Bugs(no_dedup=True))
    forgetful.handle(Request(PUT, C1, 1), C1, None, [])
    forgetful.handle(Request(PUT, C1, 1), C1, None, [])
    assert forgetful.log == [entry(1), entry(1)]


def test_without_a_quorum_the_buggy_primary_commits_at_once() -> None:
    p = primary(Bugs(commit_without_quorum=True))
    out: list[Envelope] = []
    p.handle(Request(PUT, C1, 1), C1, None, out)
    assert p.commit == 1 and Reply(0, 1, "ok") in [env.msg for env in out]


def test_a_backup_appends_in_order_reacknowledges_and_asks_for_gaps() -> None:
    b = Replica.first(N2, CONFIG)
    out: list[Envelope] = []
    b.handle(Prepare(0, entry(1), 1, 0), N1, None, out)
    b.handle(Prepare(0, entry(1), 1, 0), N1, None, out)  # a duplicate
    b.handle(Prepare(0, entry(3), 3, 1), N1, None, out)  # op 2 is missing
    assert sent(out) == [(N1, PrepareOk(0, 1)), (N1, PrepareOk(0, 1)), (N1, GetState(0, 1))]
    assert (b.op, b.commit) == (1, 1)  # the third prepare's commit number: op 1 is committed

    out.clear()
    b.handle(NewState(0, 1, (entry(2), entry(3)), 3, 2), N1, None, out)
    assert (b.op, b.commit) == (3, 2) and sent(out) == [(N1, PrepareOk(0, 3))]


def test_a_replica_that_hears_of_a_later_view_keeps_only_its_committed_ops() -> None:
    b = Replica.first(N2, CONFIG)
    for n in (1, 2, 3):
        b.handle(Prepare(0, entry(n), n, 1), N1, None, [])
    out: list[Envelope] = []
    b.handle(Commit(2, 1), N3, None, out)  # N3 is the primary of view 2
    assert (b.view, b.status, b.last_normal, b.op, b.commit) == (2, TRANSFERRING, 0, 1, 1)
    assert sent(out) == [(N3, GetState(2, 1))]

    out.clear()
    b.handle(Prepare(2, entry(4), 4, 1), N3, None, out)  # nothing acknowledged meanwhile
    assert sent(out) == [(N3, GetState(2, 1))] and b.status == TRANSFERRING

    out.clear()
    b.handle(NewState(2, 1, (entry(2), entry(5)), 3, 2), N3, None, out)
    assert (b.status, b.last_normal, b.op, b.commit) == (NORMAL, 2, 3, 2)
    assert sent(out) == [(N3, PrepareOk(2, 3))]


def test_a_transfer_with_nothing_to_send_still_ends() -> None:
    p = Replica.first(N3, CONFIG)
    p.become_normal(2, [entry(1)])
    p.commit = 1
    out: list[Envelope] = []
    p.handle(GetState(2, 1), N2, None, out)
    assert sent(out) == [(N2, NewState(2, 1, (), 1, 1))]

    b = Replica.first(N2, CONFIG)
    b.handle(Prepare(0, entry(1), 1, 1), N1, None, [])
    b.handle(Commit(2, 1), N3, None, [])
    b.handle(NewState(2, 1, (), 1, 1), N3, None, [])
    assert (b.status, b.last_normal) == (NORMAL, 2)


def test_a_replica_that_missed_a_view_start_cannot_make_a_later_view_drop_a_committed_op() -> None:
    # Found in review: a replica that caught up with a view it missed the start of used to
    # claim that view as its last normal one at once, with only its committed ops, and
    # its empty log then beat the log holding a committed op in the next view change.
    a, b, c = (Replica.first(pid, CONFIG) for pid in CONFIG)
    out: list[Envelope] = []
    a.handle(Request(PUT, C1, 1), C1, None, out)  # n1, primary of view 0
    (prepare,) = [env for env in out if env.to == N2]
    ack: list[Envelope] = []
    b.handle(prepare.msg, N1, None, ack)
    out.clear()
    a.handle(ack[0].msg, N2, None, out)  # op 1 committed with n2's ack; the client answered
    assert a.commit == 1 and Reply(0, 1, "ok") in [env.msg for env in out]

    for r in (b, c):  # n2 and n3 hear no more from n1 and start view 1 (primary n2)
        for _ in range(r.patience):
            r.handle(Timeout(), r.pid, r.timer, [])
    out.clear()
    c.handle(StartViewChange(1), N2, None, out)  # n3 votes and sends its DoViewChange
    (dvc,) = [env.msg for env in out if isinstance(env.msg, DoViewChange)]
    b.handle(StartViewChange(1), N3, None, [])
    b.handle(dvc, N3, None, [])
    assert (b.status, b.view, b.log) == (NORMAL, 1, [entry(1)])

    heartbeat: list[Envelope] = []  # the StartView to n3 is lost; a heartbeat arrives
    b.handle(Timeout(), N2, b.timer, heartbeat)
    (to_c,) = [env for env in heartbeat if env.to == N3 and isinstance(env.msg, Prepare)]
    c.handle(to_c.msg, N2, None, [])
    assert (c.status, c.last_normal) == (TRANSFERRING, 0)

    # n2 goes down; n3 starts view 2 (its own primary) and n1's DoViewChange arrives
    for _ in range(c.patience):
        out.clear()
        c.handle(Timeout(), N3, c.timer, out)
    (svc,) = [env.msg for env in out if isinstance(env.msg, StartViewChange) and env.to == N1]
    out.clear()
    a.handle(svc, N3, None, out)
    (dvc_a,) = [env.msg for env in out if isinstance(env.msg, DoViewChange)]
    c.handle(dvc_a, N1, None, [])
    assert (c.status, c.view) == (NORMAL, 2)
    assert c.log == [entry(1)] and c.commit == 1  # the committed op survives


def _new_primary(bugs: Bugs = NO_BUGS) -> Replica:
    """N2, about to become primary of view 1 (its own DoViewChange is recorded)."""
    r = Replica.first(N2, CONFIG, bugs)
    r.log, r.op, r.commit = [entry(1)], 1, 1
    r.handle(StartViewChange(1), N3, None, [])  # f = 1 vote: it sends its DoViewChange
    assert r.status == VIEW_CHANGE and r.dvc_sent
    return r


def _elect(r: Replica, dvc: DoViewChange) -> list[object]:
    out: list[Envelope] = []
    r.handle(dvc, N3, None, out)
    return [env.msg for env in out]


def test_a_view_change_adopts_the_log_of_the_latest_normal_view() -> None:
    stale_but_long = DoViewChange(1, (entry(1), entry(2), entry(3)), -1, 3, 1)
    current = _new_primary()
    current.last_normal = 0
    current.dvcs[str(N2)] = attrs.evolve(current.dvcs[str(N2)], last_normal=0)
    msgs = _elect(current, stale_but_long)
    assert current.status == NORMAL and current.op == 1
    assert StartView(1, (entry(1),), 1, 1) in msgs

    by_length = _new_primary(Bugs(log_by_op_number=True))
    by_length.dvcs[str(N2)] = attrs.evolve(by_length.dvcs[str(N2)], last_normal=0)
    _elect(by_length, stale_but_long)
    assert by_length.op == 3  # the known bug: the longest log wins, however old


def test_among_logs_of_one_view_the_longest_wins_unless_buggy() -> None:
    longer = DoViewChange(1, (entry(1), entry(2)), 0, 2, 1)
    right = _new_primary()
    _elect(right, longer)
    assert right.op == 2

    wrong = _new_primary(Bugs(log_by_view_only=True))
    _elect(wrong, longer)
    assert wrong.op == 1  # its own log arrived first, and op 2 is gone


def test_a_view_change_that_does_not_finish_waits_longer_each_time() -> None:
    r = Replica.first(N2, CONFIG)
    views = []
    for _ in range(25):
        r.handle(Timeout(), N2, r.timer, [])
        views.append(r.view)
    started = [views.index(v) + 1 for v in (1, 2, 3, 4)]
    # Three silent ticks start view 1, which waits 3 ticks, view 2 waits 6, view 3 waits 9.
    assert started == [3, 6, 12, 21]


def test_a_restarted_replica_recovers_with_its_nonce_from_a_quorum_and_the_primary() -> None:
    r = Replica.restarted(N3, CONFIG, restarts=2)
    out: list[Envelope] = []
    r.init(out)
    assert out[0].msg == Persist(2)
    assert sent(out)[1:3] == [(N1, Recovery(2)), (N2, Recovery(2))]
    assert out[3].msg == StartTimer(r.tick_ms)

    r.handle(Prepare(0, entry(1), 1, 0), N1, None, [])  # recovering: takes part in nothing
    assert r.op == 0
    r.handle(RecoveryResponse(4, 1, (entry(1),), 1, 1), N2, None, [])  # an older recovery's
    r.handle(RecoveryResponse(4, 2, None, 0, 0), N2, None, [])
    assert r.status == RECOVERING  # f + 1 = 2 answers needed, the primary of view 4 (N2)'s
    r.handle(RecoveryResponse(4, 2, None, 0, 0), N1, None, [])
    assert r.status == RECOVERING  # two answers, but not the primary's log
    r.handle(RecoveryResponse(4, 2, (entry(1), entry(2)), 2, 1), N2, None, [])
    assert (r.status, r.view, r.op, r.commit) == (NORMAL, 4, 2, 1)
    assert r.store == {"x": ("blob", "a")}


def test_the_nonce_bug_takes_an_answer_meant_for_an_earlier_recovery() -> None:
    r = Replica.restarted(N3, CONFIG, restarts=2, bugs=Bugs(ignore_nonce=True))
    r.handle(RecoveryResponse(4, 1, None, 0, 0), N1, None, [])
    r.handle(RecoveryResponse(4, 1, (entry(1),), 1, 1), N2, None, [])
    assert r.status == NORMAL


def test_only_a_normal_replica_answers_a_recovery_and_only_the_primary_sends_its_log() -> None:
    p, b = primary(), Replica.first(N2, CONFIG)
    p.handle(Request(PUT, C1, 1), C1, None, [])
    out: list[Envelope] = []
    p.handle(Recovery(7), N3, None, out)
    b.handle(Recovery(7), N3, None, out)
    assert [env.msg for env in out] == [
        RecoveryResponse(0, 7, (entry(1),), 1, 0),
        RecoveryResponse(0, 7, None, 0, 0),
    ]
    b.status = VIEW_CHANGE
    out.clear()
    b.handle(Recovery(7), N3, None, out)
    assert out == []


def test_the_no_recovery_bug_rejoins_at_once_with_nothing() -> None:
    r = Replica.restarted(N3, CONFIG, restarts=1, bugs=Bugs(no_recovery=True))
    out: list[Envelope] = []
    r.init(out)
    assert r.status == NORMAL and r.log == []
    assert [env.msg for env in out] == [Persist(1), StartTimer(r.tick_ms)]


def test_a_client_records_sends_retries_everywhere_and_learns_the_view() -> None:
    c = Client(C1, CONFIG, (PUT, ("get", "x")))
    out: list[Envelope] = []
    c.init(out)
    cid = CorrelationId(C1, 1)
    assert [env.msg for env in out][1:] == [Invoke(1, PUT), Request(PUT, C1, 1), StartTimer(200)]
    assert out[2].to == N1 and out[2].cid == cid

    out.clear()
    c.handle(Timeout(), C1, cid, out)
    assert [env.to for env in out[:3]] == list(CONFIG) and c.retries == 1

    out.clear()
    c.handle(Reply(5, 1, "ok"), N3, cid, out)
    c.handle(Reply(5, 1, "ok"), N3, cid, out)  # a second answer to the retry: ignored
    msgs = [env.msg for env in out]
    assert msgs[:2] == [Complete(1, "ok"), CancelTimer(cid)]
    assert msgs[2:4] == [Invoke(2, ("get", "x")), Request(("get", "x"), C1, 2)]
    assert out[3].to == N3 and c.view == 5  # the primary of view 5 is config[5 % 3]
    assert len(msgs) == 5


def test_a_restarted_client_numbers_its_requests_above_its_earlier_life() -> None:
    # Its first life reserves requests 1-5 on disk before the first one leaves ...
    sc = vr_scenario("vr", faults=Faults(), max_steps=1, within=1)
    (before,) = sc.start("c1", None)
    out: list[Envelope] = []
    before.init(out)
    assert isinstance(before, Client)
    assert [env.msg for env in out][:3] == [
        Persist(6), Invoke(1, before.calls[0]), Request(before.calls[0], C1, 1),
    ]  # fmt: skip
    # ... and what it persisted, handed back after a crash, starts the next life at 6.
    (after,) = sc.start("c1", {C1: 6})
    assert isinstance(after, Client) and after.calls == before.calls
    out.clear()
    after.init(out)
    assert [env.msg for env in out][:3] == [
        Persist(11), Invoke(6, after.calls[0]), Request(after.calls[0], C1, 6),
    ]  # fmt: skip

    # A primary that executed the first life's request 5 drops a request numbered from 1
    # again (the client would wait for ever), and orders request 6.
    p = primary()
    p.table[str(C1)] = Cached(5, "ok")
    dropped: list[Envelope] = []
    p.handle(Request(after.calls[0], C1, 1), C1, None, dropped)
    assert dropped == [] and p.op == 0
    p.handle(Request(after.calls[0], C1, 6), C1, None, out)
    assert p.op == 1 and p.log[-1] == LogEntry(C1, 6, after.calls[0])

    # A late reply to the first life's request 5 is not an answer to request 6.
    out.clear()
    after.handle(Reply(0, 5, "ok"), N1, CorrelationId(C1, 5), out)
    assert out == [] and after.answers == []


def test_durable_data_that_is_not_a_request_number_is_refused() -> None:
    sc = vr_scenario("vr", faults=Faults(), max_steps=1, within=1)
    with pytest.raises(ValueError, match=r"g1::client::c1's durable data should be"):
        sc.start("c1", {C1: ["6"]})


def test_a_client_without_answers_says_it_is_stalled_until_one_comes() -> None:
    c = Client(C1, CONFIG, (PUT, ("get", "x")))
    out: list[Envelope] = []
    c.init(out)
    cid = CorrelationId(C1, 1)
    for _ in range(STALL_RETRIES - 1):
        c.handle(Timeout(), C1, cid, out)
    assert c.waiting == STALL_RETRIES - 1 and not c.stalled
    c.handle(Timeout(), C1, cid, out)
    assert c.waiting == STALL_RETRIES and c.stalled
    assert to_plain(c)["stalled"] is True  # what `rabble-sim status` shows

    c.handle(Reply(0, 1, "ok"), N1, cid, out)
    assert c.waiting == 0 and not c.stalled and c.retries == STALL_RETRIES
