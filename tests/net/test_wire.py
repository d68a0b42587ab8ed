"""The wire: frames on a stream, the MessagePack frame types, the handshake, the secret."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, strategies as st

from rabble_sim import Pid
from rabble_sim.codec import Codec
from rabble_sim.core import CodecError, RabbleError
from rabble_sim.net import MAX_FRAME, load_secret
from rabble_sim.net._framing import FrameTooLarge, PeerBroken, PeerClosed, frame, read_frame
from rabble_sim.net._handshake import HANDSHAKE_LIMIT, NONCE_BYTES, Refused, handshake
from rabble_sim.net._wire import (
    VERSION,
    Gossip,
    Heartbeat,
    Hello,
    Proof,
    Send,
    StatusReply,
    StatusRequest,
    decode,
    encode,
)
from tests.strategies import cids, ints, json_data, messages, pids

# -- framing ----------------------------------------------------------------------------------


async def read_from(data: bytes, *, eof: bool = True, limit: int = MAX_FRAME) -> Any:
    """The first frame ``read_frame`` finds in ``data``, or the error it raises."""
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    try:
        return await asyncio.wait_for(read_frame(reader, limit), 2)
    except Exception as e:
        return e


def read_one(data: bytes, **kwargs: Any) -> Any:
    return asyncio.run(read_from(data, **kwargs))


@given(st.lists(st.binary(max_size=300), max_size=5))
def test_frames_come_out_as_they_went_in(bodies: list[bytes]) -> None:
    async def read_all() -> list[bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(b"".join(frame(body) for body in bodies))
        reader.feed_eof()
        found = [await read_frame(reader) for _ in bodies]
        with pytest.raises(PeerClosed):
            await read_frame(reader)
        return found

    assert asyncio.run(read_all()) == bodies


def test_a_frame_is_a_big_endian_length_then_the_body() -> None:
    assert frame(b"abc") == b"\x00\x00\x00\x03abc"


def test_a_clean_end_of_stream_between_frames_is_peer_closed() -> None:
    assert isinstance(read_one(b""), PeerClosed)


@pytest.mark.parametrize("data", [b"\x00", b"\x00\x00\x00"], ids=["1 byte", "3 bytes"])
def test_an_end_of_stream_inside_the_header_is_peer_broken(data: bytes) -> None:
    error = read_one(data)
    assert isinstance(error, PeerBroken) and "header" in str(error)


def test_an_end_of_stream_inside_the_body_is_peer_broken() -> None:
    error = read_one(frame(b"0123456789")[:-4])
    assert isinstance(error, PeerBroken)
    assert "6 bytes into a 10-byte frame" in str(error)


def test_an_oversize_length_is_refused_without_reading_the_body() -> None:
    # The body never comes (no end of stream either): waiting for it would hang.
    error = read_one(frame(b"x" * 101)[:20], eof=False, limit=100)
    assert isinstance(error, FrameTooLarge)
    assert "a frame of 101 bytes is over the limit of 100" in str(error)

    async def left_unread() -> bytes:
        reader = asyncio.StreamReader()
        reader.feed_data(frame(b"x" * 101))
        reader.feed_eof()
        with pytest.raises(FrameTooLarge):
            await read_frame(reader, limit=100)
        return await reader.read()

    assert asyncio.run(left_unread()) == b"x" * 101, "not one body byte was consumed"


def test_the_largest_length_is_refused_under_the_default_limit() -> None:
    error = read_one(b"\xff\xff\xff\xff", eof=False)
    assert isinstance(error, FrameTooLarge) and f"{MAX_FRAME:,}" in str(error)


def test_a_frame_exactly_at_the_limit_is_read() -> None:
    assert read_one(frame(b"y" * 100), limit=100) == b"y" * 100


# -- frame types --------------------------------------------------------------------------------

text = st.text(max_size=10)
dots = st.tuples(text, ints)
raw_bodies = json_data.map(lambda data: msgspec.Raw(msgspec.msgpack.encode(data)))
frames = st.one_of(
    st.builds(Hello, ints, text, text, st.binary(max_size=40)),
    st.builds(Proof, st.binary(max_size=40)),
    st.builds(Send, pids, pids, st.none() | cids, text, raw_bodies),
    st.builds(
        Gossip,
        st.dictionaries(text, st.lists(dots, max_size=3), max_size=3),
        st.dictionaries(text, ints, max_size=3),
        st.lists(dots, max_size=3),
    ),
    st.just(Heartbeat()),
    st.just(StatusRequest()),
    st.builds(
        StatusReply,
        text,
        st.lists(text, max_size=3),
        st.lists(text, max_size=3),
        st.dictionaries(text, json_data, max_size=3),
        ints,
        st.dictionaries(text, st.dictionaries(text, ints, max_size=4), max_size=3),
    ),
)


@given(frames)
def test_every_frame_type_round_trips(f: Any) -> None:
    assert decode(encode(f)) == f


@given(pids, pids, st.none() | cids, messages)
def test_a_message_in_a_send_frame_comes_out_with_its_type(
    to: Pid, from_: Pid, cid: Any, msg: Any
) -> None:
    # As a node sends an envelope, and as the node at the other end reads it.
    codec = Codec("msgpack")
    body = msgspec.Raw(codec.encode(msg))
    received = decode(encode(Send(to, from_, cid, codec.tag_for(msg), body)))
    assert isinstance(received, Send)
    assert (received.to, received.from_, received.cid) == (to, from_, cid)
    assert codec.decode(received.body, codec.class_for(received.tag)) == msg


def test_a_frame_is_an_array_that_starts_with_its_tag() -> None:
    assert encode(Heartbeat()) == b"\x91\xa9heartbeat"
    assert msgspec.msgpack.decode(encode(Proof(b"\x01\x02"))) == ["proof", b"\x01\x02"]


def test_fields_after_the_known_ones_are_ignored() -> None:
    # So that a later version may append fields to a frame type.
    assert decode(msgspec.msgpack.encode(["heartbeat", "extra"])) == Heartbeat()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xc1",  # a byte MessagePack never uses
        msgspec.msgpack.encode(["launch", 1]),  # an unknown tag
        msgspec.msgpack.encode(["hello", 1, "a"]),  # fields missing
        msgspec.msgpack.encode(["hello", "1", "a", "h:1", b"n"]),  # a field of the wrong type
        msgspec.msgpack.encode({"type": "hello"}),  # a map, not an array
        msgspec.msgpack.encode(["heartbeat"]) + b"\x00",  # trailing bytes
        encode(Hello(VERSION, "abc", "", b"n" * 32)).replace(b"abc", b"\xff\xfe\xfd"),  # not UTF-8
        b"\x91" * 100_000,  # nested past any sane depth
    ],
    ids=[
        "empty",
        "reserved byte",
        "unknown tag",
        "too short",
        "wrong type",
        "map",
        "trailing",
        "bad utf-8",
        "deep",
    ],
)
def test_a_malformed_frame_is_a_codec_error(body: bytes) -> None:
    with pytest.raises(CodecError, match="malformed frame"):
        decode(body)


@given(st.binary(max_size=200))
def test_garbage_is_a_codec_error_or_a_frame(body: bytes) -> None:
    with contextlib.suppress(CodecError):  # anything else would be a bug
        decode(body)


# -- the handshake ------------------------------------------------------------------------------

SECRET = b"a cluster secret"
Side = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[Any]]


async def outcome(coro: Awaitable[Any]) -> Any:
    """What ``coro`` returns, or the exception it raises."""
    try:
        return await coro
    except Exception as e:
        return e


async def connected(accepting: Side, dialing: Side) -> tuple[Any, Any]:
    """Run ``accepting`` on the server end and ``dialing`` on the client end of a real
    loopback connection; what each returned or raised."""
    accepted: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            accepted.set_result(await outcome(accepting(reader, writer)))
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            dialed = await outcome(dialing(reader, writer))
        finally:
            writer.close()
        return await asyncio.wait_for(accepted, 5), dialed
    finally:
        server.close()


def as_node(name: str, *, secret: bytes = SECRET, dialer: bool, timeout: float = 2.0) -> Side:
    def side(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Awaitable[Hello]:
        return handshake(
            reader, writer, node=name, addr=f"{name}.example:7000", secret=secret,
            dialer=dialer, timeout=timeout,
        )  # fmt: skip

    return side


def test_nodes_that_share_the_secret_learn_each_others_hello() -> None:
    server, client = asyncio.run(connected(as_node("a", dialer=False), as_node("b", dialer=True)))
    assert isinstance(server, Hello) and isinstance(client, Hello)
    assert (server.node, server.addr, server.version) == ("b", "b.example:7000", VERSION)
    assert (client.node, client.addr) == ("a", "a.example:7000")
    assert len(server.nonce) == len(client.nonce) == NONCE_BYTES
    assert server.nonce != client.nonce


def test_nodes_with_different_secrets_refuse_each_other() -> None:
    server, client = asyncio.run(
        connected(as_node("a", dialer=False), as_node("b", secret=b"another secret", dialer=True))
    )
    assert isinstance(server, Refused) and "'b' does not know the cluster secret" in str(server)
    assert isinstance(client, Refused) and "'a' does not know the cluster secret" in str(client)


def test_a_proof_made_for_the_other_role_is_refused() -> None:
    # Both ends claim to have dialed: each proof is bound to its role, so neither checks.
    server, client = asyncio.run(connected(as_node("a", dialer=True), as_node("b", dialer=True)))
    assert isinstance(server, Refused) and isinstance(client, Refused)


async def reflect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A stranger without the secret that sends the node's own frames back to it."""
    hello = await read_frame(reader)
    writer.write(frame(hello))
    proof = await read_frame(reader)
    writer.write(frame(proof))
    with contextlib.suppress(PeerClosed):
        await read_frame(reader)


