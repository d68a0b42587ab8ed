"""One step of a schedule as the debugger shows it: the event, its message, what it sent."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import attrs

from ..core import CorrelationId, Envelope, Pid
from ..sim import Event, Trace, Violation, World, summarize


@attrs.frozen
class Step:
    """Step ``number`` of a replayed schedule (step 0 is the start, with no event).

    ``created`` are the seqs of the messages and timers made during the step, which is how
    a later delivery finds the step that sent it.
    """

    number: int
    event: Event | None
    envelope: Envelope | None
    """The message the event delivered, dropped, duplicated or fired, if any."""
    sent: tuple[Envelope, ...]
    plain: dict[str, Any]
    """The event as a schedule file stores it."""
    summary: str
    created: range
    liveness: bool = False
    """Part of the liveness phase, after the faults stopped."""
    violation: Violation | None = None
    """The check that failed at this step, if one did."""

    @property
    def kind(self) -> str:
        return "start" if self.event is None else self.event.kind

    @property
    def seq(self) -> int | None:
        """The seq of the message or timer the event names, if it names one."""
        seq = getattr(self.event, "seq", None)
        return seq if isinstance(seq, int) else None


def walk_steps(
    trace: Trace,
    worlds: Iterable[tuple[World, range]],
    violation: Violation | None,
    liveness_from: int | None,
) -> tuple[tuple[Step, ...], tuple[Pid, ...], dict[int, int]]:
    """The steps of a run, from its ``trace`` and its world after each step with the seqs
    the step created (as ``Rewinder.walk`` yields them): the steps, every process that ran
    (in reading order), and the step that created each seq (for a duplicate's copy, the
    step that sent the original)."""
    steps: list[Step] = []
    pids: set[Pid] = set()
    origins: dict[int, int] = {}
    for world, created in worlds:
        number = len(steps)
        event = trace.event(number)
        env, sent = trace.envelopes(number)
        plain = trace.step_plain(number)
        step = Step(
            number,
            event,
            env,
            tuple(sent),
            plain,
            "start" if event is None else summarize(plain),
            created,
            liveness_from is not None and number >= liveness_from,
            violation if violation is not None and violation.step == number else None,
        )
        origin = origins.get(step.seq or -1) if step.kind == "duplicate" else None
        origins.update(dict.fromkeys(created, number if origin is None else origin))
        steps.append(step)
        pids.update(world.processes)
    return tuple(steps), tuple(sorted(pids, key=reading_order)), origins


@attrs.frozen
class InFlight:
    """A message sent and not yet delivered; ``blocked`` while a cut holds it, and
    ``arrives`` (a time) while a link's latency keeps it in transit."""

    seq: int
    envelope: Envelope
    blocked: bool
    arrives: int | None = None


@attrs.frozen
class PendingTimer:
    """A timer started and not yet fired or cancelled: ``pid`` gets ``Timeout`` at ``due``."""

    seq: int
    pid: Pid
    cid: CorrelationId | None
    due: int


@attrs.frozen
class Pending:
    """What may happen next: messages in flight (oldest first) and timers (due first), the
    links cut (each ``(from, to)``), and each node's clock that left true time (its rate,
    and what it reads)."""

    messages: tuple[InFlight, ...]
    timers: tuple[PendingTimer, ...]
    now: int
    cut: tuple[tuple[str, str], ...] = ()
    clocks: tuple[tuple[str, float, int], ...] = ()


def step_count(count: int) -> str:
    """``1 step``, ``2 steps``: a count of steps as a sentence says it."""
    return f"{count} step{'s' * (count != 1)}"


def reading_order(pid: Pid) -> tuple[Any, ...]:
    """Where ``pid`` goes in a list people read: ``Pid``'s own order (group, name, node,
    ungrouped first), but with the numbers in names read as numbers, so that ``c2`` comes
    before ``c10``. Only for showing: the engine keeps ``Pid``'s order."""
    return (
        pid.group is not None,
        _natural(pid.group or ""),
        _natural(pid.name),
        _natural(pid.node),
    )


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part
    )
