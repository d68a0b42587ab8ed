"""The terminal debugger's modal screens: a one-line prompt, and the events enabled after a
step, one of which the user takes to branch off the schedule."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ._branch import EnabledEvent
from ._tui_text import DIM, NEXT, kind_style


def _modal_css(screen: str, own: str) -> str:
    """The CSS of a modal screen: a box docked at the bottom, over the dimmed debugger, and
    the screen's ``own`` rules."""
    return f"""
    {screen} {{
        align: left bottom;
        background: $background 40%;
    }}
    {screen} > Vertical {{
        height: auto;
        max-height: 80%;
        border: round $accent;
        border-title-color: $accent;
        border-title-style: bold;
        background: $surface;
        padding: 0 1;
    }}
    {screen} Static {{ color: $text-muted; }}
    {own}
    """


class Prompt(ModalScreen[str | None]):
    """One line of input docked at the bottom: Enter answers, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    DEFAULT_CSS = _modal_css("Prompt", "Prompt Input { margin-top: 1; background: $boost; }")

    def __init__(self, title: str, hint: str | Text, *, body: Text | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.hint = hint
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            if self.body is not None:
                yield Static(self.body, id="body")
            yield Static(self.hint, id="hint")
            yield Input(id="answer", placeholder="Enter to confirm, Escape to cancel", compact=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class EnabledEvents(ModalScreen[int | None]):
    """The events enabled after step ``step``, one a line, the schedule's next one
    highlighted: Enter answers the number of the one highlighted, Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    DEFAULT_CSS = _modal_css(
        "EnabledEvents", "EnabledEvents OptionList { height: auto; max-height: 14; margin-top: 1; }"
    )

    def __init__(self, step: int, enabled: tuple[EnabledEvent, ...]) -> None:
        super().__init__()
        self.step = step
        self.enabled = enabled

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"branch: {len(self.enabled)} events enabled after step {self.step}"
            yield Static(
                "Enter takes the event highlighted: the session becomes that branch "
                "(s saves it) · Escape cancels"
            )
            yield OptionList(*(Option(enabled_line(e)) for e in self.enabled), compact=True)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = next((e.number for e in self.enabled if e.taken), 0)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index)

    def action_cancel(self) -> None:
        self.dismiss(None)


def enabled_line(enabled: EnabledEvent) -> Text:
    """An enabled event as the list shows it: its number, its summary with the kind in
    the kind's colour, and a mark on the schedule's next step."""
    kind = enabled.event.kind
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{enabled.number:>3} ", DIM)
    text.append(kind, kind_style(kind) + Style(bold=True))
    text.append(enabled.summary.removeprefix(kind))
    if enabled.taken:
        text.append("  ← next in the schedule", NEXT)
    return text
