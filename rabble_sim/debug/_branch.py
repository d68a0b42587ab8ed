"""Branching in the debugger: the events enabled after a step, the run that takes one of
them instead of what the schedule did next ("what if the timer fired first?"), and the
schedule file that keeps it.

A branch is an ordinary run of its events (the steps up to the branch, as they ran, then
the event taken), so its schedule replays, debugs, draws and shrinks like any other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from ..core import Envelope, RabbleError, Timeout, UsageError, executor_pid
from ..schedule import Schedule
from ..sim import (
    NOT_DETERMINISTIC,
    Event,
    EventNotEnabled,
    FireTimer,
    ReplayChooser,
    RunResult,
    Scenario,
    World,
    branches,
    event_plain,
    run,
    summarize,
)


@attrs.frozen
class EnabledEvent:
    """An event that can happen after the current step: ``number`` is its place in the
    list (what ``take`` is given), ``summary`` says it as a step's summary would, and
    ``taken`` marks the one the schedule takes next."""

    number: int
    event: Event
    summary: str
    taken: bool = False


def enabled_events(world: World, following: Event | None) -> tuple[EnabledEvent, ...]:
    """Every event enabled in ``world``, in the canonical order (``sim.branches``: inputs
    expanded into each message ``make`` can build, faults within the scenario's budgets);
    the one equal to ``following``, the schedule's next event, marked taken."""
    return tuple(
        EnabledEvent(
            number,
            event,
            summarize(event_plain(event, _named(world, event))),
            event == following,
        )
        for number, event in enumerate(branches(world))
    )


def _named(world: World, event: Event) -> Envelope | None:
    """The message or timer ``event`` acts on, as a schedule file names it."""
    seq = getattr(event, "seq", None)
    if not isinstance(seq, int):
        return None
    if isinstance(event, FireTimer):
        timer = world.timers[seq]
        return Envelope(timer.pid, executor_pid(timer.pid.node), Timeout(), timer.cid)
    return world.envelope(seq)


def run_branch(
    scenario: Scenario,
    events: Sequence[Event],
    randoms: Mapping[int, Sequence[int]],
    step_timeout: float | None,
) -> RunResult:
    """``events`` run as an ordinary run of ``scenario``, every check after every step,
    with no liveness phase; the random numbers processes draw are ``randoms`` (by step),
    then 0, the simplest. A ``RabbleError`` if not every event could happen, which means
    that the protocol is not deterministic: each was enabled when the session ran it."""
    try:
        result = run(
            scenario,
            ReplayChooser(events, randoms),
            max_steps=len(events),
            check_liveness=False,
            step_timeout=step_timeout,
        )
    except EventNotEnabled as e:
        raise RabbleError(f"the branch could not be run ({e}): {NOT_DETERMINISTIC}") from None
    if result.steps != len(events) and result.violation is None:
        raise RabbleError(
            f"the branch ran {result.steps} of its {len(events)} steps: {NOT_DETERMINISTIC}"
        )
    return result


def write_schedule(schedule: Schedule, path: str | Path) -> Path:
    """Write ``schedule`` to the file ``path`` (replacing it), or, if ``path`` is a folder,
    to ``<digest>.json`` in it; return the file written."""
    path = Path(path)
    if path.is_dir():
        return schedule.save(path)
    try:
        path.write_text(schedule.dumps(), encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
    return path
