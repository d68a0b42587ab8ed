"""The typed codec: everything round-trips, and bad bytes are always a ``CodecError``."""

from __future__ import annotations

import contextlib
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from rabble_sim import CorrelationId, Envelope, Persist, Pid, StartTimer, Timeout, message
from rabble_sim.codec import Codec
from rabble_sim.core import CodecError, MessageRegistry
from tests.strategies import (
    ReplicaState,
    builtin_messages,
    cids,
    envelopes,
    messages,
    pids,
    replica_states,
    test_messages,
)

CODECS = {fmt: Codec(fmt) for fmt in ("json", "msgpack")}
codecs = st.sampled_from(sorted(CODECS)).map(CODECS.__getitem__)
ENV = Envelope(
    Pid("replica", "n1", "kv"),
    Pid("client", "n2"),
    Persist({"log": [1, 2.5, None, "x"]}),
    CorrelationId(Pid("client", "n2"), 7, 1),
)


@pytest.fixture(params=sorted(CODECS))
def codec(request: pytest.FixtureRequest) -> Codec:
    return CODECS[request.param]


@given(codecs, builtin_messages)
def test_builtin_messages_round_trip(codec: Codec, msg: Any) -> None:
    assert codec.decode_message(codec.encode_message(msg)) == msg


@given(codecs, test_messages)
def test_user_messages_with_nested_fields_round_trip(codec: Codec, msg: Any) -> None:
    decoded = codec.decode_message(codec.encode_message(msg))
    assert decoded == msg
    assert type(decoded) is type(msg)


@given(codecs, pids)
def test_pids_round_trip(codec: Codec, pid: Pid) -> None:
    assert codec.decode(codec.encode(pid), Pid) == pid


@given(codecs, cids)
def test_cids_round_trip(codec: Codec, cid: CorrelationId) -> None:
    assert codec.decode(codec.encode(cid), CorrelationId) == cid


@given(codecs, envelopes)
def test_envelopes_round_trip(codec: Codec, env: Envelope) -> None:
    assert codec.decode_envelope(codec.encode_envelope(env)) == env


@given(codecs, replica_states)
def test_process_state_round_trips_by_its_types(codec: Codec, state: ReplicaState) -> None:
    decoded = codec.decode(codec.encode(state), ReplicaState)
    assert decoded == state
    # Decoded by type: sets come back as sets, tuples as tuples, int keys as ints.
    assert all(type(acks) is set for acks in decoded.acks.values())
    assert all(type(entry) is tuple for entry in decoded.by_index.values())
    assert all(type(index) is int for index in decoded.by_index)


def test_unknown_tag_is_a_codec_error_naming_the_tag(codec: Codec) -> None:
    stranger = Codec(codec.format, registry=MessageRegistry())
    with pytest.raises(CodecError, match=r"unknown message tag 'rabble\.timeout'"):
        stranger.decode_message(codec.encode_message(Timeout()))
    with pytest.raises(CodecError, match=r"unknown message tag 'rabble\.persist'"):
        stranger.decode_envelope(codec.encode_envelope(ENV))


def test_unregistered_message_type_is_a_codec_error_naming_the_fix(codec: Codec) -> None:
    @attrs.frozen
    class NotAMessage:
        n: int

    with pytest.raises(CodecError, match=r"NotAMessage is not a registered .*@message"):
        codec.encode_message(NotAMessage(1))
    with pytest.raises(CodecError, match="not a registered message type"):
        codec.encode_envelope(Envelope(ENV.to, ENV.from_, NotAMessage(1)))


def test_a_message_type_the_codec_cannot_decode_is_a_codec_error(codec: Codec) -> None:
    @message("test.codec.unresolvable")
    @attrs.frozen
    class Unresolvable:
        x: NoSuchType  # type: ignore[name-defined]  # noqa: F821

    data = codec.encode(("test.codec.unresolvable", {"x": 1}))
    with pytest.raises(CodecError, match=r"cannot decode a .*Unresolvable.*NoSuchType"):
        codec.decode_message(data)


def test_a_body_of_the_wrong_shape_is_a_codec_error(codec: Codec) -> None:
    data = codec.encode(("rabble.start_timer", {"ms": "soon"}))
    with pytest.raises(CodecError, match=r"malformed StartTimer: Expected `int`, got `str`"):
        codec.decode_message(data)


def test_a_value_that_cannot_be_encoded_is_a_codec_error(codec: Codec) -> None:
    with pytest.raises(CodecError, match="cannot encode"):
        codec.encode_message(Persist(object()))
    nested: list[Any] = []
    nested.append(nested)
    with pytest.raises(CodecError, match="cannot encode"):
        codec.encode(nested)


def test_deeply_nested_input_is_a_codec_error(codec: Codec) -> None:
    depth = 100_000
    if codec.format == "json":
        data = b'["rabble.persist",{"data":' + b"[" * depth + b"]" * depth + b"}]"
    else:
        data = b"\x92\xaerabble.persist\x81\xa4data" + b"\x91" * depth + b"\xc0"
    with pytest.raises(CodecError, match="malformed"):
        codec.decode_message(data)


def test_invalid_utf8_is_a_codec_error() -> None:
    codec = CODECS["msgpack"]
    data = codec.encode_message(StartTimer(5))
    assert data[1:2] == b"\xb2"  # a fixstr of 18 bytes: the tag
    bad = data[:2] + b"\xff" + data[3:]
    with pytest.raises(CodecError, match="malformed message"):
        codec.decode_message(bad)


@pytest.mark.parametrize("data", [b"", b"\xff\xfe", b"null", b"[1, 2]", b"\x93\x01\x02\x03"])
def test_garbage_is_a_codec_error(codec: Codec, data: bytes) -> None:
    with pytest.raises(CodecError, match=r"malformed (message|envelope)"):
        codec.decode_message(data)
    with pytest.raises(CodecError, match=r"malformed (message|envelope)"):
        codec.decode_envelope(data)


@given(codecs, envelopes, st.data())
def test_every_truncation_is_a_codec_error(
    codec: Codec, env: Envelope, data: st.DataObject
) -> None:
    encoded = codec.encode_envelope(env)
    cut = data.draw(st.integers(0, len(encoded) - 1), label="cut")
    with pytest.raises(CodecError, match="malformed"):
        codec.decode_envelope(encoded[:cut])
    message = codec.encode_message(env.msg)
    with pytest.raises(CodecError, match="malformed"):
        codec.decode_message(message[: cut % len(message)])


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(codecs, messages, st.data())
def test_corrupted_bytes_decode_or_raise_a_codec_error(
    codec: Codec, msg: Any, data: st.DataObject
) -> None:
    env = Envelope(ENV.to, ENV.from_, msg, ENV.cid)
    for encoded, decode in [
        (codec.encode_envelope(env), codec.decode_envelope),
        (codec.encode_message(msg), codec.decode_message),
    ]:
        start = data.draw(st.integers(0, len(encoded)))
        end = data.draw(st.integers(start, len(encoded)))
        junk = data.draw(st.binary(max_size=8))
        with contextlib.suppress(CodecError):
            decode(encoded[:start] + junk + encoded[end:])
