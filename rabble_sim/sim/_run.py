"""The run loop: ask a chooser for an event, apply it, check, record; then check liveness."""

from __future__ import annotations

import contextlib
import gc
from array import array
from collections.abc import Callable, Iterator, Sequence

import attrs

from ..core import RabbleError
from ._choosers import Chooser, FairChooser, ReplayChooser
from ._events import Event
from ._failures import CheckFailed, EventNotEnabled, check_name, describe, protocol_failed
from ._scenario import Invariant, Scenario
from ._trace import Trace
from ._view import View
from ._watchdog import (
    DEFAULT_STEP_TIMEOUT,
    STEP_TIMEOUT,
    Interrupted,
    StepTimeout,
    UserInterrupt,
    watching,
)
from ._world import APPLIERS, World

Observer = Callable[[World], None]
"""Watches a run: called with the world after its start and after each of its steps."""


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
    dead_letters: int = 0
    """Messages delivered to a pid that was not running, or sent to an unknown node."""
    lost: int = 0
    """Messages sent to a node while it was down."""
    decisions: array[int] | None = None
    """Every decision the chooser made, in order (a drawing chooser's): its ``again`` over
    ``RecordedDraws(decisions)`` makes the same run."""

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
    liveness_chooser: Chooser | None = None,
    check_liveness: bool = True,
    seed: int | None = None,
    messages: bool = True,
    digest: bool = False,
    step_timeout: float | None = DEFAULT_STEP_TIMEOUT,
    observers: Sequence[Observer] = (),
) -> RunResult:
    """Run ``scenario`` with events from ``chooser`` until a violation, ``max_steps``
    (default: the scenario's), or until the chooser has nothing left.

    Invariants are checked after the start and after every step. If the scenario has a
    liveness condition, ``check_liveness`` is on and nothing failed, the liveness phase
    follows: ``liveness_chooser`` (default: a ``FairChooser``, which heals, restarts and
    delivers fairly) drives it, and the condition must come true within its bound.
    Nothing here reads a clock or a global random source.

    The trace keeps what each step delivered and sent when ``messages`` is on (the
    default); without it, only the events (``recorded`` runs them again to get the rest),
    and, with ``digest``, the trace's digest computed on the way. A step (a handle and its
    checks) that runs longer than ``step_timeout`` seconds is a violation (None: no
    limit). Ctrl-C raises ``Interrupted``, which says where the run was. Each observer is
    called with the world after the start and after every step (``world.step`` says which),
    before the step's checks; it must not change the world.

    The cyclic garbage collector is paused for the run (reference counting still frees
    memory): collecting a large heap over and over would cost more than the simulation.
    """
    with collector_paused():
        trace = Trace(scenario.nodes, messages=messages, digest=digest)
        this = _Run(scenario, seed, trace, tuple(observers))
        limit = scenario.max_steps if max_steps is None else max_steps
        fair = (liveness_chooser or FairChooser(seed)) if check_liveness else None
        return this.watched(chooser, limit, fair, step_timeout)


def recorded(result: RunResult, *, step_timeout: float | None = DEFAULT_STEP_TIMEOUT) -> RunResult:
    """``result`` with what each step delivered and sent: itself if its trace kept them,
    else its events run again with everything recorded. A ``RabbleError`` if the run
    does not end the same way again: then the protocol is not deterministic."""
    if result.trace.has_messages:
        return result
    events = result.trace.events()
    randoms = result.trace.all_randoms()
    split = len(events) if result.liveness_from is None else result.liveness_from - 1
    seed = f" with seed {result.seed}" if result.seed is not None else ""
    try:
        again = run(
            result.scenario,
            ReplayChooser(events[:split], randoms, first=1),
            max_steps=split,
            liveness_chooser=ReplayChooser(events[split:], randoms, first=split + 1),
            check_liveness=result.liveness_from is not None,
            seed=result.seed,
            step_timeout=step_timeout,
        )
    except EventNotEnabled as e:
        raise RabbleError(
            f"{result.scenario.name}{seed}: running the same events again, one could not "
            f"happen ({e}): {NOT_DETERMINISTIC}"
        ) from None
    if _ending(again) != _ending(result) or again.steps != result.steps:
        raise RabbleError(
            f"{result.scenario.name}{seed} ended with {_ending(result)} after "
            f"{result.steps} steps, but running the same events again ended with "
            f"{_ending(again)} after {again.steps}: {NOT_DETERMINISTIC}"
        )
    return attrs.evolve(again, decisions=result.decisions)


