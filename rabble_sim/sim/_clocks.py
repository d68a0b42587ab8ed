"""Each node's own clock: how fast it runs against true time, and how far it has jumped.

True time is the World's virtual clock (``Timers.now``). A node's clock starts with it
and keeps it until a ``Drift`` makes it run at another rate or a ``Jump`` moves it ahead.
Rates are kept in whole ms per 1000 ms of true time, so that every clock reading and
every timer's due time is exact integer arithmetic, the same in any interpreter.
"""

from __future__ import annotations

import copy
from typing import Any

from ._timers import Timers

TRUE_RATE = 1000


def milli(rate: float) -> int:
    """``rate`` (1.1: 10% fast) as ms of a node's clock per 1000 ms of true time."""
    return round(rate * TRUE_RATE)


class Clocks:
    """The clocks of a World's nodes, over its ``timers`` (whose rates it keeps)."""

    __slots__ = ("_bases", "timers")

    def __init__(self, timers: Timers) -> None:
        self.timers = timers
        self._bases: dict[str, tuple[int, int]] = {}
        """For each node whose clock left true time: (true time, its reading) at the last
        change, from which it ran at its rate since."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Clocks:
        return self.fork(copy.deepcopy(self.timers, memo))

    def fork(self, timers: Timers) -> Clocks:
        """A copy over ``timers`` (the copy of this one's)."""
        clone = Clocks(timers)
        clone._bases = self._bases.copy()
        return clone

    def rate(self, node: str) -> int:
        """``node``'s rate, in ms of its clock per 1000 ms of true time."""
        return self.timers.rates.get(node, TRUE_RATE)

    def any_drifted(self) -> bool:
        """Whether some node's clock left true time."""
        return bool(self._bases)

    def drifted(self, node: str) -> bool:
        """Whether ``node``'s clock left true time (a drift or a jump)."""
        return node in self._bases

    def read(self, node: str) -> int:
        """What ``node``'s clock reads now, in ms."""
        now = self.timers.now
        base = self._bases.get(node)
        if base is None:
            return now
        then, reading = base
        return reading + (now - then) * self.rate(node) // TRUE_RATE

    def skew(self, node: str) -> tuple[int, int, int]:
        """(rate, reading - true time, the part of a ms it has run past that reading, in
        thousandths): what of ``node``'s clock the future depends on."""
        now, rate = self.timers.now, self.rate(node)
        base = self._bases.get(node)
        past = 0 if base is None else (now - base[0]) * rate % TRUE_RATE
        return rate, self.read(node) - now, past

    def drift(self, node: str, rate: float) -> None:
        """``node``'s clock runs at ``rate`` from now on; its timers keep what is left of
        their time on its clock."""
        old, new = self.rate(node), milli(rate)
        self._bases[node] = (self.timers.now, self.read(node))
        rates = self.timers.rates
        if new == TRUE_RATE:
            rates.pop(node, None)
        else:
            rates[node] = new
        self.timers.retime(node, lambda left: left * old // TRUE_RATE, new)

    def jump(self, node: str, ms: int) -> None:
        """``node``'s clock jumps ``ms`` ahead: its timers are that much nearer."""
        rate = self.rate(node)
        self._bases[node] = (self.timers.now, self.read(node) + ms)
        self.timers.retime(node, lambda left: max(0, left * rate // TRUE_RATE - ms), rate)
