"""DebugSession: walk a schedule forward and back, with breakpoints, state and diffs, and
branch off it at any step.

No user interface here: the terminal UI, the line mode and the diagram all drive this.
Going back is a deterministic replay from the nearest snapshot, so every step is as far
away as ``snapshot_every`` events at most, however long the schedule.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from ..codec import Plain, to_plain
from ..core import REGISTRY, HistoryEvent, Pid, UsageError
from ..schedule import Divergence, Schedule, check_against, load, load_scenario, replay
from ..sim import DEFAULT_STEP_TIMEOUT, RunResult, Scenario, View, Violation, World
from ._branch import EnabledEvent, enabled_events, run_branch, write_schedule
from ._breakpoints import Breakpoint, OnMessage, OnNode, OnPid, When, parse_breakpoint
from ._diff import MISSING, Change, diff
from ._rewind import Rewinder
from ._step import InFlight, Pending, PendingTimer, Step, reading_order, walk_steps


@attrs.frozen
class Stop:
    """Where ``continue`` stopped: the step, and the breakpoint that matched it (None
    when it ran to the end, or back to the start)."""

    step: int
    breakpoint: Breakpoint | None


class DebugSession:
    """A schedule replayed once against today's code, then walked at will.

    The session first replays the file as ``rabble-sim replay`` does (divergences and the
    violation included), then keeps the events that actually ran: stepping never
    diverges again, forward or back. At any step, ``take`` makes it a branch that goes
    another way from there.
    """

    def __init__(
        self,
        schedule: Schedule,
        scenario: Scenario,
        *,
        snapshot_every: int = 64,
        step_timeout: float | None = DEFAULT_STEP_TIMEOUT,
    ):
        if snapshot_every < 1:
            raise UsageError("snapshot_every must be at least 1")
        outcome = replay(schedule, scenario, step_timeout=step_timeout)
        self.scenario = scenario
        self.breakpoints: list[Breakpoint] = []
        self.branched_at: int | None = None
        """The step at which the session branched off the schedule opened, the last step
        they share (None: it walks that schedule still; see ``take``)."""
        self._every = snapshot_every
        self._step_timeout = step_timeout
        self._load(schedule, outcome.result, outcome.divergences)

    def _load(
        self, schedule: Schedule, result: RunResult, divergences: tuple[Divergence, ...]
    ) -> None:
        """Walk ``result``, the run of ``schedule``, once, and stand at its start."""
        self.schedule = schedule
        self.divergences = divergences
        self.violation: Violation | None = result.violation
        self._conditions: dict[When, list[bool]] = {}
        trace = result.trace
        events = [trace.event(step) for step in range(len(trace))]
        self._randoms = trace.all_randoms()
        self._rewind = Rewinder(
            self.scenario, events, self._every, self._step_timeout, self._randoms
        )
        self.steps, self.pids, self._origins = walk_steps(
            trace, self._rewind.walk(), result.violation, result.liveness_from
        )
        self._addressed = {
            pid
            for step in self.steps
            if step.envelope
            for pid in (step.envelope.to, step.envelope.from_)
        }
        self._world = self._rewind.start()
        self._step = 0
        self._states: dict[Pid, Plain] | None = None
        self._enabled: tuple[EnabledEvent, ...] | None = None
        self._before: dict[Pid, Plain] = {}
        """The states before the current step of the processes it touched."""
        self._before_pids: frozenset[Pid] = frozenset()
        """The processes running before the current step."""

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        snapshot_every: int = 64,
        step_timeout: float | None = DEFAULT_STEP_TIMEOUT,
    ) -> DebugSession:
        """Load a schedule file and the scenario it names; bad input is a ``UsageError``."""
        schedule = load(path)
        scenario = load_scenario(schedule.scenario)
        check_against(schedule, scenario, str(path))
        return cls(schedule, scenario, snapshot_every=snapshot_every, step_timeout=step_timeout)

    # -- where we are ---------------------------------------------------------------------

    @property
    def step(self) -> int:
        """The current step: the world as it is after this step's event."""
        return self._step

    @property
    def last(self) -> int:
        return len(self.steps) - 1

    @property
    def current(self) -> Step:
        return self.steps[self._step]

    @property
    def notes(self) -> list[str]:
        """Anything the session had to work around (a world that cannot be copied)."""
        return self._rewind.notes

    @property
    def view(self) -> View:
        """The world at the current step, as invariants see it."""
        return View(self._world)

    # -- moving -----------------------------------------------------------------------------

    def next(self, count: int = 1) -> Step:
        """Go ``count`` steps forward (not past the last); return the step reached."""
        return self.goto(min(self.last, self._step + count))

    def back(self, count: int = 1) -> Step:
        """Go ``count`` steps back (not before the start); return the step reached."""
        return self.goto(max(0, self._step - count))

    def goto(self, number: int) -> Step:
        """Go to step ``number``, replaying from the nearest snapshot before it. If that
        fails (the protocol turns out not to be deterministic), the session stays where
        it was."""
        if not 0 <= number <= self.last:
            raise UsageError(f"there is no step {number}: the steps are 0 to {self.last}")
        if number == 0:
            self._world, self._before, self._before_pids = self._rewind.start(), {}, frozenset()
        elif number != self._step:
            forward = number == self._step + 1
            world = self._world if forward else self._rewind.world_at(number - 1)
            before = self._touched(world, self.steps[number]), frozenset(world.processes)
            try:
                self._world = self._rewind.advance(world, number)
            except BaseException:
                if forward:  # the world of the current step was changed on the way
                    self._world = self._rewind.world_at(self._step)
                raise
            self._before, self._before_pids = before
        self._step = number
        self._states = self._enabled = None
        return self.current

    def continue_(self) -> Stop:
        """Go forward to the next step that a breakpoint matches, or to the last step."""
        return self._continue(range(self._step + 1, self.last + 1))

    def continue_back(self) -> Stop:
        """Go back to the previous step that a breakpoint matches, or to the start."""
        return self._continue(range(self._step - 1, -1, -1))

    def find(self, text: str, *, backward: bool = False) -> int | None:
        """The next step (or, ``backward``, the previous one) whose summary contains
        ``text``, ignoring case; None if there is none."""
        needle = text.lower()
        numbers = (
            range(self._step - 1, -1, -1) if backward else range(self._step + 1, self.last + 1)
        )
        return next((n for n in numbers if needle in self.steps[n].summary.lower()), None)

    # -- breakpoints --------------------------------------------------------------------------

    def add_breakpoint(self, breakpoint: Breakpoint | str) -> Breakpoint:
        """Add a breakpoint, or its written form (see ``parse_breakpoint``)."""
        bp = parse_breakpoint(breakpoint) if isinstance(breakpoint, str) else breakpoint
        problem = self._never_matches(bp)
        if problem:
            raise UsageError(f"breakpoint {bp} could never stop: {problem}")
        self.breakpoints.append(bp)
        return bp

    def _never_matches(self, bp: Breakpoint) -> str:
        """Why ``bp`` names something this schedule cannot have (a typo, say), or ""."""
        if isinstance(bp, OnMessage):
            names = {cls.__name__ for cls in map(REGISTRY.class_of, REGISTRY.tags()) if cls}
            if bp.name not in names and REGISTRY.class_of(bp.name) is None:
                return f"no message type or tag is called {bp.name!r}"
        elif isinstance(bp, OnNode) and bp.node not in self.scenario.nodes:
            return f"the nodes are {', '.join(self.scenario.nodes)}"
        elif isinstance(bp, OnPid) and bp.pid not in self._addressed:
            return f"no step delivers to or from {bp.pid}"
        return ""

    def remove_breakpoint(self, index: int) -> Breakpoint:
        if not 0 <= index < len(self.breakpoints):
            raise UsageError(f"there is no breakpoint {index}")
        return self.breakpoints.pop(index)

    # -- branching ------------------------------------------------------------------------------

    def enabled(self) -> tuple[EnabledEvent, ...]:
        """The events that can happen after the current step, in the canonical order
        (deliveries oldest first, the next timer, each input ``make`` can build, the faults
        the scenario allows); the one the schedule takes next, if any, is marked ``taken``.
        A ``UsageError`` at the step that failed: the run ends there."""
        violation = self.violation
        if violation is not None and violation.step == self._step:
            raise UsageError(
                f"step {self._step} failed ({violation.check}): the run ends there, so "
                "nothing is enabled; go back a step to branch before it"
            )
        if self._enabled is None:
            following = self.steps[self._step + 1].event if self._step < self.last else None
            self._enabled = enabled_events(self._world, following)
        return self._enabled

    def take(self, number: int) -> Step:
        """Take enabled event ``number`` (see ``enabled``) as the next step, instead of what
        the schedule does next, and go to it: the session becomes the branch (the steps so
        far, then that event), checked at every step as any run is, its violation, if it
        has one, in ``violation``. Taking the event the schedule takes anyway only goes a
        step forward. Breakpoints are kept; ``schedule`` is the branch's (see ``save``)."""
        enabled = self.enabled()
        if not 0 <= number < len(enabled):
            raise UsageError(
                f"there is no enabled event {number}: "
                + (f"they are 0 to {len(enabled) - 1}" if enabled else "none is enabled")
            )
        chosen = enabled[number]
        if chosen.taken:
            return self.next()
        events = [step.event for step in self.steps[1 : self._step + 1] if step.event]
        randoms = {step: drawn for step, drawn in self._randoms.items() if step <= self._step}
        result = run_branch(self.scenario, [*events, chosen.event], randoms, self._step_timeout)
        at = self._step
        self.branched_at = at if self.branched_at is None else min(self.branched_at, at)
        # No seed makes this run, and it has no liveness phase (see ``save``).
        self._load(Schedule.from_run(result, self.schedule.scenario), result, ())
        return self.goto(self.last)

    def save(self, path: str | Path) -> Path:
        """Write the session's schedule (the branch, after ``take``) to the file ``path``,
        or to ``<digest>.json`` if ``path`` is a folder; return the file written.

        ``replay``, ``debug``, ``diagram`` and ``shrink`` take it as any schedule. A branch
        is saved with no seed (none gives it) and no liveness phase: it ends where it was
        taken, so its replay checks the invariants and the history, not the liveness
        condition (a schedule that was not branched is saved as it was opened)."""
        return write_schedule(self.schedule, path)

    # -- what the world holds -----------------------------------------------------------------

    def states(self) -> dict[Pid, Plain]:
        """Every running process's state at the current step, as plain data, by pid."""
        if self._states is None:
            processes = self._world.processes
            self._states = {
                pid: to_plain(processes[pid]) for pid in sorted(processes, key=reading_order)
            }
        return dict(self._states)

    def state(self, pid: Pid | str) -> Plain | None:
        """``pid``'s state at the current step; None if it is not running now."""
        return self.states().get(self._known(pid))

    def diff(self, pid: Pid | str) -> list[Change]:
        """How ``pid``'s state changed in the current step (a started process: one change
        from ``MISSING``; a stopped one: one change to ``MISSING``)."""
        pid = self._known(pid)
        now = self.states().get(pid, MISSING)
        # A process the step did not touch is as it was.
        before = self._before.get(pid, now) if pid in self._before_pids else MISSING
        return diff(before, now)

    def changes(self) -> dict[Pid, list[Change]]:
        """Every process whose state changed in the current step, with its changes."""
        running = set(self.states())
        pids = sorted({*self._before, *(running ^ self._before_pids)}, key=reading_order)
        changed = {pid: self.diff(pid) for pid in pids}
        return {pid: changes for pid, changes in changed.items() if changes}

    def pending(self) -> Pending:
        """The messages in flight and the timers pending at the current step."""
        world = self._world
        network = world.network
        transit = network.transit
        messages = tuple(
            InFlight(seq, env, seq in network.held, transit[seq][0] if seq in transit else None)
            for seq, env in world.in_flight()
        )
        timers = world.timers.by_due()
        clocks = tuple(
            (node, world.clocks.rate(node) / 1000, world.clocks.read(node))
            for node in world.scenario.nodes
            if world.clocks.drifted(node)
        )
        return Pending(
            messages,
            tuple(PendingTimer(seq, t.pid, t.cid, t.due) for seq, t in timers),
            world.now,
            tuple(network.cut),
            clocks,
        )

    def history(self) -> tuple[HistoryEvent, ...]:
        """What the clients invoked and got back up to the current step."""
        return self.view.history

    def sender_step(self, seq: int) -> int | None:
        """The step that created message or timer ``seq`` (for a duplicate's copy, the step
        that sent the original); None for an unknown seq."""
        return self._origins.get(seq)

    # -- inside ---------------------------------------------------------------------------------

    def _known(self, pid: Pid | str) -> Pid:
        if isinstance(pid, str):
            try:
                pid = Pid.parse(pid)
            except ValueError as e:
                raise UsageError(str(e)) from None
        if pid not in self.pids:
            known = ", ".join(str(p) for p in self.pids)
            raise UsageError(f"no process {pid} in this schedule (there are {known})")
        return pid

    @staticmethod
    def _touched(world: World, step: Step) -> dict[Pid, Plain]:
        """The states, before ``step``, of the processes it may change: the one that
        handles its message, or those of the node it crashes."""
        node = getattr(step.event, "node", None)
        pids = world.pids_on(node) if isinstance(node, str) else []
        if step.envelope is not None:
            pids = [*pids, step.envelope.to]
        processes = world.processes
        return {pid: to_plain(processes[pid]) for pid in pids if pid in processes}

    def _continue(self, numbers: range) -> Stop:
        hit = self._first_hit(numbers) if self.breakpoints else None
        if hit is None:
            hit = Stop(self.last if numbers.step > 0 else 0, None)
        self.goto(hit.step)
        return hit

    def _first_hit(self, numbers: range) -> Stop | None:
        for number in numbers:
            step = self.steps[number]
            for bp in self.breakpoints:
                if isinstance(bp, When):
                    held = self._held(bp)
                    # A condition stops where it becomes true, not at every step it holds:
                    # continuing from a stop must move on.
                    matched = held[number] and not (number and held[number - 1])
                else:
                    matched = bp.matches(step)
                if matched:
                    return Stop(number, bp)
        return None

    def _held(self, condition: When) -> list[bool]:
        """Whether ``condition`` holds after each step: computed once, in one replay.

        Where it raises, it does not hold (a process it reads may be down at that step);
        if it raises and never holds, the first error is the answer.
        """
        held = self._conditions.get(condition)
        if held is None:
            world = self._rewind.start()
            errors: list[str] = []
            held = [condition.holds(View(world), 0, errors)]
            for number in range(1, self.last + 1):
                self._rewind.apply(world, number)
                held.append(condition.holds(View(world), number, errors))
            if errors and not any(held):
                raise UsageError(f"breakpoint {condition} never held; it {errors[0]}")
            self._conditions[condition] = held
        return held
