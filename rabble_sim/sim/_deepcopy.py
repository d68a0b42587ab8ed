"""A deep copy of process state, equal to what ``copy.deepcopy`` makes, three to four
times faster.

Exploration copies a process before it runs in a forked world, and postconditions copy
it before every ``handle``: ``copy.deepcopy`` spends most of that time in the generic
protocol (``__reduce_ex__``, a state dict, ``__setstate__``) for each attrs instance, and
in copying pids, which are immutable. Here the plain containers, sets, pids and attrs
instances are copied directly with the same memo (two references to one list stay two
references to one copy), sharing what ``copy.deepcopy`` shares and one thing more: a
frozen attrs instance whose fields are all atoms (a message of numbers and strings) is a
value, shared as a tuple of atoms is. Anything else (a class with its own
``__deepcopy__``, ``__reduce__`` or state methods, a subclass of a builtin) is handed to
``copy.deepcopy`` with the same memo. As there, the memo is keyed by ``id()`` of objects
that stay alive through the copy: nothing depends on the ids' values, so copies are the
same in every run.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import attrs

from ..core import CorrelationId, Pid

_ATOMS: frozenset[type] = frozenset(
    {int, float, bool, complex, str, bytes, type(None), range, Pid, CorrelationId}
)
"""Immutable all the way down: shared, as ``copy.deepcopy`` shares its atoms (pids and
cids are named tuples of atoms)."""

_Copier = Callable[[Any, dict[int, Any]], Any]
_COPIERS: dict[type, _Copier | None] = {}
"""How each type seen so far is copied here; None: by ``copy.deepcopy``."""


def deepcopy(value: Any) -> Any:
    """``copy.deepcopy(value)``, faster on attrs classes."""
    return _copy(value, {})


def _copy(value: Any, memo: dict[int, Any]) -> Any:
    cls = type(value)
    if cls in _ATOMS:
        return value
    try:
        copier = _COPIERS[cls]
    except KeyError:
        copier = _copier_of(cls)
    if copier is None:
        return copy.deepcopy(value, memo)
    found = memo.get(id(value))
    if found is not None:
        return found
    return copier(value, memo)


def _copy_list(value: list[Any], memo: dict[int, Any]) -> list[Any]:
    clone: list[Any] = []
    memo[id(value)] = clone
    clone.extend(_copy(item, memo) for item in value)
    return clone


def _copy_dict(value: dict[Any, Any], memo: dict[int, Any]) -> dict[Any, Any]:
    clone: dict[Any, Any] = {}
    memo[id(value)] = clone
    for key, item in value.items():
        clone[_copy(key, memo)] = _copy(item, memo)
    return clone


def _copy_tuple(value: tuple[Any, ...], memo: dict[int, Any]) -> tuple[Any, ...]:
    items = [_copy(item, memo) for item in value]
    # As copy.deepcopy: a tuple whose items all copy to themselves is itself.
    if all(a is b for a, b in zip(items, value, strict=True)):
        return value
    clone = tuple(items)
    memo[id(value)] = clone
    return clone


def _copy_set(value: set[Any] | frozenset[Any], memo: dict[int, Any]) -> Any:
    # As copy.deepcopy: a new set (a frozenset too) of the items' copies.
    clone = type(value)(_copy(item, memo) for item in value)
    memo[id(value)] = clone
    return clone


def _copier_of(cls: type) -> _Copier | None:
    """How instances of ``cls`` are copied here, decided once per type."""
    copier: _Copier | None = None
    if cls is list:
        copier = _copy_list
    elif cls is dict:
        copier = _copy_dict
    elif cls is tuple:
        copier = _copy_tuple
    elif cls is set or cls is frozenset:
        copier = _copy_set
    elif attrs.has(cls):
        copier = _attrs_copier(cls)
    _COPIERS[cls] = copier
    return copier


def _plain_protocol(cls: type, props: attrs.ClassProps) -> bool:
    """Whether ``copy.deepcopy`` would copy ``cls`` field by field: no copy or pickle
    methods of its own, but those attrs added (``props``), which go field by field."""
    if hasattr(cls, "__deepcopy__") or hasattr(cls, "__copy__"):
        return False
    if any(getattr(cls, name) is not getattr(object, name) for name in _REDUCE):
        return False
    if props.added_pickling:
        return True
    return all(getattr(cls, name, None) is getattr(object, name, None) for name in _STATE)


_REDUCE = ("__reduce_ex__", "__reduce__")
_STATE = ("__getstate__", "__setstate__")


def _attrs_copier(cls: type) -> _Copier | None:
    """A copier of attrs class ``cls``: its fields (slotted), or its ``__dict__``, which
    holds its fields and anything else set on it; None for a class with both, with slots
    that are not fields, or that attrs did not make itself (a plain subclass of one):
    ``copy.deepcopy`` knows those."""
    try:
        props = attrs.inspect(cls)  # how attrs made it: public API
    except attrs.exceptions.NotAnAttrsClassError:
        return None
    if not _plain_protocol(cls, props):
        return None
    names = tuple(field.name for field in attrs.fields(cls))
    slots = {
        name
        for klass in cls.__mro__
        for name in getattr(klass, "__slots__", ())
        if name not in ("__weakref__", "__dict__")
    }
    has_dict = cls.__dictoffset__ != 0
    setattr_, new = object.__setattr__, object.__new__

    def copy_fields(value: Any, memo: dict[int, Any]) -> Any:
        clone: Any = new(cls)
        memo[id(value)] = clone
        for name in names:
            setattr_(clone, name, _copy(getattr(value, name), memo))
        return clone

    def copy_frozen(value: Any, memo: dict[int, Any]) -> Any:
        # A frozen instance of atoms is a value, shared as a tuple of atoms is.
        for name in names:
            if type(getattr(value, name)) not in _ATOMS:
                return copy_fields(value, memo)
        return value

    def copy_dict(value: Any, memo: dict[int, Any]) -> Any:
        clone: Any = new(cls)
        memo[id(value)] = clone
        clone.__dict__.update(_copy_dict(value.__dict__, memo))
        return clone

    if has_dict:
        return None if slots else copy_dict
    if slots != set(names):
        return None
    return copy_frozen if props.is_frozen else copy_fields
