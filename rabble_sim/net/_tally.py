"""Counting events that may come in floods (dead letters, refused connections, exceptions
in ``handle``) so that each is counted but only a few are logged.

A node logs the first ten of a kind, then every ``every``-th, each line with its number:
a stranger opening connections by the thousand, or a process stuck raising on every
message, costs a line per thousand (or hundred), not a line each, and the count says how
many there were.
"""

from __future__ import annotations

FIRST = 10
"""Events of a kind logged one by one before the log thins out."""


class Tally:
    """How many events of one kind happened, and which of them to log."""

    def __init__(self, every: int, *, first: int = FIRST) -> None:
        self.every = every
        self.first = first
        self.count = 0

    def add(self) -> bool:
        """Count one; whether to log it: the first ``first``, then every ``every``-th."""
        self.count += 1
        return self.count <= self.first or self.count % self.every == 0

    def thinning(self) -> str:
        """What to append to the line of the last event logged one by one, so that a reader
        knows why the next ones are missing; "" for any other."""
        if self.count == self.first:
            return f" (further ones are logged every {self.every:,}th, with their number)"
        return ""
