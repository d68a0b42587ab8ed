"""What changed in a process's state between two steps, field by field, as plain data."""

from __future__ import annotations

from typing import Any

import attrs

from ..codec import Plain, canonical_json


class _Missing:
    """Stands for a field that does not exist on one side of a change (added or removed)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@attrs.frozen
class Change:
    """One value that differs: ``keys`` lead to it from the state's top (dict keys and
    list indexes; empty for the whole state), ``before`` and ``after`` are its plain
    values, ``MISSING`` when absent."""

    keys: tuple[str | int, ...]
    before: Any
    after: Any

    @property
    def path(self) -> str:
        """``keys`` written out: ``log[2].view``; a key that is not a name is quoted,
        as in ``pending["echo.request"]``, so every path reads one way."""
        text = ""
        for key in self.keys:
            if isinstance(key, int):
                text += f"[{key}]"
            elif key.isidentifier():
                text += f".{key}" if text else key
            else:
                text += f"[{canonical_json(key)}]"
        return text

    def __str__(self) -> str:
        where = self.path or "state"
        if self.before is MISSING:
            return f"{where} + {_short(self.after)}"
        if self.after is MISSING:
            return f"{where} - {_short(self.before)}"
        return f"{where}: {_short(self.before)} -> {_short(self.after)}"


def diff(before: Plain | Any, after: Plain | Any, keys: tuple[str | int, ...] = ()) -> list[Change]:
    """The changes from ``before`` to ``after`` (plain data, or ``MISSING``), the deepest
    values that differ, in a stable order: dict keys sorted, list items by index."""
    if before == after and type(before) is type(after):
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[Change] = []
        for key in sorted({*before, *after}):
            changes += diff(before.get(key, MISSING), after.get(key, MISSING), (*keys, key))
        return changes
    if isinstance(before, list) and isinstance(after, list):
        changes = []
        for i in range(max(len(before), len(after))):
            old = before[i] if i < len(before) else MISSING
            new = after[i] if i < len(after) else MISSING
            changes += diff(old, new, (*keys, i))
        return changes
    return [Change(keys, before, after)]


def _short(value: Any, limit: int = 60) -> str:
    text = canonical_json(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
