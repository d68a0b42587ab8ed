"""A live node under hostile frames: it closes each bad connection with one log line, keeps
its cluster, and keeps serving.

A two-node cluster of real ``rabble-sim serve`` processes (a and b). The test then opens
thousands of TCP connections to a, in parallel, and sends well over 10,000 hostile frames,
counted by kind:

1. ``random``: random bytes, and frames of random bytes, before any handshake;
2. ``oversize``: lengths far over the limit (``0xFFFFFFFF``) and one byte over it, before
   and after the handshake; and a few frames of garbage exactly at the 8 MiB limit;
3. ``handshake``: a valid ``Hello`` then garbage, a wrong ``Proof`` (another secret), a
   ``Proof`` first, wrong versions and nonces, and a tag that tries to forge log lines;
4. ``authenticated``: after a correct handshake (the test knows the secret), frames that
   are well formed but hostile, pipelined (dead letters, requests that only local
   processes may make, forged senders and timeouts, routed paths, status requests), then
   one that must close the connection (an unknown message tag, a body that does not fit
   its tag, malformed MessagePack, MessagePack that is not a frame, a message for another
   node, malformed gossip, handshake frames out of order, nesting 100,000 deep);
5. ``truncated``: a header, then part of the body, then the end of the stream;
6. ``storm``: waves of connections opened at once and closed (or reset) at once, and
   strangers that connect and say nothing until the node gives up on them.

Then it checks that a still runs with its memory bounded, that a and b still see each
other over the same link, that a call through the cluster is answered, that every
dead letter and every connection refused before the end of its handshake was counted,
and that a's log stays short: one line for each authenticated connection closed on a bad
frame, the first ten refused connections and every thousandth after that, and no
traceback.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import msgspec

from rabble_sim import CorrelationId, Pid, Timeout
from rabble_sim.core import (
    CallService,
    CancelTimer,
    GetExecutorStatus,
    GetMetrics,
    Persist,
    Shutdown,
    StartTimer,
    WatchCluster,
    executor_pid,
)
from rabble_sim.net import MAX_FRAME, parse_addr
from rabble_sim.net._framing import HEADER, frame
from rabble_sim.net._handshake import HANDSHAKE_LIMIT, NONCE_BYTES, handshake, proof
from rabble_sim.net._wire import (
    VERSION,
    Gossip,
    Heartbeat,
    Hello,
    Proof,
    Send,
    StatusReply,
    StatusRequest,
    encode,
)

from .conftest import SECRET, Cluster, ServedNode, client_node, eventually
from .demo import Ping, Pong

SEED = 20261122
PARALLEL = 48
"""Connections in flight at once (each kind runs this many side by side)."""
PIPELINED = 12
"""Well-formed hostile frames an authenticated connection sends before its bad one."""
STRANGERS = 1_600
"""Connections that send one frame of random bytes before any handshake."""
HANDSHAKES = 1_000
AUTHENTICATED = 900
OVERSIZE = 100
"""Per variant: four variants before the handshake, two after."""
TRUNCATED = 200
"""Per variant: before and after the handshake."""
STORM_WAVES, STORM_WAVE = 8, 100
IDLE = 20
"""Strangers that connect and never speak: the node must give up on them (5 s)."""
MAX_RSS_KB = 300 * 1024
FORGED = "\nTraceback (most recent call last):\n  forged by a stranger"
"""A tag a stranger sends to make the node's log look broken."""

CLOSED_BY = re.compile(r"\] closed the connection from client '(fuzz-\d+)': (.*)$")
REFUSED = re.compile(r"\] refused connection #(\d+) from \('127\.0\.0\.")


