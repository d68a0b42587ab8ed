"""Nodes of a TCP cluster in one event loop: membership, calls, routing, spawn, services,
cluster watches and failures, over real loopback connections but without OS processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any

import attrs
import pytest

from rabble_sim import CorrelationId, Envelope, Pid
from rabble_sim.core import (
    EXECUTOR_GROUP,
    ClusterStatus,
    RabbleError,
    Routes,
    ServiceFailed,
    ServiceResult,
    call_service,
    watch_cluster,
)
from rabble_sim.net import CallLost, CallTimeout, Node, NodeConfig
from rabble_sim.net._admission import PER_ADDRESS

from .demo import ROUTES, Ping, Pong, counter, start

SECRET = b"in-process cluster secret"
Start = Callable[[str, Any], Iterable[Any]]


@contextlib.asynccontextmanager
async def cluster(
    *names: str, start: Start = start, routes: Routes | None = None, **config: Any
) -> AsyncIterator[list[Node]]:
    """Nodes ``names`` (each joining through the first) running the demo protocol, once
    every one of them counts all of them as members; stopped at the end."""
    nodes: list[Node] = []
    try:
        for name in names:
            node = Node(
                NodeConfig(
                    name, SECRET, join=tuple(n.addr for n in nodes[:1]),
                    routes=routes or Routes(ROUTES), factories={"counter": counter}, **config,
                ),
                start,
            )  # fmt: skip
            await node.start()
            nodes.append(node)
        everyone = tuple(sorted(names))
        for node in nodes:
            await node.wait_for(lambda members: members == everyone, timeout=3)
        yield nodes
    finally:
        for node in reversed(nodes):
            await node.stop()


async def eventually(check: Callable[[], Any], what: str, within: float = 2.0) -> Any:
    """Poll ``check`` on the loop until it returns something true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not (found := check()):
        if loop.time() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.01)
    return found


