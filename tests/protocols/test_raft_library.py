"""Raft as a library: embedded in a host of another kind, restored from what it persisted,
a cluster of one; the key-value store's lin-kv semantics and the model its history is
checked against."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from protocols.raft import (
    LIN_KV,
    Cas,
    CasOk,
    Command,
    Persistent,
    Raft,
    Read,
    ReadOk,
    Store,
    Write,
    WriteOk,
    outcome,
)
from rabble_sim import (
    CorrelationId,
    Envelope,
    HistoryEvent,
    Inputs,
    Liveness,
    Pid,
    Scenario,
    View,
    message,
    run,
)
from rabble_sim.checks import check_linearizability, history_from_events
from rabble_sim.maelstrom import KEY_DOES_NOT_EXIST, PRECONDITION_FAILED, Error
from rabble_sim.search import chooser_for

# -- a host of another kind: a replicated sum ---------------------------------------------

NODES = ("a", "b", "c")
PEERS = tuple(Pid("adder", node) for node in NODES)


@message("test.raft.add")
@attrs.frozen
class Add:
    n: int


@attrs.define
class Adder:
    """Adds up the numbers it is given, through Raft: every adder applies the same ones. A
    number given while no leader is known waits until one is."""

    pid: Pid
    raft: Raft
    applied: list[int] = attrs.Factory(list)
    waiting: list[int] = attrs.Factory(list)
    asked: int = 0

    def init(self, output: list[Envelope]) -> None:
        self.raft.start(output)

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if not self.raft.handle(msg, from_, cid, output) and isinstance(msg, Add):
            self.waiting.append(msg.n)
        while self.waiting and self.raft.leader is not None:
            n = self.waiting.pop(0)
            self.asked += 1
            if self.raft.submit(Command(self.pid, self.asked, ("add", n)), output) is None:
                output.append(Envelope(self.raft.leader, self.pid, Add(n)))  # to the leader
        for _, entry in self.raft.committed():
            if entry.command is not None:
                self.applied.append(entry.command.op[1])


def _adders(view: View) -> list[Adder]:
    return [p for p in view.processes.values() if isinstance(p, Adder)]


def same_sums(view: View) -> None:
    adders = _adders(view)
    for a in adders:
        for b in adders:
            n = min(len(a.applied), len(b.applied))
            assert a.applied[:n] == b.applied[:n], f"{a.pid} {a.applied} / {b.pid} {b.applied}"


def all_applied(view: View) -> None:
    adders = _adders(view)
    assert len(adders) == 3 and all(len(a.applied) == 4 for a in adders), [
        a.applied for a in adders
    ]


def _start(node: str, durable: dict[Pid, Any] | None) -> list[Adder]:
    pid = Pid("adder", node)
    saved = None if durable is None else durable.get(pid)
    return [Adder(pid, Raft.restored(pid, PEERS, saved))]


ADDERS = Scenario(
    "adders", NODES, _start, invariants=[same_sums], max_steps=300,
    inputs=Inputs(to=[PEERS[0]], make=lambda draw: Add(draw.integer(1, 9)), max=4),
    liveness=Liveness(all_applied, within=2000),
)  # fmt: skip


def test_a_host_of_another_kind_replicates_through_the_library() -> None:
    for seed in range(10):
        result = run(ADDERS, chooser_for("random", ADDERS, seed), seed=seed)
        assert result.ok, f"seed {seed}: {result.violation}"


def test_a_cluster_of_one_elects_itself_and_commits_at_once() -> None:
    pid = Pid("adder", "a")
    one = Scenario(
        "one", ["a"], lambda node, durable: [Adder(pid, Raft.restored(pid, (pid,), None))],
        inputs=Inputs(to=[pid], make=lambda draw: Add(1), max=2),
        liveness=Liveness(lambda view: _one_applied(view, pid), within=50), max_steps=50,
    )  # fmt: skip
    for seed in range(5):
        result = run(one, chooser_for("random", one, seed), seed=seed)
        assert result.ok, result.violation


def _one_applied(view: View, pid: Pid) -> None:
    adder = view.processes[pid]
    assert adder.raft.is_leader and adder.applied == [1, 1], adder


def test_a_server_comes_back_with_its_term_vote_and_log() -> None:
    pid = PEERS[1]
    entry_log = Raft.restored(PEERS[0], PEERS, None)
    saved = Persistent(3, PEERS[0], tuple(entry_log.log))
    raft = Raft.restored(pid, PEERS, saved)
    assert (raft.term, raft.voted_for, raft.commit, raft.role) == (3, PEERS[0], 0, "follower")
    with pytest.raises(ValueError, match="is not Raft's"):
        Raft.restored(pid, PEERS, {"term": 3})
    with pytest.raises(ValueError, match="not one of the cluster's peers"):
        Raft.restored(Pid("adder", "z"), PEERS, None)


def test_a_raft_message_from_a_stranger_is_taken_and_ignored() -> None:
    from protocols.raft import RequestVote

    raft = Raft.restored(PEERS[0], PEERS, None)
    output: list[Envelope] = []
    assert raft.handle(RequestVote(5, 0, 0), Pid("adder", "z"), None, output)
    assert raft.term == 0 and output == []
    assert not raft.handle(Add(1), PEERS[1], None, output)


# -- the key-value store -------------------------------------------------------------------

C = Pid("client", "c1")


def test_lin_kv_semantics_and_its_error_codes() -> None:
    store = Store()
    assert store.execute(("read", 1)) == Error(KEY_DOES_NOT_EXIST, "key 1 does not exist")
    assert isinstance(store.execute(("cas", 1, 0, 2)), Error)
    assert store.execute(("write", 1, 5)) == WriteOk()
    assert store.execute(("read", 1)) == ReadOk(5)
    failed = store.execute(("cas", 1, 4, 6))
    assert isinstance(failed, Error) and failed.code == PRECONDITION_FAILED
    assert store.execute(("cas", 1, 5, 6)) == CasOk()
    assert store.values == {1: 6}


def test_a_retried_request_is_executed_once_and_answered_again() -> None:
    store = Store()
    assert store.apply(Command(C, 1, ("write", "x", 1))) == WriteOk()
    assert store.apply(Command(C, 2, ("cas", "x", 1, 2))) == CasOk()
    assert store.apply(Command(C, 2, ("cas", "x", 1, 2))) == CasOk(), "cached, not re-run"
    assert store.values["x"] == 2
    assert store.apply(Command(C, 1, ("write", "x", 1))) is None, "stale"
    assert store.values["x"] == 2


def test_what_a_client_records_is_what_the_model_reads() -> None:
    assert outcome(("read", 1), ReadOk(3)) == 3
    assert outcome(("read", 1), Error(KEY_DOES_NOT_EXIST)) is None
    assert outcome(("write", 1, 3), WriteOk()) is True
    assert outcome(("cas", 1, 3, 4), CasOk()) is True
    assert outcome(("cas", 1, 3, 4), Error(PRECONDITION_FAILED)) is False
    assert {type(m) for m in (Read(1), Write(1, 2), Cas(1, 2, 3))} == {Read, Write, Cas}


def _history(*ops: tuple[str, int, Any, Any]) -> list[HistoryEvent]:
    """Operations (client node, n, input, output), each complete before the next starts,
    unless two share a number (then they overlap)."""
    events: list[HistoryEvent] = []
    time = 0
    for node, n, op, out in ops:
        client = Pid("client", node)
        events.append(HistoryEvent("invoke", client, n, op, time, time))
        events.append(HistoryEvent("ok", client, n, out, time + 1, time + 1))
        time += 2
    return events


def test_the_model_accepts_lin_kv_histories_and_refuses_a_stale_read() -> None:
    good = _history(
        ("c1", 1, ("read", 1), None),
        ("c1", 2, ("write", 1, 3), True),
        ("c2", 1, ("cas", 1, 2, 4), False),
        ("c2", 2, ("cas", 1, 3, 4), True),
        ("c1", 3, ("read", 1), 4),
        ("c1", 4, ("read", 2), None),
    )
    assert check_linearizability(LIN_KV, history_from_events(good))
    stale = [*good, *_history(("c2", 3, ("read", 1), 3))]
    result = check_linearizability(LIN_KV, history_from_events(stale))
    assert not result and result.explanation is not None
