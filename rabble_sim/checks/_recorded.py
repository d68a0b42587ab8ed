"""Reading client histories recorded by real nodes (``history.jsonl``) for the checker.

A node run with ``rabble-sim serve --data-dir DIR`` appends each ``invoke`` and
``complete`` of its processes to ``DIR/history.jsonl``, one JSON object a line:
``kind`` (``"invoke"`` or ``"ok"``), ``client`` (the pid's string form), ``op``, ``value``
(the call or the result, as plain data) and ``time`` (nanoseconds of the node's wall
clock). A ``"start"`` line (with ``node`` and ``time``) opens each life of the node.

``recorded_events(paths)`` merges several such files (one per client node) by time into
the events a simulated run records, so that the same history check
(``linearizable(model)``) judges them; ``read_recorded(paths)`` gives the ``History``.
Merging files of several machines is only as right as their clocks are synchronized.

A crash of the machine can tear the line being written (half an object, no newline); the
node's next life starts a new line after it. So a line that is not JSON at the end of the
file, or just before a ``start`` line, is a torn line: it is skipped with a
``TornLineWarning``. Anywhere else it is an error, as is any other malformed line.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..core import HistoryEvent, Pid, UsageError
from ._history import History, history_from_events
from ._parse import read_text

_KINDS = ("invoke", "ok")
MAX_DEPTH = 100
"""The deepest nesting of arrays and objects a call or a result may have."""


class TornLineWarning(UserWarning):
    """A line of a recorded history was torn by a crash and skipped."""


def recorded_events(paths: Iterable[Path]) -> list[HistoryEvent]:
    """The events of the history files ``paths``, merged by time.

    JSON arrays are read back as tuples (deeply), as a process sent them: a model sees
    ``("put", "x", "a")``, not a list. A client that restarted (a second ``start`` line)
    becomes a new client, ``client#2``. Each event's ``step`` is its place in the merged
    history and ``time`` its recorded time (ns); at equal times invocations come first,
    so that such operations overlap. A torn line that ends a life of the node is skipped
    with a ``TornLineWarning``; anything else malformed is a ``UsageError`` naming the
    file and line.
    """
    lines: list[tuple[int, bool, int, int, HistoryEvent]] = []
    owner: dict[Pid, Path] = {}
    for number, path in enumerate(paths):
        for line, event in _read(path):
            first = owner.setdefault(event.client, path)
            if first != path:
                raise UsageError(
                    f"{path}:{line}: client {event.client} is also in {first} "
                    "(the same history given twice?)"
                )
            lines.append((event.time, event.kind != "invoke", number, line, event))
    lines.sort(key=lambda entry: entry[:4])
    return [
        HistoryEvent(e.kind, e.client, e.op, e.value, step, e.time)
        for step, (*_, e) in enumerate(lines)
    ]


def read_recorded(paths: Iterable[Path]) -> History:
    """The history of the files ``paths`` (see ``recorded_events``), for
    ``check_linearizability``; its times are the events' places in the merged history."""
    paths = list(paths)
    source = ", ".join(str(path) for path in paths)
    return history_from_events(recorded_events(paths), source)


def _read(path: Path) -> list[tuple[int, HistoryEvent]]:
    events: list[tuple[int, HistoryEvent]] = []
    life = 0
    pending: set[tuple[Pid, int]] = set()
    done: set[tuple[Pid, int]] = set()
    last = 0
    lines = read_text(path).split("\n")
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"{path}:{number}"
        data = _object(where, raw, torn=functools.partial(_ends_a_life, lines, number))
        if data is None:
            continue
        time = data.get("time")
        if not isinstance(time, int) or isinstance(time, bool):
            raise UsageError(f"{where}: 'time' must be an integer (nanoseconds), got {time!r}")
        if time < last:
            raise UsageError(f"{where}: time {time} is before the previous line's {last}")
        last = time
        if data.get("kind") == "start":
            life += 1
            continue
        event = _event(where, data, life)
        key = (event.client, event.op)
        if event.kind == "invoke":
            if key in pending or key in done:
                raise UsageError(f"{where}: {event.client} invokes operation {event.op} twice")
            pending.add(key)
        elif key not in pending:
            raise UsageError(
                f"{where}: {event.client} completes operation {event.op}, never invoked"
            )
        else:
            pending.remove(key)
            done.add(key)
        events.append((number, event))
    return events


def _ends_a_life(lines: list[str], number: int) -> bool:
    """Whether line ``number`` (from 1) is the last of a life of the node: the file's last
    line, or one followed by a ``start`` line (blank lines aside)."""
    for after in lines[number:]:
        if after.strip():
            try:
                following = json.loads(after)
            except (json.JSONDecodeError, RecursionError):
                return False
            return isinstance(following, dict) and following.get("kind") == "start"
    return True


def _object(where: str, raw: str, *, torn: Callable[[], bool]) -> dict[str, Any] | None:
    """One line's JSON object; None, after a warning, for a line that is not JSON but may
    be ``torn()`` (it ends a life of the node: a crash cut it short)."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        if torn():
            warnings.warn(
                f"{where}: skipped a torn line (the machine crashed while it was written?): "
                f"{_shorten(raw)}",
                TornLineWarning,
                stacklevel=2,
            )
            return None
        raise UsageError(f"{where}: not JSON ({e.msg} at column {e.colno})") from None
    except RecursionError:
        raise UsageError(f"{where}: nested too deeply to be a history line") from None
    if not isinstance(data, dict):
        raise UsageError(f"{where}: expected a JSON object, got {_kind_of(data)}")
    return data


def _shorten(raw: str, most: int = 60) -> str:
    return repr(raw if len(raw) <= most else raw[:most] + "...")


def _event(where: str, data: dict[str, Any], life: int) -> HistoryEvent:
    """An invoke or ok line as an event (``step`` 0); the client of the node's ``life``-th
    start (from 1) after the first is renamed ``name#life``."""
    kind = data.get("kind")
    if kind not in _KINDS:
        raise UsageError(f"{where}: unknown kind {kind!r} (expected start, invoke or ok)")
    missing = [field for field in ("client", "op", "value") if field not in data]
    if missing:
        raise UsageError(f"{where}: an {kind} line needs {', '.join(map(repr, missing))}")
    op = data["op"]
    if not isinstance(op, int) or isinstance(op, bool):
        raise UsageError(f"{where}: 'op' must be an integer, got {op!r}")
    try:
        client = Pid.parse(str(data["client"]))
    except ValueError as e:
        raise UsageError(f"{where}: {e}") from None
    if life > 1:
        client = Pid(f"{client.name}#{life}", client.node, client.group)
    value = _frozen(data["value"], where)
    return HistoryEvent(kind, client, op, value, 0, data["time"])


def _frozen(value: Any, where: str, depth: int = 0) -> Any:
    """``value`` with every JSON array a tuple (inside objects too); a ``UsageError`` if it
    is nested more than ``MAX_DEPTH`` deep."""
    if isinstance(value, list | dict):
        if depth >= MAX_DEPTH:
            raise UsageError(f"{where}: 'value' is nested more than {MAX_DEPTH} deep")
        if isinstance(value, list):
            return tuple(_frozen(item, where, depth + 1) for item in value)
        return {key: _frozen(item, where, depth + 1) for key, item in value.items()}
    return value


def _kind_of(data: Any) -> str:
    return "an array" if isinstance(data, list) else f"{json.dumps(data)}"