def run(test: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    """A plain test that runs the coroutine function ``test`` in a fresh event loop."""

    def sync() -> None:
        asyncio.run(test())

    sync.__name__ = test.__name__
    return sync


def count(node: Node, name: str) -> int:
    count: int = node.status().processes[f"{name}::{node.name}"]["count"]
    return count


# -- membership and calls -----------------------------------------------------------------


@run
async def test_three_nodes_joining_through_one_become_a_full_mesh() -> None:
    async with cluster("a", "b", "c") as (a, b, c):
        for node in (a, b, c):
            assert node.members() == ("a", "b", "c")
        # b and c met through a, yet link to each other directly.
        await eventually(lambda: c.status().links == ["a", "b"], "c links to a and b")
        await eventually(lambda: b.status().links == ["a", "c"], "b links to a and c")


@run
async def test_a_call_gets_the_reply_with_its_cid() -> None:
    async with cluster("a", "b") as (a, b):
        assert await a.call(Pid("workers/1", "b"), Ping()) == Pong("workers/1::b", 1)
        assert await a.call(Pid("workers/1", "b"), Ping()) == Pong("workers/1::b", 2)
        assert await b.call(Pid("workers/1", "b"), Ping()) == Pong("workers/1::b", 3), "local"


@run
async def test_a_call_to_a_node_that_is_not_a_member_is_connection_lost() -> None:
    async with cluster("a") as (a,):
        with pytest.raises(CallLost, match="'nowhere' is not a member") as lost:
            await a.call(Pid("workers/1", "nowhere"), Ping())
        assert lost.value.node == "nowhere"


@run
async def test_a_call_nobody_answers_times_out() -> None:
    async with cluster("a", "b") as (a, b):
        with pytest.raises(CallTimeout, match=r"no reply from sink::b within 0\.2 s"):
            await a.call(Pid("sink", "b"), Ping(), timeout=0.2)
        assert b.status().processes["sink::b"]["received"] == 1, "delivered, never answered"


@run
async def test_a_call_in_flight_to_a_node_that_leaves_is_connection_lost() -> None:
    async with cluster("a", "b") as (a, b):
        call = asyncio.create_task(a.call(Pid("sink", "b"), Ping(), timeout=30))
        await eventually(lambda: b.status().processes["sink::b"]["received"], "b has it")
        await b.stop()
        with pytest.raises(CallLost, match="'b' failed or left"):
            await asyncio.wait_for(call, 2)


@run
async def test_a_node_that_stops_leaves_the_others_members_at_once() -> None:
    # The failure detector would take a minute: leaving does not wait for it.
    async with cluster("a", "b", "c", failure_timeout=60.0) as (a, b, c):
        await c.stop()
        for node in (a, b):
            await node.wait_for(lambda members: members == ("a", "b"), timeout=2)
        assert await a.call(Pid("workers/1", "b"), Ping()) == Pong("workers/1::b", 1)


# -- routing ------------------------------------------------------------------------------------


@run
async def test_select_round_robins_over_the_workers() -> None:
    async with cluster("a", "b") as (a, _):
        replies = [await a.call(Pid("workers/?", "b"), Ping()) for _ in range(4)]
        assert [r.by for r in replies] == [
            "workers/1::b", "workers/2::b", "workers/3::b", "workers/1::b",
        ]  # fmt: skip


@run
async def test_broadcast_reaches_every_worker() -> None:
    async with cluster("a", "b") as (a, b):
        reply = await a.call(Pid("workers/*", "b"), Ping())
        assert reply.by in {"workers/1::b", "workers/2::b", "workers/3::b"}, "the first answer"
        await eventually(
            lambda: [count(b, f"workers/{i}") for i in (1, 2, 3)] == [1, 1, 1], "all three count"
        )
        assert [count(a, f"workers/{i}") for i in (1, 2, 3)] == [0, 0, 0], "only on b"


def hashed_worker(sender: Pid) -> str:
    """The worker ``SenderHash`` picks for ``sender`` among hashed/1..3 (CRC-32 of its pid)."""
    return f"hashed/{zlib.crc32(str(sender).encode()) % 3 + 1}"


@run
async def test_a_registered_sender_hash_sends_one_sender_to_one_worker() -> None:
    # Node names whose callers' pids hash to three different workers.
    async with cluster("b", "d", "e") as nodes:
        chosen = {}
        for caller in nodes:
            expected = hashed_worker(Pid("caller", caller.name, EXECUTOR_GROUP)) + "::b"
            for path in ("hashed", "hashed/?", "hashed", "hashed/?"):
                reply = await caller.call(Pid(path, "b"), Ping())
                assert reply.by == expected, f"{path} from {caller.name}"
            chosen[caller.name] = expected
        assert chosen == {"b": "hashed/1::b", "d": "hashed/3::b", "e": "hashed/2::b"}


@run
async def test_a_custom_policy_chooses() -> None:
    async with cluster("a", "b") as (a, _):
        for _ in range(3):
            assert (await a.call(Pid("last", "b"), Ping())).by == "last/3::b"


@run
async def test_without_implicit_routing_a_broadcast_is_a_dead_letter() -> None:
    async with cluster("a", "b", routes=Routes(ROUTES, implicit=False)) as (a, b):
        for path in ("workers/*", "workers/?"):
            with pytest.raises(CallTimeout):
                await a.call(Pid(path, "b"), Ping(), timeout=0.2)
        await eventually(lambda: b.status().dead_letters == 2, "two dead letters on b")
        assert [count(b, f"workers/{i}") for i in (1, 2, 3)] == [0, 0, 0]
        # Paths with a registered policy still route.
        assert (await a.call(Pid("last", "b"), Ping())).by == "last/3::b"


# -- remote spawn --------------------------------------------------------------------------------


@run
async def test_a_process_spawned_on_another_node_answers_calls() -> None:
    async with cluster("a", "b") as (a, b):
        pid = await a.spawn("b", "counter", "extra", 5)
        assert pid == Pid("extra", "b")
        assert await a.call(pid, Ping()) == Pong("extra::b", 6)
        assert b.status().processes["extra::b"] == {"pid": "extra::b", "count": 6}


@run
async def test_a_spawn_that_cannot_be_done_says_why() -> None:
    async with cluster("a", "b") as (a, _):
        with pytest.raises(RabbleError, match="no factory named 'nope' on b"):
            await a.spawn("b", "nope", "extra")
        with pytest.raises(RabbleError, match=r"workers/1::b is already running"):
            await a.spawn("b", "counter", "workers/1")


# -- services ------------------------------------------------------------------------------------


@attrs.define
class Squarer:
    """Answers ``Ping(n)`` with the result of the ``square`` service (or any other one
    named by ``service``), run off the node's loop."""

    pid: Pid
    service: str = "square"
    waiting: dict[int, tuple[Pid, CorrelationId | None]] = attrs.Factory(dict)
    asked: int = 0

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Ping):
            self.asked += 1
            self.waiting[self.asked] = (from_, cid)
            ask = CorrelationId(self.pid, self.asked)
            output.append(call_service(self.pid, self.service, msg.n, cid=ask))
        elif isinstance(msg, ServiceResult | ServiceFailed) and cid is not None:
            caller, caller_cid = self.waiting.pop(cid.request or 0)
            output.append(Envelope(caller, self.pid, msg, caller_cid))


