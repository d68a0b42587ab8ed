"""The terminal debugger's words: one palette, and the Rich text of each panel read off a
DebugSession (the step, the processes, the network, the violation).

Each panel's text is built by a function of the session, away from the widgets, so a test can
read exactly what a panel shows (its words and their styles).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from rich.style import Style
from rich.text import Text

from ..codec import Plain
from ..core import Pid, executor_pid
from ..sim import envelope_plain
from ._diff import MISSING, Change, diff
from ._session import DebugSession
from ._step import Step

# One palette for every panel, so a kind or a state reads the same everywhere.
KIND_COLOURS = {
    "start": "#a9b1d6",
    "deliver": "#7aa2f7",
    "timeout": "#bb9af7",
    "drop": "#e0af68",
    "duplicate": "#e0af68",
    "crash": "#f7768e",
    "restart": "#9ece6a",
    "partition": "#ff9e64",
    "heal": "#73daca",
    "drift": "#e0af68",
    "jump": "#e0af68",
    "lose_disk": "#f7768e",
    "corrupt_disk": "#f7768e",
}
CHANGED = Style(color="#e0af68", bold=True)
"""A field that changed in the current step."""
WAS = Style(color="#737aa2", italic=True)
DIM = Style(color="#737aa2")
DOWN = Style(color="#f7768e", bold=True)
NEW = Style(color="#9ece6a", bold=True)
BLOCKED = Style(color="#ff9e64", bold=True)
VIOLATION = Style(color="#ffffff", bgcolor="#8c1c2c", bold=True)
VIOLATION_CURRENT = Style(color="#ffffff", bgcolor="#c0314a", bold=True)
LIVENESS = Style(color="#2ac3de")
CURRENT = Style(bgcolor="#2f3f73", bold=True)
BREAKPOINT = Style(color="#f7768e", bold=True)
PID = Style(color="#c0caf5", bold=True)
NEXT = Style(color="#9ece6a", italic=True)
"""The schedule's own next step, among the events enabled."""
BRANCH = Style(color="#ff9e64", bold=True)
"""A session that branched off the schedule it opened."""

CHANGED_MARK = "●"
BREAKPOINT_MARK = "●"
LIVENESS_MARK = "┃"
VIOLATION_MARK = "✗"


def kind_style(kind: str) -> Style:
    return Style(color=KIND_COLOURS.get(kind, "#c0caf5"))


def value_text(value: Any, *, compact: bool = False) -> str:
    """Plain data as JSON a person reads: sorted keys, spaces after commas and colons
    unless ``compact`` (then a value never wraps inside, only between values)."""
    if value is MISSING:
        return "(none)"
    separators = (",", ":") if compact else (", ", ": ")
    return json.dumps(value, sort_keys=True, separators=separators, ensure_ascii=False)


def message_text(msg: Plain, *, limit: int = 40, bare: bool = False) -> str:
    """``tag(field=value, ...)`` for a plain message, each value cut at ``limit``; a
    ``bare`` tag without its namespace (``heartbeat`` for ``omega.heartbeat``)."""
    if isinstance(msg, dict) and len(msg) == 1:
        ((tag, fields),) = msg.items()
        tag = tag.rsplit(".", 1)[-1] if bare else tag
        if isinstance(fields, dict):
            args = ", ".join(f"{k}={_cut(value_text(v), limit)}" for k, v in fields.items())
            return f"{tag}({args})"
    return _cut(value_text(msg), limit)


def cid_text(cid: Plain) -> str:
    """A plain correlation id as ``pid``, ``pid/request`` or ``pid/request/handle``."""
    if not isinstance(cid, dict) or "pid" not in cid:
        return value_text(cid)
    parts = [cid["pid"], *(cid[k] for k in ("request", "handle") if cid.get(k) is not None)]
    return "/".join(str(part) for part in parts)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_EXECUTOR = executor_pid("n")
EXECUTOR = f"{_EXECUTOR.group}::{_EXECUTOR.name}::"
"""How every executor's pid starts (``rabble::executor::``), written ``executor::n``."""


class PidNames:
    """Pids as the narrow event list writes them: the node alone when every process of
    the schedule has the same name (``omega::b`` is ``b``), in full otherwise."""

    def __init__(self, session: DebugSession):
        names = {(pid.group, pid.name) for pid in session.pids}
        self.prefix = ""
        if len(names) == 1:
            ((group, name),) = names
            self.prefix = f"{name}::" if group is None else f"{group}::{name}::"

    def short(self, pid: str) -> str:
        if pid.startswith(EXECUTOR):
            return pid.removeprefix(f"{_EXECUTOR.group}::")
        return pid.removeprefix(self.prefix) if self.prefix else pid


