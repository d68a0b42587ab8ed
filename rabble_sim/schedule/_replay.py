"""Replay a schedule file against today's code and say whether, and where, it diverges."""

from __future__ import annotations

from typing import Any

import attrs

from ..codec import to_plain
from ..core import Envelope, RabbleError, Timeout, executor_pid
from ..sim import Event, EventNotEnabled, RunResult, Scenario, Violation, World, event_plain, run
from ._format import Schedule, to_event


class Diverged(RabbleError):
    """Today's code cannot take a step the schedule names."""


@attrs.frozen
class ReplayResult:
    """A replayed run, the divergences noticed on the way, and whether the schedule's
    violation came back."""

    result: RunResult | None
    """The replayed run; None when replay had to stop (see ``stopped``)."""
    divergences: tuple[str, ...]
    stopped: str | None
    """Why replay stopped before the end of the schedule, if it did."""

    @property
    def violation(self) -> Violation | None:
        return self.result.violation if self.result is not None else None

    def reproduces(self, schedule: Schedule) -> bool:
        """True when the replay fails the same check as the schedule did."""
        v = self.violation
        return (
            v is not None
            and schedule.violation is not None
            and v.check == schedule.violation["check"]
        )


class ScheduleChooser:
    """Feeds the recorded events to the run loop, checking each against today's world.

    A step whose content differs (another sender, receiver or message under the same
    seq) is noted and replayed anyway; a step that cannot happen at all stops the replay.
    """

    def __init__(self, plains: list[dict[str, Any]], divergences: list[str]) -> None:
        self._plains = iter(plains)
        self._divergences = divergences
        self.step = 0
        """The step of the event handed out last."""

    def next_event(self, world: World) -> Event | None:
        plain = next(self._plains, None)
        if plain is None:
            return None
        step = self.step = world.step + 1
        event = to_event(plain)
        seq = getattr(event, "seq", None)
        if seq is not None:
            env = world.envelope(seq) if event.kind != "timeout" else _timer_envelope(world, seq)
            if env is None:
                what = "timer" if event.kind == "timeout" else "message"
                raise Diverged(
                    f"step {step}: the schedule has '{plain.get('summary', plain)}', "
                    f"but today's code has no {what} #{seq}"
                )
            today = event_plain(event, env)
            recorded = {k: v for k, v in plain.items() if k in today}
            if today != recorded:
                self._divergences.append(_difference(step, recorded, today))
        return event


def _timer_envelope(world: World, seq: int) -> Envelope | None:
    timer = world.timers.get(seq)
    if timer is None:
        return None
    return Envelope(timer.pid, executor_pid(timer.pid.node), Timeout(), timer.cid)


def _difference(step: int, recorded: dict[str, Any], today: dict[str, Any]) -> str:
    fields = [k for k in today if today.get(k) != recorded.get(k)]
    parts = [
        f"{k} was {to_plain(recorded.get(k))!r}, is now {to_plain(today[k])!r}" for k in fields
    ]
    return f"step {step}: {'; '.join(parts)}"


def replay(schedule: Schedule, scenario: Scenario) -> ReplayResult:
    """Replay ``schedule`` on ``scenario``: the same events, in the same order, checked at
    every step exactly as in the run that recorded them."""
    events = list(schedule.events)
    split = len(events) if schedule.liveness_from is None else schedule.liveness_from - 1
    divergences: list[str] = []
    main = ScheduleChooser(events[:split], divergences)
    stabiliser = ScheduleChooser(events[split:], divergences)
    try:
        result = run(scenario, main, max_steps=split, stabiliser=stabiliser, seed=schedule.seed)
    except Diverged as e:
        return ReplayResult(None, tuple(divergences), str(e))
    except EventNotEnabled as e:
        step = max(main.step, stabiliser.step)
        return ReplayResult(None, tuple(divergences), f"step {step}: {e}")
    return ReplayResult(result, tuple(divergences), None)
