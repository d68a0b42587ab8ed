"""What goes wrong while the World applies an event: the errors, and how a check is named.

Both the World and the executors raise these; they live apart from both so that neither
has to import the other to report a failure.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from ..core import Envelope, RabbleError


class CheckFailed(RabbleError):
    """A check failed, or user code raised, while the world applied an event."""

    def __init__(self, check: str, message: str, traceback: str | None = None) -> None:
        super().__init__(f"{check}: {message}")
        self.check = check
        self.message = message
        self.traceback = traceback
        self.envelope: Envelope | None = None
        """The envelope being handled when it happened, if any."""


class EventNotEnabled(RabbleError):
    """An event names a message, timer or node state that the world does not have."""


def user_code_failed(what: str, error: Exception) -> CheckFailed:
    """The violation for an exception that user code (``start``, ``init``) raised."""
    return CheckFailed(what, repr(error), traceback.format_exc())


def run_check(check: Callable[..., None], kind: str, *args: Any) -> None:
    """Run a pre- or postcondition; a ``CheckFailed`` named after it if it fails."""
    try:
        check(*args)
    except Exception as e:
        raise CheckFailed(
            f"{kind} {check_name(check)}", describe(e), traceback.format_exc()
        ) from None


def describe(error: Exception) -> str:
    """What a failed check says: an assertion's message, or what else it raised."""
    if isinstance(error, AssertionError):
        return str(error) or "assertion failed"
    return f"raised {error!r}"


def check_name(check: Callable[..., Any]) -> str:
    name = getattr(check, "__name__", None) or getattr(check, "__qualname__", None)
    return name if isinstance(name, str) else type(check).__qualname__
