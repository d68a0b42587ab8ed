"""Durable state and client histories on both hosts: what ``persist`` stores and a
restart hands back to ``start``, and what ``invoke`` and ``complete`` record."""

from __future__ import annotations

from typing import Any

from rabble_sim import Envelope, Pid, persist
from rabble_sim.core import complete, invoke, spawn

from .case import Case, Host
from .hosts import on_hosts, same_everywhere
from .recorder import Go, Note, Recorder, show

P, Q, W = Pid("p", "b"), Pid("q", "b"), Pid("w", "b")


STORED = [1, "x::a", {"conformance.note": {"text": "inside"}}, [1, 2]]
"""What the second persist of ``PersistsTwice`` stores: a tuple comes back a list, a pid
its string, a set a sorted list, and a message inside other data a dict, here (on both
hosts) keyed by its tag, where the guide says "a dict of its fields"."""


class Restores(Recorder):
    """Logs what ``start`` handed back to it, at each start."""

    def on_init(self, output: list[Envelope]) -> None:
        self.log.append((show(self.restored), "start", None))


class PersistsTwice(Restores):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(persist(self.pid, {"first": 1}))
            output.append(persist(self.pid, (1, Pid("x", "a"), Note("inside"), {2, 1})))


class PersistsAMessage(Restores):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(persist(self.pid, Note("kept")))


class SpawnsAPersister(Restores):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(spawn(self.pid, "b", "persister", W.name, "w's data", self.cid(1)))


class Persister(Recorder):
    def on_init(self, output: list[Envelope]) -> None:
        output.append(persist(self.pid, self.arg))


def persister(pid: Pid, arg: Any) -> Persister:
    return Persister(pid, arg=arg)


@on_hosts()
def test_a_restart_hands_back_the_last_data_persisted_as_stored(host: Host) -> None:
    case = Case(
        {P: PersistsTwice, Q: PersistsAMessage, Pid("s", "b"): SpawnsAPersister},
        factories={"persister": persister},
        restarts=("b",),
    )
    out = host.run(case)
    # The second persist replaced the first; a message alone keeps its type.
    assert out.durable == {
        "p::b": STORED,
        "q::b": Note("kept"),
        "w::b": "w's data",
    }
    assert out.log(P) == [(show(STORED), "start", None)]
    assert out.log(Q) == [("Note(text='kept')", "start", None)]
    # A spawned process is not rebuilt by a restart (its data is in durable all the same).
    assert out.running() == ["p::b", "q::b", "s::b"]
    assert out.dead_letters == 0
    same_everywhere(host, case, out)


@on_hosts()
def test_data_persisted_without_a_restart_is_stored_the_same(host: Host) -> None:
    case = Case({P: PersistsTwice, Q: PersistsAMessage})
    out = host.run(case)
    assert out.durable == {"p::b": STORED, "q::b": Note("kept")}
    assert out.log(P) == [("None", "start", None)]
    same_everywhere(host, case, out)


class Client(Recorder):
    """Records two operations of a key-value client, the second completed after a reply
    from the echo of the other node (so that the history spans messages)."""

    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        me = self.pid
        if isinstance(msg, Go):
            output.append(invoke(me, 1, ("put", "x", 1)))
            output.append(complete(me, 1, "ok"))
            output.append(invoke(me, 2, ("get", "x")))
            echo = Pid("echo", "b" if me.node == "a" else "a")
            output.append(self.send(echo, Note("get x"), 1))
        elif isinstance(msg, Note):
            output.append(complete(me, 2, 1))


class Echo(Recorder):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Note):
            output.append(Envelope(from_, self.pid, msg, cid))


HISTORY = [
    ("invoke", 1, ("put", "x", 1)),
    ("ok", 1, "ok"),
    ("invoke", 2, ("get", "x")),
    ("ok", 2, 1),
]


@on_hosts()
def test_invoke_and_complete_record_each_clients_history(host: Host) -> None:
    case = Case(
        {
            Pid("c", "a"): Client,
            Pid("c", "b"): Client,
            Pid("echo", "a"): Echo,
            Pid("echo", "b"): Echo,
        }
    )
    out = host.run(case)
    assert out.history == {"c::a": HISTORY, "c::b": HISTORY}
    assert out.dead_letters == 0
    same_everywhere(host, case, out)


class RecordsData(Recorder):
    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(invoke(self.pid, 1, ["put", {"k": [1, 2]}, Pid("x", "a")]))
            output.append(complete(self.pid, 1, Note("done")))


@on_hosts()
def test_a_history_holds_the_values_as_the_checker_will_read_them(host: Host) -> None:
    case = Case({Pid("c", "a"): RecordsData})
    out = host.run(case)
    # As read back from a TCP node's file, the only form both hosts can share.
    note = {"conformance.note": {"text": "done"}}
    assert out.history == {"c::a": [("invoke", 1, ("put", {"k": (1, 2)}, "x::a")), ("ok", 1, note)]}
    same_everywhere(host, case, out)
