"""Plain JSON data from any message or process state: for files, digests and display.

``to_plain`` is deterministic: sets are sorted, dict keys sorted, and nothing depends on
hashing or on object identity, so equal values give equal plain data in any interpreter.
It is one-way: the typed ``Codec`` is the round-trip encoding.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any

import attrs

from ..core import REGISTRY, CodecError, MessageRegistry, Pid

Plain = None | bool | int | float | str | list["Plain"] | dict[str, "Plain"]


def to_plain(obj: Any, registry: MessageRegistry = REGISTRY) -> Plain:
    """Convert ``obj`` to JSON-compatible data.

    A registered message becomes ``{tag: {field: value, ...}}``, a pid its string form
    ``[group::]name::node``, any other attrs class, dataclass, named tuple or plain object
    a dict of its fields. A dict whose keys are strings or pids stays a dict, sorted by
    key; any other dict becomes a sorted list of ``[key, value]`` pairs, so that keys
    ``1`` and ``"1"`` stay apart. Data that refers to itself, or nests too deeply, is a
    ``CodecError``.
    """
    try:
        return _plain(obj, registry)
    except RecursionError:
        raise CodecError(
            f"cannot convert a {type(obj).__qualname__} to plain data: it refers to itself "
            "or nests too deeply"
        ) from None


def _plain(obj: Any, registry: MessageRegistry) -> Plain:
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, Pid):
        return str(obj)
    cls = type(obj)
    if attrs.has(cls):
        fields = {f.name: _plain(getattr(obj, f.name), registry) for f in attrs.fields(cls)}
        tag = registry.tag_of(cls)
        return {tag: fields} if tag is not None else fields
    if isinstance(obj, dict):
        return _dict(obj, registry)
    if isinstance(obj, tuple) and hasattr(cls, "_fields"):  # a named tuple, e.g. a cid
        return {name: _plain(value, registry) for name, value in zip(cls._fields, obj, strict=True)}
    if isinstance(obj, list | tuple):
        return [_plain(x, registry) for x in obj]
    if isinstance(obj, set | frozenset):
        return sorted((_plain(x, registry) for x in obj), key=canonical_json)
    if isinstance(obj, enum.Enum):
        return _plain(obj.value, registry)
    if isinstance(obj, bytes):
        return obj.hex()
    if dataclasses.is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name), registry) for f in dataclasses.fields(obj)}
    names = attribute_names(obj)
    if names is not None:
        return {name: _plain(getattr(obj, name), registry) for name in names}
    # Never repr(): the default repr holds an address, which differs between runs.
    return f"<{cls.__qualname__}>"


def _dict(obj: dict[Any, Any], registry: MessageRegistry) -> Plain:
    pairs = [(_plain(k, registry), _plain(v, registry)) for k, v in obj.items()]
    keys = [k for k, _ in pairs]
    if all(isinstance(k, str) for k in keys) and len(set(keys)) == len(keys):
        return {str(k): v for k, v in sorted(pairs, key=lambda pair: str(pair[0]))}
    ordered = sorted(pairs, key=lambda pair: canonical_json(pair[0]))
    return [[k, v] for k, v in ordered]


def attribute_names(obj: Any) -> list[str] | None:
    """The attributes of a plain object: its ``__dict__`` and its ``__slots__``, sorted;
    None for an object that has neither."""
    names = set(vars(obj)) if hasattr(obj, "__dict__") else set()
    for klass in type(obj).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        names.update([slots] if isinstance(slots, str) else slots)
    names.discard("__dict__")
    names.discard("__weakref__")
    present = sorted(name for name in names if hasattr(obj, name))
    return present if present or hasattr(obj, "__dict__") else None


def as_recorded(value: Any) -> Any:
    """``value`` as a client history records it and reads it back: its plain data, with
    every list a tuple (inside dicts too), as a TCP node's ``history.jsonl`` gives it."""
    return _tuples(to_plain(value))


def _tuples(plain: Plain) -> Any:
    if isinstance(plain, list):
        return tuple(_tuples(item) for item in plain)
    if isinstance(plain, dict):
        return {key: _tuples(item) for key, item in plain.items()}
    return plain


def canonical_json(plain: Plain) -> str:
    """One canonical JSON text for plain data: sorted keys, no spaces."""
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), allow_nan=True)
