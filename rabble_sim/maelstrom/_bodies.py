"""The mapping between Maelstrom body types and ``@message`` classes, both ways.

A body ``{"type": "cas", "msg_id": 7, "key": 1, "from": 2, "to": 3}`` of a client becomes
``Cas(key=1, from_=2, to=3)`` when ``"cas"`` maps to ``Cas``; a ``CasOk()`` a process
sends to a client becomes ``{"type": "cas_ok", ...}``. A body's keys are the class's
attrs field names, except that a field named after a Python keyword and a trailing
underscore (``from_``) is the keyword (``from``) in the body. ``type``, ``msg_id`` and
``in_reply_to`` belong to the protocol, never to a message.

The fields are converted by msgspec from the JSON values, typed by the class's
annotations, strictly: a missing field, a field the class does not have, or a value of
the wrong type is a malformed request (Maelstrom's error 12), never a guess.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs
import msgspec

from ..codec import message_json
from ..core import REGISTRY, InvalidDefinition
from ._errors import MALFORMED_REQUEST, NOT_SUPPORTED, Error

RESERVED_KEYS = frozenset({"type", "msg_id", "in_reply_to"})
"""Body keys that belong to Maelstrom's protocol: no message field may take them."""
INTER_NODE = "rabble"
"""The body type of an envelope between two nodes of the cluster (see ``_adapter``)."""
RESERVED_TYPES = frozenset({"init", "init_ok", INTER_NODE})
"""Body types the adapter speaks itself: no message class may take them."""


class BadBody(Exception):
    """A client's body that cannot become a message: the Maelstrom error ``code`` to
    answer with, and ``text`` saying why."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def body_key(field: str) -> str:
    """The body key of attrs field ``field``: ``from_`` is ``from``, the rest as they are."""
    if field.endswith("_") and keyword.iskeyword(field[:-1]):
        return field[:-1]
    return field


@attrs.frozen
class _Shape:
    """One message class as a body: its type, and its (field name, body key) pairs in the
    class's order."""

    kind: str
    cls: type
    keys: tuple[tuple[str, str], ...]


class Bodies:
    """The validated mapping (``bodies`` of a ``MaelstromNode``), with ``"error"`` ↔
    ``Error`` always in it; ``InvalidDefinition`` if it cannot be used, saying why."""

    def __init__(self, bodies: Mapping[str, type]) -> None:
        if not isinstance(bodies, Mapping):
            raise InvalidDefinition(
                f"MaelstromNode bodies must be a mapping of body type to message class, "
                f"not {type(bodies).__name__}"
            )
        given = dict(bodies)
        known = given.setdefault("error", Error)
        if known is not Error:
            raise InvalidDefinition(
                f"MaelstromNode bodies: 'error' is Maelstrom's error body, mapped to "
                f"rabble_sim.maelstrom.Error; it cannot map to {_name(known)}"
            )
        self._by_type: dict[str, _Shape] = {}
        self._by_class: dict[type, _Shape] = {}
        for kind, cls in given.items():
            shape = _shape(kind, cls)
            twice = self._by_class.get(cls)
            if twice is not None:
                raise InvalidDefinition(
                    f"MaelstromNode bodies: {_name(cls)} is mapped twice ({twice.kind!r} and "
                    f"{kind!r}): a message sent to a client must name one body type"
                )
            self._by_type[kind] = self._by_class[cls] = shape
        self.mapping: Mapping[str, type] = MappingProxyType(
            {kind: shape.cls for kind, shape in self._by_type.items()}
        )
        """The mapping, ``"error"`` included, read-only."""

    def message(self, kind: str, fields: Mapping[str, Any]) -> Any:
        """The message that a body of type ``kind`` with ``fields`` (JSON values, the
        reserved keys left out) stands for; ``BadBody`` (error 10 or 12) if none does."""
        shape = self._by_type.get(kind)
        if shape is None:
            known = ", ".join(sorted(self._by_type))
            raise BadBody(NOT_SUPPORTED, f"this node does not support {kind!r} (it knows: {known})")
        named: dict[str, Any] = {}
        keys = dict((key, name) for name, key in shape.keys)
        unknown = sorted(key for key in fields if key not in keys)
        if unknown:
            raise BadBody(
                MALFORMED_REQUEST,
                f"{kind!r} has no field {', '.join(map(repr, unknown))} "
                f"(its fields: {', '.join(key for _, key in shape.keys) or 'none'})",
            )
        for key, value in fields.items():
            named[keys[key]] = value
        try:
            return msgspec.convert(named, shape.cls)
        except msgspec.ValidationError as e:
            # msgspec names the class's field (from_); the client wrote the body's key.
            text = str(e)
            for name, key in shape.keys:
                text = text.replace(f"`{name}`", f"`{key}`").replace(f"$.{name}", f"$.{key}")
            raise BadBody(MALFORMED_REQUEST, f"malformed {kind!r}: {text}") from None

    def body(self, msg: Any) -> dict[str, Any] | None:
        """``msg`` as a body: its type and its fields, in the class's order; None if its
        class has no body type here."""
        shape = self._by_class.get(type(msg))
        if shape is None:
            return None
        ((_, plain),) = message_json(msg).items()
        body: dict[str, Any] = {"type": shape.kind}
        for name, key in shape.keys:
            body[key] = plain[name]
        return body

    def type_of(self, cls: type) -> str | None:
        """The body type of message class ``cls``, or None."""
        shape = self._by_class.get(cls)
        return shape.kind if shape is not None else None


def _shape(kind: Any, cls: Any) -> _Shape:
    if not isinstance(kind, str) or not kind:
        raise InvalidDefinition(
            f"MaelstromNode bodies: a body type is a non-empty string, not {kind!r}"
        )
    if kind in RESERVED_TYPES:
        raise InvalidDefinition(
            f"MaelstromNode bodies: body type {kind!r} is the adapter's own (it answers init "
            f"itself, and {INTER_NODE!r} carries envelopes between nodes): use another name"
        )
    if not isinstance(cls, type) or REGISTRY.tag_of(cls) is None:
        raise InvalidDefinition(
            f"MaelstromNode bodies: {kind!r} maps to {_name(cls)}, which is not a message "
            "class (a frozen attrs class with @message above @attrs.frozen)"
        )
    keys = tuple((f.name, body_key(f.name)) for f in attrs.fields(cls))
    for name, key in keys:
        if key in RESERVED_KEYS:
            raise InvalidDefinition(
                f"MaelstromNode bodies: {_name(cls)} (body type {kind!r}) has a field "
                f"{name!r}, a key Maelstrom's protocol reserves "
                f"({', '.join(sorted(RESERVED_KEYS))})"
            )
    return _Shape(kind, cls, keys)


def _name(cls: Any) -> str:
    if isinstance(cls, type):
        return f"{cls.__module__}.{cls.__qualname__}"
    return repr(cls)