def with_squarers(node: str, durable: Any) -> list[Any]:
    squarers = [Squarer(Pid(f"square/{i}", node)) for i in (1, 2)]
    return [*start(node, durable), *squarers, Squarer(Pid("other", node), service="missing")]


@run
async def test_a_service_result_comes_back_as_a_message() -> None:
    services = {"square": lambda x: x * x}
    async with cluster("a", "b", start=with_squarers, services=services) as (a, _):
        assert await a.call(Pid("square/1", "a"), Ping(12)) == ServiceResult("square", 144)
        assert await a.call(Pid("square/1", "b"), Ping(7)) == ServiceResult("square", 49)


@run
async def test_a_failing_or_missing_service_is_a_service_failed() -> None:
    def square(x: int) -> int:
        raise ValueError(f"no square for {x}")

    async with cluster("a", start=with_squarers, services={"square": square}) as (a,):
        failed = await a.call(Pid("square/1", "a"), Ping(3))
        assert failed == ServiceFailed("square", "ValueError('no square for 3')")
        missing = await a.call(Pid("other", "a"), Ping(3))
        assert missing == ServiceFailed("missing", "no service named 'missing' on a")


@run
async def test_a_blocking_service_does_not_block_the_node() -> None:
    release = threading.Event()

    def square(x: int) -> int:
        release.wait(5)  # blocks a worker thread until the test says so
        return x * x

    async with cluster("a", start=with_squarers, services={"square": square}) as (a,):
        blocked = asyncio.create_task(a.call(Pid("square/1", "a"), Ping(9)))
        # While the service blocks, the node still handles messages.
        assert await a.call(Pid("workers/1", "a"), Ping(), timeout=2) == Pong("workers/1::a", 1)
        assert not blocked.done()
        release.set()
        assert await blocked == ServiceResult("square", 81)


# -- cluster watches ---------------------------------------------------------------------------


@attrs.define
class Watcher:
    """Keeps every ``ClusterStatus`` its executor sends it."""

    pid: Pid
    seen: list[list[str]] = attrs.Factory(list)

    def init(self, output: list[Envelope]) -> None:
        output.append(watch_cluster(self.pid))

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, ClusterStatus):
            self.seen.append(list(msg.members))


def with_watcher(node: str, durable: Any) -> list[Any]:
    return [*start(node, durable), Watcher(Pid("watcher", node))]