def event_line(step: Step, names: PidNames) -> str:
    """The event of a step in a few words, without its kind: what the list shows."""
    plain = step.plain
    if step.kind == "input":
        return f"→{names.short(plain['to'])} {message_text(plain['msg'], limit=12, bare=True)}"
    if "msg" in plain:
        msg = message_text(plain["msg"], limit=12, bare=True)
        return f"#{plain['seq']} {names.short(plain['from'])}→{names.short(plain['to'])} {msg}"
    if step.kind == "timeout":
        return f"#{plain['seq']} at {names.short(plain['pid'])}"
    if step.kind == "partition":
        way = " (one way)" if plain.get("one_way") else ""
        return " | ".join(",".join(group) for group in plain["groups"]) + way
    if step.kind == "corrupt_disk":
        return names.short(plain["pid"])
    if "node" in plain:
        extra = {"drift": f" x{plain.get('rate')}", "jump": f" +{plain.get('ms')}ms"}
        return str(plain["node"]) + extra.get(step.kind, "")
    return ""


def step_text(session: DebugSession) -> Text:
    """The current event in full, where its message or timer came from, and what it sent."""
    step = session.current
    names = PidNames(session)
    plain = step.plain
    text = Text()
    text.append(step.kind, kind_style(step.kind) + Style(bold=True))
    if step.kind == "input":
        text.append("  ")
        text.append(f"→ {plain['to']}", PID)
        text.append("\n" + message_text(plain["msg"], limit=200), Style(bold=True))
    elif "msg" in plain:
        text.append(f" #{plain['seq']}  ")
        text.append(f"{plain['from']} → {plain['to']}", PID)
        text.append("\n" + message_text(plain["msg"], limit=200), Style(bold=True))
        if "cid" in plain:
            text.append(f"\ncid {cid_text(plain['cid'])}", DIM)
    else:
        text.append(" " + step.summary.removeprefix(step.kind).lstrip())
    seq = step.seq
    origin = session.sender_step(seq) if seq is not None else None
    if origin is not None:
        what = "timer" if step.kind == "timeout" else "message"
        text.append(f"\n{what} #{seq} from step {origin}", DIM)
    if step.number == 0:
        text.append(f"\n{len(session.states())} processes start", DIM)
    if not step.sent:
        text.append("\nsent nothing", DIM)
        return text
    text.append(f"\nsent {len(step.sent)}:", DIM)
    for env in step.sent:
        plain = envelope_plain(env)
        text.append("\n  → ")
        text.append(names.short(plain["to"]), PID)
        text.append("  " + message_text(plain["msg"]))
    return text


def process_text(session: DebugSession, pid: Pid) -> tuple[Text, Text]:
    """A process's heading and its state as ``field=value`` pairs, which wrap between
    pairs (so several processes fit on a small screen). The fields this step changed are
    marked and coloured, with their old value; a process not running is shown as down."""
    state = session.states().get(pid)
    mine = session.diff(pid)
    heading = Text(str(pid), PID)
    fields = Text()
    if state is None:
        heading.append("  down", DOWN)
        if mine:
            heading.append(" · stopped in this step", CHANGED)
        return heading, fields
    if any(change.before is MISSING and not change.keys for change in mine):
        heading.append("  started in this step", NEW)
    elif mine:
        heading.append(f"  {CHANGED_MARK} {len(mine)} changed", CHANGED)
    if not isinstance(state, dict):
        fields.append(value_text(state, compact=True))
        return heading, fields
    for i, (key, value) in enumerate(state.items()):
        fields.append(" " if i else "")
        field(fields, key, value, [c for c in mine if _field_of(c) == key])
    return heading, fields


def field(text: Text, key: str, value: Any, changes: list[Change]) -> None:
    """Append ``key=value``; when it changed, marked, with what it was."""
    if not changes:
        text.append(f"{key}=", DIM)
        text.append(value_text(value, compact=True))
        return
    text.append(f"{CHANGED_MARK}{key}=", CHANGED)
    text.append(value_text(value, compact=True), CHANGED)
    before = old_value(key, value, changes)
    if before is MISSING:
        text.append(" (new)", WAS)
    elif before is not UNKNOWN and len(was := value_text(before, compact=True)) <= WAS_LIMIT:
        text.append(f" (was {was})", WAS)
    else:
        # Too long to read as a whole, or not rebuilt: each change inside the field.
        text.append(" (" + "; ".join(str(change) for change in changes) + ")", WAS)


