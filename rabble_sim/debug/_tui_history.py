"""The terminal debugger's history panel: the clients' operations up to the current step,
one line each, with what each got back (or that it is still waiting)."""

from __future__ import annotations

from typing import Any

import attrs
from rich.style import Style
from rich.text import Text

from ..codec import to_plain
from ..core import HistoryEvent, Pid
from ._session import DebugSession
from ._tui_text import DIM, NEW, PID, PidNames, value_text

SHOWN = 12
"""Operations listed: every one still waiting, then the latest answered ones."""
PENDING = Style(color="#e0af68", bold=True)


@attrs.frozen
class ClientOperation:
    """One operation of a client: invoked at ``invoked`` with ``call``; answered at
    ``answered`` with ``result``, or still waiting (``answered`` None)."""

    client: Pid
    op: int
    call: Any
    invoked: int
    answered: int | None = None
    result: Any = None


def operations(history: tuple[HistoryEvent, ...]) -> list[ClientOperation]:
    """The history's operations in the order they were invoked."""
    by_key: dict[tuple[Pid, int], ClientOperation] = {}
    for event in history:
        key = (event.client, event.op)
        if event.kind == "invoke":
            by_key[key] = ClientOperation(event.client, event.op, event.value, event.step)
        elif key in by_key:
            by_key[key] = attrs.evolve(by_key[key], answered=event.step, result=event.value)
    return list(by_key.values())


def history_title(session: DebugSession) -> str:
    ops = operations(session.history())
    waiting = sum(1 for op in ops if op.answered is None)
    return f"history · {len(ops)} operations · {waiting} waiting"


def history_text(session: DebugSession) -> Text:
    """Every operation still waiting and the latest answered ones, oldest first: the
    client, its number for the operation, the call, and the answer with its step; what
    this step invoked or answered is marked new."""
    ops = operations(session.history())
    waiting = [op for op in ops if op.answered is None]
    answered = [op for op in ops if op.answered is not None]
    kept = answered[max(0, len(answered) - max(SHOWN - len(waiting), 0)) :]
    shown = sorted([*kept, *waiting], key=lambda op: (op.invoked, str(op.client), op.op))
    names = PidNames(session)
    now = session.step
    text = Text()
    if len(shown) < len(ops):
        text.append(f"{len(ops) - len(shown)} earlier operations answered\n", DIM)
    for i, op in enumerate(shown):
        text.append("\n" if i else "")
        text.append(f"{names.short(str(op.client))} #{op.op} ", PID)
        text.append(value_text(to_plain(op.call), compact=True))
        if op.answered is None:
            text.append("  waiting", PENDING)
        else:
            text.append(f"  → {value_text(to_plain(op.result), compact=True)}")
            text.append(f"  (step {op.answered})", DIM)
        if now in (op.invoked, op.answered):
            text.append("  new", NEW)
    return text
