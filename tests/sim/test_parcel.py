"""Messages travel as they would over TCP: encoded when sent, so that what the sender
changes afterwards never reaches the receiver, and what could not cross a network is a
violation where it is sent."""

from __future__ import annotations

import threading
from typing import Any

import attrs
import pytest

from rabble_sim import CorrelationId, Envelope, Pid, RandomChooser, Scenario, message, run
from rabble_sim.core import Broadcast, Routes
from rabble_sim.sim import Deliver, Duplicate, World

A, B = Pid("p", "a"), Pid("p", "b")


@message("test.parcel.batch")
@attrs.frozen
class Batch:
    items: list[int]


@message("test.parcel.count")
@attrs.frozen
class Count:
    n: int


class Keeper:
    """Sends a Batch holding its own list, then a Count to itself, on which it changes that
    list; records the batches it receives, and scribbles on them."""

    def __init__(self, pid: Pid, peer: Pid | None, to: Pid | None = None) -> None:
        self.pid = pid
        self.to = to or peer
        self.items: list[int] = [1, 2]
        self.received: list[list[int]] = []

    def init(self, output: list[Envelope]) -> None:
        if self.to is not None:
            output.append(Envelope(self.to, self.pid, Batch(self.items)))
            output.append(Envelope(self.pid, self.pid, Count(0)))

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Count):
            self.items.append(3)  # a later step: the batch in flight must not change
        else:
            self.received.append(list(msg.items))
            msg.items.append(99)  # a receiver that scribbles on what it got


def world(
    to: Pid | None = None, routes: Routes | None = None, names: tuple[str, ...] = ()
) -> World:
    def start(node: str, durable: Any) -> list[Keeper]:
        if node == "a":
            return [Keeper(A, B, to)]
        return [Keeper(Pid(name, "b"), None) for name in names] or [Keeper(B, None)]

    w = World(Scenario("parcels", ["a", "b"], start, routes=routes or Routes()))
    w.start()
    return w


def test_a_message_is_what_it_was_when_sent_whatever_the_sender_does_after() -> None:
    w = world()
    w.apply(Deliver(1))  # the Count: the sender changes the list it sent
    assert w.processes[A].items == [1, 2, 3]
    assert w.envelope(0) == Envelope(B, A, Batch([1, 2]))
    assert [env for _, env in w.in_flight()] == [Envelope(B, A, Batch([1, 2]))]
    w.apply(Deliver(0))
    assert w.processes[B].received == [[1, 2]]


def test_each_copy_of_a_duplicated_message_is_a_message_of_its_own() -> None:
    w = world()
    w.apply(Duplicate(0))
    w.apply(Deliver(1))
    w.apply(Deliver(0))
    w.apply(Deliver(2))
    assert w.processes[B].received == [[1, 2], [1, 2]], "the first receiver's scribbles stay"


def test_each_receiver_of_a_broadcast_gets_a_message_of_its_own() -> None:
    names = ("w/1", "w/2")
    w = world(to=Pid("w/*", "b"), routes=Routes({"w": Broadcast()}), names=names)
    w.apply(Deliver(1))
    w.apply(Deliver(0))
    for seq in sorted(w.network.deliverable):
        w.apply(Deliver(seq))
    assert [w.processes[Pid(n, "b")].received for n in names] == [[[1, 2]], [[1, 2]]]


def test_the_receiver_gets_the_message_typed_as_declared_as_over_tcp() -> None:
    @message("test.parcel.pair")
    @attrs.frozen
    class Pair:
        both: tuple[int, int]

    got: list[Any] = []

    class Sink:
        pid = B

        def handle(self, msg: Any, *rest: Any) -> None:
            got.append(msg)

    class Source:
        pid = A

        def init(self, output: list[Envelope]) -> None:
            output.append(Envelope(B, A, Pair([1, 2])))  # type: ignore[arg-type]

        def handle(self, *args: Any) -> None:
            pass

    w = World(Scenario("typed", ["a", "b"], lambda n, d: [Source()] if n == "a" else [Sink()]))
    w.start()
    w.apply(Deliver(0))
    assert got == [Pair((1, 2))] and type(got[0].both) is tuple


class NotAMessage:
    pass


@attrs.frozen
class Unregistered:
    n: int


@message("test.parcel.anything")
@attrs.frozen
class Anything:
    value: Any


@message("test.parcel.number")
@attrs.frozen
class Number:
    n: int


def cycle() -> list[Any]:
    items: list[Any] = []
    items.append(items)
    return items


@pytest.mark.parametrize(
    ("msg", "says"),
    [
        (
            Unregistered(1),
            "Unregistered is not a registered message type: decorate it with @message",
        ),
        (NotAMessage(), "NotAMessage is not a registered message type: decorate it with @message"),
        ("text", "str is not a registered message type"),
        (Anything(threading.Lock()), "Anything cannot be sent: Encoding objects of type"),
        (Anything(NotAMessage()), "Anything cannot be sent: Encoding objects of type NotAMessage"),
        (Anything(cycle()), "Anything cannot be sent"),
        (Anything(2**70), "Anything cannot be sent"),
        (Number("three"), "Number cannot be sent as it is declared: Expected `int`, got `str`"),  # type: ignore[arg-type]
    ],
)
def test_what_could_not_cross_a_network_is_a_violation_where_it_is_sent(
    msg: Any, says: str
) -> None:
    class Sender:
        pid = A

        def init(self, output: list[Envelope]) -> None:
            output.append(Envelope(B, A, Count(0)))

        def handle(self, m: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
            output.append(Envelope(B, A, msg))

    class Sink:
        pid = B

        def handle(self, m: Any, from_: Pid, cid: Any, output: list[Envelope]) -> None:
            output.append(Envelope(A, B, Count(1)))

    scenario = Scenario("bad", ["a", "b"], lambda n, d: [Sender()] if n == "a" else [Sink()])
    result = run(scenario, RandomChooser(0))
    v = result.violation
    assert v is not None and v.step == 2, "the step that sends it, not the start"
    assert v.check == "bad output of p::a"
    assert v.message.startswith("to p::b: ") and says in v.message, v.message
