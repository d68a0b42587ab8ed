"""Plain JSON data from any message or process state: for files, digests and display.

``to_plain`` is deterministic: sets are sorted, dict keys sorted, and nothing depends on
hashing or on object identity, so equal values give equal plain data in any interpreter.
It is one-way: the typed ``Codec`` is the round-trip encoding.
"""

from __future__ import annotations

import enum
import json
from typing import Any

import attrs

from ..core import REGISTRY, MessageRegistry, Pid

Plain = None | bool | int | float | str | list["Plain"] | dict[str, "Plain"]


def to_plain(obj: Any, registry: MessageRegistry = REGISTRY) -> Plain:
    """Convert ``obj`` to JSON-compatible data.

    A registered message becomes ``{tag: {field: value, ...}}``, a pid its string form
    ``[group::]name::node``, any other attrs class, named tuple or plain object a dict of
    its fields.
    """
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, Pid):
        return str(obj)
    cls = type(obj)
    if attrs.has(cls):
        fields = {f.name: to_plain(getattr(obj, f.name), registry) for f in attrs.fields(cls)}
        tag = registry.tag_of(cls)
        return {tag: fields} if tag is not None else fields
    if isinstance(obj, dict):
        items = [(_key(k, registry), to_plain(v, registry)) for k, v in obj.items()]
        return dict(sorted(items, key=lambda item: item[0]))
    if isinstance(obj, tuple) and hasattr(cls, "_fields"):  # a named tuple, e.g. a cid
        return {
            name: to_plain(value, registry) for name, value in zip(cls._fields, obj, strict=True)
        }
    if isinstance(obj, list | tuple):
        return [to_plain(x, registry) for x in obj]
    if isinstance(obj, set | frozenset):
        return sorted((to_plain(x, registry) for x in obj), key=canonical_json)
    if isinstance(obj, enum.Enum):
        return to_plain(obj.value, registry)
    if isinstance(obj, bytes):
        return obj.hex()
    if hasattr(obj, "__dict__"):
        return {k: to_plain(v, registry) for k, v in sorted(vars(obj).items())}
    # Never repr(): the default repr holds an address, which differs between runs.
    return f"<{cls.__qualname__}>"


def _key(key: Any, registry: MessageRegistry) -> str:
    plain = to_plain(key, registry)
    return plain if isinstance(plain, str) else canonical_json(plain)


def canonical_json(plain: Plain) -> str:
    """One canonical JSON text for plain data: sorted keys, no spaces."""
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), allow_nan=True)
