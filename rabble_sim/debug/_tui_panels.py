"""The terminal debugger's widgets: the event list, and the processes' panel.

What they show is worded in ``_tui_text``; these only lay it out and keep it current.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import Click
from textual.geometry import Region, Size, Spacing
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from ..core import Pid
from ._breakpoints import Breakpoint, When
from ._session import DebugSession
from ._tui_text import (
    BREAKPOINT,
    BREAKPOINT_MARK,
    CURRENT,
    DIM,
    LIVENESS,
    LIVENESS_MARK,
    VIOLATION,
    VIOLATION_CURRENT,
    VIOLATION_MARK,
    PidNames,
    event_line,
    kind_style,
    process_text,
)


def matching_steps(session: DebugSession, bp: Breakpoint) -> list[int]:
    """The steps a breakpoint on events stops at; none for a condition on the world,
    which only ``continue`` can tell, by replaying."""
    if isinstance(bp, When):
        return []
    return [step.number for step in session.steps if bp.matches(step)]


class EventList(ScrollView, can_focus=False):
    """Every step of the schedule, one line each, with the current step highlighted.

    A line-API widget: only the visible lines are drawn, so a schedule of many thousand
    steps scrolls as fast as a short one.
    """

    DEFAULT_CSS = """
    EventList {
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
    }
    """

    class Chosen(Message):
        """A step was clicked."""

        def __init__(self, number: int) -> None:
            super().__init__()
            self.number = number

    def __init__(self, session: DebugSession, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session = session
        self.current = session.step
        self.marked: frozenset[int] = frozenset()
        """Steps a breakpoint matches, marked in the gutter."""
        self._marked_for: tuple[Breakpoint, ...] | None = None
        self._measure()

    def _measure(self) -> None:
        """Size the list to the session's steps (anew after a branch)."""
        session = self.session
        self._steps = session.steps
        self._marked_for = None
        self.names = PidNames(session)
        self.virtual_size = Size(0, len(session.steps))
        self._digits = len(str(session.last))
        self._kind_width = max(len(step.kind) for step in session.steps) + 1
        liveness = next((s.number for s in session.steps if s.liveness), None)
        self.border_subtitle = (
            None if liveness is None else f"{LIVENESS_MARK} liveness from {liveness}"
        )

    def show(self, number: int) -> None:
        """Highlight step ``number`` and scroll it into view, with a few steps around it."""
        if self._steps is not self.session.steps:
            self._measure()
        self.current = number
        breakpoints = tuple(self.session.breakpoints)
        if breakpoints != self._marked_for:
            # Worked out again only when the breakpoints change: it reads every step.
            self._marked_for = breakpoints
            self.marked = frozenset(
                marked for bp in breakpoints for marked in matching_steps(self.session, bp)
            )
        self.refresh()
        self.call_after_refresh(self.follow)

    def follow(self) -> None:
        """Scroll the current step into view, with a few steps around it; after a
        refresh, since before the first layout the list has no height to scroll in."""
        self.scroll_to_region(
            Region(0, self.current, 1, 1),
            spacing=Spacing(3, 0, 3, 0),
            animate=False,
            immediate=True,
        )

    def on_resize(self) -> None:
        self.follow()

    def row(self, number: int) -> Text:
        """The line for step ``number``, styled: breakpoint mark, liveness bar, number,
        kind and event."""
        step = self.session.steps[number]
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(BREAKPOINT_MARK if number in self.marked else " ", BREAKPOINT)
        if step.violation is not None:
            text.append(VIOLATION_MARK, VIOLATION)
        else:
            text.append(LIVENESS_MARK if step.liveness else " ", LIVENESS)
        text.append(f"{number:>{self._digits}} ", DIM)
        text.append(f"{step.kind:<{self._kind_width}}", kind_style(step.kind))
        text.append(event_line(step, self.names), DIM if step.liveness else None)
        return text

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        number = self.scroll_offset.y + y
        if number > self.session.last:
            return Strip.blank(width, self.rich_style)
        text = self.row(number)
        text.truncate(width, overflow="ellipsis", pad=True)
        # Styled after padding, so the highlight spans the whole width.
        if number == self.current:
            text.stylize(CURRENT)
        if self.session.steps[number].violation is not None:
            text.stylize(VIOLATION_CURRENT if number == self.current else VIOLATION, 1)
        return Strip(text.render(self.app.console), width).apply_style(self.rich_style)

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and self.scroll_offset.y + offset.y <= self.session.last:
            self.post_message(self.Chosen(self.scroll_offset.y + offset.y))


class Processes(Vertical):
    """Every process of the schedule, a heading and a paragraph of fields each; the same
    widgets are redrawn at each step, since the processes are known from the start (and
    made anew when a branch runs others)."""

    DEFAULT_CSS = """
    Processes { height: auto; }
    Processes > .fields { padding: 0 0 0 2; }
    """

    def __init__(self, session: DebugSession, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session = session
        self._rows: dict[Pid, tuple[Static, Static]] = {}

    def compose(self) -> ComposeResult:
        yield from self._build()

    def _build(self) -> list[Static]:
        self._rows = {
            pid: (Static(classes="heading"), Static(classes="fields")) for pid in self.session.pids
        }
        return [widget for row in self._rows.values() for widget in row]

    def show(self) -> None:
        if tuple(self._rows) != self.session.pids:
            self.remove_children()
            self.mount_all(self._build())
        for pid, (heading, fields) in self._rows.items():
            title, text = process_text(self.session, pid)
            heading.update(title)
            fields.update(text)
            fields.display = bool(text)

    def heading_of(self, pid: Pid) -> Text:
        """What the panel shows above ``pid``'s state: its name, changed, started or down."""
        return _text_of(self._rows[pid][0])

    def fields_of(self, pid: Pid) -> Text:
        """What the panel shows of ``pid``'s state."""
        return _text_of(self._rows[pid][1])


def _text_of(widget: Static) -> Text:
    content = widget.content
    assert isinstance(content, Text), "a process panel always shows Rich text"
    return content
