"""How a process's message reaches another, on the same node and across nodes: as a copy
decoded by its type's annotations (guide, section 1: "a message travels as it would over
TCP")."""

from __future__ import annotations

from typing import Any

import attrs

from rabble_sim import Envelope, Pid, message

from .case import Case, Host
from .hosts import on_hosts, same_everywhere
from .recorder import Go, Items, Note, Recorder

A = Pid("p", "a")
LOCAL, REMOTE = Pid("r", "a"), Pid("r", "b")


@message("conformance.bag")
@attrs.frozen
class Bag:
    items: list[int]


@attrs.define
class Sender(Recorder):
    """Sends ``Items`` with a list where a tuple is declared, and a ``Bag`` of a list it
    keeps, to ``to``; changes that list in a later step (on a note to itself)."""

    kept: list[int] = attrs.Factory(list)
    to = LOCAL

    def on(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        if isinstance(msg, Go):
            output.append(self.send(self.to, Items([1, 2])))  # type: ignore[arg-type]
            self.kept = [1, 2]
            output.append(self.send(self.to, Bag(self.kept)))
            output.append(self.send(self.pid, Note("change it")))
        elif isinstance(msg, Note):
            self.kept.append(3)


class SendsAcross(Sender):
    to = REMOTE


@attrs.define
class Keeper(Recorder):
    """Keeps each message it receives as it got it (it has no script: it gets no Go)."""

    kept: list[Any] = attrs.Factory(list)

    def handle(self, msg: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
        super().handle(msg, from_, cid, output)
        self.kept.append(msg)


RECEIVED = [("Items(items=(1, 2))", "p::a", None), ("Bag(items=[1, 2])", "p::a", None)]
KEPT = [{"conformance.items": {"items": [1, 2]}}, {"conformance.bag": {"items": [1, 2]}}]


@on_hosts()
def test_a_message_to_another_node_arrives_as_a_copy_decoded_by_its_annotations(
    host: Host,
) -> None:
    case = Case({A: SendsAcross, REMOTE: Keeper})
    out = host.run(case)
    assert out.log(REMOTE) == RECEIVED
    assert out.states[str(REMOTE)]["kept"] == KEPT
    same_everywhere(host, case, out)


@on_hosts()
def test_a_message_on_the_same_node_arrives_as_a_copy_decoded_by_its_annotations(
    host: Host,
) -> None:
    case = Case({A: Sender, LOCAL: Keeper})
    out = host.run(case)
    assert out.log(LOCAL) == RECEIVED
    assert out.states[str(LOCAL)]["kept"] == KEPT, "the sender's later change reached it"
    same_everywhere(host, case, out)
