"""Echo as a Maelstrom node: the ``echo`` workload of Maelstrom's guide, one process.

``rabble-sim maelstrom protocols.echo:maelstrom`` answers ``{"type": "echo", "echo": X}``
with ``{"type": "echo_ok", "echo": X}``, for any JSON value ``X``.
"""

from __future__ import annotations

from typing import Any

import attrs

from rabble_sim import CorrelationId, Envelope, Pid, message
from rabble_sim.maelstrom import MaelstromNode


@message("echo.maelstrom.echo")
@attrs.frozen
class Echo:
    """A client's request: send ``echo`` back."""

    echo: Any


@message("echo.maelstrom.echo_ok")
@attrs.frozen
class EchoOk:
    """The answer to an ``Echo``, with its ``echo``."""

    echo: Any


@attrs.define
class EchoNode:
    """Answers each ``Echo`` with an ``EchoOk`` of the same value, to whoever sent it."""

    pid: Pid

    def handle(
        self, msg: object, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Echo):
            output.append(Envelope(from_, self.pid, EchoOk(msg.echo), cid))


def echo_pid(node_id: str) -> Pid:
    """The echo process of a node."""
    return Pid("echo", node_id)


def start(node_id: str, node_ids: tuple[str, ...]) -> list[Any]:
    """One echo process a node."""
    return [EchoNode(echo_pid(node_id))]


maelstrom = MaelstromNode(start=start, receiver=echo_pid, bodies={"echo": Echo, "echo_ok": EchoOk})
"""The Maelstrom ``echo`` node."""