class Fuzzer:
    """Opens hostile connections to one node and counts what it sent, by kind."""

    def __init__(self, addr: str, seed: int) -> None:
        self.host, self.port = parse_addr(addr)
        self.rng = random.Random(seed)
        self.frames: Counter[str] = Counter()
        """Hostile frames sent, by kind (the valid handshake frames are not counted)."""
        self.strangers: Counter[str] = Counter()
        """Connections refused before or during the handshake, by kind."""
        self.clients: dict[str, str] = {}
        """Authenticated connections with a bad last frame: name -> what the node must say."""
        self.dead_letters = 0
        """Frames a must count as dead letters."""
        self._limit = asyncio.Semaphore(PARALLEL)
        self._names = itertools.count()
        # A node lets one address have a few handshakes under way at once (more are
        # refused unheard): the attack comes from many loopback addresses, as a botnet
        # would, so that every hostile frame reaches the parser.
        self._sources = itertools.cycle(f"127.0.0.{i}" for i in range(2, 252))

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to the node from the next source address."""
        return await asyncio.open_connection(
            self.host, self.port, local_addr=(next(self._sources), 0)
        )

    # -- connections ------------------------------------------------------------------------

    async def stranger(self, kind: str, payload: bytes, frames: int) -> None:
        """Send ``payload`` before any handshake, end the stream, wait for the node to
        close the connection."""
        async with self._limit:
            reader, writer = await self.connect()
            try:
                writer.write(payload)
                writer.write_eof()
                await until_closed(reader)
            finally:
                writer.close()
        self.frames[kind] += frames
        self.strangers[kind] += 1

    async def client(self, kind: str, frames: list[bytes], last: bytes, expect: str) -> None:
        """Pass the handshake, send ``frames`` (each must leave the connection open) and
        ``last`` (raw: it must close it, with a reason containing ``expect``), end the
        stream, and wait for the node to close the connection."""
        name = f"fuzz-{next(self._names)}"
        async with self._limit:
            reader, writer = await self.connect()
            try:
                await handshake(
                    reader, writer, node=name, addr="", secret=SECRET.encode(), dialer=True
                )
                writer.writelines([*map(frame, frames), last])
                writer.write_eof()
                await until_closed(reader)
            finally:
                writer.close()
        self.frames[kind] += len(frames) + 1
        self.clients[name] = expect

    async def storm(self, wave: int) -> None:
        """Open ``wave`` connections at once, then close half and reset half at once."""
        opened = await asyncio.gather(*(self.connect() for _ in range(wave)))
        for i, (_, writer) in enumerate(opened):
            if i % 2:
                writer.transport.abort()
            else:
                writer.close()
        self.strangers["storm"] += wave

    # -- what to send ------------------------------------------------------------------------

    def text(self, most: int = 12) -> str:
        """Random text, with the characters that matter to paths and logs."""
        alphabet = "abcxyz019/*?:@.-_ \n\t\x00\\'\"é漢🙂"
        return "".join(self.rng.choice(alphabet) for _ in range(self.rng.randint(0, most)))

    def integer(self) -> int:
        return self.rng.choice([0, -1, 1, 2**31, -(2**63), 2**64 - 1, self.rng.getrandbits(40)])

    def value(self, depth: int = 0) -> Any:
        """A random MessagePack value, nested at most three deep."""
        rng = self.rng
        kind = rng.randrange(9 if depth < 3 else 7)
        if kind == 7:
            return [self.value(depth + 1) for _ in range(rng.randint(0, 4))]
        if kind == 8:
            return {self.text(): self.value(depth + 1) for _ in range(rng.randint(0, 3))}
        scalars: list[Any] = [
            None,
            True,
            self.integer(),
            rng.random() * 1e300,
            self.text(),
            rng.randbytes(rng.randint(0, 20)),
            msgspec.msgpack.Ext(rng.randint(-128, 127), rng.randbytes(3)),
        ]
        return scalars[kind]

    def ghost(self) -> Pid:
        """A sender on a node that does not exist: a reply to it is a dead letter (there is
        no such node in the cluster), as in the simulator."""
        return Pid(self.text(), "ghost-" + self.text(), self.rng.choice([None, self.text()]))

    def cid(self) -> CorrelationId | None:
        if self.rng.random() < 0.3:
            return None
        return CorrelationId(self.ghost(), self.integer(), self.integer())

    def send(self, to: Pid, msg: Any) -> bytes:
        body = msgspec.Raw(msgspec.msgpack.encode(msg))
        return encode(Send(to, self.ghost(), self.cid(), REGISTERED[type(msg)], body))

    def well_formed(self) -> bytes:
        """A frame the node must accept and handle without closing the connection."""
        roll = self.rng.randrange(8)
        if roll == 0:  # to no such process: a dead letter
            self.dead_letters += 1
            nobody = Pid("nobody/" + self.text(), "a", self.rng.choice([None, self.text()]))
            return self.send(nobody, Ping(self.integer() % 2**63))
        if roll == 1:  # requests that only a's own processes may make: dead letters
            self.dead_letters += 1
            request = self.rng.choice(
                [
                    StartTimer(self.rng.randint(0, 10**9)),
                    CancelTimer(self.cid()),
                    Persist(self.value()),
                    Shutdown(),
                    WatchCluster(),
                    CallService(self.text(), (self.value(),)),
                ]
            )
            return self.send(executor_pid("a"), request)
        if roll == 2:  # requests any node may make; each reply goes to a ghost: dead
            self.dead_letters += 1
            anyone: Any = self.rng.choice([GetExecutorStatus(), GetMetrics()])
            return self.send(executor_pid("a"), anyone)
        if roll == 3:  # routed paths, direct pids, forged timeouts and stray replies
            path = self.rng.choice(["workers/*", "workers/?", "hashed/?", "last", "workers/1"])
            msg = self.rng.choice([Timeout(), Pong(self.text(), -1)])
            return self.send(Pid(path, "a"), msg)
        if roll in (4, 5):
            return encode(StatusRequest())
        return encode(Heartbeat())

    def bad(self) -> tuple[bytes, str]:
        """A frame (raw, with its header) that must close an authenticated connection, and
        what the node's log line must say."""
        ping = msgspec.Raw(msgspec.msgpack.encode(Ping(1)))
        worker = Pid("workers/1", "a")
        roll = self.rng.randrange(10)
        if roll == 0:
            tag = "fuzz." + self.text()
            send = Send(worker, self.ghost(), None, tag, msgspec.Raw(msgspec.msgpack.encode(1)))
            return frame(encode(send)), "unknown message tag"
        if roll == 1:  # a known tag, a body of another shape
            body = msgspec.Raw(msgspec.msgpack.encode(self.rng.choice([{"n": "x"}, [], "ping"])))
            return frame(encode(Send(worker, self.ghost(), None, "demo.ping", body))), "malformed"
        if roll == 2:
            return frame(self.rng.randbytes(self.rng.randint(1, 300))), "malformed frame"
        if roll == 3:  # valid MessagePack, not a frame
            return frame(msgspec.msgpack.encode([self.value()])), "malformed frame"
        if roll == 4:  # a frame's tag with the wrong fields
            shape = self.rng.choice([["send"], ["send", 1, 2, 3, 4, 5], ["gossip", [], {}, 7]])
            return frame(msgspec.msgpack.encode(shape)), "malformed frame"
        if roll == 5:  # well formed, but for another node
            to = Pid("workers/1", self.rng.choice(["b", "ghost", ""]))
            elsewhere = Send(to, self.ghost(), None, "demo.ping", ping)
            return frame(encode(elsewhere)), "arrived at node a"
        if roll == 6:
            if self.rng.random() < 0.5:
                entries = {"x@y": [("a", "not a counter")]}
                return frame(msgspec.msgpack.encode(["gossip", entries, {}, []])), "malformed frame"
            # Well formed, but a client is no member: it may not gossip.
            names = [self.text() for _ in range(self.rng.randint(0, 3))]
            gossip = encode(Gossip({name: [] for name in names}, {}, []))
            return frame(gossip), "a client may not gossip"
        if roll == 7:  # the handshake again, or a node's reply, out of place
            strays: list[Hello | Proof | StatusReply] = [
                Hello(VERSION, "a", "", bytes(NONCE_BYTES)),
                Proof(bytes(32)),
                StatusReply("a", ["a"], [], {}, 0, {}),
            ]
            stray = self.rng.choice(strays)
            return frame(encode(stray)), f"unexpected {type(stray).__name__} frame"
        if roll == 8:  # nesting 100,000 deep, as a frame and as a message body
            deep = b"\x91" * 100_000 + b"\xc0"
            if self.rng.random() < 0.5:
                return frame(deep), "malformed frame"
            send = Send(worker, self.ghost(), None, "demo.ping", msgspec.Raw(deep))
            return frame(encode(send)), "malformed"
        truncated = msgspec.msgpack.encode(["send", "x" * 50])[: self.rng.randint(1, 40)]
        return frame(truncated), "malformed frame"


