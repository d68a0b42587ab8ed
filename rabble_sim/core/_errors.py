"""The exceptions rabble-sim raises, each saying what went wrong and what to do."""

from __future__ import annotations


class RabbleError(Exception):
    """Base class of every error rabble-sim raises on purpose."""


class UsageError(RabbleError):
    """Bad input from the user: a name that does not resolve, a malformed file, a bad flag.

    The command line prints it as one line and exits with status 2.
    """


class InvalidDefinition(RabbleError):
    """A message type, scenario or process is defined in a way rabble-sim cannot use."""


class CodecError(RabbleError):
    """Data could not be encoded or decoded: an unknown tag, a wrong shape, a bad frame."""


class RabbleInternalError(RabbleError):
    """A bug in rabble-sim itself; please report it with the schedule that triggered it."""
