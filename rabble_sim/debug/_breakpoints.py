"""Breakpoints: where ``continue`` stops. Each is a value that tests one step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import attrs

from ..core import REGISTRY, Pid, UsageError
from ..sim import EVENT_KINDS, View
from ._step import Step


class StepBreakpoint(Protocol):
    """Stops ``continue`` at a step it matches, by the step's event alone. ``str()``
    writes it as ``parse_breakpoint`` reads it."""

    def matches(self, step: Step) -> bool: ...


@attrs.frozen
class OnMessage:
    """A step that delivers, drops, duplicates or fires a message of this type (its class
    name or its tag)."""

    name: str

    def matches(self, step: Step) -> bool:
        env = step.envelope
        if env is None:
            return False
        cls = type(env.msg)
        return self.name in (cls.__name__, REGISTRY.tag_of(cls))

    def __str__(self) -> str:
        return f"message {self.name}"


@attrs.frozen
class OnPid:
    """A step whose message or timer goes to, or comes from, this pid."""

    pid: Pid

    def matches(self, step: Step) -> bool:
        env = step.envelope
        return env is not None and self.pid in (env.to, env.from_)

    def __str__(self) -> str:
        return f"pid {self.pid}"


@attrs.frozen
class OnNode:
    """A step that crashes or restarts this node, or hands a message or timer to it."""

    node: str

    def matches(self, step: Step) -> bool:
        if getattr(step.event, "node", None) == self.node:
            return True
        env = step.envelope
        return env is not None and env.to.node == self.node

    def __str__(self) -> str:
        return f"node {self.node}"


@attrs.frozen
class OnKind:
    """A step of this event kind: deliver, drop, duplicate, timeout, crash, ..."""

    kind: str

    def matches(self, step: Step) -> bool:
        return step.kind == self.kind

    def __str__(self) -> str:
        return f"kind {self.kind}"


@attrs.frozen
class OnViolation:
    """The step at which a check failed."""

    def matches(self, step: Step) -> bool:
        return step.violation is not None

    def __str__(self) -> str:
        return "violation"


@attrs.frozen
class When:
    """A step after which ``predicate(view)`` becomes true (it was false, or there was no
    step, before): any condition over the processes.

    ``label`` names it in listings, since a function has no readable form.
    """

    predicate: Callable[[View], Any]
    label: str = attrs.field(default="")

    def holds(self, view: View, step: int, errors: list[str]) -> bool:
        """Whether the predicate is true; if it raises, False, and what it raised (with
        the step) is added to ``errors``."""
        try:
            return bool(self.predicate(view))
        except Exception as e:
            errors.append(f"raised {e!r} at step {step}")
            return False

    def __str__(self) -> str:
        return f"when {self.label or getattr(self.predicate, '__name__', 'predicate')}"


Breakpoint = StepBreakpoint | When
"""What ``continue`` stops at: a step's event, or a condition over the world."""

FORMS = (
    "message TYPE",
    "pid PID",
    "node NODE",
    "kind KIND",
    "violation",
)


def parse_breakpoint(text: str) -> StepBreakpoint:
    """A breakpoint from its written form (``message Prepare``, ``pid a::n1``, ``node
    n2``, ``kind crash``, ``violation``); a ``UsageError`` names the forms otherwise."""
    words = text.split()
    what, args = (words[0].lower(), words[1:]) if words else ("", [])
    if what == "violation" and not args:
        return OnViolation()
    if len(args) == 1:
        (arg,) = args
        if what in ("message", "msg"):
            return OnMessage(arg)
        if what == "pid":
            return OnPid(_pid(arg))
        if what == "node":
            return OnNode(arg)
        if what == "kind" and arg in EVENT_KINDS:
            return OnKind(arg)
        if what == "kind":
            raise UsageError(f"unknown event kind {arg!r}: one of {', '.join(EVENT_KINDS)}")
    raise UsageError(f"cannot read breakpoint {text!r}: write one of {', '.join(FORMS)}")


def _pid(text: str) -> Pid:
    try:
        return Pid.parse(text)
    except ValueError as e:
        raise UsageError(str(e)) from None
