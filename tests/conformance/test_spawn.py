"""Spawn on both hosts, on the requester's own node and on another: ``Spawned`` and the
new process's ``init``, and each reason for ``SpawnFailed``."""

from __future__ import annotations

from typing import Any

import pytest

from rabble_sim import Envelope, Pid
from rabble_sim.core import GetExecutorStatus, spawn

from .case import Case, Host
from .hosts import on_hosts, same_everywhere
from .recorder import Go, Note, Recorder

A, B = Pid("p", "a"), Pid("q", "b")
WHERE = pytest.mark.parametrize("where", ["a", "b"], ids=["own-node", "other-node"])


class Worker(Recorder):
    """Greets its spawner (``arg`` names it) from its ``init``."""

    def on_init(self, output: list[Envelope]) -> None:
        output.append(self.send(Pid.parse(self.arg), Note(f"{self.pid} up")))


def worker(pid: Pid, arg: Any) -> Worker:
    return Worker(pid, arg=arg)


def raises(pid: Pid, arg: Any) -> Worker:
    raise ValueError(f"no worker for {arg}")


def elsewhere(pid: Pid, arg: Any) -> Worker:
    return Worker(Pid(pid.name, "c"), arg=arg)


FACTORIES = {"worker": worker, "raises": raises, "junk": lambda pid, arg: 42, "far": elsewhere}


def spawner(where: str, factory: str, name: str) -> type[Recorder]:
    """A recorder class that asks ``where`` to spawn ``name`` from ``factory`` (with its
    own pid as the argument), then, once it has heard from the new process, how many
    processes run there."""

    class Spawns(Recorder):
        def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
            if isinstance(msg, Go):
                output.append(spawn(self.pid, where, factory, name, str(self.pid), self.cid(1)))
            elif isinstance(msg, Note):
                output.append(self.to_executor(GetExecutorStatus(), 2, node=where))

    return Spawns


def run(host: Host, where: str, factory: str, name: str) -> tuple[Case, Any]:
    case = Case({A: spawner(where, factory, name), B: Recorder}, factories=FACTORIES)
    return case, host.run(case)


@WHERE
@on_hosts()
def test_spawn_answers_spawned_then_runs_the_new_process_init(host: Host, where: str) -> None:
    case, out = run(host, where, "worker", "w/1")
    executor = f"rabble::executor::{where}"
    assert out.log(A) == [
        (f"Spawned(pid=<w/1::{where}>)", executor, 1),
        (f"Note(text='w/1::{where} up')", f"w/1::{where}", None),
        (f"ExecutorStatus(node='{where}', processes=2)", executor, 2),
    ]
    assert out.states[f"w/1::{where}"] == {
        "pid": f"w/1::{where}",
        "arg": "p::a",
        "restored": None,
        "log": [],
    }
    assert out.dead_letters == 0
    same_everywhere(host, case, out)


def failure(where: str, factory: str, name: str, reason: str) -> tuple[str, str, int]:
    failed = f"SpawnFailed(factory={factory!r}, name={name!r}, reason={reason!r})"
    return (failed, f"rabble::executor::{where}", 1)


@WHERE
@on_hosts()
def test_spawn_fails_for_a_factory_nobody_registered(host: Host, where: str) -> None:
    case, out = run(host, where, "nope", "w/1")
    reason = f"no factory named 'nope' on {where}"
    assert out.log(A) == [failure(where, "nope", "w/1", reason)]
    same_everywhere(host, case, out)


@WHERE
@on_hosts()
def test_spawn_fails_for_a_pid_that_is_running(host: Host, where: str) -> None:
    name = {"a": "p", "b": "q"}[where]
    case, out = run(host, where, "worker", name)
    reason = f"{name}::{where} is already running"
    assert out.log(A) == [failure(where, "worker", name, reason)]
    assert out.running() == ["p::a", "q::b"]
    same_everywhere(host, case, out)


@WHERE
@on_hosts()
def test_spawn_fails_for_a_factory_that_raises_with_the_exception(host: Host, where: str) -> None:
    case, out = run(host, where, "raises", "w/1")
    [(text, _, _)] = out.log(A)
    assert text.startswith("SpawnFailed(factory='raises', name='w/1', reason=")
    assert "ValueError('no worker for p::a')" in text
    assert out.running() == ["p::a", "q::b"]
    same_everywhere(host, case, out)


@WHERE
@on_hosts()
def test_spawn_fails_for_a_factory_that_returns_something_else(host: Host, where: str) -> None:
    case, out = run(host, where, "junk", "w/1")
    [(text, _, _)] = out.log(A)
    assert text.startswith("SpawnFailed(factory='junk', name='w/1', reason=")
    assert "42" in text
    assert "not a process" in text
    same_everywhere(host, case, out)


@WHERE
@on_hosts()
def test_spawn_fails_for_a_factory_that_returns_another_nodes_process(
    host: Host, where: str
) -> None:
    case, out = run(host, where, "far", "w/1")
    [(text, _, _)] = out.log(A)
    assert text.startswith("SpawnFailed(factory='far', name='w/1', reason=")
    assert "w/1::c" in text
    assert "another node" in text
    assert out.running() == ["p::a", "q::b"]
    same_everywhere(host, case, out)
