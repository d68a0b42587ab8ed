"""Debugging a schedule: the UI-free DebugSession, the terminal UI and the diagram."""

from ._branch import EnabledEvent as EnabledEvent
from ._breakpoints import (
    Breakpoint as Breakpoint,
    OnKind as OnKind,
    OnMessage as OnMessage,
    OnNode as OnNode,
    OnPid as OnPid,
    OnViolation as OnViolation,
    StepBreakpoint as StepBreakpoint,
    When as When,
    parse_breakpoint as parse_breakpoint,
)
from ._diagram import Diagram as Diagram, render_diagram as render_diagram
from ._diagram_html import diagram_page as diagram_page
from ._diff import MISSING as MISSING, Change as Change, diff as diff
from ._lines import LineDebugger as LineDebugger
from ._session import DebugSession as DebugSession, Stop as Stop
from ._step import (
    InFlight as InFlight,
    Pending as Pending,
    PendingTimer as PendingTimer,
    Step as Step,
)

__all__ = [
    "MISSING",
    "Breakpoint",
    "Change",
    "DebugSession",
    "Diagram",
    "EnabledEvent",
    "InFlight",
    "LineDebugger",
    "OnKind",
    "OnMessage",
    "OnNode",
    "OnPid",
    "OnViolation",
    "Pending",
    "PendingTimer",
    "Step",
    "StepBreakpoint",
    "Stop",
    "When",
    "diagram_page",
    "diff",
    "parse_breakpoint",
    "render_diagram",
]
