"""The set server and its client: the client turns inputs into requests and checks reads."""

from __future__ import annotations

from typing import Any

import attrs

from rabble_sim import CorrelationId, Envelope, Pid

from .messages import Add, Added, AddRequest, Contents, Read, ReadRequest


@attrs.define
class SetServer:
    """Keeps a set of integers. With ``toggles``, the bug: adding an element that is
    already there removes it (an add handled as a flip), so an element added twice is
    lost."""

    pid: Pid
    toggles: bool = False
    elements: list[int] = attrs.field(factory=list)

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, AddRequest):
            if msg.element not in self.elements:
                self.elements.append(msg.element)
            elif self.toggles:
                self.elements.remove(msg.element)
            output.append(Envelope(from_, self.pid, Added(msg.element), cid))
        elif isinstance(msg, ReadRequest):
            output.append(Envelope(from_, self.pid, Contents(tuple(sorted(self.elements))), cid))


@attrs.define
class SetClient:
    """Sends each input to the server as a request; remembers which adds were
    acknowledged before each read was sent, and what each read missed of them."""

    pid: Pid
    server: Pid
    requests: int = 0
    acknowledged: set[int] = attrs.field(factory=set)
    expected: dict[int, frozenset[int]] = attrs.field(factory=dict)
    """For each read in flight (by request number): the adds acknowledged when it was sent."""
    missed: list[int] = attrs.field(factory=list)
    """Acknowledged elements that a later read did not see: must stay empty."""

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Add | Read):
            self.requests += 1
            request = CorrelationId(self.pid, self.requests)
            if isinstance(msg, Add):
                output.append(Envelope(self.server, self.pid, AddRequest(msg.element), request))
            else:
                self.expected[self.requests] = frozenset(self.acknowledged)
                output.append(Envelope(self.server, self.pid, ReadRequest(), request))
        elif isinstance(msg, Added):
            self.acknowledged.add(msg.element)
        elif isinstance(msg, Contents) and cid is not None and cid.request is not None:
            expected = self.expected.pop(cid.request, frozenset())
            self.missed.extend(sorted(expected - set(msg.elements)))
