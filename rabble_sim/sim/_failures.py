"""What goes wrong while the World applies an event: the errors, and how a check is named.

Both the World and the executors raise these; they live apart from both so that neither
has to import the other to report a failure.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from ..core import RabbleError
from ..executor import BadOutput, BadRequest, Reported
from ._parcel import Parcel
from ._watchdog import STEP_TIMEOUT, StepTimeout, UserInterrupt


class CheckFailed(Reported):
    """A check failed, or user code raised, while the world applied an event (a failure
    the executor core lets through: the simulator reports it as a violation)."""

    def __init__(self, check: str, message: str, traceback: str | None = None) -> None:
        super().__init__(f"{check}: {message}")
        self.check = check
        self.message = message
        self.traceback = traceback
        self.parcel: Parcel | None = None
        """The message being handled when it happened, if any."""

    def handling(self, parcel: Parcel | None) -> CheckFailed:
        """This failure, saying that it happened while ``parcel`` was handled."""
        self.parcel = parcel
        return self


class EventNotEnabled(RabbleError):
    """An event names a message, timer or node state that the world does not have."""


def protocol_failed(error: BaseException, running: str, check: str, message: str) -> CheckFailed:
    """The violation for ``error``, raised by protocol code (a handle, a check, a start,
    a factory...) while ``running`` ("handle of a::n1 on Ping"): named ``check``, saying
    ``message``; or, if the step ran out of time, a step timeout saying what ran.

    Anything counts, ``SystemExit`` and ``KeyboardInterrupt`` included: protocol code
    can never end a run by raising. The one exception is a real Ctrl-C, which is not the
    protocol's doing: it is raised again, knowing what it stopped.
    """
    if isinstance(error, UserInterrupt):
        raise error.stopping(running)
    if isinstance(error, StepTimeout):
        message = f"{running} ran for more than {error.seconds:g} s"
        return CheckFailed(STEP_TIMEOUT, message, traceback.format_exc())
    return CheckFailed(check, message, traceback.format_exc())


def user_code_failed(what: str, error: BaseException) -> CheckFailed:
    """The violation for an exception that user code (``start``, ``init``) raised."""
    return protocol_failed(error, what.removeprefix("exception in "), what, repr(error))


def run_check(check: Callable[..., None], kind: str, *args: Any) -> None:
    """Run a pre- or postcondition; a ``CheckFailed`` named after it if it fails."""
    try:
        check(*args)
    except BaseException as e:
        name = f"{kind} {check_name(check)}"
        raise protocol_failed(e, name, name, describe(e)) from None


def describe(error: BaseException) -> str:
    """What a failed check says: an assertion's message, or what else it raised."""
    if isinstance(error, AssertionError):
        return str(error) or "assertion failed"
    return f"raised {error!r}"


def check_name(check: Callable[..., Any]) -> str:
    name = getattr(check, "__name__", None) or getattr(check, "__qualname__", None)
    return name if isinstance(name, str) else type(check).__qualname__


def bad_output(error: BadOutput | BadRequest, parcel: Parcel | None) -> CheckFailed:
    """The violation for what a process sent that cannot be sent or served."""
    if isinstance(error, BadOutput):
        failure = CheckFailed(f"bad output of {error.sender}", error.problem)
    else:
        env, cause = error.env, error.error
        check = (
            f"bad request of {error.sender} to its executor"
            if env.to.node == error.sender.node
            else f"bad request of {error.sender} to the executor of {env.to.node}"
        )
        failure = CheckFailed(check, f"{env.msg!r} raised {cause!r}", _traceback(cause))
    return failure.handling(parcel)


def _traceback(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))
