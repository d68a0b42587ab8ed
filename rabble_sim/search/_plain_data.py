"""Plain data for fingerprints: what ``to_plain`` makes of a value, with the class of every
object named, and made faster.

``to_plain`` makes an object of any class a dict of its fields, for files and display, so a
``Follower(term=3)`` and a ``Leader(term=3)`` in a process's ``role`` are the same data;
but they are not the same state, and a fingerprint that took them for one would leave the
other unexplored. Here an attrs class that is not a registered message (whose tag names it
already), a dataclass, a named tuple, an enum member and a plain object are each
``{"<module.Class>": what to_plain makes of it}``, an object of declared fields with
anything else set on it besides; everything else is what ``to_plain`` makes of it (the
tests hold the two together), but the values of the standard library listed in ``_VALUES``
that ``to_plain`` writes as their class's name only (a deque, a ``Decimal``, a date, a
function...), here each by what tells two apart. Other objects without attributes (a
lock, a generator, an object of a C extension) are still their class's name only.

Exploration turns the process each step changed into plain data for every state it
reaches; ``to_plain`` decides each value's case anew. Here a converter is chosen once per
exact type, in ``to_plain``'s order of cases.
"""

from __future__ import annotations

import array
import collections
import dataclasses
import datetime
import decimal
import enum
import fractions
import functools
import itertools
import json
import operator
import random
import re
import sys
import types
from collections.abc import Callable
from typing import Any

import attrs

from ..codec import Plain, attribute_names, to_plain
from ..core import REGISTRY, Pid

CANONICAL_JSON = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), allow_nan=True, check_circular=False
)
"""``canonical_json``'s encoder, made once (``json.dumps`` makes one per call with these
options); plain data holds no cycle to check for."""


def plain_data(obj: Any) -> Plain:
    """``to_plain(obj)`` with the class of every object named (``{"<module.Class>": ...}``),
    made by a converter chosen once per type. A changed process is made into plain data
    for every state a step reaches."""
    try:
        return _plain(obj)
    except RecursionError:
        pass
    # Deep data (a chain of a few hundred objects): again with room for it, rather than
    # to_plain's, which would drop the class names.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, DEEP))
    try:
        return _plain(obj)
    except RecursionError:
        return to_plain(obj)  # which says what is wrong: it refers to itself
    finally:
        sys.setrecursionlimit(limit)


DEEP = 20_000
"""The recursion limit plain data is made under when the interpreter's is too low for it
(Python calls do not use the C stack since 3.11)."""


def class_tag(cls: type) -> str:
    """The key under which an object of ``cls`` is named in its plain data."""
    return f"<{cls.__module__}.{cls.__qualname__}>"


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
    """How to convert an object of exactly type ``cls``: ``to_plain``'s cases, in its
    order, each class named; and the values of the standard library that ``to_plain``
    writes as their class's name only (``_VALUES``)."""
    if issubclass(cls, bool | int | float | str) and not issubclass(cls, enum.Enum):
        return to_plain  # a subclass of an atom is its value
    if issubclass(cls, Pid):
        return str
    if attrs.has(cls):
        return _attrs_converter(cls)
    if issubclass(cls, enum.Enum):  # before the containers an enum may also be
        return _named(cls, lambda obj: _plain(obj.value))
    if issubclass(cls, collections.OrderedDict):  # its order is part of what it is
        return _subclass(cls, lambda obj: [[_plain(k), _plain(v)] for k, v in obj.items()])
    if issubclass(cls, collections.defaultdict):  # and its factory part of what it does
        return _subclass(cls, lambda obj: [_plain(obj.default_factory), _dict(obj)])
    if issubclass(cls, dict):
        return _subclass(cls, _dict) if cls is not dict else _dict
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        names: tuple[str, ...] = cls._fields
        return _named(cls, lambda obj: {n: _plain(x) for n, x in zip(names, obj, strict=True)})
    if issubclass(cls, list | tuple):
        return _list if cls is list or cls is tuple else _subclass(cls, _list)
    if issubclass(cls, set | frozenset):
        return _set if cls is set or cls is frozenset else _subclass(cls, _set)
    if issubclass(cls, bytes):
        return to_plain
    if dataclasses.is_dataclass(cls):
        return _fields_converter(cls, tuple(field.name for field in dataclasses.fields(cls)))
    for kinds, value in _VALUES:
        if issubclass(cls, kinds):
            return _named(cls, value)
    return _object_converter(cls)


def _function(obj: Any) -> Plain:
    """A function by its name, its code, the names and the atoms among the constants it
    uses, its defaults and what it closes over (two lambdas of one module are two
    functions; a factory's argument counts); a method by its function (a process that keeps
    ``self.lead`` or ``self.follow`` as its behaviour); a builtin by its name. A default or a
    closed-over value counts by its value if it is an atom, else by its class only: a closure
    over the process would refer to itself."""
    function = getattr(obj, "__func__", obj)
    name = f"{getattr(function, '__module__', None)}.{getattr(function, '__qualname__', None)}"
    code = getattr(function, "__code__", None)
    if code is None:
        return name
    constants = [x for x in code.co_consts if type(x) in _ATOMS]
    defaults = [*(function.__defaults__ or ()), *(function.__kwdefaults__ or {}).items()]
    closed = [_contents(cell) for cell in function.__closure__ or ()]
    return [name, code.co_code.hex(), list(code.co_names), constants, _shallow(defaults), closed]


