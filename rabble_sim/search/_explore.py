"""Exhaustive exploration: every state of a scenario reachable within a bound, each visited
once (by its fingerprint), the checks run on each, the first violation found with a
shortest path when the search is breadth-first.

A state's successors are the events ``sim.branches`` lists: deliveries, the next timer,
inputs (each combination of ``make``'s draws) and the faults the scenario allows within
its budgets. Random numbers a process draws are not branched on: each is 0, the simplest.
A counterexample is run again as an ordinary run, so ``Schedule.from_run`` makes it a file.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import attrs

from ..core import UsageError
from ..sim import (
    APPLIERS,
    DEFAULT_STEP_TIMEOUT,
    STEP_TIMEOUT,
    CheckFailed,
    Deliver,
    Event,
    FireTimer,
    InputOffer,
    Invariant,
    ReplayChooser,
    Scenario,
    StepTimeout,
    UserInterrupt,
    View,
    Violation,
    World,
    branches,
    collector_paused,
    fair_ending,
    first_failure,
    history_check,
    run,
    symmetry_problem,
    watching,
)
from ._explore_report import ExploreReport, Progress
from ._fingerprint import Fingerprints
from ._parts import Parts

DEFAULT_MAX_STATES = 100_000
"""Distinct states an exploration visits at most, unless told otherwise. The states
waiting to be expanded take some 8 kB each (``benchmarks/explore_speed.py``; those at the
depth bound are never kept): under a gigabyte at worst."""
PROGRESS_EVERY = 2048
"""States between two calls of an exploration's ``progress``."""


_Path = tuple[Event, Any] | None
"""A state's path as a parent link: the last event and the path before it (None: the start)."""
_State = tuple[World, _Path, int]
"""A state to expand: its world, its path and its depth."""


class _Found(NamedTuple):
    """A violation, and the path to the state where it happened."""

    path: _Path
    violation: Violation


def explore(
    scenario: Scenario,
    *,
    depth: int | None = None,
    max_states: int = DEFAULT_MAX_STATES,
    order: str = "bfs",
    symmetry: Sequence[Sequence[str]] | None = None,
    liveness: bool = False,
    step_timeout: float | None = DEFAULT_STEP_TIMEOUT,
    progress: Callable[[Progress], None] | None = None,
) -> ExploreReport:
    """Visit every state of ``scenario`` reachable within ``depth`` events (default: the
    scenario's ``max_steps``), breadth-first (``order="dfs"``: depth-first), until a
    violation or ``max_states`` distinct states.

    The checks are a run's: pre- and postconditions and exceptions as each event is
    applied, then the invariants and the history check, once on each distinct state (they
    must read only what a fingerprint holds: see ``Fingerprints``). A state where no event
    is enabled and the liveness condition is false is a violation (stuck). With
    ``liveness``, the liveness phase of a run (heal, restart, deliver fairly) also runs
    from every distinct state, as if the faults stopped there: a state from which the
    condition does not come true within its bound is a violation.

    ``symmetry`` (default: the scenario's) names groups of interchangeable nodes: states
    that are images of each other under a relabelling within the groups count once.
    ``progress`` is called every ``PROGRESS_EVERY`` states. A step that runs longer than
    ``step_timeout`` seconds is a violation.
    """
    if order not in ("bfs", "dfs"):
        raise UsageError(f"order is 'bfs' or 'dfs', not {order!r}")
    if max_states < 1:
        raise UsageError(f"max_states must be at least 1, not {max_states}")
    groups = scenario.symmetry if symmetry is None else symmetry
    problem = symmetry_problem(groups, scenario)
    if problem is not None:
        raise UsageError(f"scenario {scenario.name!r}: {problem}")
    bound = scenario.max_steps if depth is None else depth
    if bound < 0:
        raise UsageError(f"depth must be at least 0, not {bound}")
    # The liveness phase serves the oldest message or timer first: with it, age counts.
    fingerprints = Fingerprints(groups, ages=liveness)
    search = _Search(scenario, fingerprints, liveness, progress, step_timeout)
    with collector_paused():
        try:
            with watching(search.progress_marks, step_timeout):
                outcome = search.run(bound, max_states, order == "dfs")
        except StepTimeout as e:
            message = f"a step ran for more than {e.seconds:g} s"
            steps = len(_events(search.current))
            outcome = _Found(search.current, Violation(STEP_TIMEOUT, message, steps))
        except UserInterrupt:  # a real Ctrl-C: no verdict
            raise KeyboardInterrupt(
                f"interrupted after {search.states:,} states ({search.unique:,} distinct, "
                f"depth {search.deepest}): no verdict"
            ) from None
    # The path is run again outside the search's watch, under a watch of its own.
    return search.found(outcome) if isinstance(outcome, _Found) else outcome


