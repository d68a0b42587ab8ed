"""Simpler decisions for a failing schedule: inputs made again from smaller draws and given
to earlier targets, and smaller random numbers for the processes that asked for them.

An input event keeps the draws its scenario's ``make`` made (``"draws"``); any event keeps
the random numbers processes drew in its step (``"random"``), and the schedule those of
the start (``start_random``). Each is a decision whose simplest value is 0. Draws that
agree are lowered together first (two adds of the same element stay the same element),
then each alone: to 0 if that still fails, else by bisection to the smallest value that
does, and every input whose draws changed is made again by its ``make``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..codec import message_json
from ..core import Pid
from ..sim import Draw, Scenario

Events = list[dict[str, Any]]
Place = tuple[int, str, int]
"""A decision: (event index, ``"draws"`` or ``"random"``, index); the start's random
numbers are at event index -1."""
START = -1
Attempt = Callable[[Events, tuple[int, ...]], Any | None]
"""Runs a candidate (events, start random numbers): the re-recorded schedule if it is
better (still failing, simpler), else None."""


class Lowering:
    """Lowers the decisions of one failing schedule (``events``, ``start_random``)."""

    def __init__(
        self,
        scenario: Scenario,
        attempt: Attempt,
        exhausted: Callable[[], bool],
    ) -> None:
        self._scenario = scenario
        self._attempt = attempt
        self._exhausted = exhausted

    def lower(self, events: Events, start_random: tuple[int, ...]) -> Any | None:
        """The first better candidate with lower decisions, or None."""
        places = decisions(events, start_random)
        groups: dict[tuple[Any, ...], list[Place]] = {}
        for place, value in places.items():
            if value > 0:
                i, field, j = place
                # Of one kind: the same inputs' draws, or the random numbers of one kind
                # of step.
                kind = events[i].get("inputs", 0) if field == "draws" else _kind(events, i)
                groups.setdefault((value, field, kind, j), []).append(place)
                groups.setdefault((value,), []).append(place)
        together = sorted(groups.items(), key=lambda item: (-item[0][0], -len(item[0])))
        for key, same in together:
            if len(same) > 1:
                found = self._try(events, start_random, same, key[0])
                if found is not None:
                    return found
        for place, value in places.items():
            if value > 0:
                found = self._try(events, start_random, [place], value)
                if found is not None:
                    return found
        return self._earlier_targets(events, start_random)

    def _earlier_targets(self, events: Events, start_random: tuple[int, ...]) -> Any | None:
        """An input given to an earlier target of its ``Inputs`` (the first is simplest):
        first with the two targets swapped everywhere in the schedule (what the one sent and
        received, the other did: right for targets alike, such as two clients), then with
        only the input moved."""
        for i, event in enumerate(events):
            index = target_index(event, self._scenario) if event["kind"] == "input" else 0
            if index == 0:
                continue
            to = self._scenario.inputs[event.get("inputs", 0)].to
            for earlier in to[:index]:
                moved = {**event, "to": str(earlier)}
                for candidate in (
                    _swapped(events, to[index], earlier),
                    [*events[:i], moved, *events[i + 1 :]],
                ):
                    if self._exhausted():
                        return None
                    found = self._attempt(candidate, start_random)
                    if found is not None:
                        return found
        return None

    def _try(
        self, events: Events, start_random: tuple[int, ...], places: list[Place], value: int
    ) -> Any | None:
        """The candidate with the smallest value below ``value``, decided at every one of
        ``places``, that still fails: 0 if it does, else found by bisection; None if no
        smaller value fails."""

        def attempt(smaller: int) -> Any | None:
            if self._exhausted():
                return None
            candidate = self._remade(events, start_random, dict.fromkeys(places, smaller))
            return None if candidate is None else self._attempt(*candidate)

        found = attempt(0)
        if found is not None:
            return found
        passing, failing, best = 0, value, None
        while failing - passing > 1 and not self._exhausted():
            middle = (passing + failing) // 2
            candidate = attempt(middle)
            if candidate is None:
                passing = middle
            else:
                failing, best = middle, candidate
        return best

    def _remade(
        self, events: Events, start_random: tuple[int, ...], changes: dict[Place, int]
    ) -> tuple[Events, tuple[int, ...]] | None:
        """The candidate with the decisions at ``changes`` changed, each input whose draws
        changed made again by its scenario's ``make``; None if one cannot be made."""
        start = tuple(changes.get((START, "random", j), v) for j, v in enumerate(start_random))
        remade = list(events)
        for i in sorted({i for i, _, _ in changes if i != START}):
            event = dict(events[i])
            for field in ("random", "draws"):
                if field in event:
                    values = event[field]
                    event[field] = [changes.get((i, field, j), v) for j, v in enumerate(values)]
            if event["kind"] == "input":
                made = self._made(event)
                if made is None:
                    return None
                event["msg"], event["draws"] = made
            remade[i] = event
        return remade, start

    def _made(self, event: dict[str, Any]) -> tuple[Any, list[int]] | None:
        source = event.get("inputs", 0)
        if not 0 <= source < len(self._scenario.inputs):
            return None
        draw = Draw.replaying(event.get("draws") or [])
        try:
            return message_json(self._scenario.inputs[source].make(draw)), draw.values
        except Exception:  # no input at all from these draws: not a candidate
            return None


def _swapped(events: Events, a: Pid, b: Pid) -> Events:
    """``events`` with pids ``a`` and ``b`` trading places wherever they are named: as a
    string (``[group::]name::node``, as events and plain messages write them) or as the
    list an input's message writes (``[name, node, group]``)."""
    swaps: dict[str, Any] = {str(a): str(b), str(b): str(a)}
    lists = {json.dumps(list(a)): list(b), json.dumps(list(b)): list(a)}

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            return swaps.get(value, value)
        if isinstance(value, list):
            key = json.dumps(value) if len(value) == 3 else None
            if key in lists:
                return lists[key]
            return [swap(item) for item in value]
        if isinstance(value, dict):
            return {k: v if k == "summary" else swap(v) for k, v in value.items()}
        return value

    return [swap(event) for event in events]


def _kind(events: Events, i: int) -> str:
    return "start" if i == START else str(events[i]["kind"])


def target_index(event: dict[str, Any], scenario: Scenario) -> int:
    """Where an input event's target stands among its ``Inputs``' targets (0 if nowhere)."""
    source = event.get("inputs", 0)
    if not 0 <= source < len(scenario.inputs):
        return 0
    targets = [str(pid) for pid in scenario.inputs[source].to]
    return targets.index(event["to"]) if event.get("to") in targets else 0


def decisions(events: Events, start_random: tuple[int, ...] = ()) -> dict[Place, int]:
    """Every decision of a schedule: the start's random numbers, and each event's input
    draws and random numbers, by place."""
    places = {(START, "random", j): value for j, value in enumerate(start_random)}
    places.update(
        ((i, field, j), value)
        for i, event in enumerate(events)
        for field in ("draws", "random")
        if field == "random" or event["kind"] == "input"
        for j, value in enumerate(event.get(field) or [])
    )
    return places
