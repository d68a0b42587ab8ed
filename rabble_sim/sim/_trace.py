"""The trace of a run: its events, compactly, and what each step delivered and sent.

A run of a million steps must not keep a million messages alive. A trace always keeps the
events, one integer a step. What each step delivered and sent is kept only when asked for
(``messages=True``: replays, the debugger, a failing run recorded again), as bytes
encoded at the step, so that nothing a process changes later alters the record. The
digest can also be computed step by step without keeping anything (``digest=True``);
either way it is the same hash of the same plain data.
"""

from __future__ import annotations

import hashlib
from array import array
from collections import Counter
from collections.abc import Iterator
from typing import Any

import msgspec

from ..codec import canonical_json, decoder_of, message_json, to_plain
from ..core import REGISTRY, CodecError, CorrelationId, Envelope, Pid, RabbleInternalError
from ._events import (
    CorruptDisk,
    Crash,
    Deliver,
    Drift,
    Drop,
    Duplicate,
    Event,
    FireTimer,
    Heal,
    Input,
    Jump,
    LoseDisk,
    Partition,
    Restart,
)
from ._parcel import Parcel

_KINDS: tuple[type[Any], ...] = (
    *(Deliver, Drop, Duplicate, FireTimer),
    *(Crash, Restart, Heal, Partition, Input, Drift, Jump, LoseDisk, CorruptDisk),
)
"""An event's code is ``argument << _SHIFT | index here``: the argument is the seq of a
message or timer event, the node's index for a crash or restart, and for the rarer
events (partitions, inputs, clock and disk faults) the index of the event itself among
the trace's ``_others``."""
_INDEX = {kind: i for i, kind in enumerate(_KINDS)}
_SEQ_KINDS = 4
_SEQ_KINDS_CLASSES = _KINDS[:_SEQ_KINDS]
_SHIFT = 4
_MASK = (1 << _SHIFT) - 1


Step = tuple[Event | None, Envelope | None, tuple[Envelope, ...]]
"""(the event, the message it delivered, dropped, duplicated or fired, what was sent)."""


class _Wire(msgspec.Struct, array_like=True, frozen=True):
    """One envelope as a step recorded it: its message encoded under its tag, or, for a
    request that could not be encoded (the executor never sends it anywhere), its plain
    data under no tag."""

    to: Pid
    from_: Pid
    cid: CorrelationId | None
    tag: str | None
    body: msgspec.Raw


class _Step(msgspec.Struct, array_like=True, frozen=True):
    delivered: _Wire | None
    sent: list[_Wire]


_encode = msgspec.msgpack.Encoder().encode
_decode_step = msgspec.msgpack.Decoder(_Step).decode
_decode_plain = msgspec.msgpack.Decoder().decode


