"""The branches of a state: every event enabled in a world, each input offer expanded into
the inputs its ``make`` can build. Exploration searches them; the debugger takes one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._events import Event, Input
from ._inputs import Draw, InputOffer

if TYPE_CHECKING:
    from ._world import World

MAX_INPUT_VARIANTS = 64
"""The most inputs one offer expands to (every combination of ``make``'s draws, up to it)."""


def branches(world: World, cut: list[InputOffer] | None = None) -> Iterator[Event]:
    """Every event enabled in ``world``, in the canonical order, each input offer expanded
    into the inputs it can be (the simplest first; an offer with more than
    ``MAX_INPUT_VARIANTS`` is appended to ``cut``). Random numbers a process draws are not
    branched on: the world's ``use_random`` decides them (0, the simplest, by default)."""
    for possible in world.enabled():
        if isinstance(possible, InputOffer):
            yield from input_variants(world, possible, cut)
        else:
            yield possible


def input_variants(
    world: World, offer: InputOffer, cut: list[InputOffer] | None = None
) -> Iterator[Input]:
    """The inputs ``offer`` can be: ``make`` on every combination of its draws, depth
    first from all-simplest, at most ``MAX_INPUT_VARIANTS`` (then ``offer`` is appended
    to ``cut``, if given)."""
    pending: list[list[int]] = [[]]
    made = 0
    while pending and made < MAX_INPUT_VARIANTS:
        prefix = pending.pop()
        sizes: list[int] = []

        def choose(n: int, prefix: list[int] = prefix, sizes: list[int] = sizes) -> int:
            at = len(sizes)
            sizes.append(n)
            return prefix[at] if at < len(prefix) else 0

        event = world.make_input(offer, Draw(choose))
        made += 1
        yield event
        # Each later decision's other outcomes, each a new prefix (its own later ones follow).
        for at in range(len(sizes) - 1, len(prefix) - 1, -1):
            base = [*prefix, *[0] * (at - len(prefix))]
            pending.extend([*base, value] for value in range(sizes[at] - 1, 0, -1))
    if pending and cut is not None:
        cut.append(offer)