async def until_closed(reader: asyncio.StreamReader) -> None:
    """Read until the node ends the connection (it must, within its handshake limit)."""
    try:
        async with asyncio.timeout(15):
            while await reader.read(1 << 16):
                pass
    except ConnectionResetError:
        pass


async def strangers(fuzz: Fuzzer) -> None:
    """Kinds 1, 2, 3 and 5 before the handshake."""
    rng = fuzz.rng
    hello = encode(Hello(VERSION, "stranger", "", bytes(NONCE_BYTES)))

    def randoms() -> Iterator[Any]:
        for i in range(STRANGERS):
            if i % 2:  # pure noise (its first four bytes are a length, almost surely huge)
                payload = rng.randbytes(rng.randint(0, 400))
            else:  # a frame of noise, under the handshake's limit
                payload = frame(rng.randbytes(rng.randint(0, HANDSHAKE_LIMIT)))
            yield fuzz.stranger("random", payload, 1)

    def oversize() -> Iterator[Any]:
        for length in (0xFFFFFFFF, HANDSHAKE_LIMIT + 1, MAX_FRAME, 2**31):
            for _ in range(OVERSIZE):
                yield fuzz.stranger("oversize", HEADER.pack(length) + rng.randbytes(64), 1)

    def handshakes() -> Iterator[Any]:
        for i in range(HANDSHAKES):
            nonce = rng.randbytes(NONCE_BYTES)
            variant = i % 6
            if variant == 0:  # a Hello, then garbage
                payload = frame(hello) + frame(rng.randbytes(rng.randint(0, 100)))
            elif variant == 1:  # a Hello, then a proof under another secret
                # (the node's nonce is unknown, so no proof could be right; a wrong
                # secret is the realistic case)
                mac = proof(b"not-the-secret", True, "stranger", nonce, rng.randbytes(NONCE_BYTES))
                payload = frame(hello) + frame(encode(Proof(mac)))
            elif variant == 2:  # a Proof first
                payload = frame(encode(Proof(rng.randbytes(32))))
            elif variant == 3:  # another version, or a nonce of the wrong size
                odd = rng.choice(
                    [Hello(VERSION + 1, "x", "", nonce), Hello(VERSION, "x", "", nonce[:5])]
                )
                payload = frame(encode(odd))
            elif variant == 4:  # a tag that tries to write its own lines into the log
                payload = frame(msgspec.msgpack.encode([FORGED, 1]))
            else:  # a Hello with every field of the wrong type
                payload = frame(msgspec.msgpack.encode(["hello", "1", 2, 3.0, None]))
            yield fuzz.stranger("handshake", payload, 1)

    def truncated() -> Iterator[Any]:
        for _ in range(TRUNCATED):
            length = rng.randint(2, HANDSHAKE_LIMIT)
            cut = frame(rng.randbytes(length))[: rng.randint(1, length + 3)]
            yield fuzz.stranger("truncated", cut, 1)

    await asyncio.gather(*itertools.chain(randoms(), oversize(), handshakes(), truncated()))


