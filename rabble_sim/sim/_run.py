"""The run loop: ask a chooser for an event, apply it, check, record; then check liveness."""

from __future__ import annotations

import contextlib
import gc
import traceback
from collections.abc import Iterator

import attrs

from ._choosers import Chooser, FairChooser
from ._events import Event
from ._scenario import Invariant, Scenario
from ._trace import Trace
from ._view import View
from ._world import CheckFailed, World, check_name


@attrs.frozen
class Violation:
    """A check that failed: its name, its message, the step, and the traceback if any."""

    check: str
    message: str
    step: int
    traceback: str | None = None

    def __str__(self) -> str:
        return f"{self.check}: {self.message}"


@attrs.frozen
class RunResult:
    """The outcome of one run.

    ``liveness_from`` is the first step of the liveness phase (None if it did not start).
    """

    scenario: Scenario
    trace: Trace
    violation: Violation | None
    liveness_from: int | None = None
    seed: int | None = None

    @property
    def ok(self) -> bool:
        return self.violation is None

    @property
    def steps(self) -> int:
        return self.trace.steps

    def events(self) -> list[Event]:
        return self.trace.events()


def run(
    scenario: Scenario,
    chooser: Chooser,
    *,
    max_steps: int | None = None,
    stabiliser: Chooser | None = None,
    seed: int | None = None,
) -> RunResult:
    """Run ``scenario`` with events from ``chooser`` until a violation, ``max_steps``
    (default: the scenario's), or until the chooser has nothing left.

    Invariants are checked after the start and after every step. If the scenario has a
    liveness condition and nothing failed, a liveness phase follows, driven by
    ``stabiliser`` (default: a ``FairChooser``), in which the condition must come true
    within its bound. Nothing here reads a clock or a global random source.

    The cyclic garbage collector is paused for the run (reference counting still frees
    memory): the trace keeps every message alive, and collecting a growing heap over and
    over would cost more than the simulation itself.
    """
    with _collector_paused():
        return _run(scenario, chooser, max_steps, stabiliser, seed)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run(
    scenario: Scenario,
    chooser: Chooser,
    max_steps: int | None,
    stabiliser: Chooser | None,
    seed: int | None,
) -> RunResult:
    world = World(scenario)
    view = View(world)
    trace = Trace()
    limit = scenario.max_steps if max_steps is None else max_steps
    invariants = scenario.invariants

    def result(violation: Violation | None, liveness_from: int | None = None) -> RunResult:
        return RunResult(scenario, trace, violation, liveness_from, seed)

    try:
        trace.entries.append((None, None, world.start()))
    except CheckFailed as failure:
        trace.entries.append((None, None, []))
        return result(_violation(failure, 0))
    violation = _check(invariants, view, 0)
    if violation is not None:
        return result(violation)

    next_event = chooser.next_event
    appliers = world.appliers
    append = trace.entries.append
    # The loop below is the simulator's hot path: keep it free of anything per-step that
    # is not needed (no plain data, no digests, no copies).
    for step in range(1, limit + 1):
        event = next_event(world)
        if event is None:
            break
        world.step = step
        try:
            env, outputs = appliers[type(event)](event)
        except CheckFailed as failure:
            append((event, failure.envelope, []))
            return result(_violation(failure, step))
        append((event, env, outputs))
        if invariants:
            violation = _check(invariants, view, step)
            if violation is not None:
                return result(violation)

    liveness = scenario.liveness
    if liveness is None:
        return result(None)
    start = world.step + 1
    stabiliser = stabiliser or FairChooser()
    failed = _check_liveness(liveness.condition, world, view)
    for step in range(start, start + liveness.within):
        if failed is None:
            return result(None, start)
        event = stabiliser.next_event(world)
        if event is None:
            break
        world.step = step
        try:
            env, outputs = world.apply(event)
        except CheckFailed as failure:
            append((event, failure.envelope, []))
            return result(_violation(failure, step), start)
        append((event, env, outputs))
        violation = _check(invariants, view, step)
        if violation is not None:
            return result(violation, start)
        failed = _check_liveness(liveness.condition, world, view)
    if failed is None:
        return result(None, start)
    message = f"not true {world.step - start + 1} steps after faults stopped: {failed.message}"
    return result(Violation(f"liveness {liveness.name}", message, world.step), start)


def _check_liveness(condition: Invariant, world: World, view: View) -> Violation | None:
    """The liveness condition's failure, or a stand-in while faults are still being undone
    (a down node is absent from the view, and must not count as agreeing)."""
    if world.partitioned or not all(world.up.values()):
        return Violation("liveness", "the network is not healed and restarted yet", world.step)
    return _check((condition,), view, world.step)


def _check(checks: tuple[Invariant, ...], view: View, step: int) -> Violation | None:
    for check in checks:
        try:
            check(view)
        except AssertionError as e:
            return Violation(
                check_name(check), str(e) or "assertion failed", step, traceback.format_exc()
            )
        except Exception as e:
            return Violation(check_name(check), f"raised {e!r}", step, traceback.format_exc())
    return None


def _violation(failure: CheckFailed, step: int) -> Violation:
    return Violation(failure.check, failure.message, step, failure.traceback)
