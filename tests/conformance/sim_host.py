"""The simulator as a conformance host: a World run to quiescence, first in first out.

The case's scenario is run without faults by ``FairChooser`` (the oldest message, unless
a timer due was started before it), which is also what a TCP cluster on loopback does
when nothing races: messages on one link arrive in order, and a timer fires after what
was sent before it. A restart is a crash followed at once by a restart, then quiescence.
"""

from __future__ import annotations

from typing import Any

from rabble_sim import Pid, Scenario
from rabble_sim.sim import Crash, FairChooser, Restart, World

from .case import Case, Outcome, histories, states_of
from .recorder import STARTER, Recorder, Starter

MAX_STEPS = 10_000
"""More than any case needs: a case that does not settle within it is a broken case."""


class SimHost:
    name = "sim"

    def run(self, case: Case) -> Outcome:
        world = World(scenario(case))
        world.start()
        settle(world)
        for node in case.restarts:
            world.apply(Crash(node))
            world.apply(Restart(node))
            settle(world)
        return Outcome(
            states=states_of(world.processes),
            dead_letters=world.dead_letters,
            durable={str(pid): data for pid, data in sorted(world.durable.items())},
            history=histories(list(world.history)),
        )


def scenario(case: Case) -> Scenario:
    def start(node: str, durable: dict[Pid, Any] | None) -> list[Recorder | Starter]:
        built: list[Recorder | Starter] = list(case.start(node, durable))
        if durable is None:  # the first start: the TCP host spawns its starter then too
            built.append(Starter(Pid(STARTER, node), case.scripted(node)))
        return built

    return Scenario(
        "conformance",
        case.nodes,
        start,
        routes=case.routes,
        factories=case.factories,
        services=case.services,
    )


def settle(world: World) -> None:
    chooser = FairChooser()
    for _ in range(MAX_STEPS):
        event = chooser.next_event(world)
        if event is None:
            return
        world.apply(event)
    raise AssertionError(f"the simulated cluster did not settle within {MAX_STEPS} steps")
