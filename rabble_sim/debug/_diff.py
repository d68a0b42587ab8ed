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
    """One field whose value differs: ``path`` is where (``log[2].view``; ``""`` for the
    whole state), ``before`` and ``after`` its plain values, ``MISSING`` when absent."""

    path: str
    before: Any
    after: Any

    def __str__(self) -> str:
        where = self.path or "state"
        if self.before is MISSING:
            return f"{where} + {_short(self.after)}"
        if self.after is MISSING:
            return f"{where} - {_short(self.before)}"
        return f"{where}: {_short(self.before)} -> {_short(self.after)}"


def diff(before: Plain | Any, after: Plain | Any, path: str = "") -> list[Change]:
    """The changes from ``before`` to ``after`` (plain data, or ``MISSING``), the deepest
    paths that differ, in a stable order: dict keys sorted, list items by index."""
    if before == after and type(before) is type(after):
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[Change] = []
        for key in sorted({*before, *after}):
            changes += diff(before.get(key, MISSING), after.get(key, MISSING), _key(path, key))
        return changes
    if isinstance(before, list) and isinstance(after, list):
        changes = []
        for i in range(max(len(before), len(after))):
            old = before[i] if i < len(before) else MISSING
            new = after[i] if i < len(after) else MISSING
            changes += diff(old, new, f"{path}[{i}]")
        return changes
    return [Change(path, before, after)]


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _short(value: Any, limit: int = 60) -> str:
    text = canonical_json(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
