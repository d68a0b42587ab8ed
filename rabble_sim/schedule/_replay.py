"""Replay a schedule file against today's code and say whether, and where, it diverges."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from ..sim import Chooser, Event, FairChooser, RunResult, Scenario, Violation, World, run
from ._format import Schedule
from ._match import Divergence, resolve


@attrs.frozen
class ReplayResult:
    """A replayed run and the divergences noticed on the way."""

    result: RunResult
    divergences: tuple[Divergence, ...]

    @property
    def violation(self) -> Violation | None:
        return self.result.violation

    def reproduces(self, schedule: Schedule) -> bool:
        """True when the replay fails the same check as the schedule did."""
        v = self.violation
        return (
            v is not None
            and schedule.violation is not None
            and v.check == schedule.violation["check"]
        )


class ScheduleChooser:
    """Feeds recorded events to the run loop, each matched to what today's world can do.

    An event that today's code can take differently (another seq for the same message, a
    changed message under the same seq) is taken and noted; one that cannot happen at all
    is noted and skipped, and replay carries on with the next.
    """

    def __init__(
        self, plains: Iterable[dict[str, Any]], divergences: list[Divergence], *, by_seq: bool
    ) -> None:
        self._plains = iter(plains)
        self._divergences = divergences
        self._by_seq = by_seq

    def next_event(self, world: World) -> Event | None:
        for plain in self._plains:
            event, note = resolve(plain, world, by_seq=self._by_seq)
            if note is not None:
                step = plain.get("step", world.step + 1)
                self._divergences.append(Divergence(step, plain.get("summary", ""), note))
            if event is not None:
                return event
        return None


class ThenFair:
    """The recorded liveness phase, then, if the condition still waits, fair steps: a
    fixed protocol must get the whole bound to come true, not only the recorded steps."""

    def __init__(self, recorded: ScheduleChooser) -> None:
        self._recorded: Chooser = recorded
        self._fair = FairChooser()

    def next_event(self, world: World) -> Event | None:
        event = self._recorded.next_event(world)
        return event if event is not None else self._fair.next_event(world)


def replay_events(
    scenario: Scenario,
    main: list[dict[str, Any]],
    liveness: list[dict[str, Any]] | None = None,
    *,
    by_seq: bool,
    check_liveness: bool = True,
    seed: int | None = None,
) -> ReplayResult:
    """Run ``scenario`` on recorded events: ``main`` as the run, then ``liveness`` as its
    liveness phase (None: a fair one, generated as in a fresh run), if ``check_liveness``."""
    divergences: list[Divergence] = []
    liveness_chooser = (
        None
        if liveness is None
        else ThenFair(ScheduleChooser(liveness, divergences, by_seq=by_seq))
    )
    result = run(
        scenario,
        ScheduleChooser(main, divergences, by_seq=by_seq),
        max_steps=len(main),
        liveness_chooser=liveness_chooser,
        check_liveness=check_liveness,
        seed=seed,
    )
    return ReplayResult(result, tuple(divergences))


def replay(schedule: Schedule, scenario: Scenario) -> ReplayResult:
    """Replay ``schedule`` on ``scenario``: the same events, in the same order, checked at
    every step as in the run that recorded them, the liveness phase included if it had
    one."""
    main, liveness = schedule.phases()
    return replay_events(
        scenario,
        main,
        liveness,
        by_seq=True,
        check_liveness=schedule.liveness_from is not None,
        seed=schedule.seed,
    )
