"""Reading the files users hand us (schedules, histories): regular files of a bounded size.

A command that reads whatever path it is given can be made to read forever (``/dev/zero``,
a FIFO nobody writes to) or to fill the machine's memory with one huge file. Every input
file goes through ``read_input``: it must be a regular file, no larger than the limit,
and it is read with a bound even if it grows while being read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ._errors import UsageError

LIMIT_VARIABLE = "RABBLE_SIM_MAX_INPUT"
"""The environment variable that sets the largest input file, in bytes (``K``, ``M`` and
``G`` suffixes allowed: ``512M``)."""
DEFAULT_LIMIT = 256 * 1024 * 1024
"""256 MiB: far above any schedule or history a person would keep, far below the memory
of the machine reading it."""

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def input_limit() -> int:
    """The largest input file, in bytes: ``$RABBLE_SIM_MAX_INPUT`` or 256 MiB."""
    value = os.environ.get(LIMIT_VARIABLE, "").strip().upper().removesuffix("B")
    if not value:
        return DEFAULT_LIMIT
    number, unit = (value[:-1], value[-1]) if value[-1] in "KMG" else (value, "")
    try:
        limit = int(number) * _UNITS[unit]
    except ValueError:
        raise UsageError(
            f"{LIMIT_VARIABLE}={os.environ[LIMIT_VARIABLE]!r} is not a size in bytes "
            "(for example 1048576 or 512M)"
        ) from None
    if limit <= 0:
        raise UsageError(f"{LIMIT_VARIABLE} must be above 0, not {limit}")
    return limit


def read_input(path: Path, what: str) -> bytes:
    """The bytes of the ``what`` (a schedule, a history) at ``path``; a ``UsageError``
    naming the path if it is not a regular file, is larger than ``input_limit()``, or
    cannot be read."""
    limit = input_limit()
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as e:
        raise UsageError(f"{path}: cannot read it: {e.strerror or e}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{path}: is a directory, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{path}: not a regular file (a device, a pipe or a socket), not a {what}")
    if info.st_size > limit:
        raise UsageError(_too_large(path, what, f"{info.st_size:,} bytes", limit))
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)  # a file that grew since stat() is still bounded
    except OSError as e:
        raise UsageError(f"{path}: cannot read it: {e.strerror or e}") from None
    if len(data) > limit:
        raise UsageError(_too_large(path, what, "it grew while being read and", limit))
    return data


def read_input_text(path: Path, what: str) -> str:
    """``read_input`` decoded as UTF-8; a ``UsageError`` for text that is not."""
    data = read_input(path, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def _too_large(path: Path, what: str, size: str, limit: int) -> str:
    return (
        f"{path}: {size} is larger than the limit of {limit:,} bytes for a {what} "
        f"(set {LIMIT_VARIABLE} to allow more)"
    )
