"""Match a recorded event to what today's world can do: by seq when the content agrees,
else by content, so that a schedule survives renumbering (shrinking, changed code); else
the message under the recorded seq if it is the same one with changed fields (same
sender, receiver, type and cid); never another message that happens to have that seq.

A shrinker matches loosely as well: failing all that, a message of the same type between
the same two processes, whatever its fields and cid say (removing an input renumbers the
requests after it): one with the same fields first, then the one whose cid is nearest,
then the oldest; and the next timer due if it is the same process's.
Whatever a loose match makes of a candidate, the shrinker keeps it only if the run it
records fails the same check.
"""

from __future__ import annotations

from typing import Any

import attrs

from ..codec import to_plain
from ..sim import (
    Event,
    FireTimer,
    Input,
    Parcel,
    World,
    envelope_plain,
)
from ..sim._parcel import unpack
from ._format import to_event

MESSAGE_KINDS = ("deliver", "drop", "duplicate")
CONTENT = ("from", "to", "msg", "cid")


@attrs.frozen
class Divergence:
    """Where today's code parts from a schedule: the recorded step, its summary, and what
    happens instead. ``skipped``: the event could not happen at all, and replay went on
    without it (else it happened under another seq)."""

    step: int
    summary: str
    what: str
    skipped: bool = True

    def __str__(self) -> str:
        return f"step {self.step} ({self.summary}): {self.what}"


DIVERGENCES_SHOWN = 10
"""How many divergences a report lists one by one: a change to a protocol can renumber
every later step, and a thousand lines hide the one that matters."""


def resolve(
    plain: dict[str, Any], world: World, *, loose: bool = False
) -> tuple[Event | None, Divergence | None]:
    """Today's event for the recorded ``plain`` one, and a divergence when it is not
    exactly it.

    A message event takes the message with the recorded seq if its content agrees, else
    the oldest deliverable message with the same sender, receiver, message and cid (a
    renumbering), else the message with the recorded seq if it is the same message with
    other fields (the same sender, receiver, message type and cid: the code changed what
    it says). Never another message: if no message in flight is the recorded one, the
    event cannot happen today and the caller skips it (the event is None).
    """
    event = to_event(plain)
    kind = event.kind
    if kind in MESSAGE_KINDS:
        found, note = _resolve_message(plain, event, world)
        if found is None and loose:
            found, note = _resolve_loosely(plain, event, world)
    elif kind == "timeout":
        found, note = _resolve_timer(plain, event, world)
        if found is None and loose:
            found, note = _resolve_timer_loosely(plain, world)
    elif isinstance(event, Input):
        found, note = _resolve_input(event, world)
    else:
        found, note = _resolve_node_event(event, world)
    if note is None:
        return found, None
    step = plain.get("step", world.step + 1)
    return found, Divergence(step, plain.get("summary", ""), note, skipped=found is None)


def _resolve_message(
    plain: dict[str, Any], event: Event, world: World
) -> tuple[Event | None, str | None]:
    recorded = {k: plain[k] for k in CONTENT if k in plain}
    seq: int = event.seq  # type: ignore[union-attr]
    parcel = world.network.deliverable.get(seq) or _arriving(world, event.kind, seq)
    if "msg" not in recorded:  # a hand-written event, naming its message by seq alone
        if parcel is not None:
            return event, None
        return None, "no such message is in flight today"
    if parcel is not None and _content(parcel) == recorded:
        return event, None
    match = _find(world, recorded)
    if match is not None:
        renumbered = attrs.evolve(event, seq=match)  # type: ignore[arg-type]
        return renumbered, f"the message is #{match} today"
    blocked = world.network.held.get(seq)
    if blocked is not None and _content(blocked) == recorded:
        return None, "the message is waiting for a heal today"
    if parcel is not None and _identity(_content(parcel)) == _identity(recorded):
        return event, _changes(recorded, _content(parcel))
    return None, "no such message is in flight today"


def _resolve_loosely(
    plain: dict[str, Any], event: Event, world: World
) -> tuple[Event | None, str | None]:
    recorded = {k: plain[k] for k in CONTENT if k in plain}
    kind = _identity(recorded)
    candidates = [
        (content.get("msg") != recorded.get("msg"), _cid_distance(content, recorded), seq)
        for seq, parcel in world.network.deliverable.items()
        if str(parcel[0].to) == kind["to"] and str(parcel[0].from_) == kind["from"]
        for content in [_content(parcel)]
        if _identity(content)["tag"] == kind["tag"]
    ]
    if not candidates:
        return None, "no such message is in flight today"
    seq = min(candidates)[2]
    return attrs.evolve(event, seq=seq), f"a message like it is #{seq} today"  # type: ignore[arg-type]