async def authenticated(fuzz: Fuzzer) -> None:
    """Kinds 2, 4 and 5 after a correct handshake."""
    rng = fuzz.rng

    def jobs() -> Iterator[Any]:
        for _ in range(AUTHENTICATED):
            frames = [fuzz.well_formed() for _ in range(PIPELINED)]
            last, expect = fuzz.bad()
            yield fuzz.client("authenticated", frames, last, expect)
        for length in (0xFFFFFFFF, MAX_FRAME + 1):
            for _ in range(OVERSIZE):
                header = HEADER.pack(length) + rng.randbytes(16)
                yield fuzz.client("oversize", [], header, "over the limit")
        for i in range(TRUNCATED):
            if i % 4 == 0:  # inside the header
                cut = HEADER.pack(rng.randint(1, MAX_FRAME))[: rng.randint(1, 3)]
                yield fuzz.client("truncated", [], cut, "the stream ended inside a frame header")
                continue
            if i % 4 < 3:  # a few bytes of the body
                length, got = rng.randint(10, MAX_FRAME), rng.randint(0, 9)
            else:  # more than one read's worth of a long frame
                length, got = rng.randint(400_000, MAX_FRAME), rng.randint(100_000, 300_000)
            cut = HEADER.pack(length) + rng.randbytes(got)
            why = f"the stream ended {got:,} bytes into a {length:,}-byte frame"
            yield fuzz.client("truncated", [], cut, why)
        for _ in range(20):  # a long well-formed frame (a 200 kB message to a sink), then more
            long = fuzz.send(Pid("sink", "a"), Pong("x" * 200_000, 0))
            frames = [long, *(fuzz.well_formed() for _ in range(3))]
            last, expect = fuzz.bad()
            yield fuzz.client("authenticated", frames, last, expect)
        for _ in range(4):  # at the limit exactly: read whole, then refused as garbage
            at_limit = frame(b"\xc1" * MAX_FRAME)
            yield fuzz.client("oversize", [], at_limit, "malformed frame")

    await asyncio.gather(*jobs())


async def storms(fuzz: Fuzzer) -> None:
    for _ in range(STORM_WAVES):
        await fuzz.storm(STORM_WAVE)