class Trace:
    """The steps of one run, step 0 (the start, with no event) first."""

    __slots__ = ("_codes", "_hash", "_nodes", "_others", "_randoms", "_records")

    def __init__(
        self, nodes: tuple[str, ...] = (), *, messages: bool = True, digest: bool = False
    ) -> None:
        self._nodes = {node: i for i, node in enumerate(nodes)}
        self._codes = array("q")
        self._others: list[Event] = []
        self._randoms: dict[int, tuple[int, ...]] = {}  # by step, the steps that drew any
        self._records: list[bytes] | None = [] if messages else None
        self._hash = hashlib.sha256() if digest and not messages else None

    def start(self, sent: list[Envelope], randoms: list[int] | None = None) -> None:
        """Record step 0: what the processes' ``init`` sent, and the random numbers they
        drew."""
        if randoms:
            self._randoms[0] = tuple(randoms)
        if self._records is not None or self._hash is not None:
            self._keep(None, None, sent)

    def add(
        self,
        event: Event,
        parcel: Parcel | None,
        sent: list[Envelope],
        randoms: list[int] | None = None,
    ) -> None:
        """Record the next step: ``event``, the message it acted on, what was sent, and the
        random numbers processes drew in it."""
        kind = _INDEX[type(event)]
        self._codes.append(event.seq << _SHIFT | kind if kind < _SEQ_KINDS else self._code(event))  # type: ignore[union-attr]
        if randoms:
            self._randoms[len(self._codes)] = tuple(randoms)
        if self._records is not None or self._hash is not None:
            self._keep(event, parcel, sent)

    # -- reading --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._codes) + 1

    @property
    def steps(self) -> int:
        """How many events the run applied (step 0, the start, is not one)."""
        return len(self._codes)

    @property
    def has_messages(self) -> bool:
        """Whether what each step delivered and sent was kept."""
        return self._records is not None

    def event(self, step: int) -> Event | None:
        """The event of ``step`` (None for step 0, the start)."""
        return None if step == 0 else self._event(self._codes[step - 1])

    def events(self) -> list[Event]:
        return [self._event(code) for code in self._codes]

    def randoms(self, step: int) -> tuple[int, ...]:
        """The random numbers processes drew in ``step`` (step 0: the start), in order."""
        return self._randoms.get(step, ())

    def all_randoms(self) -> dict[int, tuple[int, ...]]:
        """The random numbers of every step that drew any, by step."""
        return dict(self._randoms)

    def counts(self) -> Counter[str]:
        """Events by kind."""
        counts = Counter(code & _MASK for code in self._codes)
        return Counter({_KINDS[i].kind: n for i, n in sorted(counts.items())})

    def __iter__(self) -> Iterator[Step]:
        """Every step, step 0 first (see ``step``)."""
        return (self.step(step) for step in range(len(self)))

    def step(self, step: int) -> Step:
        """Step ``step``: its event (None for the start), the message it acted on, and what
        it sent, as they were at that step."""
        return (self.event(step), *self.envelopes(step))

    def envelopes(self, step: int) -> tuple[Envelope | None, tuple[Envelope, ...]]:
        """What ``step`` delivered (or dropped, duplicated, fired) and what it sent, as
        copies of what they were at that step."""
        record = _decode_step(self._record(step))
        delivered = None if record.delivered is None else _envelope(record.delivered)
        return delivered, tuple(_envelope(wire) for wire in record.sent)

    def step_plain(self, step: int) -> dict[str, Any]:
        """Step ``step`` as plain data: the event with its content, the random numbers
        drawn, and what was sent."""
        return _plain(step, self.event(step), *self.envelopes(step), self.randoms(step))

    def digest(self) -> str:
        """A SHA-256 of every step's plain data: equal for equal runs, in any interpreter."""
        if self._hash is not None:
            return self._hash.hexdigest()
        if self._records is None:
            raise RabbleInternalError("this trace kept no messages and computed no digest")
        h = hashlib.sha256()
        for step in range(len(self)):
            h.update(canonical_json(self.step_plain(step)).encode() + b"\n")
        return h.hexdigest()

    # -- inside -----------------------------------------------------------------------------

    def _code(self, event: Event) -> int:
        kind = _INDEX[type(event)]
        if kind < _SEQ_KINDS:
            return event.seq << _SHIFT | kind  # type: ignore[union-attr]
        if isinstance(event, Crash | Restart):
            return self._node_index(event.node) << _SHIFT | kind
        if isinstance(event, Heal):
            return kind
        self._others.append(event)
        return (len(self._others) - 1) << _SHIFT | kind

    def _node_index(self, node: str) -> int:
        return self._nodes.setdefault(node, len(self._nodes))

    def _event(self, code: int) -> Event:
        kind, argument = _KINDS[code & _MASK], code >> _SHIFT
        if kind in (Crash, Restart):
            names = list(self._nodes)
            return kind(names[argument])  # type: ignore[no-any-return]
        if kind is Heal:
            return Heal()
        if kind in _SEQ_KINDS_CLASSES:
            return kind(argument)  # type: ignore[no-any-return]
        return self._others[argument]

    def _keep(self, event: Event | None, parcel: Parcel | None, sent: list[Envelope]) -> None:
        record = encode_step(parcel, sent)
        if self._records is not None:
            self._records.append(record)
        else:
            assert self._hash is not None
            step = len(self._codes)
            record_of = _decode_step(record)
            env = None if record_of.delivered is None else _envelope(record_of.delivered)
            sent_ = tuple(_envelope(w) for w in record_of.sent)
            plain = _plain(step, event, env, sent_, self.randoms(step))
            self._hash.update(canonical_json(plain).encode() + b"\n")

    def _record(self, step: int) -> bytes:
        if self._records is None:
            raise RabbleInternalError("this trace kept no messages (run with messages=True)")
        return self._records[step]