def _cid_distance(content: dict[str, Any], recorded: dict[str, Any]) -> int:
    """How far apart two cids' request and handle numbers are (removing an input lowers
    the numbers of the requests after it): the closest is the likeliest same message."""
    today, then = content.get("cid"), recorded.get("cid")
    if not isinstance(today, dict) or not isinstance(then, dict):
        return 0 if today == then else 1 << 30
    if today.get("pid") != then.get("pid"):
        return 1 << 30
    return sum(
        abs(a - b) if isinstance(a, int) and isinstance(b, int) else int(a != b)
        for a, b in ((today.get(k), then.get(k)) for k in ("request", "handle"))
    )


def _resolve_timer_loosely(plain: dict[str, Any], world: World) -> tuple[Event | None, str | None]:
    seq = _next_timer(world)
    if seq is None or str(world.timers[seq].pid) != plain.get("pid"):
        return None, "no timer of that process is due first today"
    return FireTimer(seq), f"the timer due first at {plain.get('pid')} is #{seq} today"


def _content(parcel: Parcel) -> dict[str, Any]:
    return envelope_plain(unpack(parcel))


def _identity(content: dict[str, Any]) -> dict[str, Any]:
    """What makes a message the same one whatever its fields say: its sender, receiver,
    type (the tag of its plain data) and cid."""
    msg = content.get("msg")
    tag = next(iter(msg)) if isinstance(msg, dict) and len(msg) == 1 else None
    return {**{k: content.get(k) for k in ("from", "to", "cid")}, "tag": tag}


def _next_timer(world: World) -> int | None:
    """The timer that may fire next: the next due, unless a message arrives before it."""
    due = world.next_due()
    return due[1] if due is not None and due[2] else None


def _arriving(world: World, kind: str, seq: int) -> Parcel | None:
    """Message ``seq`` if a delivery may take it from transit: it arrives next."""
    flying = world.network.transit.get(seq) if kind == "deliver" else None
    if flying is None:
        return None
    due = world.next_due()
    return flying[1] if due is not None and due[1] == seq else None


def _find(world: World, recorded: dict[str, Any]) -> int | None:
    """The oldest deliverable message with the recorded content (or the message in
    transit that arrives next, if it has that content)."""
    to, from_ = recorded.get("to"), recorded.get("from")
    network = world.network
    candidates = list(network.deliverable.items())
    due = world.next_due() if network.transit else None
    if due is not None and not due[2]:
        candidates.append((due[1], network.transit[due[1]][1]))
    matches = [
        seq
        for seq, parcel in candidates
        if str(parcel[0].to) == to and str(parcel[0].from_) == from_
        if _content(parcel) == recorded
    ]
    return min(matches) if matches else None


def _resolve_timer(
    plain: dict[str, Any], event: Event, world: World
) -> tuple[Event | None, str | None]:
    seq = _next_timer(world)
    if seq is None:
        arrival = world.network.next_arrival()
        if arrival is not None and world.timers.next() is not None:
            return None, f"message #{arrival[1]} arrives before any timer fires today"
        return None, "no timer is pending today"
    timer = world.timers[seq]
    today = {"pid": str(timer.pid), "cid": to_plain(timer.cid)}
    recorded_seq: int = event.seq  # type: ignore[union-attr]
    if "pid" not in plain:  # a hand-written event, naming its timer by seq alone
        return (event, None) if seq == recorded_seq else (None, f"timer #{seq} is due first today")
    recorded = {k: plain.get(k) for k in today}
    if today == recorded:
        return FireTimer(seq), None if seq == recorded_seq else f"the timer is #{seq} today"
    return None, f"the next timer due today is #{seq} at {timer.pid}: " + _changes(recorded, today)


def _resolve_input(event: Input, world: World) -> tuple[Event | None, str | None]:
    """The input, if today's scenario could give it now (``World.input_problem``)."""
    problem = world.input_problem(event)
    return (event, None) if problem is None else (None, f"{problem} today")


def _resolve_node_event(event: Event, world: World) -> tuple[Event | None, str | None]:
    problem = world.fault_problem(event)
    return (event, None) if problem is None else (None, problem)


def _changes(recorded: dict[str, Any], today: dict[str, Any]) -> str:
    fields = [k for k in today if today.get(k) != recorded.get(k)]
    return "; ".join(f"{k} was {recorded.get(k)!r}, is now {today[k]!r}" for k in fields)