async def attack(addr: str) -> Fuzzer:
    fuzz = Fuzzer(addr, SEED)
    idle = [await fuzz.connect() for _ in range(IDLE)]
    # First, so that it is among the refusals logged one by one.
    await fuzz.stranger("handshake", frame(msgspec.msgpack.encode([FORGED, 1])), 1)
    await strangers(fuzz)
    await authenticated(fuzz)
    await storms(fuzz)
    for reader, writer in idle:  # the node gives up on each after its handshake limit
        await until_closed(reader)
        writer.close()
    fuzz.strangers["idle"] += IDLE
    return fuzz


async def call_through(contact: str) -> list[Any]:
    """Join the cluster through ``contact`` as a fresh node and call a worker on a and b."""
    async with client_node(contact, "ab") as caller:
        return [await caller.call(Pid("workers/1", n), Ping(7), timeout=10) for n in "ab"]


def sees_both(node: ServedNode) -> bool:
    return node.members() == ["a", "b"]


def rss_kb(node: ServedNode) -> tuple[int, int]:
    """The node's resident memory now and at its peak, in KiB."""
    text = Path(f"/proc/{node.proc.pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in text.splitlines())
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


REGISTERED = {
    Ping: "demo.ping",
    Pong: "demo.pong",
    Timeout: "rabble.timeout",
    StartTimer: "rabble.start_timer",
    CancelTimer: "rabble.cancel_timer",
    Persist: "rabble.persist",
    Shutdown: "rabble.shutdown",
    WatchCluster: "rabble.watch_cluster",
    CallService: "rabble.call_service",
    GetExecutorStatus: "rabble.get_executor_status",
    GetMetrics: "rabble.get_metrics",
}


def test_a_node_survives_hostile_frames_and_keeps_serving(cluster: Cluster) -> None:
    a = cluster.start("demo:scenario", "a")
    b = cluster.start("demo:scenario", "b", join=a)
    for node in (a, b):
        eventually(partial(sees_both, node), what=f"{node.name} sees a and b")
    before = a.log_text()
    assert a.status().refused == 0

    started = time.monotonic()
    fuzz = asyncio.run(attack(a.addr))
    elapsed = time.monotonic() - started
    total = sum(fuzz.frames.values())
    print(f"\n{total:,} hostile frames in {elapsed:.1f} s: {dict(fuzz.frames)}")
    print(f"connections refused: {dict(fuzz.strangers)}; closed after the handshake: "
          f"{len(fuzz.clients):,}")  # fmt: skip
    assert total >= 10_000

    # a is up, with its memory bounded, and its cluster is whole: same link, no loss.
    assert a.proc.poll() is None, "node a died"
    rss, peak = rss_kb(a)
    print(f"node a: {rss / 1024:.0f} MiB resident, {peak / 1024:.0f} MiB at most")
    assert peak < MAX_RSS_KB
    assert a.members() == ["a", "b"] and a.status().links == ["b"]
    assert b.members() == ["a", "b"] and b.status().links == ["a"]
    # It still serves: a fresh node joins through a and calls a process on each node.
    replies = asyncio.run(call_through(a.addr))
    assert [(r.by, type(r)) for r in replies] == [("workers/1::a", Pong), ("workers/1::b", Pong)]
    # Every well-formed frame was handled: each dead letter was counted, none was lost.
    eventually(
        lambda: a.status().dead_letters == fuzz.dead_letters,
        what=f"{fuzz.dead_letters} dead letters counted",
    )

    # Every connection refused before or during its handshake was counted once, ...
    strangers = sum(fuzz.strangers.values())
    assert a.status().refused == strangers
    # ... and the log has the first ten and every thousandth, numbered; no traceback; the
    # link to b never broke (on either side).
    log = a.log_text()[len(before) :]
    lines = log.splitlines()
    numbers = [int(found.group(1)) for line in lines if (found := REFUSED.search(line))]
    assert numbers == [*range(1, 11), *range(1000, strangers + 1, 1000)]
    assert "(further ones are logged every 1,000th, with their number)" in log
    closed: dict[str, str] = {}
    for line in lines:
        found = CLOSED_BY.search(line)
        if found:
            assert found.group(1) not in closed, f"two lines for {found.group(1)}"
            closed[found.group(1)] = found.group(2)
    assert closed.keys() == fuzz.clients.keys()
    wrong = {n: (why, closed[n]) for n, why in fuzz.clients.items() if why not in closed[n]}
    assert not wrong, f"closed for another reason than its last frame: {wrong}"
    assert repr(FORGED) in log, "the forged tag, escaped, within its line"
    for text in (a.log_text(), b.log_text()):
        # (A stranger's forged text is in the log, escaped, within its line.)
        assert not re.search(r"^Traceback", text, re.MULTILINE)
        assert "lost node" not in text
