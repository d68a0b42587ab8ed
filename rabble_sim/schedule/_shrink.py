"""Shrink a failing schedule by delta debugging: drop events, simplify faults and inputs,
keep the violation.

Each candidate is a list of recorded events replayed by content (so that removing one
event does not shift the meaning of the rest); a candidate that still fails the same
check is re-recorded, which renumbers it, and becomes the new best. Simpler means fewer
events, then fewer faults, then simpler inputs: an input is made again by its scenario's
``make`` from smaller draws (each toward 0, its simplest outcome). The liveness phase is
never part of a candidate: it is generated afresh for each one, as in a real run.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import attrs

from ..core import UsageError
from ..sim import DEFAULT_STEP_TIMEOUT, FAULT_KINDS, STEP_TIMEOUT, Scenario
from ._format import Schedule
from ._lowering import Lowering, decisions, target_index
from ._replay import replay_events

FAULT_EVENTS = FAULT_KINDS
NOT_REPRODUCED = (
    "replaying it did not fail the same check again (if the code did not change since, "
    "the protocol is not deterministic: see rabble-sim determinism)"
)


@attrs.frozen
class ShrinkResult:
    """The shrunk schedule, whether its violation reproduced, and how much work it took."""

    schedule: Schedule
    attempts: int
    original_steps: int
    reproduced: bool | None
    """Whether replaying the schedule failed its check again. False: ``schedule`` is the
    input, unchanged, since there was no failure to keep (the code no longer fails that
    way, or it is not deterministic). None: shrinking was not even tried."""
    note: str | None = None
    """Why the schedule was not shrunk, when it did not reproduce or was not tried, or
    that shrinking ran out of time."""


def _key(
    schedule: Schedule, scenario: Scenario
) -> tuple[int, int, int, tuple[int, ...], tuple[int, ...]]:
    """Simpler is shorter, then with fewer faults, then with fewer and smaller decisions
    (input draws, random numbers), shortlex, then with inputs to earlier targets."""
    values = list(decisions(list(schedule.events), schedule.start_random).values())
    faults = sum(e["kind"] in FAULT_EVENTS for e in schedule.events)
    targets = tuple(target_index(e, scenario) for e in schedule.events if e["kind"] == "input")
    return (len(schedule.events), faults, len(values), tuple(values), targets)


def _downs(events: Any, clients: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
    """The most nodes ``events`` have down at once, and the clients' nodes they crash."""
    down: list[str] = []
    most = 0
    crashed: list[str] = []
    for event in events:
        node = event.get("node")
        if event["kind"] == "crash" and node not in down:
            down.append(node)
            most = max(most, len(down))
            if node in clients and node not in crashed:
                crashed.append(node)
        elif event["kind"] == "restart" and node in down:
            down.remove(node)
    return most, tuple(crashed)


