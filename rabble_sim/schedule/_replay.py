"""Replay a schedule file against today's code and say whether, and where, it diverges."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from ..sim import (
    DEFAULT_STEP_TIMEOUT,
    Event,
    FairChooser,
    RunResult,
    Scenario,
    Violation,
    World,
    run,
)
from ._format import Schedule
from ._match import Divergence, resolve


@attrs.frozen
class ReplayResult:
    """A replayed run, the divergences noticed on the way, and how many recorded events
    there were."""

    result: RunResult
    divergences: tuple[Divergence, ...]
    recorded: int = 0

    @property
    def violation(self) -> Violation | None:
        return self.result.violation

    @property
    def skipped(self) -> int:
        """Recorded events that could not happen today, and were left out."""
        return sum(d.skipped for d in self.divergences)

    @property
    def fits(self) -> bool:
        """Whether the schedule still describes a run of today's code: every recorded
        event happened (some perhaps under another seq), and most of them exactly as
        recorded. A replay that does not fit proves nothing either way: if it ends
        without a violation, the bug may be fixed, or the run may simply have gone
        elsewhere."""
        return self.skipped == 0 and 2 * len(self.divergences) <= self.recorded

    def misfit(self) -> str:
        """Why the schedule does not fit today's code, and what to do ("" if it fits)."""
        if self.fits:
            return ""
        what = (
            f"{self.skipped} of its {self.recorded} events could not happen"
            if self.skipped
            else f"{len(self.divergences)} of its {self.recorded} events happened otherwise"
        )
        return (
            f"the schedule no longer fits the code ({what}), so it cannot tell whether its "
            "violation is fixed: search again (rabble-sim run), then delete or replace the file"
        )

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

    An event that today's code can take under another seq (the same message, renumbered)
    is taken and noted; one that cannot happen at all (no message with its content is in
    flight) is noted and skipped, and replay carries on with the next.
    """

    def __init__(
        self,
        plains: Iterable[dict[str, Any]],
        divergences: list[Divergence],
        *,
        loose: bool = False,
        start_random: Sequence[int] = (),
    ) -> None:
        self._plains = iter(plains)
        self._divergences = divergences
        self._loose = loose
        self._numbers = _RecordedNumbers(0, "the start", start_random)

    def next_event(self, world: World) -> Event | None:
        self._note(self._numbers.left_over())
        for plain in self._plains:
            event, divergence = resolve(plain, world, loose=self._loose)
            if divergence is not None:
                self._divergences.append(divergence)
            if event is not None:
                step = plain.get("step", world.step + 1)
                numbers = plain.get("random") or ()
                self._numbers = _RecordedNumbers(step, plain.get("summary", ""), numbers)
                return event
        self._numbers = _RecordedNumbers(0, "", (), past_the_record=True)
        return None

    def random(self, n: int) -> int:
        """The random numbers the recorded step drew, in order, then 0; a number that no
        longer fits, or one more than the step drew, is a divergence."""
        value, divergence = self._numbers.next(n)
        self._note(divergence)
        return value

    def _note(self, divergence: Divergence | None) -> None:
        if divergence is not None and not self._loose:
            self._divergences.append(divergence)


class _RecordedNumbers:
    """The random numbers one recorded step drew, handed back in order."""

    def __init__(
        self, step: int, summary: str, numbers: Sequence[int], *, past_the_record: bool = False
    ) -> None:
        self._step, self._summary = step, summary
        self._numbers = list(numbers)
        self._used = 0
        self._past_the_record = past_the_record  # a fresh liveness phase: 0s, quietly

    def next(self, n: int) -> tuple[int, Divergence | None]:
        if self._used >= len(self._numbers):
            self._used += 1
            if self._past_the_record or self._used > len(self._numbers) + 1:
                return 0, None  # said once a step
            return 0, self._diverged(
                f"asks for more random numbers than the {len(self._numbers)} recorded"
            )
        value = self._numbers[self._used]
        self._used += 1
        if value < n:
            return value, None
        return 0, self._diverged(f"the random number {value} recorded is not below {n} today")

    def left_over(self) -> Divergence | None:
        """A divergence if the step drew fewer numbers than were recorded."""
        if self._used < len(self._numbers):
            return self._diverged(
                f"draws {self._used} random numbers, not the {len(self._numbers)} recorded"
            )
        return None

    def _diverged(self, what: str) -> Divergence:
        return Divergence(self._step, self._summary, what, skipped=False)


class ThenFair:
    """The recorded liveness phase, then, if the condition still waits, fair steps: a
    fixed protocol must get the whole bound to come true, not only the recorded steps.
    Beyond the record, processes draw fair random numbers (``FairChooser``)."""

    def __init__(self, recorded: ScheduleChooser, seed: int | None) -> None:
        self._recorded = recorded
        self._fair = FairChooser(seed)
        self._random: Callable[[int], int] = recorded.random

    def next_event(self, world: World) -> Event | None:
        event = self._recorded.next_event(world)
        if event is None:
            self._random = self._fair.random
            return self._fair.next_event(world)
        return event

    def random(self, n: int) -> int:
        return self._random(n)


def replay_events(
    scenario: Scenario,
    main: list[dict[str, Any]],
    liveness: list[dict[str, Any]] | None = None,
    *,
    check_liveness: bool = True,
    seed: int | None = None,
    step_timeout: float | None = DEFAULT_STEP_TIMEOUT,
    loose: bool = False,
    start_random: Sequence[int] = (),
) -> ReplayResult:
    """Run ``scenario`` on recorded events: ``main`` as the run, then ``liveness`` as its
    liveness phase (None: a fair one, generated as in a fresh run), if ``check_liveness``.
    ``loose``: match events as a shrinker does (see ``resolve``). ``start_random``: the
    random numbers processes drew at the start."""
    divergences: list[Divergence] = []
    liveness_chooser = (
        None if liveness is None else ThenFair(ScheduleChooser(liveness, divergences), seed)
    )
    result = run(
        scenario,
        ScheduleChooser(main, divergences, loose=loose, start_random=start_random),
        max_steps=len(main),
        liveness_chooser=liveness_chooser,
        check_liveness=check_liveness,
        seed=seed,
        step_timeout=step_timeout,
    )
    recorded = len(main) + (len(liveness) if liveness is not None else 0)
    return ReplayResult(result, tuple(divergences), recorded)


def replay(
    schedule: Schedule, scenario: Scenario, *, step_timeout: float | None = DEFAULT_STEP_TIMEOUT
) -> ReplayResult:
    """Replay ``schedule`` on ``scenario``: the same events, in the same order, checked at
    every step as in the run that recorded them, the liveness phase included if it had
    one."""
    main, liveness = schedule.phases()
    return replay_events(
        scenario,
        main,
        liveness,
        check_liveness=schedule.liveness_from is not None,
        seed=schedule.seed,
        step_timeout=step_timeout,
        start_random=schedule.start_random,
    )