class _Search:
    """One exploration's state: counts, fingerprints, and the path under way."""

    def __init__(
        self,
        scenario: Scenario,
        fingerprints: Fingerprints,
        liveness: bool,
        progress: Callable[[Progress], None] | None,
        step_timeout: float | None,
    ) -> None:
        self.scenario = scenario
        self.step_timeout = step_timeout
        self.fingerprints = fingerprints
        self.liveness = liveness
        self.progress = progress
        history = history_check(scenario)
        self.checks = (*scenario.invariants, history) if history else scenario.invariants
        self.invariants = scenario.invariants
        """The checks of a state whose history is its parent's, which passed the history
        check (a fork's history only grows)."""
        self.states = 0
        self.unique = 0
        self.taken = 0
        """States taken from the frontier (to expand, or to count at the bound)."""
        self.deepest = 0
        self.seen: dict[bytes, int] = {}
        """The fingerprint of every distinct state, and the least depth it was reached at."""
        self.cut = False
        """Whether ``max_states`` cut the search."""
        self.left = 0
        """The states at the bound in which something could still happen."""
        self.current: _Path = None
        """The path of the state being reached (where a step timeout points)."""
        self.inputs_cut = 0
        """The states expanded in which an input offer had more inputs than are tried."""
        self.drew = False
        """Whether a process drew a random number or a message a delay (taken as 0)."""
        self.read_clock = False
        """Whether a process read its node's clock (whose readings are absolute)."""
        self.ending: World | None = None
        """The world of the liveness phase under way, whose steps show progress."""
        self.started = time.perf_counter()

    def run(self, bound: int, max_states: int, depth_first: bool) -> ExploreReport | _Found:
        root = World(self.scenario)
        self.states = self.unique = 1
        try:
            root.start()
        except CheckFailed as failure:
            return _Found(None, Violation(failure.check, failure.message, 0))
        self.drew = bool(root.step_randoms)
        self.read_clock = root.clock_read
        violation = self.check(root, self.checks)
        if violation is not None:
            return _Found(None, violation)
        # Breadth-first, the first visit is the shallowest; depth-first, a state seen first
        # deep may be reached again higher up, and must then be expanded again.
        self.seen[self.fingerprints(root)] = 0
        frontier: deque[_State] = deque()
        expandable = self.expandable(root, None, 0, bound)
        if isinstance(expandable, _Found):
            return expandable
        if expandable:
            frontier.append((root, None, 0))
        take = frontier.pop if depth_first else frontier.popleft
        while frontier and not self.cut:
            world, path, level = take()
            self.taken += 1
            reached = self.expand(world, path, level, bound, max_states)
            world.dispose()
            if isinstance(reached, _Found):
                return reached
            frontier.extend(reversed(reached) if depth_first else reached)
        for world, *_ in frontier:  # cut short: what was left to expand
            world.dispose()
        return self.report(exhausted=not self.cut, frontier=self.left)

    def expandable(self, world: World, path: _Path, level: int, bound: int) -> bool | _Found:
        """Whether ``world``, a new state, is to be expanded: not when nothing can happen
        in it (stuck: a violation if the liveness condition is false), nor at the bound
        (counted in ``left``). Decided when it is reached, so that the states at the bound,
        the most numerous, are never kept."""
        if not world.enabled():
            violation = self.stuck(world)
            return False if violation is None else _Found(path, violation)
        if level >= bound:
            self.left += 1
            return False
        return True

    def expand(
        self,
        world: World,
        path: _Path,
        level: int,
        bound: int,
        max_states: int,
    ) -> list[_State] | _Found:
        """The new states to expand that the events enabled in ``world`` lead to, or the
        violation of one. Stops early (``cut``) when ``max_states`` distinct states were
        found."""
        reached: list[_State] = []
        fingerprints = self.fingerprints
        # Each successor's fingerprint is made from this one's, where it holds other objects.
        parent = fingerprints.parts(world)
        cut: list[InputOffer] = []
        for event in branches(world, cut):
            child_path: _Path = (event, path)
            self.current = child_path
            self.states += 1
            if self.progress is not None and self.states % PROGRESS_EVERY == 0:
                self.progress(self.snapshot())
            # Most faults, and deliveries like ones applied before (which commute or repeat),
            # lead to a state seen before: known without a fork (``ahead`` says which).
            ahead = fingerprints.ahead(parent, event)
            earlier = None if ahead is None else self.seen.get(ahead)
            if earlier is not None and earlier <= level + 1:
                continue
            made = self.successor(world, parent, event, ahead, level + 1)
            if isinstance(made, Violation):
                return _Found(child_path, made)
            child, print_ = made
            earlier = self.seen.get(print_)
            if earlier is not None and earlier <= level + 1:
                child.dispose()  # and its checks ran when it was first reached
                continue
            if earlier is None:
                if self.unique >= max_states:
                    self.cut = True
                    break
                self.unique += 1
                grew = len(child.history) != len(world.history)
                violation = self.check(child, self.checks if grew else self.invariants)
                if violation is not None:
                    return _Found(child_path, violation)
            elif earlier == bound and child.enabled():
                self.left -= 1  # counted at the bound; expanded from higher up (depth-first)
            self.seen[print_] = level + 1
            expandable = self.expandable(child, child_path, level + 1, bound)
            if isinstance(expandable, _Found):
                return expandable
            if expandable:
                reached.append((child, child_path, level + 1))
            else:
                child.dispose()
        if cut:
            self.inputs_cut += 1
        return reached

    def successor(
        self, world: World, parent: Parts, event: Event, ahead: bytes | None, level: int
    ) -> tuple[World, bytes] | Violation:
        """A fork of ``world`` (whose ``parent`` these are) after ``event``, at ``level``,
        and its fingerprint (``ahead``, if known); the violation if a check failed as the
        event was applied."""
        fingerprints = self.fingerprints
        child = world.fork()
        child.begin_step(level)
        self.deepest = max(self.deepest, level)
        try:
            _, sent = APPLIERS[type(event)](child, event)  # apply(), without decoding
        except CheckFailed as failure:
            return Violation(failure.check, failure.message, level)
        if child.step_randoms:
            self.drew = True
        if child.clock_read:
            self.read_clock = True
        if ahead is not None:  # a new state, known ahead
            return child, ahead
        state = fingerprints.child(parent, child)
        if type(event) is Deliver or type(event) is FireTimer:
            fingerprints.note_handled(parent, event, child, sent, state)
        return child, fingerprints.digest(state)

    def check(self, world: World, checks: Sequence[Invariant]) -> Violation | None:
        """``checks`` on ``world`` (the invariants, and the history check), and with
        ``liveness`` the liveness phase from it (on a fork)."""
        violation = first_failure(checks, View(world), world.step)
        if violation is None and self.liveness:
            self.ending = ending = world.fork()
            violation = fair_ending(ending)
            self.ending = None
            ending.dispose()
        return violation

    def progress_marks(self) -> tuple[int, int, int]:
        """What moves while the search goes on (the watchdog's watch): the states tried and
        taken, and the steps of the liveness phase under way."""
        ending = self.ending
        return self.states, self.taken, -1 if ending is None else ending.step

    def stuck(self, world: World) -> Violation | None:
        """The violation of a state with no enabled event: the liveness condition false."""
        liveness = self.scenario.liveness
        if liveness is None:
            return None
        failed = first_failure((liveness.condition,), View(world), world.step)
        if failed is None:
            return None
        return Violation(f"liveness {liveness.name}", f"stuck: {failed.message}", world.step)

    def snapshot(self) -> Progress:
        return Progress(self.states, self.unique, self.deepest, self.seconds())

    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def report(self, *, exhausted: bool, frontier: int) -> ExploreReport:
        cut = self.inputs_cut
        return ExploreReport(
            self.states, self.unique, self.deepest, exhausted and not cut, frontier,
            self.seconds(), inputs_cut=cut, drew=self.drew, read_clock=self.read_clock,
        )  # fmt: skip

    def found(self, found: _Found) -> ExploreReport:
        """The report of a violation, with its path run again as an ordinary run (with its
        liveness phase when the violation is one of liveness)."""
        path, violation = found
        events = _events(path)
        again = run(
            self.scenario, ReplayChooser(events), max_steps=len(events),
            check_liveness=self.liveness or violation.check.startswith("liveness"),
            step_timeout=self.step_timeout,
        )  # fmt: skip
        if violation.check == STEP_TIMEOUT and again.violation is not None:
            violation = again.violation  # which names what ran too long
        return attrs.evolve(
            self.report(exhausted=False, frontier=0), violation=violation, failure=again
        )


def _events(path: _Path) -> list[Event]:
    events: list[Event] = []
    while path is not None:
        event, path = path
        events.append(event)
    events.reverse()
    return events


def fingerprint(world: World) -> bytes:
    """The 128-bit fingerprint of ``world`` (``Fingerprints``, without symmetry)."""
    return Fingerprints()(world)