def test_a_stranger_cannot_reflect_a_nodes_own_proof_back_at_it() -> None:
    server, _ = asyncio.run(connected(as_node("a", dialer=False), reflect))
    assert isinstance(server, Refused)


def speak(*bodies: bytes) -> Side:
    """A peer that reads the node's Hello, then sends ``bodies``, each as a frame."""

    async def side(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_frame(reader)
        for body in bodies:
            writer.write(frame(body))
        with contextlib.suppress(PeerClosed, PeerBroken):
            await read_frame(reader)

    return side


@pytest.mark.parametrize(
    ("bodies", "why"),
    [
        ([encode(Proof(b"\x00" * 32))], "expected Hello during the handshake, got Proof"),
        ([encode(Hello(VERSION + 1, "b", "", b"n" * 32))], f"wire version {VERSION + 1}, not"),
        ([encode(Hello(VERSION, "b", "", b"short"))], "a nonce of 5 bytes"),
        ([encode(Hello(VERSION, "b", "", b"n" * 32)), encode(Heartbeat())], "got Heartbeat"),
        ([b"\x93\x01\x02\x03"], "not a rabble-sim peer"),
    ],
    ids=["proof first", "wrong version", "short nonce", "no proof", "not a frame"],
)
def test_a_peer_that_breaks_the_protocol_is_refused(bodies: list[bytes], why: str) -> None:
    server, _ = asyncio.run(connected(as_node("a", dialer=False), speak(*bodies)))
    assert isinstance(server, Refused)
    assert why in str(server)


def test_a_handshake_frame_over_its_small_limit_is_not_read() -> None:
    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")  # "GET " is a 1.2 GB length
        with contextlib.suppress(PeerClosed, PeerBroken):
            await read_frame(reader)

    server, _ = asyncio.run(connected(as_node("a", dialer=False), http))
    assert isinstance(server, FrameTooLarge)
    assert f"limit of {HANDSHAKE_LIMIT:,}" in str(server)


def test_a_silent_peer_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(PeerClosed, PeerBroken):
            await read_frame(reader, MAX_FRAME)  # its Hello, then nothing
            await read_frame(reader, MAX_FRAME)

    server, _ = asyncio.run(connected(as_node("a", dialer=False, timeout=0.2), silent))
    assert isinstance(server, TimeoutError)


# -- the cluster secret -----------------------------------------------------------------------


def test_the_secret_comes_from_the_environment_value() -> None:
    assert load_secret("  s3cret-value \n", None) == b"s3cret-value"


def test_the_secret_file_wins_and_only_its_first_line_counts(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"from-the-file\nsecond line\n")
    assert load_secret("from-the-environment", str(path)) == b"from-the-file"


@pytest.mark.parametrize("value", [None, "", "short"])
def test_a_missing_or_short_secret_says_how_to_set_one(value: str | None) -> None:
    with pytest.raises(RabbleError, match="shorter than 8 bytes: set RABBLE_SIM_SECRET"):
        load_secret(value, None)


def test_an_empty_secret_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"")
    with pytest.raises(RabbleError, match="--secret-file"):
        load_secret(None, str(path))


def test_an_unreadable_secret_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(RabbleError, match=re.escape(f"cannot read the secret file {missing}")):
        load_secret("a good long secret", os.fspath(missing))
