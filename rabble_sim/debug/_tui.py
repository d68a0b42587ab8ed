"""The full-screen terminal debugger: ``rabble-sim debug FILE`` walks a schedule by key.

Left, every step of the schedule; right, the current event, every process's state with
what this step changed, the messages in flight and the timers pending, and the violation
when the step is the one that failed; ``e`` lists the events enabled after the step, to
branch off the schedule. All of it is read from a DebugSession, which does the stepping
and the branching; this module only draws and asks.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Static

from ..core import RabbleError
from ._breakpoints import FORMS, When, parse_breakpoint
from ._session import DebugSession
from ._step import step_count
from ._tui_history import history_text, history_title
from ._tui_panels import EventList, Processes, matching_steps
from ._tui_screens import EnabledEvents, Prompt
from ._tui_text import (
    BRANCH,
    BREAKPOINT,
    DIM,
    LIVENESS,
    LIVENESS_MARK,
    VIOLATION,
    network_text,
    network_title,
    step_text,
    traceback_text,
    violation_text,
)


class Details(VerticalScroll, inherit_bindings=False):
    """The right-hand panels, scrolled by the vertical keys only: left and right belong to
    the step keys."""

    BINDINGS = [
        Binding("up", "scroll_up", show=False),
        Binding("down", "scroll_down", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
        Binding("ctrl+home", "scroll_home", show=False),
        Binding("ctrl+end", "scroll_end", show=False),
    ]


class DebuggerApp(App[None]):
    """Walk a replayed schedule step by step, forward and back.

    ``title`` names the schedule in the header (its file name); ``start_at`` is the step
    to open at (a ``UsageError`` before anything is drawn when there is no such step).
    """

    TITLE = "rabble-sim debug"
    ENABLE_COMMAND_PALETTE = False

    CSS = """
    #top { dock: top; height: 1; background: $panel; }
    #where { width: 1fr; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    #status { width: auto; padding: 0 1; }
    #events {
        width: 40%;
        min-width: 30;
        max-width: 64;
        border: round $primary 60%;
        border-title-color: $text-accent;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        padding: 0;
    }
    #details { width: 1fr; padding: 0 1 0 1; scrollbar-size-vertical: 1; }
    #details > Static, #details > Processes {
        height: auto;
        border-top: solid $primary 60%;
        border-title-color: $text-accent;
        border-title-style: bold;
        padding: 0 0 1 1;
    }
    #details > #violation {
        display: none;
        border-top: heavy $error;
        border-title-color: $text-error;
        background: $error 15%;
    }
    #details > #traceback, #details > #history { display: none; }
    #details > #violation.shown, #details > #traceback.shown, #details > #history.shown {
        display: block;
    }
    Footer { background: $panel; }
    """

    BINDINGS = [
        Binding("n,right", "next", "next"),
        Binding("p,left", "previous", "prev"),
        Binding("g", "goto", "goto"),
        Binding("b", "breakpoints", "break"),
        Binding("c", "continue", "cont"),
        Binding("C", "continue_back", "cont back", key_display="C"),
        Binding("slash", "search", "search", key_display="/"),
        Binding("N", "search_next", "match", key_display="N", show=False),
        Binding("e", "branch", "branch"),
        Binding("s", "save", "save"),
        Binding("P", "search_previous", "match back", show=False),
        Binding("home", "first", "first step", show=False),
        Binding("end", "last", "last step", show=False),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, session: DebugSession, title: str, *, start_at: int | None = None):
        super().__init__()
        self.session = session
        self.schedule_name = title
        self.search_text: str | None = None
        """The last text searched for, which N and P look for again."""
        if start_at is not None:
            session.goto(start_at)

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield Static(id="where")
            yield Static(id="status")
        with Horizontal(id="body"):
            events = EventList(self.session, id="events")
            events.border_title = "events"
            yield events
            with Details(id="details"):
                yield Static(id="violation")
                yield Static(id="step")
                yield Processes(self.session, id="processes")
                yield Static(id="history")
                yield Static(id="network")
                yield Static(id="traceback")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.theme = "tokyo-night"
        self.query_one(Processes).border_title = "processes"
        self.query_one("#violation", Static).border_title = "✗ violation"
        self.query_one("#traceback", Static).border_title = "traceback"
        self.show()
        if self.session.divergences:
            first = self.session.divergences[0]
            self.notify(
                f"today's code parts from the file at {first} "
                f"({len(self.session.divergences)} in all); the steps shown are what ran",
                title="divergence",
                severity="warning",
                timeout=10,
                markup=False,
            )

    def show(self) -> None:
        """Draw every panel for the session's current step."""
        session = self.session
        step = session.current
        where = Text()
        where.append(self.schedule_name, Style(bold=True))
        where.append(f"  step {step.number}", Style(bold=True))
        where.append(f"/{session.last}", DIM)
        if step.liveness:
            where.append(f"  {LIVENESS_MARK} liveness phase", LIVENESS)
        if session.branched_at is not None:
            where.append(f"  branched at step {session.branched_at}", BRANCH)
        self.query_one("#where", Static).update(where)
        self.query_one("#status", Static).update(self.status())
        self.query_one(EventList).show(step.number)
        step_panel = self.query_one("#step", Static)
        step_panel.border_title = f"step {step.number} · {step.kind}"
        step_panel.update(step_text(session))
        self.query_one(Processes).show()
        history = self.query_one("#history", Static)
        history.border_title = history_title(session)
        history.update(history_text(session))
        history.set_class(bool(session.history()), "shown")
        network = self.query_one("#network", Static)
        network.border_title = network_title(session)
        network.update(network_text(session))
        violation = self.query_one("#violation", Static)
        violation.update(violation_text(session))
        violation.set_class(step.violation is not None, "shown")
        traceback = self.query_one("#traceback", Static)
        traceback.update(traceback_text(session))
        traceback.set_class(bool(step.violation and step.violation.traceback), "shown")
        if step.violation is not None:
            self.query_one(Details).scroll_home(animate=False)

    def status(self) -> Text:
        """The right of the header: breakpoints, divergences and the violation flag."""
        session = self.session
        text = Text()
        if session.breakpoints:
            count = len(session.breakpoints)
            text.append(f"● {count} breakpoint{'s' if count > 1 else ''}  ", BREAKPOINT)
        if session.divergences:
            text.append(f"⚠ {len(session.divergences)} diverged  ", Style(color="#e0af68"))
        violation = session.violation
        if violation is None:
            text.append("✓ no violation", Style(color="#9ece6a", bold=True))
        elif violation.step == session.step:
            text.append(" ✗ violation at this step ", VIOLATION)
        else:
            text.append(f"✗ violation at step {violation.step}", Style(color="#f7768e", bold=True))
        return text

    # -- moving -----------------------------------------------------------------------------

    def move(self, how: Callable[[], object]) -> None:
        """Move the session, then redraw; a refusal is a notification, not a crash."""
        try:
            how()
        except RabbleError as e:
            self.notify(str(e), severity="error", markup=False)
        self.show()

    def on_event_list_chosen(self, message: EventList.Chosen) -> None:
        self.move(lambda: self.session.goto(message.number))

    def action_next(self) -> None:
        self.move(self.session.next)

    def action_previous(self) -> None:
        self.move(self.session.back)

    def action_first(self) -> None:
        self.move(lambda: self.session.goto(0))

    def action_last(self) -> None:
        self.move(lambda: self.session.goto(self.session.last))

    def action_continue(self) -> None:
        self.move(lambda: self.stopped(forward=True))

    def action_continue_back(self) -> None:
        self.move(lambda: self.stopped(forward=False))

    def stopped(self, *, forward: bool) -> None:
        """Continue one way and say where it stopped, and why."""
        session = self.session
        stop = session.continue_() if forward else session.continue_back()
        if stop.breakpoint is not None:
            self.notify(f"step {stop.step}: {stop.breakpoint}", title="breakpoint", markup=False)
        elif not forward:
            self.notify("no breakpoint before: back at the start", markup=False)
        elif session.violation is not None and session.violation.step == stop.step:
            self.notify(f"ran to the violation at step {stop.step}", markup=False)
        else:
            self.notify(f"no breakpoint ahead: at the last step, {stop.step}", markup=False)

    # -- asking -----------------------------------------------------------------------------

    def action_goto(self) -> None:
        self.push_screen(
            Prompt("go to step", f"a step number, 0 to {self.session.last}"), self.went_to
        )

    def went_to(self, answer: str | None) -> None:
        if not answer or not answer.strip():
            return
        try:
            number = int(answer.strip())
        except ValueError:
            self.notify(
                f"not a step number: {answer.strip()!r} (the steps are 0 to {self.session.last})",
                severity="error",
                markup=False,
            )
            return
        self.move(lambda: self.session.goto(number))

    def action_breakpoints(self) -> None:
        body = None
        if self.session.breakpoints:
            body = Text()
            for i, bp in enumerate(self.session.breakpoints, 1):
                steps = matching_steps(self.session, bp)
                hits = "a condition" if isinstance(bp, When) else f"{len(steps)} steps"
                body.append("\n" if i > 1 else "")
                body.append(f"{i:>2}  ", BREAKPOINT)
                body.append(str(bp), Style(bold=True))
                body.append(f"  ({hits})", DIM)
        hint = f"add: {' · '.join(FORMS)}"
        if body is not None:
            hint += "\nremove: -N"
        self.push_screen(Prompt("breakpoints", hint, body=body), self.set_breakpoint)

    def set_breakpoint(self, answer: str | None) -> None:
        text = (answer or "").strip()
        if not text:
            return
        try:
            if text.startswith("-") and text[1:].strip().isdigit():
                self.remove_breakpoint(int(text[1:]))
            else:
                bp = self.session.add_breakpoint(parse_breakpoint(text))
                hits = len(matching_steps(self.session, bp))
                self.notify(
                    f"breakpoint {len(self.session.breakpoints)}: {bp} ({hits} steps)",
                    markup=False,
                )
        except RabbleError as e:
            self.notify(str(e), severity="error", markup=False)
        self.show()

    def remove_breakpoint(self, number: int) -> None:
        """Remove breakpoint ``number``, counted from 1 as the prompt lists them."""
        count = len(self.session.breakpoints)
        if not 1 <= number <= count:
            among = f"1 to {count}" if count else "none is set"
            self.notify(f"there is no breakpoint {number} ({among})", severity="error")
            return
        removed = self.session.remove_breakpoint(number - 1)
        self.notify(f"removed breakpoint {number}: {removed}", markup=False)

    def action_search(self) -> None:
        self.push_screen(
            Prompt("search", "text in the step summaries (N: next match, P: previous)"),
            self.searched,
        )

    def searched(self, answer: str | None) -> None:
        if answer and answer.strip():
            self.search_text = answer.strip()
            self.find(backward=False)

    def action_search_next(self) -> None:
        self.find(backward=False)

    def action_search_previous(self) -> None:
        self.find(backward=True)

    def find(self, *, backward: bool) -> None:
        if self.search_text is None:
            self.notify("nothing searched yet: press / first", severity="warning")
            return
        found = self.session.find(self.search_text, backward=backward)
        if found is None:
            where = "before" if backward else "after"
            self.notify(
                f"no step {where} {self.session.step} mentions {self.search_text!r}",
                severity="warning",
                markup=False,
            )
            return
        self.move(lambda: self.session.goto(found))

    # -- branching ---------------------------------------------------------------------------

    def action_branch(self) -> None:
        """List the events enabled after this step; the one chosen is taken."""
        session = self.session
        try:
            enabled = session.enabled()
        except RabbleError as e:
            self.notify(str(e), severity="error", markup=False)
            return
        if not enabled:
            self.notify(f"nothing can happen after step {session.step}", severity="warning")
            return
        self.push_screen(EnabledEvents(session.step, enabled), self.take)

    def take(self, number: int | None) -> None:
        if number is None:
            return
        session = self.session
        at, schedule = session.step, session.schedule
        self.move(lambda: session.take(number))
        if session.schedule is not schedule:
            self.notify(
                f"branched at step {at}: {step_count(session.last)} now (s saves the branch)"
            )

    def action_save(self) -> None:
        what = "branch" if self.session.branched_at is not None else "schedule"
        hint = "a file, or a folder to save it in as <digest>.json"
        self.push_screen(Prompt(f"save the {what}", hint), self.save)

    def save(self, answer: str | None) -> None:
        if not answer or not answer.strip():
            return
        try:
            path = self.session.save(answer.strip())
        except RabbleError as e:
            self.notify(str(e), severity="error", markup=False)
            return
        self.notify(f"saved to {path}: rabble-sim replay {path}", markup=False)


def run_tui(session: DebugSession, title: str, *, start_at: int | None = None) -> None:
    """Run the debugger full screen on ``session`` until the user quits."""
    DebuggerApp(session, title, start_at=start_at).run()
