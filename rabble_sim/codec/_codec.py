"""The typed round-trip codec (msgspec): messages, envelopes and state to JSON or MessagePack.

Messages travel as ``[tag, body]``: the body is decoded lazily, only once the tag has been
looked up in the registry, so an unknown tag is reported as such and never guessed at.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

import msgspec

from ..core import REGISTRY, CodecError, CorrelationId, Envelope, MessageRegistry, Pid

T = TypeVar("T")
Format = Literal["json", "msgpack"]


class _WireEnvelope(msgspec.Struct, array_like=True, frozen=True):
    to: Pid
    from_: Pid
    cid: CorrelationId | None
    tag: str
    body: msgspec.Raw


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, set | frozenset):
        return list(obj)
    raise NotImplementedError(f"cannot encode a {type(obj).__qualname__}")


class Codec:
    """Encodes and decodes values by their type, in JSON or MessagePack.

    ``encode``/``decode`` handle any attrs class or plain data with a known type;
    ``encode_message``/``decode_message`` handle a registered message whose type the
    reader does not know in advance; ``encode_envelope``/``decode_envelope`` a whole
    envelope. Every failure is a ``CodecError`` that names the problem.
    """

    def __init__(self, fmt: Format = "json", registry: MessageRegistry = REGISTRY) -> None:
        if fmt not in ("json", "msgpack"):
            raise ValueError(f"unknown codec format {fmt!r}: use 'json' or 'msgpack'")
        self.format = fmt
        self._registry = registry
        module = msgspec.json if fmt == "json" else msgspec.msgpack
        self._module = module
        self._encoder = module.Encoder(enc_hook=_enc_hook)
        self._decoders: dict[Any, Any] = {}

    def encode(self, value: Any) -> bytes:
        try:
            data: bytes = self._encoder.encode(value)
            return data
        except (TypeError, NotImplementedError, OverflowError, RecursionError) as e:
            raise CodecError(f"cannot encode {type(value).__qualname__}: {e}") from None

    def decode(self, data: bytes, type_: type[T] | Any, what: str | None = None) -> T:
        """Decode ``data`` as a ``type_``; ``what`` names it in errors."""
        decoder = self._decoders.get(type_)
        if decoder is None:
            try:
                decoder = self._decoders[type_] = self._module.Decoder(type_)
            except (TypeError, NameError) as e:
                # An unsupported field type, or an annotation that does not resolve.
                raise CodecError(f"cannot decode a {type_!r}: {e}") from None
        try:
            return decoder.decode(data)  # type: ignore[no-any-return]
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as e:
            # msgspec lets a MessagePack str with invalid UTF-8 escape as UnicodeDecodeError,
            # and input nested too deeply as RecursionError: both are malformed data too.
            name = what or getattr(type_, "__qualname__", str(type_))
            raise CodecError(f"malformed {name}: {e}") from None

    def tag_for(self, msg: Any) -> str:
        tag = self._registry.tag_of(type(msg))
        if tag is None:
            raise CodecError(
                f"{type(msg).__qualname__} is not a registered message type: "
                "decorate it with @message"
            )
        return tag

    def class_for(self, tag: str) -> type:
        cls = self._registry.class_of(tag)
        if cls is None:
            raise CodecError(
                f"unknown message tag {tag!r}: no @message class is registered under it"
            )
        return cls

    def encode_message(self, msg: Any) -> bytes:
        return self.encode((self.tag_for(msg), msg))

    def decode_message(self, data: bytes) -> Any:
        tag: str
        body: msgspec.Raw
        tag, body = self.decode(data, tuple[str, msgspec.Raw], "message")
        return self.decode(body, self.class_for(tag))

    def encode_envelope(self, env: Envelope) -> bytes:
        body = msgspec.Raw(self.encode(env.msg))
        return self.encode(_WireEnvelope(env.to, env.from_, env.cid, self.tag_for(env.msg), body))

    def decode_envelope(self, data: bytes) -> Envelope:
        wire: _WireEnvelope = self.decode(data, _WireEnvelope, "envelope")
        msg: Any = self.decode(wire.body, self.class_for(wire.tag))
        return Envelope(wire.to, wire.from_, msg, wire.cid)


_JSON = Codec("json")


def message_json(msg: Any) -> dict[str, Any]:
    """A registered message as JSON data that ``message_from_json`` reads back exactly:
    ``{tag: fields}``, the fields as the wire's JSON encodes them (a pid is
    ``[name, node, group]``). A ``CodecError`` if it is not a message that can travel."""
    body: Any = msgspec.json.decode(_JSON.encode(msg))
    return {_JSON.tag_for(msg): body}


def message_from_json(data: Any) -> Any:
    """The message ``message_json`` gave ``data`` for; a ``CodecError`` that says what is
    wrong if ``data`` is not one."""
    if not isinstance(data, dict) or len(data) != 1:
        raise CodecError(f"a message is a JSON object {{tag: fields}}, not {data!r}")
    ((tag, body),) = data.items()
    return _JSON.decode(msgspec.json.encode(body), _JSON.class_for(tag), f"message {tag!r}")
