"""The schedule file, format ``rabble-sim/schedule@1``: write, read and validate.

One JSON object, pretty-printed with a stable key order and one event a line, so that a
schedule reads well and diffs well in git. See docs/schedule-format.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from .._version import __version__
from ..codec import canonical_json, message_from_json
from ..core import REGISTRY, CodecError, Pid, RabbleInternalError, UsageError, read_input_text
from ..sim import (
    CorruptDisk,
    Crash,
    Deliver,
    Drift,
    Drop,
    Duplicate,
    Event,
    FireTimer,
    Heal,
    Input,
    Jump,
    LoseDisk,
    Partition,
    Restart,
    RunResult,
    Scenario,
    event_plain,
    partition_problem,
    summarize,
)

FORMAT = "rabble-sim/schedule@1"


@attrs.frozen
class Schedule:
    """A saved run: which scenario, the seed it came from, its events and its violation.

    ``events`` are plain dicts as stored in the file (kind, content, summary).
    ``liveness_from`` is the step at which the liveness phase began, if it did.
    """

    scenario: str
    events: tuple[dict[str, Any], ...]
    violation: dict[str, Any] | None = None
    seed: int | None = None
    liveness_from: int | None = None
    version: str = __version__
    expect: str | None = None
    """``"violation"`` for a known-bug demonstration: the file's test passes only while
    the violation reproduces. None: it passes only while no violation occurs."""
    start_random: tuple[int, ...] = ()
    """The random numbers processes drew as the nodes started (step 0); each event keeps
    its own step's under ``"random"``."""

    @classmethod
    def from_run(cls, result: RunResult, reference: str) -> Schedule:
        """The schedule of ``result``, whose trace must have kept its messages
        (``rabble_sim.sim.recorded`` gives such a result)."""
        trace = result.trace
        if not trace.has_messages:
            raise RabbleInternalError("a schedule needs a run that kept its messages")
        events = []
        for step in range(1, len(trace)):
            event = trace.event(step)
            assert event is not None
            plain = {"step": step, **event_plain(event, trace.envelopes(step)[0])}
            if trace.randoms(step):
                plain["random"] = list(trace.randoms(step))
            plain["summary"] = summarize(plain)
            events.append(plain)
        violation = None
        if result.violation is not None:
            v = result.violation
            violation = {"check": v.check, "message": v.message, "step": v.step}
        return cls(
            reference,
            tuple(events),
            violation,
            result.seed,
            result.liveness_from,
            start_random=trace.randoms(0),
        )

    def phases(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The events of the run proper, and those of its liveness phase."""
        events = list(self.events)
        split = len(events) if self.liveness_from is None else self.liveness_from - 1
        return events[:split], events[split:]

    @property
    def digest(self) -> str:
        """A short hash of the scenario and events: the same failure gets the same name."""
        parts: list[Any] = [self.scenario, [_content(e) for e in self.events]]
        if self.start_random:
            parts.append(list(self.start_random))
        content = canonical_json(parts)
        return hashlib.sha256(content.encode()).hexdigest()[:12]

    def dumps(self) -> str:
        head: dict[str, Any] = {
            "format": FORMAT,
            "scenario": self.scenario,
            "seed": self.seed,
            "rabble_sim": self.version,
            "violation": self.violation,
            "liveness_from": self.liveness_from,
            "steps": len(self.events),
        }
        if self.expect is not None:
            head["expect"] = self.expect
        if self.start_random:
            head["start_random"] = list(self.start_random)
        lines = [
            f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()
        ]
        events = ",\n".join(f"    {json.dumps(e, ensure_ascii=False)}" for e in self.events)
        body = f'  "events": [\n{events}\n  ]' if self.events else '  "events": []'
        return "{\n" + "\n".join(lines) + "\n" + body + "\n}\n"

    def save(self, directory: Path) -> Path:
        """Write to ``directory/<digest>.json`` (once: the same failure is saved once)."""
        path = directory / f"{self.digest}.json"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                tmp = path.with_suffix(".json.tmp")
                tmp.write_text(self.dumps(), encoding="utf-8")
                tmp.replace(path)
        except OSError as e:
            raise UsageError(
                f"cannot save the schedule in {directory}: {e.strerror or e}"
            ) from None
        return path


def _content(plain: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in plain.items() if k != "summary"}


def check_against(schedule: Schedule, scenario: Scenario, source: str) -> None:
    """Refuse a schedule that names what ``scenario`` cannot have: a node it does not have,
    a message or timer of a process on such a node, a message tag no ``@message`` class is
    registered under. Call it once the scenario's module is imported (which registers its
    messages): each problem is a ``UsageError`` naming the event."""
    check_tags(schedule, source)
    nodes = scenario.nodes
    for i, plain in enumerate(schedule.events, 1):
        named = [plain.get("node")] + [
            Pid.parse(plain[key]).node for key in ("to", "pid") if isinstance(plain.get(key), str)
        ]
        groups = plain.get("groups")
        if isinstance(groups, list):
            named += [node for group in groups for node in group]
        strangers = [node for node in named if node is not None and node not in nodes]
        if strangers:
            raise UsageError(
                f"{source}: event {i} names node {strangers[0]!r}, which scenario "
                f"{scenario.name!r} does not have (its nodes: {', '.join(nodes)})"
            )
        if plain.get("kind") == "input":
            to_event(plain, f"{source}: event {i}")  # its message, now that it can be read
        if plain.get("kind") == "partition":
            problem = partition_problem(to_event(plain).groups, nodes)  # type: ignore[union-attr]
            if problem is not None:
                raise UsageError(f"{source}: event {i}: {problem}")


def check_tags(schedule: Schedule, source: str) -> None:
    """Refuse a schedule whose messages carry tags no ``@message`` class is registered
    under. Call it once the scenario's module is imported: importing it registers them."""
    for i, plain in enumerate(schedule.events, 1):
        msg = plain.get("msg")
        if isinstance(msg, dict) and len(msg) == 1:
            ((tag, fields),) = msg.items()
            if isinstance(fields, dict) and REGISTRY.class_of(tag) is None:
                raise UsageError(
                    f"{source}: event {i}: unknown message tag {tag!r} "
                    "(no @message class is registered under it)"
                )