@run
async def test_a_watcher_hears_of_every_change_in_the_members() -> None:
    async with cluster("a", "b", "c", start=with_watcher) as (a, b, c):

        def seen(node: Node) -> list[list[str]]:
            found: list[list[str]] = node.status().processes[f"watcher::{node.name}"]["seen"]
            return found

        await eventually(lambda: seen(a)[-1:] == [["a", "b", "c"]], "a's watcher sees c join")
        assert seen(a)[0] == ["a"], "the first status answers the watch at once"
        assert seen(c)[0] == ["c"] and seen(c)[-1] == ["a", "b", "c"]
        await b.stop()
        for node in (a, c):
            await eventually(lambda n=node: seen(n)[-1] == ["a", "c"], f"{node.name} sees b go")


# -- bugs in a protocol lose messages, never the node ----------------------------------------


@attrs.frozen
class Unregistered:
    """Not a ``@message``: it cannot go over the wire."""


@attrs.define
class Forwarder:
    """Sends something unsendable to another node, then answers."""

    pid: Pid

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        output.append(Envelope(Pid("workers/1", "b"), self.pid, Unregistered()))
        output.append(Envelope(from_, self.pid, Pong(str(self.pid), 0), cid))


@attrs.frozen
class Broken:
    """A custom routing policy with a bug."""

    def select(self, targets: Sequence[Pid], env: Envelope, turn: int) -> Sequence[Pid]:
        raise RuntimeError("a bug in a routing policy")


def with_forwarder(node: str, durable: Any) -> list[Any]:
    return [*start(node, durable), Forwarder(Pid("forwarder", node))]


@run
async def test_a_message_that_cannot_be_sent_is_dropped_and_the_node_carries_on() -> None:
    async with cluster("a", "b", start=with_forwarder) as (_, b):
        for _ in range(2):
            assert await b.call(Pid("forwarder", "a"), Ping()) == Pong("forwarder::a", 0)
        assert await b.call(Pid("workers/1", "a"), Ping()) == Pong("workers/1::a", 1)


