"""A chooser of one's own that crashes a client mid-workload: the simulator's choosers never
crash a scenario's clients (``Scenario.clients``), so a test of a client's restart makes
the crash itself."""

from __future__ import annotations

from typing import Any

from rabble_sim.sim import Crash, Event, FairChooser, World


class CrashClientOnce(FairChooser):
    """In time order, with one fault: the client (an instance of ``client_type``, with
    ``answers`` and ``done``) on ``c1`` crashes once it has two answers, and the fair
    chooser restarts it at once; the run ends when every client is done."""

    def __init__(self, client_type: type, clients: int = 2) -> None:
        super().__init__()
        self.client_type = client_type
        self.clients = clients
        self.crashed = False
        self.world: World | None = None

    def next_event(self, world: World) -> Event | None:
        self.world = world
        clients: list[Any] = [
            p for p in world.processes.values() if isinstance(p, self.client_type)
        ]
        c1 = [c for c in clients if c.pid.node == "c1"]
        if not self.crashed and c1 and len(c1[0].answers) >= 2:
            self.crashed = True
            return Crash("c1")
        if self.crashed and len(clients) == self.clients and all(c.done for c in clients):
            return None
        return super().next_event(world)
