"""The World's inputs part: how many of each of the scenario's ``Inputs`` were given, which
may be given now, and each input built by its ``make``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..codec import message_from_json, message_json, transit
from ..core import CodecError, InvalidDefinition
from ._events import Input
from ._failures import protocol_failed
from ._inputs import Draw, InputOffer, Inputs
from ._watchdog import STEP_TIMEOUT


class InputLedger:
    """The inputs of a World whose scenario gives ``inputs``."""

    def __init__(self, inputs: Sequence[Inputs]) -> None:
        self._inputs = tuple(inputs)
        self.given = [0] * len(self._inputs)
        """How many of each of the scenario's ``inputs`` were given so far."""

    def __deepcopy__(self, memo: dict[int, Any]) -> InputLedger:
        return self.copy()

    def copy(self) -> InputLedger:
        clone = InputLedger(self._inputs)  # the scenario's: shared
        clone.given = self.given.copy()
        return clone

    def offers(self, up: Mapping[str, bool]) -> list[InputOffer]:
        """The inputs that may be given now: of each ``Inputs`` given fewer than ``max``
        times, one to each of its targets whose node is ``up``."""
        offers: list[InputOffer] = []
        for source, inputs in enumerate(self._inputs):
            if self.given[source] < inputs.max:
                offers.extend(InputOffer(source, to) for to in inputs.to if up[to.node])
        return offers

    def problem(self, event: Input, up: Mapping[str, bool]) -> str | None:
        """Why ``event`` could not be given now (None if it could): its ``Inputs`` do not
        exist or do not go to its target, all of them were given, or the target's node is
        down."""
        inputs = self._inputs
        if not 0 <= event.source < len(inputs):
            return f"the scenario has no inputs[{event.source}]"
        if event.to not in inputs[event.source].to:
            return f"inputs[{event.source}] do not go to {event.to}"
        if self.given[event.source] >= inputs[event.source].max:
            return f"all {inputs[event.source].max} of inputs[{event.source}] were given"
        if not up.get(event.to.node, False):
            return f"node {event.to.node} is down"
        return None

    def give(self, event: Input) -> None:
        """Count ``event`` as given (``problem`` said it could be)."""
        self.given[event.source] += 1

    def make(self, offer: InputOffer, draw: Draw, step: int) -> Input:
        """The input ``offer`` names, its message built by its ``make`` from ``draw``, for
        step ``step``.

        ``make`` is part of the test, not of the protocol, and no schedule could replay
        its failure: if it raises, or builds something that cannot be an input (not a
        registered message that can travel and that a schedule can keep), that is an
        ``InvalidDefinition`` naming it.
        """
        inputs = self._inputs[offer.source]
        running = f"{inputs.name} (inputs[{offer.source}]) for {offer.to} at step {step}"
        try:
            msg = inputs.make(draw)
        except BaseException as e:
            failure = protocol_failed(e, running, "make", repr(e))  # a real Ctrl-C goes on up
            what = failure.message if failure.check == STEP_TIMEOUT else f"{running} raised {e!r}"
            raise InvalidDefinition(f"{what} (make is part of the test: fix it)") from None
        try:
            transit(msg)
            message_from_json(message_json(msg))  # a schedule must keep it: no inf, no NaN
        except CodecError as e:
            raise InvalidDefinition(f"{running} built {msg!r}, which is no input: {e}") from None
        return Input(offer.to, msg, offer.source, tuple(draw.values))