@run
async def test_a_routing_policy_that_raises_loses_that_message_only() -> None:
    routes = Routes({**ROUTES, "workers": Broken()})
    async with cluster("a", "b", routes=routes) as (a, _):
        with pytest.raises(CallTimeout):
            await a.call(Pid("workers/?", "b"), Ping(), timeout=0.2)
        assert await a.call(Pid("workers/1", "b"), Ping()) == Pong("workers/1::b", 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_a_node_told_to_join_itself_stays_its_own_member(caplog: pytest.LogCaptureFixture) -> None:
    # The same --join list on every node includes each node's own address.
    async def body() -> None:
        port = free_port()
        own = f"127.0.0.1:{port}"
        config = NodeConfig("a", SECRET, port=port, join=(own,), heartbeat=0.05)
        async with contextlib.AsyncExitStack() as stack:
            a = Node(config, start)
            await a.start()
            stack.push_async_callback(a.stop)
            dialed = f"cannot link to {own}: that is this node's own address"
            await eventually(
                lambda: dialed in caplog.text or "lost node" in caplog.text, "a dialed itself"
            )
            assert "lost node a" not in caplog.text
            assert a.members() == ("a",) and a.status().links == []
            b = Node(NodeConfig("b", SECRET, join=(own,)), start)
            await b.start()
            stack.push_async_callback(b.stop)
            await b.wait_for(lambda members: members == ("a", "b"), timeout=2)
            assert await b.call(Pid("workers/1", "a"), Ping()) == Pong("workers/1::a", 1)

    with caplog.at_level(logging.INFO, logger="rabble_sim.net"):
        asyncio.run(body())


def test_links_send_small_frames_at_once() -> None:
    """TCP_NODELAY: a small frame is not held back waiting for more (Nagle)."""

    async def scenario() -> list[int]:
        a = Node(NodeConfig("a", SECRET, heartbeat=0.05), start)
        await a.start()
        b = Node(NodeConfig("b", SECRET, join=(a.addr,), heartbeat=0.05), start)
        await b.start()
        try:
            await b.wait_for(lambda members: members == ("a", "b"), timeout=5)
            links = [*a._links.values(), *b._links.values()]
            return [
                link._writer.get_extra_info("socket").getsockopt(
                    socket.IPPROTO_TCP, socket.TCP_NODELAY
                )
                for link in links
            ]
        finally:
            await b.stop()
            await a.stop()

    assert asyncio.run(scenario()) == [1, 1]


def test_a_member_cannot_speak_for_another_nodes_processes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A peer that forges a sender on the node it talks to (to shut down its process, or
    to answer someone else's call) loses its link, and nothing happens."""
    import msgspec

    from rabble_sim.core import Shutdown, executor_pid
    from rabble_sim.net._framing import frame
    from rabble_sim.net._handshake import handshake
    from rabble_sim.net._wire import Send, encode

    async def scenario() -> bool:
        a = Node(NodeConfig("a", SECRET), start)
        await a.start()
        try:
            host, port = a.addr.rsplit(":", 1)
            reader, writer = await asyncio.open_connection(host, int(port))
            await handshake(
                reader, writer, node="z", addr="127.0.0.1:9", secret=SECRET, dialer=True
            )
            body = msgspec.Raw(msgspec.msgpack.encode(Shutdown()))
            forged = Send(executor_pid("a"), Pid("workers/1", "a"), None, "rabble.shutdown", body)
            writer.write(frame(encode(forged)))
            await writer.drain()
            await asyncio.wait_for(reader.read(), 5)  # its gossip, then the end of the link
            assert reader.at_eof(), "the node closes the link"
            writer.close()
            return Pid("workers/1", "a") in a.executor.processes  # type: ignore[union-attr]
        finally:
            await a.stop()

    with caplog.at_level(logging.INFO, logger="rabble_sim.net"):
        assert asyncio.run(scenario()), "workers/1 still runs"
    assert "z sent a message as workers/1::a" in caplog.text


def test_a_host_holding_idle_connections_is_refused_past_a_few_and_others_get_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Each connection that never speaks would hold a socket until the handshake's timeout;
    # one address may have PER_ADDRESS handshakes under way, and the rest are closed unheard.
    extra = 12

    async def outcome(reader: asyncio.StreamReader) -> str:
        try:
            data = await asyncio.wait_for(reader.read(100), 1.0)
        except TimeoutError:
            return "waiting"
        return "closed" if not data else "waiting"  # the node's hello, in a handshake

    async def body() -> None:
        async with cluster("a") as (a,):
            host, port = a.addr.rsplit(":", 1)
            idle = [
                await asyncio.open_connection(host, int(port), local_addr=("127.0.0.2", 0))
                for _ in range(PER_ADDRESS + extra)
            ]
            seen = await asyncio.gather(*(outcome(reader) for reader, _ in idle))
            assert seen.count("closed") == extra and seen.count("waiting") == PER_ADDRESS
            b = Node(NodeConfig("b", SECRET, join=(a.addr,)), start)  # from 127.0.0.1
            await b.start()
            try:
                await b.wait_for(lambda members: members == ("a", "b"), timeout=3)
            finally:
                await b.stop()
                for _, writer in idle:
                    writer.close()

    with caplog.at_level(logging.WARNING, logger="rabble_sim.net"):
        asyncio.run(body())
    refusals = [r.getMessage() for r in caplog.records if "unheard" in r.getMessage()]
    said = "from 127.0.0.2 unheard: 8 handshakes from that address are already under way"
    assert refusals == [
        *(f"refused connection #{n} {said}" for n in range(1, 10)),
        f"refused connection #10 {said} (further ones are logged every 1,000th, with their number)",
    ], "twelve refused, the first ten logged"
