"""Match a recorded event to what today's world can do: by seq when the content agrees,
else by content, so that a schedule survives renumbering (shrinking, changed code)."""

from __future__ import annotations

from typing import Any

import attrs

from ..codec import to_plain
from ..sim import (
    Crash,
    Event,
    FireTimer,
    Heal,
    Partition,
    Restart,
    World,
    envelope_plain,
    partition_problem,
)
from ._format import to_event

MESSAGE_KINDS = ("deliver", "drop", "duplicate")
CONTENT = ("from", "to", "msg", "cid")


@attrs.frozen
class Divergence:
    """Where today's code parts from a schedule: the recorded step, its summary, and what
    happens instead."""

    step: int
    summary: str
    what: str

    def __str__(self) -> str:
        return f"step {self.step} ({self.summary}): {self.what}"


DIVERGENCES_SHOWN = 10
"""How many divergences a report lists one by one: a change to a protocol can renumber
every later step, and a thousand lines hide the one that matters."""


def resolve(
    plain: dict[str, Any], world: World, *, by_seq: bool
) -> tuple[Event | None, str | None]:
    """Today's event for the recorded ``plain`` one, and a note when it is not exactly it.

    A message event takes the message with the recorded seq if its content agrees, else
    the oldest deliverable message with the same sender, receiver, message and cid. With
    ``by_seq``, a message whose content changed under the same seq is taken anyway (replay
    of a file against changed code); without it (shrinking), only content counts. None
    means the event cannot happen today: the caller skips it.
    """
    event = to_event(plain)
    kind = event.kind
    if kind in MESSAGE_KINDS:
        return _resolve_message(plain, event, world, by_seq=by_seq)
    if kind == "timeout":
        return _resolve_timer(plain, event, world, by_seq=by_seq)
    return _resolve_node_event(event, world)


def _resolve_message(
    plain: dict[str, Any], event: Event, world: World, *, by_seq: bool
) -> tuple[Event | None, str | None]:
    recorded = {k: plain[k] for k in CONTENT if k in plain}
    seq: int = event.seq  # type: ignore[union-attr]
    env = world.messages.get(seq)
    if "msg" not in recorded:  # a hand-written event, naming its message by seq alone
        return (event, None) if env is not None else (None, "no such message is in flight today")
    if env is not None and envelope_plain(env) == recorded:
        return event, None
    match = _find(world, recorded)
    if match is not None:
        renumbered = attrs.evolve(event, seq=match)  # type: ignore[arg-type]
        return renumbered, f"the message is #{match} today"
    if by_seq and env is not None:
        return event, _changes(recorded, envelope_plain(env))
    blocked = world.blocked.get(seq)
    if blocked is not None and envelope_plain(blocked) == recorded:
        return None, "the message is waiting for a heal today"
    return None, "no such message is in flight today"


def _find(world: World, recorded: dict[str, Any]) -> int | None:
    """The oldest deliverable message with the recorded content."""
    to, from_ = recorded.get("to"), recorded.get("from")
    matches = [
        seq
        for seq, env in world.messages.items()
        if str(env.to) == to and str(env.from_) == from_ and envelope_plain(env) == recorded
    ]
    return min(matches) if matches else None


def _resolve_timer(
    plain: dict[str, Any], event: Event, world: World, *, by_seq: bool
) -> tuple[Event | None, str | None]:
    seq = world.next_timer()
    if seq is None:
        return None, "no timer is pending today"
    timer = world.timers[seq]
    today = {"pid": str(timer.pid), "cid": to_plain(timer.cid)}
    if "pid" not in plain:  # a hand-written event, naming its timer by seq alone
        return (event, None) if seq == event.seq else (None, f"timer #{seq} is due first today")  # type: ignore[union-attr]
    recorded = {k: plain.get(k) for k in today}
    if today == recorded:
        return FireTimer(seq), None if seq == event.seq else f"the timer is #{seq} today"  # type: ignore[union-attr]
    if by_seq and seq == event.seq:  # type: ignore[union-attr]
        return event, _changes(recorded, today)
    return None, f"the next timer due today is #{seq} at {timer.pid}"


def _resolve_node_event(event: Event, world: World) -> tuple[Event | None, str | None]:
    if isinstance(event, Crash | Restart):
        if event.node not in world.up:
            return None, f"there is no node {event.node!r} today"
        if world.up[event.node] != isinstance(event, Crash):
            return (
                None,
                f"node {event.node} is already {'down' if isinstance(event, Crash) else 'up'}",
            )
        return event, None
    if isinstance(event, Partition):
        if world.partitioned:
            return None, "the network is already partitioned"
        problem = partition_problem(event.groups, world.scenario.nodes)
        if problem is not None:
            return None, problem
        return event, None
    if isinstance(event, Heal) and not world.partitioned:
        return None, "the network is not partitioned"
    return event, None


def _changes(recorded: dict[str, Any], today: dict[str, Any]) -> str:
    fields = [k for k in today if today.get(k) != recorded.get(k)]
    return "; ".join(f"{k} was {recorded.get(k)!r}, is now {today[k]!r}" for k in fields)
