"""The ticket office's messages and processes."""

from __future__ import annotations

from typing import Any

import attrs

from rabble_sim import CorrelationId, Envelope, Pid, message, persist


@message("ticketing.request")
@attrs.frozen
class Request:
    """Input: ask the office for a ticket."""


@message("ticketing.ask")
@attrs.frozen
class Ask:
    pass


@message("ticketing.ticket")
@attrs.frozen
class Ticket:
    number: int


@attrs.define
class Office:
    """Gives out tickets 1, 2, 3...; ``durable`` keeps the next number across restarts."""

    pid: Pid
    durable: bool = True
    next_number: int = 1

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Ask):
            number = self.next_number
            self.next_number += 1
            if self.durable:
                output.append(persist(self.pid, self.next_number))
            output.append(Envelope(from_, self.pid, Ticket(number), cid))


@attrs.define
class Customer:
    """Asks for a ticket whenever it is told to; keeps the tickets it got."""

    pid: Pid
    office: Pid
    tickets: list[int] = attrs.Factory(list)

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Request):
            output.append(Envelope(self.office, self.pid, Ask()))
        elif isinstance(msg, Ticket):
            self.tickets.append(msg.number)
