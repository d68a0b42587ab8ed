"""Plain data for fingerprints: what ``to_plain`` makes of a value, made faster.

Exploration turns the process each step changed into plain data for every state it
reaches; ``to_plain`` decides each value's case anew. Here a converter is chosen once per
exact type for the types states are made of, each doing what ``to_plain`` does for that
type (the tests hold them to it); any other type, and any subclass, is left to
``to_plain`` itself.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from typing import Any

import attrs

from ..codec import Plain, to_plain
from ..core import REGISTRY, Pid

CANONICAL_JSON = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), allow_nan=True, check_circular=False
)
"""``canonical_json``'s encoder, made once (``json.dumps`` makes one per call with these
options); plain data holds no cycle to check for."""


def plain_data(obj: Any) -> Plain:
    """``to_plain(obj)``, the same data made faster: a converter chosen once per type for
    the types states are made of (attrs classes, pids, named tuples, dicts, lists, tuples,
    sets), each doing what ``to_plain`` does for that exact type; any other type, and any
    subclass, left to ``to_plain`` itself. A changed process is made into plain data for
    every state a step reaches."""
    try:
        return _plain(obj)
    except RecursionError:
        return to_plain(obj)  # which says what is wrong


_ATOMS = frozenset({type(None), bool, int, float, str})
_CONVERTERS: dict[type, Callable[[Any], Plain]] = {}


def _plain(obj: Any) -> Plain:
    cls = type(obj)
    if cls in _ATOMS:
        return obj  # type: ignore[no-any-return]
    convert = _CONVERTERS.get(cls)
    if convert is None:
        convert = _CONVERTERS[cls] = _converter(cls)
    return convert(obj)


def _converter(cls: type) -> Callable[[Any], Plain]:
    """How ``to_plain`` converts an object of exactly type ``cls``, in its order of cases."""
    if cls is Pid:
        return str
    if attrs.has(cls) and not issubclass(cls, bool | int | float | str | Pid):
        return _attrs_converter(cls)
    if cls is dict:
        return _dict
    if issubclass(cls, tuple) and hasattr(cls, "_fields") and not issubclass(cls, Pid):
        names: tuple[str, ...] = cls._fields
        return lambda obj: {name: _plain(x) for name, x in zip(names, obj, strict=True)}
    if cls is list or cls is tuple:
        return _list
    if cls is set or cls is frozenset:
        return _set
    return to_plain


def _attrs_converter(cls: type) -> Callable[[Any], Plain]:
    """An attrs class: its fields by name, under its tag if it is a registered message
    (asked each time, as ``to_plain`` does)."""
    names = tuple(field.name for field in attrs.fields(cls))
    tag_of = REGISTRY.tag_of
    values: Callable[[Any], tuple[Any, ...]]
    if len(names) > 1:
        values = operator.attrgetter(*names)  # all of them in one call
    else:
        values = lambda obj: tuple(getattr(obj, name) for name in names)  # noqa: E731

    def convert(obj: Any) -> Plain:
        fields = {name: _plain(x) for name, x in zip(names, values(obj), strict=True)}
        tag = tag_of(cls)
        return {tag: fields} if tag is not None else fields

    return convert


def _list(obj: list[Any] | tuple[Any, ...]) -> Plain:
    return [_plain(x) for x in obj]


def _set(obj: set[Any] | frozenset[Any]) -> Plain:
    return sorted((_plain(x) for x in obj), key=CANONICAL_JSON.encode)


def _dict(obj: dict[Any, Any]) -> Plain:
    """Keys that are strings (or pids) keep a dict, sorted; others make sorted pairs."""
    pairs = [(_plain(k), _plain(v)) for k, v in obj.items()]
    keys = [k for k, _ in pairs]
    if all(isinstance(k, str) for k in keys) and len(set(keys)) == len(keys):
        return {str(k): v for k, v in sorted(pairs, key=lambda pair: str(pair[0]))}
    ordered = sorted(pairs, key=lambda pair: CANONICAL_JSON.encode(pair[0]))
    return [[k, v] for k, v in ordered]