def _contents(cell: Any) -> Plain:
    try:
        return _shallow([cell.cell_contents])[0]  # type: ignore[index]
    except ValueError:  # a cell not filled yet
        return None


def _shallow(values: list[Any]) -> Plain:
    """Atoms as they are, anything else by its class."""
    return [x if type(x) in _ATOMS else class_tag(type(x)) for x in values]


_VALUES: tuple[tuple[type | tuple[type, ...], Callable[[Any], Plain]], ...] = (
    (collections.deque, lambda obj: [[_plain(x) for x in obj], obj.maxlen]),
    (bytearray, lambda obj: obj.hex()),
    (array.array, lambda obj: [obj.typecode, obj.tolist()]),
    ((decimal.Decimal, fractions.Fraction), str),
    ((datetime.date, datetime.time), lambda obj: obj.isoformat()),
    (datetime.timedelta, lambda obj: [obj.days, obj.seconds, obj.microseconds]),
    (range, lambda obj: [obj.start, obj.stop, obj.step]),
    (slice, lambda obj: [_plain(obj.start), _plain(obj.stop), _plain(obj.step)]),
    (complex, lambda obj: [obj.real, obj.imag]),
    (types.MappingProxyType, lambda obj: _dict(dict(obj))),
    (re.Pattern, lambda obj: [obj.pattern, obj.flags]),
    (random.Random, lambda obj: _plain(obj.getstate())),
    ((itertools.count, operator.attrgetter, operator.itemgetter), repr),
    ((types.FunctionType, types.BuiltinFunctionType, types.MethodType), _function),
    (functools.partial, lambda obj: [_plain(obj.func), _list(obj.args), _dict(obj.keywords)]),
    (type, lambda obj: f"{obj.__module__}.{obj.__qualname__}"),  # a class as a value
)
"""Values of the standard library a process may hold that ``to_plain`` writes as their
class's name only, each by what tells two apart (a ``repr`` only where it holds no
address)."""


def _named(cls: type, convert: Callable[[Any], Plain]) -> Callable[[Any], Plain]:
    tag = class_tag(cls)
    return lambda obj: {tag: convert(obj)}


def _subclass(cls: type, convert: Callable[[Any], Plain]) -> Callable[[Any], Plain]:
    """A subclass of a container: its items as ``convert`` has them, and anything set on it
    (a log's ``commit``), under its class."""
    tag = class_tag(cls)

    def named(obj: Any) -> Plain:
        more = getattr(obj, "__dict__", None)
        if not more:
            return {tag: convert(obj)}
        return {tag: [convert(obj), {k: _plain(v) for k, v in sorted(more.items())}]}

    return named


def _fields_converter(cls: type, names: tuple[str, ...]) -> Callable[[Any], Plain]:
    """An object of declared fields (a dataclass, an attrs class that is not a message):
    its fields by name, and anything else set on it (in its ``__dict__``), under its class."""
    tag, declared = class_tag(cls), frozenset(names)

    def convert(obj: Any) -> Plain:
        fields = {name: _plain(getattr(obj, name)) for name in names}
        more = getattr(obj, "__dict__", None)
        if more is not None and not declared.issuperset(more):
            fields.update({k: _plain(v) for k, v in sorted(more.items()) if k not in declared})
        return {tag: fields}

    return convert


def _attrs_converter(cls: type) -> Callable[[Any], Plain]:
    """An attrs class: its fields by name, under its tag if it is a registered message
    (asked each time, as ``to_plain`` does), else as ``_fields_converter`` has it."""
    names = tuple(field.name for field in attrs.fields(cls))
    tag_of, unregistered = REGISTRY.tag_of, _fields_converter(cls, names)
    values: Callable[[Any], tuple[Any, ...]]
    if len(names) > 1:
        values = operator.attrgetter(*names)  # all of them in one call
    else:
        values = lambda obj: tuple(getattr(obj, name) for name in names)  # noqa: E731

    def convert(obj: Any) -> Plain:
        tag = tag_of(cls)
        if tag is None:
            return unregistered(obj)
        return {tag: {name: _plain(x) for name, x in zip(names, values(obj), strict=True)}}

    return convert


def _object_converter(cls: type) -> Callable[[Any], Plain]:
    """A plain object: its attributes, under its class; one with none, as ``to_plain``
    has it (its class's name only)."""
    tag = class_tag(cls)

    def convert(obj: Any) -> Plain:
        names = attribute_names(obj)
        if names is None:
            return to_plain(obj)
        return {tag: {name: _plain(getattr(obj, name)) for name in names}}

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
    return {"<builtins.dict>": [[k, v] for k, v in ordered]}  # not a list of pairs