def load(path: str | Path) -> Schedule:
    """Read and validate a schedule file; every problem is a ``UsageError`` naming it."""
    path = Path(path)
    return loads(read_input_text(path, "schedule"), str(path))


def loads(text: str, source: str = "<schedule>") -> Schedule:
    try:
        text.encode("utf-8")
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(
            f"{source}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})"
        ) from None
    except UnicodeEncodeError:
        raise UsageError(f"{source}: holds text that is not valid Unicode") from None
    except (RecursionError, ValueError) as e:  # nesting or numbers beyond any schedule's
        raise UsageError(f"{source}: not a usable JSON document ({type(e).__name__})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{source}: a schedule is a JSON object, not {type(data).__name__}")
    fmt = data.get("format")
    if fmt != FORMAT:
        raise UsageError(f"{source}: unknown format {fmt!r}; this rabble-sim reads {FORMAT!r}")
    scenario = _field(data, "scenario", str, source)
    events = _field(data, "events", list, source)
    seed = _optional(data, "seed", int, source)
    liveness_from = _optional(data, "liveness_from", int, source)
    violation = _optional(data, "violation", dict, source)
    if violation is not None:
        _field(violation, "check", str, f"{source}: violation")
        _field(violation, "message", str, f"{source}: violation")
        step = _optional(violation, "step", int, f"{source}: violation")
        if step is not None and step < 0:
            raise UsageError(f"{source}: violation: 'step' must be 0 or more, not {step}")
    if liveness_from is not None and not 1 <= liveness_from <= len(events) + 1:
        raise UsageError(
            f"{source}: 'liveness_from' must be a step from 1 to {len(events) + 1}, "
            f"not {liveness_from}"
        )
    checked = _checked_events(events, source)
    version = data.get("rabble_sim")
    expect = _optional(data, "expect", str, source)
    if expect not in (None, "violation"):
        raise UsageError(f"{source}: 'expect' is \"violation\" or absent, not {expect!r}")
    if expect == "violation" and violation is None:
        raise UsageError(f"{source}: expects a violation but names none in 'violation'")
    start_random = _randoms(data, "start_random", source)
    return Schedule(
        scenario,
        tuple(checked),
        violation,
        seed,
        liveness_from,
        version if isinstance(version, str) else "unknown",
        expect,
        start_random,
    )


def _checked_events(events: list[Any], source: str) -> list[dict[str, Any]]:
    """The events of a schedule, each checked; a ``UsageError`` naming the first bad one."""
    checked = []
    last_step = 0
    for i, plain in enumerate(events, 1):
        where = f"{source}: event {i}"
        if not isinstance(plain, dict):
            raise UsageError(f"{where}: an event is a JSON object, not {type(plain).__name__}")
        if plain.get("kind") == "input":
            _input_fields(plain, where)  # its message is read once its module is imported
        else:
            to_event(plain, where)
        step = _optional(plain, "step", int, where)
        if step is not None:
            if step < max(last_step, 1):
                raise UsageError(
                    f"{where}: step {step} cannot follow step {last_step} (steps count up from 1)"
                )
            last_step = step
        for key in ("from", "to", "pid"):
            if key in plain:
                _pid(plain, key, where)
        _randoms(plain, "random", where)
        checked.append(plain)
    return checked


