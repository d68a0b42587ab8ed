"""The debugger's line mode: one command a line in, plain text out, for scripts and CI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TextIO

from ..codec import canonical_json, to_plain
from ..core import Pid, RabbleError, UsageError
from ..schedule import DIVERGENCES_SHOWN
from ..sim import cid_summary, envelope_summary
from ._diff import MISSING, Change
from ._session import DebugSession, Stop
from ._step import step_count

HELP = """\
commands (one a line):
  next [N]          go N steps forward (default 1); also: n
  back [N]          go N steps back; also: prev
  goto N            go to step N; also: g
  continue          go forward to the next breakpoint, or to the end; also: c
  reverse           go back to the previous breakpoint, or to the start
  find TEXT         go to the next step whose summary contains TEXT
  show              print the current step again
  list [N]          the N steps around the current one (default 10)
  state [PID]       a process's state now (every process without PID)
  diff [PID]        what changed in this step (every process without PID)
  pending           messages in flight and timers pending
  history           what the clients invoked and got back so far
  break [SPEC]      add a breakpoint: message TYPE | pid PID | node NODE | kind KIND |
                    violation (without SPEC: list them)
  delete N          remove breakpoint N
  enabled           the events that can happen after this step, numbered
  take N            take enabled event N instead: the session becomes that branch
  save PATH         write the schedule (the branch, after take) to a file, or a folder
  help              this text
  quit              leave; also: q, exit, end of input"""


class LineDebugger:
    """Reads commands, moves a ``DebugSession``, and writes what happened to ``out``.

    After every move it prints the step, its event, what the event sent, what changed in
    each process, and the violation when the step is the one that failed. A bad command
    prints ``error: ...`` and the session carries on.
    """

    def __init__(self, session: DebugSession, out: TextIO) -> None:
        self.session = session
        self.out = out
        self._commands: dict[str, Callable[[str], None]] = {
            "next": self._next, "n": self._next,
            "back": self._back, "prev": self._back,
            "goto": self._goto, "g": self._goto,
            "continue": self._continue, "c": self._continue,
            "reverse": self._reverse,
            "find": self._find,
            "show": lambda _: self.show(),
            "list": self._list,
            "state": self._state,
            "diff": self._diff,
            "pending": lambda _: self._pending(),
            "history": lambda _: self._history(),
            "break": self._break,
            "delete": self._delete,
            "enabled": lambda _: self._enabled(),
            "take": self._take,
            "save": self._save,
            "help": lambda _: self._print(HELP),
        }  # fmt: skip

    def run(self, lines: Iterable[str]) -> None:
        """Print the schedule's outline and step 0, then obey ``lines`` until ``quit``."""
        self.outline()
        self.show()
        for line in lines:
            if not self.execute(line):
                break

    def execute(self, line: str) -> bool:
        """Run one command; False when it was ``quit``."""
        name, _, arg = line.strip().partition(" ")
        if not name or name.startswith("#"):
            return True
        if name in ("quit", "q", "exit"):
            return False
        command = self._commands.get(name)
        try:
            if command is None:
                raise UsageError(f"unknown command {name!r} (try: help)")
            command(arg.strip())
        except RabbleError as e:
            self._print(f"error: {e}")
        return True

    def outline(self) -> None:
        session = self.session
        violation, recorded = session.violation, session.schedule.violation
        if violation is not None:
            outcome = f"violation at step {violation.step}"
        elif recorded is not None:
            outcome = f"no violation: the recorded one ({recorded['check']}) no longer occurs"
        else:
            outcome = "no violation"
        self._print(f"schedule of {session.schedule.scenario}: {session.last} steps, {outcome}")
        for divergence in session.divergences[:DIVERGENCES_SHOWN]:
            self._print(f"diverged at {divergence}")
        hidden = len(session.divergences) - DIVERGENCES_SHOWN
        if hidden > 0:
            self._print(f"diverged at {hidden} more steps")
        for note in session.notes:
            self._print(f"note: {note}")

    def show(self) -> None:
        """The current step: its event, what it sent, what changed, the violation."""
        session = self.session
        step = session.current
        phase = " [liveness]" if step.liveness else ""
        self._print(f"step {step.number}/{session.last}{phase} {step.summary}")
        for env in step.sent:
            self._print(f"  sent {envelope_summary(env)}")
        for pid, changes in session.changes().items():
            self._print(f"  {_changed(pid, changes)}")
        if step.violation is not None:
            self._print(f"  violation {step.violation}")

    # -- commands ---------------------------------------------------------------------------

    def _next(self, arg: str) -> None:
        self._move(lambda: self.session.next(_count(arg)), at_end="the last step")

    def _back(self, arg: str) -> None:
        self._move(lambda: self.session.back(_count(arg)), at_end="the start")

    def _move(self, move: Callable[[], object], at_end: str) -> None:
        before = self.session.step
        move()
        if self.session.step == before:
            self._print(f"already at {at_end} (step {before})")
        else:
            self.show()

    def _goto(self, arg: str) -> None:
        self.session.goto(_number(arg, "goto N"))
        self.show()

    def _continue(self, _: str) -> None:
        self._stopped(self.session.continue_())

    def _reverse(self, _: str) -> None:
        self._stopped(self.session.continue_back())

    def _stopped(self, stop: Stop) -> None:
        if stop.breakpoint is not None:
            self._print(f"breakpoint {stop.breakpoint}")
        self.show()

    def _find(self, arg: str) -> None:
        if not arg:
            raise UsageError("find needs a text to look for")
        found = self.session.find(arg)
        if found is None:
            self._print(f"no step after {self.session.step} mentions {arg!r}")
        else:
            self.session.goto(found)
            self.show()

    def _list(self, arg: str) -> None:
        count = _count(arg or "10")
        session = self.session
        first = max(0, min(session.step - count // 2, session.last - count + 1))
        for step in session.steps[first : first + count]:
            mark = ">" if step.number == session.step else " "
            self._print(f"{mark} {step.number:>5} {step.summary}")

    def _state(self, arg: str) -> None:
        session = self.session
        pids = [arg] if arg else [str(pid) for pid in session.pids]
        for pid in pids:
            state = session.state(pid)
            if state is None:
                self._print(f"{pid}: not running at step {session.step}")
            else:
                self._print(f"{pid}: {json.dumps(state, indent=2, sort_keys=True)}")

    def _diff(self, arg: str) -> None:
        session = self.session
        changes = {arg: session.diff(arg)} if arg else session.changes()
        if not any(changes.values()):
            self._print(f"nothing changed at step {session.step}")
        for pid, pid_changes in changes.items():
            for change in pid_changes:
                self._print(f"{pid} {change}")

    def _pending(self) -> None:
        pending = self.session.pending()
        self._print(
            f"at {pending.now} ms: {len(pending.messages)} in flight, {len(pending.timers)} timers"
        )
        for msg in pending.messages:
            held = " (held by a cut)" if msg.blocked else ""
            if msg.arrives is not None:
                held = f" (in transit until {msg.arrives} ms)"
            self._print(f"  #{msg.seq} {envelope_summary(msg.envelope)}{held}")
        for timer in pending.timers:
            cid = cid_summary(timer.cid)
            self._print(f"  timer #{timer.seq} at {timer.pid}, due {timer.due} ms (cid {cid})")
        if pending.cut:
            self._print("  cut: " + ", ".join(f"{a} -> {b}" for a, b in pending.cut))
        for node, rate, reading in pending.clocks:
            self._print(f"  clock of {node}: x{rate:g}, reads {reading} ms")

    def _history(self) -> None:
        history = self.session.history()
        if not history:
            self._print(f"no client history at step {self.session.step}")
        for event in history:
            what = "invoke" if event.kind == "invoke" else "    ok"
            value = canonical_json(to_plain(event.value))
            self._print(f"  step {event.step:>5} {event.client} {what} #{event.op} {value}")

    def _break(self, arg: str) -> None:
        session = self.session
        if arg:
            added = session.add_breakpoint(arg)
            self._print(f"breakpoint {len(session.breakpoints)}: {added}")
            return
        if not session.breakpoints:
            self._print("no breakpoints")
        for number, bp in enumerate(session.breakpoints, start=1):
            self._print(f"breakpoint {number}: {bp}")

    def _delete(self, arg: str) -> None:
        # Numbered from 1 on screen, as in the full-screen debugger and in gdb.
        number = _number(arg, "delete N")
        if not 1 <= number <= len(self.session.breakpoints):
            raise UsageError(f"there is no breakpoint {number} (see: break)")
        removed = self.session.remove_breakpoint(number - 1)
        self._print(f"deleted breakpoint {number}: {removed}")

    def _enabled(self) -> None:
        session = self.session
        enabled = session.enabled()
        if not enabled:
            self._print(f"nothing can happen after step {session.step}")
            return
        mark = "; * is the schedule's next step" if any(e.taken for e in enabled) else ""
        self._print(f"{len(enabled)} enabled after step {session.step} (take N{mark}):")
        for choice in enabled:
            self._print(f"  {'*' if choice.taken else ' '} {choice.number:>3} {choice.summary}")

    def _take(self, arg: str) -> None:
        if not arg:
            raise UsageError("take needs the number of an enabled event (see: enabled)")
        session = self.session
        number = _number(arg, "take N", "an enabled event's number")
        was, schedule = session.step, session.schedule
        session.take(number)
        if session.schedule is not schedule:
            self._print(f"branched at step {was}: {step_count(session.last)} now")
        self.show()

    def _save(self, arg: str) -> None:
        if not arg:
            raise UsageError("save needs a file or a folder to write the schedule to")
        session = self.session
        path = session.save(arg)
        what = "the branch" if session.branched_at is not None else "the schedule"
        self._print(f"saved {what} ({step_count(session.last)}) to {path}")

    def _print(self, text: str) -> None:
        print(text, file=self.out)


def _changed(pid: Pid, changes: list[Change]) -> str:
    """``started PID``, ``stopped PID`` or ``changed PID: field: a -> b; ...``."""
    if len(changes) == 1 and not changes[0].keys:
        if changes[0].before is MISSING:
            return f"started {pid}"
        if changes[0].after is MISSING:
            return f"stopped {pid}"
    return f"changed {pid}: " + "; ".join(str(c) for c in changes)


def _number(arg: str, usage: str, what: str = "a step number") -> int:
    try:
        return int(arg)
    except ValueError:
        raise UsageError(f"{usage}: {arg!r} is not {what}") from None


def _count(arg: str) -> int:
    count = _number(arg, "a count") if arg else 1
    if count < 1:
        raise UsageError(f"the count must be at least 1, not {count}")
    return count
