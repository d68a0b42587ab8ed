"""What one Maelstrom node runs: ``MaelstromNode``, and the pids clients appear as."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..core import InvalidDefinition, Pid
from ._bodies import Bodies

CLIENTS = "maelstrom"
"""The node name of every pid that stands for a Maelstrom client (or service): no node
of a cluster may be called so."""


def client_pid(src: str) -> Pid:
    """The pid that a Maelstrom client, or any sender that is not a node of the cluster
    (Maelstrom's ``lin-kv`` service, say), appears as to the processes: ``src::maelstrom``.

    A request of client ``c1`` with ``msg_id`` 5 arrives as ``handle(msg,
    from_=client_pid("c1"), cid=CorrelationId(client_pid("c1"), request=5), output)``;
    an envelope back to that pid with that cid is the reply (``in_reply_to`` 5).
    """
    return Pid(src, CLIENTS)


def _bodies(value: Mapping[str, type]) -> Mapping[str, type]:
    return Bodies(value).mapping


def _callable(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not callable(value):
        raise InvalidDefinition(
            f"MaelstromNode {attribute.name} must be a function, not {type(value).__name__}"
        )


@attrs.frozen
class MaelstromNode:
    """What a protocol runs as one Maelstrom node (``rabble-sim maelstrom MODULE:NAME``).

    ``start(node_id, node_ids)`` builds the node's processes once Maelstrom's ``init``
    arrives: a list of processes whose pids are on node ``node_id`` (``node_ids`` are
    all the nodes of the cluster, this one included, in Maelstrom's order).

    ``receiver(node_id)`` is the pid of the process, among those, that gets the clients'
    requests: every body from a sender that is not one of ``node_ids``.

    ``bodies`` maps body types to ``@message`` classes, and is read both ways: a
    client's body of type ``t`` becomes a ``bodies[t]`` built from the body's other
    fields; a message a process sends to a client becomes a body whose type is its
    class's key. ``"error"`` maps to ``rabble_sim.maelstrom.Error`` whether given or not.
    A field named after a Python keyword and ``_`` (``from_``) is the keyword in the body
    (``from``). The mapping is checked here: a class that is not a message, a class
    mapped twice, a reserved type (``init``, ``init_ok``, ``rabble``) or a field that
    takes a reserved key (``type``, ``msg_id``, ``in_reply_to``) is an
    ``InvalidDefinition`` saying which.

    Example (``protocols/echo/maelstrom.py``)::

        maelstrom = MaelstromNode(
            start=lambda node_id, node_ids: [EchoNode(Pid("echo", node_id))],
            receiver=lambda node_id: Pid("echo", node_id),
            bodies={"echo": Echo, "echo_ok": EchoOk},
        )
    """

    start: Callable[[str, tuple[str, ...]], list[Any]] = attrs.field(validator=_callable)
    receiver: Callable[[str], Pid] = attrs.field(validator=_callable)
    bodies: Mapping[str, type] = attrs.field(converter=_bodies)
