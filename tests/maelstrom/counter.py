"""A test protocol for Maelstrom nodes: a counter that lives on the first node.

Every node runs a ``Front`` that takes the clients' requests. ``add`` and ``read`` go to
the ``Counter`` process on the first of the node ids, over the network when the front is
on another node, and the front answers its client when the counter has answered it: a
reply that needs the other node. The other requests exercise the adapter: ``crash``
raises in ``handle``, ``shout`` prints to stdout, ``later`` answers after a timer on the
real clock, ``roll`` asks the executor for a random number, ``mute`` answers with a
message that has no body type, ``ask`` asks the Maelstrom service ``lin-kv`` and answers
with its reply, ``halt`` stops the front.
"""

from __future__ import annotations

from typing import Any

import attrs

from rabble_sim import CorrelationId, Envelope, Pid, Shutdown, Timeout, message, start_timer
from rabble_sim.core import RandomValue, executor_pid, get_random
from rabble_sim.maelstrom import MaelstromNode, client_pid


@message("mtest.add")
@attrs.frozen
class Add:
    delta: int


@message("mtest.add_ok")
@attrs.frozen
class AddOk:
    pass


@message("mtest.read")
@attrs.frozen
class Read:
    pass


@message("mtest.read_ok")
@attrs.frozen
class ReadOk:
    value: int


@message("mtest.added")
@attrs.frozen
class Added:
    """The counter's answer to an ``Add`` or a ``Read``: its total."""

    total: int


@message("mtest.crash")
@attrs.frozen
class Crash:
    pass


@message("mtest.shout")
@attrs.frozen
class Shout:
    text: str


@message("mtest.shout_ok")
@attrs.frozen
class ShoutOk:
    pass


@message("mtest.later")
@attrs.frozen
class Later:
    ms: int


@message("mtest.later_ok")
@attrs.frozen
class LaterOk:
    pass


@message("mtest.roll")
@attrs.frozen
class Roll:
    below: int


@message("mtest.roll_ok")
@attrs.frozen
class RollOk:
    value: int


@message("mtest.mute")
@attrs.frozen
class Mute:
    pass


@message("mtest.unmapped")
@attrs.frozen
class Unmapped:
    """A reply the node's bodies do not map."""


@message("mtest.ask")
@attrs.frozen
class Ask:
    key: Any


@message("mtest.ask_ok")
@attrs.frozen
class AskOk:
    value: Any


@message("mtest.kv_read")
@attrs.frozen
class KvRead:
    """Maelstrom's ``lin-kv`` service's read."""

    key: Any


@message("mtest.kv_read_ok")
@attrs.frozen
class KvReadOk:
    value: Any


@message("mtest.cas")
@attrs.frozen
class Cas:
    """Only to show the ``from`` key: answered with its fields."""

    key: Any
    from_: Any
    to: Any


@message("mtest.cas_ok")
@attrs.frozen
class CasOk:
    from_: Any
    to: Any


@message("mtest.halt")
@attrs.frozen
class Halt:
    pass


@attrs.define
class Counter:
    """The total of every ``Add``; answers each ``Add`` and ``Read`` with ``Added``."""

    pid: Pid
    total: int = 0

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Add):
            self.total += msg.delta
        if isinstance(msg, Add | Read):
            output.append(Envelope(from_, self.pid, Added(self.total), cid))


@attrs.define
class Front:
    """Takes the clients' requests on one node (see the module's docstring)."""

    pid: Pid
    counter: Pid
    asked: int = 0
    waiting: dict[int, tuple[str, Pid, CorrelationId | None]] = attrs.Factory(dict)
    """By request number: what the client asked, the client, and its cid."""

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        me = self.pid
        if isinstance(msg, Add | Read | Ask | Later | Roll):
            self.asked += 1
            self.waiting[self.asked] = (type(msg).__name__, from_, cid)
            mine = CorrelationId(me, self.asked)
            if isinstance(msg, Add | Read):
                output.append(Envelope(self.counter, me, msg, mine))
            elif isinstance(msg, Ask):
                output.append(Envelope(client_pid("lin-kv"), me, KvRead(msg.key), mine))
            elif isinstance(msg, Later):
                output.append(start_timer(me, msg.ms, mine))
            else:
                output.append(get_random(me, msg.below, mine))
        elif isinstance(msg, Added | KvReadOk | Timeout | RandomValue) and cid is not None:
            what, client, client_cid = self.waiting.pop(cid.request or 0)
            reply: Any = {
                "Add": AddOk,
                "Read": lambda: ReadOk(getattr(msg, "total", 0)),
                "Ask": lambda: AskOk(getattr(msg, "value", None)),
                "Later": LaterOk,
                "Roll": lambda: RollOk(getattr(msg, "value", 0)),
            }[what]()
            output.append(Envelope(client, me, reply, client_cid))
        elif isinstance(msg, Crash):
            raise RuntimeError("the front was asked to crash")
        elif isinstance(msg, Shout):
            print(msg.text)  # a protocol that prints: the node's stdout must stay clean
            output.append(Envelope(from_, me, ShoutOk(), cid))
        elif isinstance(msg, Mute):
            output.append(Envelope(from_, me, Unmapped(), cid))
        elif isinstance(msg, Cas):
            output.append(Envelope(from_, me, CasOk(msg.from_, msg.to), cid))
        elif isinstance(msg, Halt):
            output.append(Envelope(executor_pid(me.node), me, Shutdown()))


def front(node_id: str) -> Pid:
    return Pid("front", node_id)


def start(node_id: str, node_ids: tuple[str, ...]) -> list[Any]:
    counter = Pid("counter", node_ids[0])
    procs: list[Any] = [Front(front(node_id), counter)]
    if node_id == node_ids[0]:
        procs.append(Counter(counter))
    return procs


BODIES: dict[str, type] = {
    "add": Add,
    "add_ok": AddOk,
    "read": Read,
    "read_ok": ReadOk,
    "crash": Crash,
    "shout": Shout,
    "shout_ok": ShoutOk,
    "later": Later,
    "later_ok": LaterOk,
    "roll": Roll,
    "roll_ok": RollOk,
    "mute": Mute,
    "ask": Ask,
    "ask_ok": AskOk,
    "cas": Cas,
    "cas_ok": CasOk,
    "halt": Halt,
    # Maelstrom's lin-kv service speaks read/read_ok too; this node's clients use "read"
    # for the counter, so the service's bodies get names of their own here.
    "kv_read": KvRead,
    "kv_read_ok": KvReadOk,
}

node = MaelstromNode(start=start, receiver=front, bodies=BODIES)


def _raise(node_id: str, node_ids: tuple[str, ...]) -> list[Any]:
    raise RuntimeError("no processes today")


broken = MaelstromNode(start=_raise, receiver=front, bodies=BODIES)
"""A node whose start raises."""

elsewhere = MaelstromNode(start=start, receiver=lambda node_id: Pid("nobody", node_id), bodies={})
"""A node whose receiver is not one of its processes."""
