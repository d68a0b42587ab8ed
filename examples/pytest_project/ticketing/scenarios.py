"""Scenarios of the ticket office: customers take generated inputs, the office may crash."""

from __future__ import annotations

from typing import Any

from rabble_sim import Draw, Faults, Inputs, Pid, Scenario, View

from .office import Customer, Office, Request

OFFICE = Pid("office", "o")
CUSTOMERS = (Pid("customer", "c1"), Pid("customer", "c2"))


def every_ticket_once(view: View) -> None:
    numbers = [n for pid in CUSTOMERS if pid in view.processes for n in view.processes[pid].tickets]
    assert len(numbers) == len(set(numbers)), f"a ticket given twice: {sorted(numbers)}"


def ask(draw: Draw) -> Request:
    return Request()


def office(durable: bool, name: str) -> Scenario:
    def start(node: str, saved: dict[Pid, Any] | None) -> list[Office | Customer]:
        if node == OFFICE.node:
            restored = (saved or {}).get(OFFICE)
            return [Office(OFFICE, durable, restored if isinstance(restored, int) else 1)]
        return [Customer(Pid("customer", node), OFFICE)]

    return Scenario(
        name,
        [OFFICE.node, *(pid.node for pid in CUSTOMERS)],
        start,
        invariants=[every_ticket_once],
        faults=Faults(crash=1, crash_rate=0.1, restart_rate=0.3),
        clients=[pid.node for pid in CUSTOMERS],
        inputs=Inputs(to=CUSTOMERS, make=ask, max=6),
        max_steps=100,
    )


scenario = office(durable=True, name="ticketing")
bug_reissue = office(durable=False, name="ticketing-reissue")
