"""Generated inputs: the messages a scenario's processes are asked to act on, drawn by the run.

A scenario's ``Inputs`` say which processes receive inputs, how to build one (``make``, a
function of a ``Draw``) and how many a run may give. Giving an input is an enabled event
like a delivery: the chooser decides when, to which target and every draw ``make`` makes,
all at the run's one choke point, so a seeded run draws from its seed, ``check`` from
Hypothesis, and a shrinker can ask for simpler values. The input is handed to its target
as a message from ``INPUT_SENDER``, a pid no process has: a reply to it is a dead letter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import attrs

from ..core import InvalidDefinition, Pid

T = TypeVar("T")

INPUT_SENDER = Pid("input", "-")
"""The sender of every input: ``input::-``, on a node no scenario can have (a node name
is never ``-`` in practice, and no process is ever started under this pid)."""


class Draw:
    """The source of every value a ``make`` function draws. Each draw is one decision of
    the run; its simplest outcome is the first option, ``False``, or ``lo``, which is
    where shrinking takes it."""

    __slots__ = ("_choose", "values")

    def __init__(self, choose: Callable[[int], int]) -> None:
        self._choose = choose
        self.values: list[int] = []
        """The decision of each draw so far (an index; 0 the simplest)."""

    @classmethod
    def replaying(cls, values: Iterable[int]) -> Draw:
        """Draws that give back ``values`` in order (see ``replaying``)."""
        return cls(replaying(values))

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options``; the first is the simplest."""
        if not options:
            raise ValueError("draw.choice() needs at least one option")
        return options[self._decide(len(options))]

    def boolean(self) -> bool:
        """True or False; False is the simplest."""
        return self._decide(2) == 1

    def integer(self, lo: int, hi: int) -> int:
        """An integer from ``lo`` to ``hi``, both included; ``lo`` is the simplest."""
        if hi < lo:
            raise ValueError(f"draw.integer({lo}, {hi}): hi is below lo")
        return lo + self._decide(hi - lo + 1)

    def _decide(self, n: int) -> int:
        if n <= 1:
            return 0  # no decision: nothing drawn, nothing recorded (a replay reads none)
        value = self._choose(n)
        self.values.append(value)
        return value


def replaying(values: Iterable[int]) -> Callable[[int], int]:
    """ "One of n" that gives back ``values`` in order, then the simplest outcome (0); a
    value out of range (an earlier decision changed what is decided next) gives 0 too."""
    given = iter(values)

    def choose(n: int) -> int:
        value = next(given, 0)
        return value if 0 <= value < n else 0

    return choose


def simplest(n: int) -> int:
    """ "One of n" that always answers the simplest outcome."""
    return 0


def _targets(value: Any) -> tuple[Pid, ...]:
    if isinstance(value, Pid):
        value = [value]
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidDefinition(f"Inputs.to is a list of pids, not {value!r}")
    targets = tuple(value)
    if not targets or not all(isinstance(pid, Pid) for pid in targets):
        raise InvalidDefinition(f"Inputs.to is a non-empty list of pids, not {value!r}")
    if len(set(targets)) != len(targets):
        raise InvalidDefinition(f"Inputs.to names a pid twice: {list(targets)}")
    return targets


def _make(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not callable(value):
        raise InvalidDefinition(
            f"Inputs.make is a function of a Draw that returns a message, not {value!r}"
        )


def _most(instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidDefinition(f"Inputs.max is a count of inputs, 0 or more, not {value!r}")


@attrs.frozen
class Inputs:
    """Inputs of one kind: each goes to one of ``to``, built by ``make(draw)`` (a
    registered ``@message``); a run gives at most ``max`` of them."""

    to: tuple[Pid, ...] = attrs.field(converter=_targets)
    make: Callable[[Draw], Any] = attrs.field(validator=_make)
    max: int = attrs.field(default=10, validator=_most)

    @property
    def name(self) -> str:
        """How reports name these inputs: the name of ``make``."""
        name = getattr(self.make, "__name__", None)
        return name if isinstance(name, str) else type(self.make).__qualname__


def as_inputs(value: Any) -> tuple[Inputs, ...]:
    """``Scenario.inputs``: one ``Inputs`` or a sequence of them."""
    if isinstance(value, Inputs):
        return (value,)
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidDefinition(f"Scenario.inputs is an Inputs or a list of them, not {value!r}")
    inputs = tuple(value)
    for i, one in enumerate(inputs):
        if not isinstance(one, Inputs):
            raise InvalidDefinition(f"Scenario.inputs[{i}] is {one!r}, not an Inputs")
    return inputs


@attrs.frozen
class InputOffer:
    """An input that may be given now: one of ``Scenario.inputs[source]``, to ``to``. Not
    an event yet: the chooser makes it one (``World.make_input``) by drawing the message."""

    source: int
    to: Pid
