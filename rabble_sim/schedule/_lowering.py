"""Simpler decisions for a failing schedule: inputs made again from smaller draws, and
smaller random numbers for the processes that asked for them.

An input event keeps the draws its scenario's ``make`` made (``"draws"``); any event keeps
the random numbers processes drew in its step (``"random"``). Each is a decision whose
simplest value is 0. Lowering one (to 0, halfway, one less) and making the input again
gives a candidate; draws that agree are lowered together first (two adds of the same
element stay the same element), then each alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..codec import message_json
from ..sim import Draw, Scenario

Events = list[dict[str, Any]]
Place = tuple[int, str, int]
"""A decision in a list of events: (event index, ``"draws"`` or ``"random"``, index)."""


class Lowering:
    """Lowers the decisions of ``events``; ``attempt`` runs a candidate and returns it
    re-recorded if it is better (still failing, simpler), else None."""

    def __init__(
        self,
        scenario: Scenario,
        attempt: Callable[[Events], Any | None],
        exhausted: Callable[[], bool],
    ) -> None:
        self._scenario = scenario
        self._attempt = attempt
        self._exhausted = exhausted

    def lower(self, events: Events) -> Any | None:
        """The first better candidate with lower decisions, or None."""
        places = decisions(events)
        groups: dict[tuple[Any, ...], list[Place]] = {}
        for place, value in places.items():
            if value > 0:
                i, field, j = place
                kind = (
                    field,
                    events[i].get("inputs", 0) if field == "draws" else events[i]["kind"],
                )
                groups.setdefault((value, *kind, j), []).append(place)
                groups.setdefault((value,), []).append(place)
        together = sorted(groups.items(), key=lambda item: (-item[0][0], -len(item[0])))
        for key, same in together:
            if len(same) > 1:
                found = self._try(events, same, key[0])
                if found is not None:
                    return found
        for place, value in places.items():
            if value > 0:
                found = self._try(events, [place], value)
                if found is not None:
                    return found
        return None

    def _try(self, events: Events, places: list[Place], value: int) -> Any | None:
        """The first of 0, ``value // 2`` and ``value - 1`` that, decided at every one of
        ``places``, gives a better candidate; None if none does."""
        for smaller in sorted({0, value // 2, value - 1}):
            if smaller >= value or self._exhausted():
                continue
            candidate = self._remade(events, {place: smaller for place in places})
            if candidate is not None:
                found = self._attempt(candidate)
                if found is not None:
                    return found
        return None

    def _remade(self, events: Events, changes: dict[Place, int]) -> Events | None:
        """``events`` with the decisions at ``changes`` changed, each input whose draws
        changed made again by its scenario's ``make``; None if one cannot be made."""
        remade = list(events)
        for i in sorted({i for i, _, _ in changes}):
            event = dict(events[i])
            for field in ("random", "draws"):
                values = event.get(field) or []
                event[field] = [changes.get((i, field, j), v) for j, v in enumerate(values)]
            if not event["random"]:
                del event["random"]
            if event["kind"] == "input":
                made = self._made(event)
                if made is None:
                    return None
                event["msg"], event["draws"] = made
            elif not event["draws"]:
                del event["draws"]
            remade[i] = event
        return remade

    def _made(self, event: dict[str, Any]) -> tuple[Any, list[int]] | None:
        source = event.get("inputs", 0)
        if not 0 <= source < len(self._scenario.inputs):
            return None
        draw = Draw.replaying(event["draws"])
        try:
            return message_json(self._scenario.inputs[source].make(draw)), draw.values
        except Exception:  # no input at all from these draws: not a candidate
            return None


def decisions(events: Events) -> dict[Place, int]:
    """Every input draw and every random number of ``events``, by place."""
    return {
        (i, field, j): value
        for i, event in enumerate(events)
        for field in ("draws", "random")
        if field == "random" or event["kind"] == "input"
        for j, value in enumerate(event.get(field) or [])
    }