UNKNOWN: Any = object()
"""An old value that could not be rebuilt (None is a value: JSON's null)."""

WAS_LIMIT = 60
"""The longest old value written out whole; past it, the changes inside it are shown."""


def old_value(key: str, after: Any, changes: list[Change]) -> Any:
    """What field ``key`` held before ``changes`` (the session's changes inside it, from
    the step before), rebuilt from its value now; ``MISSING`` when the field is new,
    ``UNKNOWN`` when a change's path cannot be followed."""
    if len(changes) == 1 and changes[0].keys == (key,):
        return changes[0].before
    before = copy.deepcopy(after)
    removed: list[tuple[Any, str | int]] = []
    for change in changes:
        steps = change.keys[1:]
        if not steps:
            return UNKNOWN
        parent = before
        try:
            for step in steps[:-1]:
                parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return UNKNOWN
        last = steps[-1]
        if change.before is MISSING:
            removed.append((parent, last))
        elif isinstance(parent, list) and last == len(parent):
            parent.append(change.before)  # the list was longer: its tail comes back
        else:
            parent[last] = change.before
    # Items added at the end of a list go last, from the end, so indexes stay right.
    for parent, last in sorted(removed, key=lambda item: _index(item[1]), reverse=True):
        del parent[last]
    # Keep only a rebuilt value that gives back exactly the changes the session reported.
    return before if diff(before, after, (key,)) == changes else UNKNOWN


def _index(step: str | int) -> int:
    return step if isinstance(step, int) else -1


def _field_of(change: Change) -> str | int | None:
    """The top-level field a change is in: ``log[2].view`` is in ``log``."""
    return change.keys[0] if change.keys else None


def network_title(session: DebugSession) -> str:
    pending = session.pending()
    return (
        f"in flight {len(pending.messages)} · timers {len(pending.timers)} · now {pending.now} ms"
    )


def network_text(session: DebugSession) -> Text:
    """The messages in flight (blocked ones marked) and the timers pending, oldest and
    soonest first; the ones this step made are marked new."""
    pending = session.pending()
    created = session.current.created
    names = PidNames(session)
    digits = len(str(max((m.seq for m in pending.messages), default=0)))
    digits = max(digits, len(str(max((t.seq for t in pending.timers), default=0))))
    text = Text()
    if not pending.messages:
        text.append("no messages in flight", DIM)
    for i, message in enumerate(pending.messages):
        plain = envelope_plain(message.envelope)
        text.append("\n" if i else "")
        text.append(f"#{message.seq:<{digits}} ", DIM)
        text.append(f"{names.short(plain['from'])} → {names.short(plain['to'])}", PID)
        text.append("  " + message_text(plain["msg"]))
        if message.blocked:
            text.append("  blocked", BLOCKED)
        elif message.arrives is not None:
            text.append(f"  arrives {message.arrives}", DIM)
        if message.seq in created:
            text.append("  new", NEW)
    text.append("\n")
    if not pending.timers:
        text.append("\nno timers pending", DIM)
    for timer in pending.timers:
        text.append(f"\n#{timer.seq:<{digits}} ", DIM)
        text.append("timer ", kind_style("timeout"))
        text.append(names.short(str(timer.pid)), PID)
        text.append(f"  due {timer.due}")
        text.append(f" (+{timer.due - pending.now})", DIM)
        if timer.seq in created:
            text.append("  new", NEW)
    if pending.cut:
        text.append("\n\ncut ", kind_style("partition"))
        text.append(", ".join(f"{a}→{b}" for a, b in pending.cut))
    for node, rate, reading in pending.clocks:
        text.append(f"\nclock {node} ", kind_style("drift"))
        text.append(f"x{rate:g}, reads {reading}")
    return text


def violation_text(session: DebugSession) -> Text:
    """The failed check and its message (its traceback is a panel of its own, last, so
    that a long one does not push the step and the processes off a small screen)."""
    violation = session.current.violation
    if violation is None:
        return Text()
    text = Text()
    text.append(violation.check, Style(bold=True))
    text.append("\n" + violation.message)
    return text


def traceback_text(session: DebugSession) -> Text:
    violation = session.current.violation
    if violation is None or not violation.traceback:
        return Text()
    return Text(violation.traceback.rstrip(), DIM)