class _Shrinker:
    def __init__(
        self,
        scenario: Scenario,
        schedule: Schedule,
        max_attempts: int,
        step_timeout: float | None,
        seconds: float | None = None,
    ) -> None:
        if schedule.violation is None:
            raise UsageError(f"{schedule.scenario}: the schedule has no violation to keep")
        self.scenario = scenario
        self.step_timeout = step_timeout
        self.reference = schedule.scenario
        self.seed = schedule.seed
        self.target = schedule.violation["check"]
        self.expect = schedule.expect
        # Removing a restart can take more nodes down at once than the scenario's faults
        # allow: a counterexample outside the fault model it was found in. Never more
        # than the budget, or than the schedule itself did (a chooser of one's own may).
        most, clients = _downs(schedule.events, scenario.clients)
        self.most_down = max(most, scenario.faults.crash)
        self.clients_down = clients
        self.max_attempts = max_attempts
        self.attempts = 0
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self.out_of_time = False

    def exhausted(self) -> bool:
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.out_of_time = True
        return self.attempts >= self.max_attempts or self.out_of_time

    def attempt(self, main: list[dict[str, Any]], start_random: tuple[int, ...]) -> Schedule | None:
        """The re-recorded schedule if ``main`` (after a start that drew ``start_random``)
        still fails the target check."""
        self.attempts += 1
        outcome = replay_events(
            self.scenario,
            main,
            None,
            seed=self.seed,
            step_timeout=self.step_timeout,
            loose=True,
            start_random=start_random,
        )
        v = outcome.result.violation
        if v is None or v.check != self.target:
            return None
        found = attrs.evolve(Schedule.from_run(outcome.result, self.reference), expect=self.expect)
        most, clients = _downs(found.events, self.scenario.clients)
        if most > self.most_down or len(clients) > len(self.clients_down):
            return None
        if not self.target.startswith("liveness "):
            # A safety violation reached in the liveness phase is reached by its events
            # alone: make them ordinary events, so that later passes can shrink them too.
            found = attrs.evolve(found, liveness_from=None)
        return found

    def better(
        self,
        candidate: list[dict[str, Any]],
        start_random: tuple[int, ...] | None = None,
        *,
        best: Schedule,
    ) -> Schedule | None:
        """The re-recorded ``candidate`` if it fails the target check and is simpler than
        ``best`` (it starts with ``best``'s random numbers unless given others)."""
        start = best.start_random if start_random is None else start_random
        found = self.attempt(candidate, start)
        return (
            found
            if found is not None and _key(found, self.scenario) < _key(best, self.scenario)
            else None
        )

    def remove_chunks(self, best: Schedule) -> Schedule:
        """Zeller's ddmin over the run's events: remove ever smaller chunks."""
        events, _ = best.phases()
        chunks = 2
        while events and not self.exhausted():
            size = -(-len(events) // chunks)
            for start in range(0, len(events), size):
                found = self.better(events[:start] + events[start + size :], best=best)
                if found is not None:
                    best = found
                    events, _ = best.phases()
                    chunks = max(chunks - 1, 2)
                    break
                if self.exhausted():
                    break
            else:
                if size == 1:
                    break
                chunks = min(chunks * 2, len(events))
        return best

    def simplify_decisions(self, best: Schedule) -> Schedule:
        """Make the inputs and random numbers simpler (``Lowering``), while that fails."""
        while not self.exhausted():
            events, _ = best.phases()
            found = Lowering(
                self.scenario, functools.partial(self.better, best=best), self.exhausted
            ).lower(events, best.start_random)
            if found is None:
                break
            best = found
        return best

    def simplify_faults(self, best: Schedule) -> Schedule:
        """Replace each fault by the simplest choice: a drop by a delivery, the rest by
        nothing (a restart or heal then comes from the liveness phase, if at all)."""
        i = 0
        while not self.exhausted():
            events, _ = best.phases()
            if i >= len(events):
                break
            event = events[i]
            if event["kind"] in FAULT_EVENTS:
                simpler = [{**event, "kind": "deliver"}] if event["kind"] == "drop" else []
                found = self.better(events[:i] + simpler + events[i + 1 :], best=best)
                if found is not None:
                    best = found
                    continue  # the same index now holds the next event
            i += 1
        return best


def shrink(
    schedule: Schedule,
    scenario: Scenario,
    *,
    max_attempts: int = 1000,
    seconds: float | None = None,
    progress: Callable[[int, Schedule], None] | None = None,
    step_timeout: float | None = DEFAULT_STEP_TIMEOUT,
) -> ShrinkResult:
    """Shrink ``schedule`` while ``scenario`` still fails the same check on it.

    Passes of chunk removal, fault and input simplification alternate until neither finds a
    simpler schedule, ``max_attempts`` replays have been spent, or ``seconds`` have passed
    (a bound that holds, but whose result depends on the machine's speed: ``max_attempts``
    is the one that gives the same schedule everywhere). The result is never
    longer than the input; if the input does not reproduce, it is returned unchanged
    with ``reproduced`` False. A step timeout is not shrunk, nor replayed (``reproduced``
    None, with a ``note``): every attempt that kept the step would wait for it.
    """
    if schedule.violation is not None and schedule.violation["check"] == STEP_TIMEOUT:
        note = "every attempt to shrink a step timeout would wait for the timeout"
        return ShrinkResult(schedule, 0, len(schedule.events), None, note)
    shrinker = _Shrinker(scenario, schedule, max_attempts, step_timeout, seconds)
    main, _ = schedule.phases()
    best = shrinker.attempt(main, schedule.start_random)
    if best is None:
        return ShrinkResult(
            schedule, shrinker.attempts, len(schedule.events), False, NOT_REPRODUCED
        )
    while not shrinker.exhausted():
        before = _key(best, scenario)
        best = shrinker.simplify_faults(shrinker.remove_chunks(best))
        best = shrinker.simplify_decisions(best)
        if progress is not None:
            progress(shrinker.attempts, best)
        if _key(best, scenario) >= before:
            break
    if _key(best, scenario) > _key(schedule, scenario):
        best = schedule
    cut = f"stopped after {seconds:g} s: shorter may exist" if shrinker.out_of_time else None
    return ShrinkResult(best, shrinker.attempts, len(schedule.events), True, cut)
