"""Routing on both hosts: ``name/*`` broadcast, ``name/?`` round robin, a policy
registered at a path (``SenderHash``, ``RoundRobin``, a custom one), ``implicit=False``,
and a routed name with no receiver."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import attrs
import pytest

from rabble_sim import Envelope, Pid
from rabble_sim.core import ClusterStatus, RoundRobin, Routes, SenderHash, watch_cluster

from .case import Case, Host
from .hosts import on_hosts, same_everywhere
from .recorder import Go, Note, Recorder

A, B = Pid("p", "a"), Pid("q", "a")
WORKERS = [Pid(f"w/{i}", "b") for i in (1, 2, 3)]
LOCAL_WORKER = Pid("w/1", "a")
BYSTANDERS = {Pid("v/1", "b"): Recorder, Pid("w", "c"): Recorder}


def workers(*others: Pid, **scripted: type[Recorder]) -> dict[Pid, type[Recorder]]:
    """Three workers under ``w`` on b, one on a, a process under another path on b and
    one named ``w`` on c (none of which a message routed under ``w`` on b may reach),
    ``others`` without a script, and the ``scripted`` recorders (by pid string)."""
    return {
        **{pid: Recorder for pid in [*WORKERS, LOCAL_WORKER, *others]},
        **BYSTANDERS,
        **{Pid.parse(pid): kind for pid, kind in scripted.items()},
    }


def sends(*targets: str) -> type[Recorder]:
    """A recorder class that sends ``Note("1")``, ``Note("2")``... to ``targets`` (pid
    strings), in order, each with its own cid."""

    class Sends(Recorder):
        def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
            if isinstance(msg, Go):
                output.extend(
                    self.send(Pid.parse(to), Note(str(n)), n)
                    for n, to in enumerate(targets, start=1)
                )

    return Sends


def got(*notes: int, by: str = "p::a") -> list[tuple[str, str, str]]:
    return [(f"Note(text='{n}')", by, f"cid(<{by}>, {n}, None)") for n in notes]


def quiet(out: Any, *pids: Pid) -> None:
    for pid in pids:
        assert out.log(pid) == [], f"{pid} got a message routed elsewhere"


@on_hosts()
def test_a_broadcast_reaches_every_process_under_the_path_on_that_node(host: Host) -> None:
    case = Case(workers(**{"p::a": sends("w/*::b", "w/*::a")}), nodes=("a", "b", "c"))
    out = host.run(case)
    for worker in WORKERS:
        assert out.log(worker) == got(1)
    assert out.log(LOCAL_WORKER) == got(2), "a broadcast on its sender's own node"
    quiet(out, *BYSTANDERS)
    assert out.dead_letters == 0
    same_everywhere(host, case, out)


@on_hosts()
def test_a_select_takes_each_process_under_the_path_in_turn(host: Host) -> None:
    case = Case(workers(**{"p::a": sends(*["w/?::b"] * 4)}), nodes=("a", "b", "c"))
    out = host.run(case)
    assert [out.log(worker) for worker in WORKERS] == [got(1, 4), got(2), got(3)]
    quiet(out, LOCAL_WORKER, *BYSTANDERS)
    same_everywhere(host, case, out)


@on_hosts()
def test_sender_hash_sends_each_senders_messages_to_one_process(host: Host) -> None:
    case = Case(
        workers(**{"p::a": sends("w::b", "w::b"), "q::a": sends("w::b", "w::b")}),
        nodes=("a", "b", "c"),
        routes=Routes({"w": SenderHash()}),
    )
    out = host.run(case)
    # Documented in rabble_sim.core's routing: targets in pid order, CRC-32 of the sender.
    by_a, by_b = (WORKERS[zlib.crc32(str(pid).encode()) % 3] for pid in (A, B))
    assert by_a != by_b, "the test needs two senders that hash apart"
    assert out.log(by_a) == got(1, 2)
    assert out.log(by_b) == got(1, 2, by="q::a")
    quiet(out, *(set(WORKERS) - {by_a, by_b}))
    same_everywhere(host, case, out)


@attrs.frozen
class Last:
    """A policy of one's own: the last target."""

    def select(self, targets: Sequence[Pid], env: Envelope, turn: int) -> Sequence[Pid]:
        return [targets[-1]]


@on_hosts()
def test_a_registered_policy_routes_its_path_and_its_select(host: Host) -> None:
    targets = ("w::b", "w::b", "w/?::b", "x::b", "x::b", "x/?::b")
    case = Case(
        workers(Pid("x/1", "b"), Pid("x/2", "b"), **{"p::a": sends(*targets)}),
        nodes=("a", "b", "c"),
        routes=Routes({"w": RoundRobin(), "x": Last()}),
    )
    out = host.run(case)
    # One turn counter per routed name: w and w/? each start from the first worker.
    assert [out.log(worker) for worker in WORKERS] == [got(1, 3), got(2), []]
    assert out.log(Pid("x/2", "b")) == got(4, 5, 6)
    quiet(out, Pid("x/1", "b"), LOCAL_WORKER, *BYSTANDERS)
    same_everywhere(host, case, out)


@on_hosts()
def test_without_implicit_routing_only_registered_paths_route(host: Host) -> None:
    case = Case(
        workers(**{"p::a": sends("w/*::b", "w/?::b", "w::b")}),
        nodes=("a", "b", "c"),
        routes=Routes({"w": RoundRobin()}, implicit=False),
    )
    out = host.run(case)
    assert [out.log(worker) for worker in WORKERS] == [got(3), [], []]
    assert out.dead_letters == 2
    same_everywhere(host, case, out)


@pytest.mark.parametrize("target", ["nobody/*::b", "nobody/?::b", "empty::b"])
@on_hosts()
def test_a_routed_name_with_no_receiver_is_a_dead_letter(host: Host, target: str) -> None:
    case = Case(
        workers(**{"p::a": sends(target)}),
        nodes=("a", "b", "c"),
        routes=Routes({"empty": RoundRobin()}),
    )
    out = host.run(case)
    assert out.dead_letters == 1
    quiet(out, *WORKERS, LOCAL_WORKER, *BYSTANDERS)
    same_everywhere(host, case, out)


class SelectsAroundARestart(Recorder):
    """Sends two notes to ``w/?`` on b when it first hears the members, and a third once
    b is back (its third ClusterStatus: all, b gone, all)."""

    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(watch_cluster(self.pid))
        elif isinstance(msg, ClusterStatus):
            heard = sum(text.startswith("ClusterStatus") for text, _, _ in self.log)
            if heard in (1, 3):
                notes = (1, 2) if heard == 1 else (3,)
                output.extend(self.send(Pid("w/?", "b"), Note(str(n)), n) for n in notes)


@on_hosts()
def test_a_nodes_round_robin_starts_over_when_it_restarts(host: Host) -> None:
    case = Case(workers(**{"p::a": SelectsAroundARestart}), nodes=("a", "b", "c"), restarts=("b",))
    out = host.run(case)
    # The workers on b were built anew by the restart; without the turns starting over,
    # the third note would have gone to w/3.
    assert [out.log(worker) for worker in WORKERS] == [got(3), [], []]
    assert out.dead_letters == 0
    same_everywhere(host, case, out)