def encode_step(parcel: Parcel | None, sent: list[Envelope]) -> bytes:
    """What a step delivered and sent, as bytes: a snapshot that nothing changes later."""
    delivered = None if parcel is None else _wire_of_parcel(parcel)
    return _encode(_Step(delivered, [_wire(env) for env in sent]))


def _wire_of_parcel(parcel: Parcel) -> _Wire:
    env, body, _ = parcel
    return _Wire(env.to, env.from_, env.cid, REGISTRY.tag_of(type(env.msg)), msgspec.Raw(body))


def _wire(env: Envelope) -> _Wire:
    msg = env.msg
    tag = REGISTRY.tag_of(type(msg))
    body: bytes | None = None
    if tag is not None:
        try:
            body = _encode(msg)
        except (TypeError, OverflowError, RecursionError):
            tag = None
    if body is None or tag is None:
        body = _encode(to_plain(msg))
    return _Wire(env.to, env.from_, env.cid, tag, msgspec.Raw(body))


def _envelope(wire: _Wire) -> Envelope:
    cls = REGISTRY.class_of(wire.tag) if wire.tag is not None else None
    msg = _decode_plain(wire.body) if cls is None else decoder_of(cls)(wire.body)
    return Envelope(wire.to, wire.from_, msg, wire.cid)


def _plain(
    step: int,
    event: Event | None,
    env: Envelope | None,
    sent: tuple[Envelope, ...],
    randoms: tuple[int, ...],
) -> dict[str, Any]:
    plain = {
        "step": step,
        **(event_plain(event, env) if event is not None else {"kind": "start"}),
        "sent": [envelope_plain(out) for out in sent],
    }
    if randoms:
        plain["random"] = list(randoms)
    return plain


def envelope_plain(env: Envelope) -> dict[str, Any]:
    plain: dict[str, Any] = {"from": str(env.from_), "to": str(env.to), "msg": to_plain(env.msg)}
    if env.cid is not None:
        plain["cid"] = to_plain(env.cid)
    return plain


def event_plain(event: Event, env: Envelope | None) -> dict[str, Any]:
    """An event with its content, as a schedule file stores it (without the summary)."""
    plain: dict[str, Any] = {"kind": event.kind}
    if isinstance(event, Input):
        plain["to"] = str(event.to)
        plain["msg"] = _input_json(event.msg)
        plain["inputs"] = event.source
        plain["draws"] = list(event.draws)
    elif isinstance(event, FireTimer) and env is not None:
        plain["seq"] = event.seq
        plain["pid"] = str(env.to)
        plain["cid"] = to_plain(env.cid)
    elif hasattr(event, "seq") and env is not None:
        plain["seq"] = event.seq
        plain.update(envelope_plain(env))
    elif isinstance(event, Partition):
        plain["groups"] = [list(group) for group in event.groups]
        if event.one_way:
            plain["one_way"] = True
    elif isinstance(event, CorruptDisk):
        plain["pid"] = str(event.pid)
    elif hasattr(event, "node"):
        plain["node"] = event.node
        if isinstance(event, Drift):
            plain["rate"] = event.rate
        elif isinstance(event, Jump):
            plain["ms"] = event.ms
    return plain


def _input_json(msg: Any) -> Any:
    """An input's message as a schedule keeps it: JSON that reads back exactly, or, for
    one that cannot travel (the step that gave it failed for that), its plain data."""
    try:
        return message_json(msg)
    except CodecError:
        return to_plain(msg)
