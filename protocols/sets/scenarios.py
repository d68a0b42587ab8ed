"""Set scenarios: clients take generated inputs (adds and reads of small integers)."""

from __future__ import annotations

from typing import Any

from rabble_sim import Draw, Inputs, Pid, Scenario, View

from .messages import Add, Read
from .processes import SetClient, SetServer

SERVER = Pid("set", "server")
CLIENTS = (Pid("client", "c1"), Pid("client", "c2"))


def make_operation(draw: Draw) -> Add | Read:
    """An add of 0 to 9 (the simplest: add 0), or a read."""
    if draw.boolean():
        return Read()
    return Add(draw.integer(0, 9))


def reads_see_every_acknowledged_add(view: View) -> None:
    for pid in CLIENTS:
        client = view.processes.get(pid)
        assert client is None or not client.missed, (
            f"{pid} read the set without {client.missed}, whose adds were acknowledged"
        )


def _sets(name: str, *, toggles: bool, most: int = 6) -> Scenario:
    def start(node: str, durable: dict[Pid, Any] | None) -> list[SetServer | SetClient]:
        if node == SERVER.node:
            return [SetServer(SERVER, toggles)]
        return [SetClient(Pid("client", node), SERVER)]

    return Scenario(
        name=name,
        nodes=(SERVER.node, *(pid.node for pid in CLIENTS)),
        start=start,
        invariants=[reads_see_every_acknowledged_add],
        clients=[pid.node for pid in CLIENTS],
        inputs=Inputs(to=CLIENTS, make=make_operation, max=most),
        max_steps=200,
    )


scenario = _sets("sets", toggles=False)
"""A correct set server: every acknowledged add is seen by every later read."""

bug_add_twice = _sets("bug_add_twice", toggles=True)
"""The server flips an element that is added again: two adds of one element lose it."""