def to_event(plain: dict[str, Any], where: str = "event") -> Event:
    """The Event a plain event names; a ``UsageError`` if it is malformed."""
    kind = plain.get("kind")
    build = _BUILDERS.get(kind) if isinstance(kind, str) else None
    if build is None:
        known = ", ".join(_BUILDERS)
        raise UsageError(f"{where}: unknown event kind {kind!r} (known: {known})")
    return build(plain, where)


def _seq(cls: Callable[[int], Event]) -> Callable[[dict[str, Any], str], Event]:
    def build(plain: dict[str, Any], where: str) -> Event:
        seq = _field(plain, "seq", int, where)
        if seq < 0:
            raise UsageError(f"{where}: 'seq' must be 0 or more, not {seq}")
        return cls(seq)

    return build


def _pid(plain: dict[str, Any], key: str, where: str) -> Pid:
    value = _field(plain, key, str, where)
    try:
        return Pid.parse(value)
    except ValueError as e:
        raise UsageError(f"{where}: field {key!r}: {e}") from None


def _node(cls: Callable[[str], Event]) -> Callable[[dict[str, Any], str], Event]:
    return lambda plain, where: cls(_field(plain, "node", str, where))


def _partition(plain: dict[str, Any], where: str) -> Event:
    groups = _field(plain, "groups", list, where)
    if not all(isinstance(g, list) and all(isinstance(n, str) for n in g) for g in groups):
        raise UsageError(f"{where}: 'groups' must be a list of lists of node names")
    one_way = _optional(plain, "one_way", bool, where) or False
    return Partition(tuple(tuple(g) for g in groups), one_way)


def _randoms(data: dict[str, Any], key: str, where: str) -> tuple[int, ...]:
    """The random numbers under ``key``, if any; a ``UsageError`` if they are malformed."""
    values = _optional(data, key, list, where) or []
    if not all(type(v) is int and v >= 0 for v in values):
        raise UsageError(f"{where}: each of {key!r} must be an integer, 0 or more")
    return tuple(values)


def _input_fields(plain: dict[str, Any], where: str) -> tuple[Pid, int, tuple[int, ...]]:
    """An input event's target, source and draws; a ``UsageError`` if one is malformed."""
    to = _pid(plain, "to", where)
    if "msg" not in plain:
        raise UsageError(f"{where}: missing field 'msg'")
    source = _optional(plain, "inputs", int, where) or 0
    draws = _optional(plain, "draws", list, where) or []
    if source < 0 or not all(type(d) is int and d >= 0 for d in draws):
        raise UsageError(f"{where}: 'inputs' and each of 'draws' must be integers, 0 or more")
    return to, source, tuple(draws)


def _input(plain: dict[str, Any], where: str) -> Event:
    to, source, draws = _input_fields(plain, where)
    try:
        msg = message_from_json(plain["msg"])
    except CodecError as e:
        raise UsageError(f"{where}: field 'msg': {e}") from None
    return Input(to, msg, source, draws)


def _drift(plain: dict[str, Any], where: str) -> Event:
    rate = plain.get("rate")
    if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 < rate < 2:
        raise UsageError(f"{where}: 'rate' must be a number between 0 and 2, not {rate!r}")
    return Drift(_field(plain, "node", str, where), float(rate))


def _jump(plain: dict[str, Any], where: str) -> Event:
    ms = _field(plain, "ms", int, where)
    if ms < 0:
        raise UsageError(f"{where}: 'ms' must be 0 or more, not {ms}")
    return Jump(_field(plain, "node", str, where), ms)


_BUILDERS: dict[str, Callable[[dict[str, Any], str], Event]] = {
    "deliver": _seq(Deliver),
    "drop": _seq(Drop),
    "duplicate": _seq(Duplicate),
    "timeout": _seq(FireTimer),
    "crash": _node(Crash),
    "restart": _node(Restart),
    "partition": _partition,
    "heal": lambda plain, where: Heal(),
    "input": _input,
    "drift": _drift,
    "jump": _jump,
    "lose_disk": _node(LoseDisk),
    "corrupt_disk": lambda plain, where: CorruptDisk(_pid(plain, "pid", where)),
}


def _field(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in data:
        raise UsageError(f"{where}: missing field {key!r}")
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise UsageError(f"{where}: field {key!r} must be a {kind.__name__}, not {value!r}")
    return value


def _optional(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    return None if data.get(key) is None else _field(data, key, kind, where)