NOT_DETERMINISTIC = (
    "the protocol is not deterministic (rabble-sim determinism names the step where two runs part)"
)


def _ending(result: RunResult) -> str:
    v = result.violation
    return "no violation" if v is None else f"{v.check} at step {v.step}"


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused (reference counting still frees memory): a
    collection of a large heap, over and over, would cost more than the simulation."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Run:
    """One run: its world, the view checks see, and the trace."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None,
        trace: Trace,
        observers: tuple[Observer, ...],
        world: World | None = None,
    ) -> None:
        self.scenario = scenario
        self.observers = observers
        self.seed = seed
        self.world = World(scenario) if world is None else world
        self.view = View(self.world)
        self.trace = trace
        self.invariants = scenario.invariants
        self.current: Event | None = None
        """The event of the step under way."""
        self.chooser: Chooser | None = None

    def result(self, violation: Violation | None, liveness_from: int | None = None) -> RunResult:
        world = self.world
        decisions = getattr(self.chooser, "decisions", None)
        return RunResult(
            self.scenario, self.trace, violation, liveness_from, self.seed,
            world.dead_letters, world.lost, decisions,
        )  # fmt: skip

    def watched(
        self,
        chooser: Chooser,
        limit: int,
        liveness_chooser: Chooser | None,
        step_timeout: float | None,
    ) -> RunResult:
        """``run`` under the step watchdog, and the world disposed after: reference
        counting frees it while the collector is still paused, where the collector would
        otherwise have to search the whole world for cycles when it resumes."""
        world = self.world
        try:
            with watching(lambda: world.step, step_timeout):
                return self.run(chooser, limit, liveness_chooser)
        except UserInterrupt as e:
            raise Interrupted(self.seed, world.step, e.running) from None
        finally:
            world.dispose()

    def run(self, chooser: Chooser, limit: int, liveness_chooser: Chooser | None) -> RunResult:
        try:
            result = self.steps(chooser, limit, liveness_chooser)
        except StepTimeout as e:
            # Rarely, the interruption lands just after the protocol code returned: the
            # step ran too long all the same.
            world = self.world
            if self.current is not None and self.trace.steps < world.step:
                self.trace.add(self.current, None, [])
            message = f"step {world.step} ran for more than {e.seconds:g} s"
            return self.result(Violation(STEP_TIMEOUT, message, world.step))
        history = history_check(self.scenario)
        if result.ok and history is not None:
            failed = first_failure((history,), self.view, self.world.step)
            if failed is not None:
                result = attrs.evolve(result, violation=failed)
        return result

    def steps(self, chooser: Chooser, limit: int, liveness_chooser: Chooser | None) -> RunResult:
        self.use_random_of(chooser)
        world = self.world
        try:
            self.trace.start(world.start(), world.step_randoms)
        except CheckFailed as failure:
            self.trace.start([], world.step_randoms)
            return self.result(_violation(failure, 0))
        for observe in self.observers:
            observe(self.world)
        violation = first_failure(self.invariants, self.view, 0)
        if violation is not None:
            return self.result(violation)
        self.chooser = chooser
        next_event = chooser.next_event
        advance = self.advance
        world = self.world
        # The simulator's hot path: nothing per step that is not needed (no plain data,
        # no digests, no copies).
        for step in range(1, limit + 1):
            event = next_event(world)
            if event is None:
                break
            violation = advance(event, step)
            if violation is not None:
                return self.result(violation)
        liveness = self.scenario.liveness
        if liveness is None or liveness_chooser is None:
            return self.result(None)
        return self.liveness_phase(
            liveness.condition, liveness.name, liveness.within, liveness_chooser
        )

    def advance(self, event: Event, step: int) -> Violation | None:
        """Apply ``event`` as step ``step``, record it, and check the invariants."""
        world = self.world
        world.begin_step(step)
        self.current = event
        try:
            parcel, outputs = APPLIERS[type(event)](world, event)
        except CheckFailed as failure:
            self.trace.add(event, failure.parcel, [], world.step_randoms)
            return _violation(failure, step)
        self.trace.add(event, parcel, outputs, world.step_randoms)
        if self.observers:
            for observe in self.observers:
                observe(world)
        return first_failure(self.invariants, self.view, step) if self.invariants else None

    def liveness_phase(
        self, condition: Invariant, name: str, within: int, chooser: Chooser
    ) -> RunResult:
        world = self.world
        start = world.step + 1
        self.use_random_of(chooser)
        failed = self.check_liveness(condition)
        for step in range(start, start + within):
            if failed is None:
                return self.result(None, start)
            event = chooser.next_event(world)
            if event is None:
                break
            violation = self.advance(event, step)
            if violation is not None:
                return self.result(violation, start)
            failed = self.check_liveness(condition)
        if failed is None:
            return self.result(None, start)
        message = f"not true {world.step - start + 1} steps after faults stopped: {failed.message}"
        return self.result(Violation(f"liveness {name}", message, world.step), start)

    def use_random_of(self, chooser: Chooser) -> None:
        """Let ``chooser`` draw the random numbers processes ask for, if it draws them
        (else the one before it goes on drawing them)."""
        random = getattr(chooser, "random", None)
        if random is not None:
            self.world.use_random(random, getattr(chooser, "spread", None))

    def check_liveness(self, condition: Invariant) -> Violation | None:
        """The liveness condition's failure, or a stand-in while faults are still being
        undone (a down node is absent from the view, and must not count as agreeing)."""
        world = self.world
        restarting = world.scenario.restarts_when_faults_stop
        if world.partitioned or (restarting and not all(world.up.values())):
            return Violation("liveness", "the network is not healed and restarted yet", world.step)
        return first_failure((condition,), self.view, world.step)


def fair_ending(world: World) -> Violation | None:
    """The liveness phase of a run, from ``world`` on (which it changes): heal, restart and
    deliver fairly until the scenario's liveness condition holds. The violation if it does
    not within its bound, or if a check fails on the way or the history check at its end;
    None if all hold, or if the scenario has no liveness condition. A run whose fault phase
    ended in ``world`` ends the same way (exploration asks this of the states it reaches)."""
    scenario = world.scenario
    liveness = scenario.liveness
    if liveness is None:
        return None
    this = _Run(scenario, None, Trace(scenario.nodes, messages=False), (), world)
    this.trace.start([])
    phase = this.liveness_phase(liveness.condition, liveness.name, liveness.within, FairChooser())
    history = history_check(scenario)
    if phase.violation is None and history is not None:  # as a run ends
        return first_failure((history,), View(world), world.step)
    return phase.violation


def history_check(scenario: Scenario) -> Invariant | None:
    """The scenario's history check as a check of a view, named ``history <its name>``."""
    history = scenario.history
    if history is None:
        return None

    def the_history(view: View) -> None:
        history(view.history)

    the_history.__name__ = f"history {check_name(history)}"
    return the_history


def first_failure(checks: Sequence[Invariant], view: View, step: int) -> Violation | None:
    """The violation of the first of ``checks`` that fails on ``view`` at ``step``."""
    for check in checks:
        try:
            check(view)
        except BaseException as e:
            name = check_name(check)
            failure = protocol_failed(e, f"the check {name}", name, describe(e))
            return _violation(failure, step)
    return None


def _violation(failure: CheckFailed, step: int) -> Violation:
    return Violation(failure.check, failure.message, step, failure.traceback)
