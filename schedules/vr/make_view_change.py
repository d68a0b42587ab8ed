"""Writes view-change.json: run with ``python schedules/vr/make_view_change.py`` from the
repository's root after a change to the protocol makes the schedule diverge."""

from __future__ import annotations

from pathlib import Path

from protocols.vr import NORMAL, Client, Replica, scenario
from rabble_sim import run
from rabble_sim.schedule import Schedule
from rabble_sim.sim import Crash, Deliver, Event, FireTimer, Restart, World

N1 = "n1"


class Walkthrough:
    """First in, first out, with no fault but one: the primary ``n1`` crashes once each
    client has two answers, and restarts once the clients are done in the new view."""

    def __init__(self) -> None:
        self.crashed = self.restarted = False

    def next_event(self, world: World) -> Event | None:
        procs = list(world.processes.values())
        clients = [p for p in procs if isinstance(p, Client)]
        if not self.crashed and all(len(c.answers) >= 2 for c in clients):
            self.crashed = True
            return Crash(N1)
        if self.crashed and not self.restarted and all(c.done for c in clients):
            self.restarted = True
            return Restart(N1)
        replicas = [p for p in procs if isinstance(p, Replica)]
        if self.restarted and all(r.status == NORMAL for r in replicas):
            return None
        # FairChooser's order, without its restarts: the oldest message, unless the next
        # timer due was started before it.
        enabled = world.enabled()
        timer = enabled.timer
        if enabled.deliveries:
            oldest = enabled.delivery(0)
            if timer is None or oldest < timer:
                return Deliver(oldest)
        return FireTimer(timer) if timer is not None else None


if __name__ == "__main__":
    result = run(scenario, Walkthrough())
    assert result.ok, result.violation
    schedule = Schedule.from_run(result, "protocols.vr:scenario")
    path = Path(__file__).with_name("view-change.json")
    path.write_text(schedule.dumps(), encoding="utf-8")
    print(f"{path}: {len(schedule.events)} steps")
