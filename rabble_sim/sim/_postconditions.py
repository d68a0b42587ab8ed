"""Copies of a process: the one its postconditions compare with what ``handle`` made of it,
and the one a forked world makes before it runs a process it shares (exploration)."""

from __future__ import annotations

import copy
from typing import Any

from ..core import InvalidDefinition
from ._deepcopy import deepcopy


def copy_of(proc: Any, why: str) -> Any:
    """A copy of ``proc`` as it is before ``handle`` (``why``: what for); an
    ``InvalidDefinition`` naming the field that cannot be copied, if one cannot."""
    try:
        return deepcopy(proc)
    except Exception as e:
        field = _uncopyable_field(proc)
        where = f"its field {field!r}" if field else "it"
        raise InvalidDefinition(
            f"{proc.pid} cannot be copied {why}: {where} holds something "
            f"that cannot be copied ({type(e).__name__}: {e}); process state must be plain "
            "data (attrs classes, dicts, lists, sets, tuples, numbers, strings)"
        ) from None


def _uncopyable_field(proc: Any) -> str | None:
    """The first attribute of ``proc`` that ``copy.deepcopy`` refuses, if one does."""
    names = [*getattr(proc, "__dict__", {}), *getattr(type(proc), "__slots__", ())]
    for name in names:
        try:
            copy.deepcopy(getattr(proc, name))
        except Exception:
            return str(name)
    return None
