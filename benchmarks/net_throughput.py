"""TCP executor throughput and latency: two nodes on loopback against plain asyncio streams.

Run from the repository root: ``python benchmarks/net_throughput.py``. Prints one JSON
object per figure (machine-readable), then tables. Each figure is a median over
``--repeat`` runs; node and baseline runs alternate, and every ratio is the median of the
ratios of runs taken side by side, since absolute rates on a shared machine drift.

Two OS processes, each with its own event loop, as in a deployment: this process runs
node ``a`` (the sender) and a child process runs node ``b`` (the receiver), started
afresh for every run. In one process the two loops would share one core and one GIL, and
the figure would be the cost of both ends added together, not what one node sustains.

- **One way**: a process on ``a`` sends ``--messages`` small messages to a process on
  ``b``, which acknowledges every 1,000th; the sender keeps at most ``--window``
  unacknowledged (flow control, as any real sender needs: a link drops frames beyond its
  queue rather than buffer without bound). Messages per second from the first send to
  the last acknowledgement, and the CPU time each side spends per message (from
  ``/proc``: it moves much less than the rate when other jobs share the machine).
- **Baselines**: the same exchanges over plain asyncio streams between the same two
  processes: the same frames (a 4-byte length, then a MessagePack ``Send`` frame whose
  body is the MessagePack message: the node's exact bytes), the same write batching
  (``writelines``, then ``drain``), every frame and message decoded with msgspec; no
  actors, no executor, no links. ``baseline`` reads each frame with two ``readexactly``
  calls (as ``_framing.read_frame`` and msgspec's asyncio example do); ``baseline-chunked``
  takes every whole frame out of each 64 KiB read, as the node's links do, and is the
  fastest plain code: the node's ratio to it is the whole cost of the actor machinery.
- **Latency**: a process on ``a`` sends requests at a fixed rate (open loop, a batch per
  1 ms timer tick) to a process on ``b`` that answers each; p50 and p99 of the time from
  the request leaving its process's ``handle`` to the reply reaching it, without the first
  tenth (warm-up). The load counts messages, requests and replies: ``--loads 0.5`` is
  half the node's one-way rate just measured, ``--rates 50000`` is 50,000 messages/s.
  The baseline answers over plain streams, reading with ``readexactly``.

``--loop both`` (the default) repeats everything on uvloop when it is importable (an
optional extra). ``--gc-freeze`` calls ``gc.freeze()`` in every process once it has
started, as a deployment may (see ``benchmarks/README.md``). ``--profile DIR`` runs one
more one-way run of the node under cProfile and writes ``a.pstats`` and ``b.pstats``.

The processes on ``a`` read the clock: they are the benchmark's instruments, not
protocol processes, which must never do so.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import gc
import importlib.util
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import attrs
import msgspec

from rabble_sim import CorrelationId, Envelope, Pid, message, start_timer
from rabble_sim.net import Node, NodeConfig
from rabble_sim.net._framing import HEADER, frame
from rabble_sim.net._wire import Send, decode, encode

T = TypeVar("T")
FREEZE = False
"""``--gc-freeze``: move every object alive after start-up out of the collector's reach."""
SECRET = b"benchmark-cluster-secret"
ACK_EVERY = 1_000
TICK_MS = 1
SINK, ECHO = Pid("sink", "b"), Pid("echo", "b")
SOURCE, PINGER = Pid("source", "a"), Pid("pinger", "a")


@message("bench.net.token")
@attrs.frozen
class Token:
    n: int


@message("bench.net.ack")
@attrs.frozen
class Ack:
    received: int


@message("bench.net.ping")
@attrs.frozen
class Ping:
    n: int


@message("bench.net.pong")
@attrs.frozen
class Pong:
    n: int


@message("bench.net.go")
@attrs.frozen
class Go:
    """Delivered by the benchmark to its process on ``a``: start now."""


# -- the processes on b: pure, as a protocol's would be ------------------------------------


@attrs.define
class Sink:
    """Counts tokens; acknowledges every ``ACK_EVERY``-th to its sender."""

    pid: Pid
    received: int = 0

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        self.received += 1
        if self.received % ACK_EVERY == 0:
            output.append(Envelope(from_, self.pid, Ack(self.received)))


@attrs.define
class Echo:
    """Answers each ping with a pong carrying its number."""

    pid: Pid

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        output.append(Envelope(from_, self.pid, Pong(msg.n), cid))


def start_b(node: str, durable: Any) -> list[Any]:
    return [Sink(SINK), Echo(ECHO)]


# -- the processes on a: the instruments ---------------------------------------------------


@attrs.define(eq=False)
class Source:
    """Sends ``total`` tokens to the sink, at most ``window`` unacknowledged."""

    pid: Pid
    total: int
    window: int
    done: asyncio.Future[float]
    sent: int = 0
    acked: int = 0
    started: float = 0.0

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        if isinstance(msg, Go):
            self.started = time.perf_counter()
        elif isinstance(msg, Ack):
            self.acked = msg.received
            if self.acked >= self.total:
                self.done.set_result(time.perf_counter() - self.started)
                return
        limit = min(self.total, self.acked + self.window)
        pid = self.pid
        output.extend(Envelope(SINK, pid, Token(n)) for n in range(self.sent, limit))
        self.sent = limit


@attrs.define(eq=False)
class Pinger:
    """Sends ``total`` pings at ``rate`` per second, a batch per timer tick; records each
    round trip in seconds."""

    pid: Pid
    rate: float
    total: int
    done: asyncio.Future[list[float]]
    sent: int = 0
    started: float = 0.0
    sent_at: list[float] = attrs.Factory(list)
    latencies: list[float] = attrs.Factory(list)

    def handle(
        self, msg: Any, from_: Pid, cid: CorrelationId | None, output: list[Envelope]
    ) -> None:
        now = time.perf_counter()
        if isinstance(msg, Pong):
            self.latencies.append(now - self.sent_at[msg.n])
            if len(self.latencies) == self.total:
                self.done.set_result(self.latencies)
            return
        if isinstance(msg, Go):
            self.started = now
        due = min(self.total, int((now - self.started) * self.rate))
        for n in range(self.sent, due):
            self.sent_at.append(now)
            output.append(Envelope(ECHO, self.pid, Ping(n), CorrelationId(self.pid, n)))
        self.sent = due
        if due < self.total:
            output.append(start_timer(self.pid, TICK_MS, CorrelationId(self.pid)))


# -- the node runs -------------------------------------------------------------------------


async def node_one_way(addr: str, total: int, window: int) -> float:
    """Messages per second from a to b, through two real nodes."""
    done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    source = Source(SOURCE, total, window, done)
    elapsed = await _with_node_a(addr, source, done)
    return total / elapsed


async def node_latency(addr: str, rate: float, total: int) -> list[float]:
    done: asyncio.Future[list[float]] = asyncio.get_running_loop().create_future()
    pinger = Pinger(PINGER, rate, total, done)
    return await _with_node_a(addr, pinger, done)


async def _with_node_a(addr: str, proc: Any, done: asyncio.Future[T]) -> T:
    node = Node(NodeConfig("a", SECRET, join=(addr,)), lambda name, durable: [proc])
    await node.start()
    try:
        await node.wait_for(lambda members: "b" in members, timeout=10)
        assert node.executor is not None
        node.executor.deliver(Envelope(proc.pid, proc.pid, Go()))
        async with asyncio.timeout(120):
            return await done
    finally:
        dropped = sum(link.dropped for link in node._links.values())
        await node.stop()
        if dropped:
            raise AssertionError(f"node a dropped {dropped} frames: lower --window")


async def serve_b() -> None:
    """The child's node b, until SIGTERM."""
    node = Node(NodeConfig("b", SECRET), start_b)
    await _serve_until_term(node.start, node.stop, lambda: node.addr)


# -- the baseline: the same frames over plain asyncio streams ------------------------------

_TOKEN, _ACK, _PING, _PONG = "bench.net.token", "bench.net.ack", "bench.net.ping", "bench.net.pong"
_ENCODE = msgspec.msgpack.Encoder().encode
_CLASSES: dict[str, type] = {_TOKEN: Token, _ACK: Ack, _PING: Ping, _PONG: Pong}
_MESSAGES: dict[str, msgspec.msgpack.Decoder[Any]] = {
    tag: msgspec.msgpack.Decoder(cls) for tag, cls in _CLASSES.items()
}


def _frame(to: Pid, from_: Pid, cid: CorrelationId | None, tag: str, msg: Any) -> bytes:
    return frame(encode(Send(to, from_, cid, tag, msgspec.Raw(_ENCODE(msg)))))


async def _read(reader: asyncio.StreamReader) -> tuple[Send, Any]:
    (length,) = HEADER.unpack(await reader.readexactly(HEADER.size))
    sent = decode(await reader.readexactly(length))
    assert isinstance(sent, Send)
    return sent, _MESSAGES[sent.tag].decode(sent.body)


async def _exactly(reader: asyncio.StreamReader) -> list[bytes]:
    """The next frame's body, read as ``_framing.read_frame`` does (``readexactly`` twice)."""
    (length,) = HEADER.unpack(await reader.readexactly(HEADER.size))
    return [await reader.readexactly(length)]


class _Chunks:
    """The bodies of the whole frames in each read of up to 64 KiB (as the node's links
    read; frames here are small, so no frame is longer than a read)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.data = b""

    async def __call__(self) -> list[bytes]:
        while True:
            chunk = await self.reader.read(64 * 1024)
            if not chunk:
                raise asyncio.IncompleteReadError(self.data, None)
            data = self.data + chunk if self.data else chunk
            bodies, offset, end = [], 0, len(data)
            while end - offset >= HEADER.size:
                (length,) = HEADER.unpack_from(data, offset)
                start = offset + HEADER.size
                if start + length > end:
                    break
                bodies.append(data[start : start + length])
                offset = start + length
            self.data = data[offset:]
            if bodies:
                return bodies


def baseline_server(
    chunked: bool,
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Coroutine[Any, Any, None]]:
    """b's side: count tokens and acknowledge every ``ACK_EVERY``-th, answer pings; each
    answer is written as soon as its request is decoded."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        bodies = _Chunks(reader) if chunked else functools.partial(_exactly, reader)
        received = 0
        try:
            while True:
                for body in await bodies():
                    sent = decode(body)
                    assert isinstance(sent, Send)
                    msg = _MESSAGES[sent.tag].decode(sent.body)
                    if sent.tag == _TOKEN:
                        received += 1
                        if received % ACK_EVERY == 0:
                            writer.write(_frame(sent.from_, SINK, None, _ACK, Ack(received)))
                    else:
                        writer.write(_frame(sent.from_, ECHO, sent.cid, _PONG, Pong(msg.n)))
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    return serve


async def baseline_one_way(addr: str, total: int, window: int) -> float:
    reader, writer = await _connect(addr)
    try:
        started = time.perf_counter()
        sent = acked = 0
        while acked < total:
            limit = min(total, acked + window)
            writer.writelines(
                [_frame(SINK, SOURCE, None, _TOKEN, Token(n)) for n in range(sent, limit)]
            )
            sent = limit
            await writer.drain()
            _, ack = await _read(reader)
            acked = ack.received
        return total / (time.perf_counter() - started)
    finally:
        writer.close()


async def baseline_latency(addr: str, rate: float, total: int) -> list[float]:
    reader, writer = await _connect(addr)
    sent_at: list[float] = []
    latencies: list[float] = []

    async def replies() -> None:
        while len(latencies) < total:
            _, pong = await _read(reader)
            latencies.append(time.perf_counter() - sent_at[pong.n])

    receiving = asyncio.create_task(replies())
    try:
        started = time.perf_counter()
        sent = 0
        while sent < total:
            await asyncio.sleep(TICK_MS / 1000)
            now = time.perf_counter()
            due = min(total, int((now - started) * rate))
            batch = []
            for n in range(sent, due):
                sent_at.append(now)
                batch.append(_frame(ECHO, PINGER, CorrelationId(PINGER, n), _PING, Ping(n)))
            writer.writelines(batch)
            sent = due
            await writer.drain()
        async with asyncio.timeout(60):
            await receiving
        return latencies
    finally:
        receiving.cancel()
        writer.close()


async def _connect(addr: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, _, port = addr.rpartition(":")
    return await asyncio.open_connection(host, int(port))


async def serve_baseline(chunked: bool) -> None:
    server = await asyncio.start_server(baseline_server(chunked), "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]

    async def stop() -> None:
        server.close()

    async def start() -> None:
        pass

    await _serve_until_term(start, stop, lambda: f"{host}:{port}")


# -- processes and loops -------------------------------------------------------------------


async def _serve_until_term(
    start: Callable[[], Coroutine[Any, Any, None]],
    stop: Callable[[], Coroutine[Any, Any, None]],
    addr: Callable[[], str],
) -> None:
    term = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, term.set)
    loop.add_reader(sys.stdin.fileno(), term.set)  # the end of stdin: the benchmark is gone
    await start()
    print(f"listening on {addr()}", flush=True)
    await term.wait()
    await stop()


def run_loop(main: Coroutine[Any, Any, Any], loop: str) -> Any:
    if FREEZE:  # what is alive now (modules, classes) is never garbage: stop scanning it
        gc.collect()
        gc.freeze()
    if loop == "uvloop":
        import uvloop  # type: ignore[import-not-found]  # (an optional extra)

        return uvloop.run(main)
    return asyncio.run(main)


class Child:
    """A child process serving node b (``node``) or the baseline's b (``baseline``, or
    ``baseline-chunked``)."""

    def __init__(self, role: str, loop: str, profile: Path | None = None) -> None:
        args = [sys.executable, __file__, "--child", role, "--loop", loop]
        if FREEZE:
            args.append("--gc-freeze")
        if profile is not None:
            args += ["--profile", str(profile)]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("listening on "):
            self.proc.kill()
            raise RuntimeError(f"the {role} child did not start: {line!r}")
        self.addr = line.split()[-1]

    def cpu(self) -> float:
        """Seconds of CPU the child has used (Linux; 10 ms resolution)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


def child_main(role: str, loop: str, profile: Path | None) -> None:
    serve = serve_b() if role == "node" else serve_baseline(role == "baseline-chunked")
    if profile is None:
        run_loop(serve, loop)
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        run_loop(serve, loop)
    finally:
        profiler.disable()
        profiler.dump_stats(profile / "b.pstats")


# -- figures -------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(args: argparse.Namespace, loop: str) -> list[dict[str, object]]:
    """The one-way figure, then a latency figure per load and per rate, all on ``loop``."""
    roles = ("node", "baseline", "baseline-chunked")
    rates: dict[str, list[float]] = {role: [] for role in roles}
    ratios: dict[str, list[float]] = {role: [] for role in roles[1:]}
    cpu: dict[tuple[str, str], list[float]] = {(role, end): [] for role in roles for end in "ab"}
    for _ in range(args.repeat):
        for role in roles:
            run = node_one_way if role == "node" else baseline_one_way
            with Child(role, loop) as child:
                a, b = time.process_time(), child.cpu()
                rates[role].append(run_loop(run(child.addr, args.messages, args.window), loop))
                a, b = time.process_time() - a, child.cpu() - b
            cpu[role, "a"].append(a / args.messages * 1e6)
            cpu[role, "b"].append(b / args.messages * 1e6)
        for role in roles[1:]:
            ratios[role].append(rates["node"][-1] / rates[role][-1])
    node_max = statistics.median(rates["node"])
    row: dict[str, object] = {
        "figure": "one_way",
        "loop": loop,
        "gc_freeze": FREEZE,
        "messages": args.messages,
        "window": args.window,
        "frame_bytes": len(_frame(SINK, SOURCE, None, _TOKEN, Token(args.messages))),
        "node_msgs_per_s": round(node_max),
        "baseline_msgs_per_s": round(statistics.median(rates["baseline"])),
        "chunked_baseline_msgs_per_s": round(statistics.median(rates["baseline-chunked"])),
        "node_over_baseline": round(statistics.median(ratios["baseline"]), 2),
        "node_over_chunked_baseline": round(statistics.median(ratios["baseline-chunked"]), 2),
    }
    for (role, end), values in cpu.items():  # CPU time per message, sender (a) and receiver (b)
        row[f"{role.replace('-', '_')}_{end}_cpu_us_per_msg"] = round(statistics.median(values), 2)
    rows = [row]
    loads = [(load, node_max * load) for load in args.loads]
    loads += [(None, float(rate)) for rate in args.rates]
    for load, msgs_per_s in loads:
        rate = msgs_per_s / 2  # requests per second: a request and its reply are two messages
        total = int(rate * args.seconds)
        p50: dict[str, list[float]] = {"node": [], "baseline": []}
        p99: dict[str, list[float]] = {"node": [], "baseline": []}
        for _ in range(args.repeat):
            for role, ping in (("node", node_latency), ("baseline", baseline_latency)):
                with Child(role, loop) as child:
                    latencies = run_loop(ping(child.addr, rate, total), loop)
                steady = latencies[len(latencies) // 10 :]  # without the first tenth: warm-up
                p50[role].append(percentile(steady, 0.50) * 1e3)
                p99[role].append(percentile(steady, 0.99) * 1e3)
        rows.append(
            {
                "figure": "latency",
                "loop": loop,
                "gc_freeze": FREEZE,
                "load": load,
                "msgs_per_s": round(msgs_per_s),
                "requests_per_s": round(rate),
                "requests": total,
                "node_p50_ms": round(statistics.median(p50["node"]), 3),
                "node_p99_ms": round(statistics.median(p99["node"]), 3),
                "baseline_p50_ms": round(statistics.median(p50["baseline"]), 3),
                "baseline_p99_ms": round(statistics.median(p99["baseline"]), 3),
            }
        )
    return rows


def profile_node(args: argparse.Namespace, loop: str, where: Path) -> None:
    where.mkdir(parents=True, exist_ok=True)
    profiler = cProfile.Profile()
    with Child("node", loop, profile=where) as child:
        profiler.enable()
        rate = run_loop(node_one_way(child.addr, args.messages, args.window), loop)
        profiler.disable()
    profiler.dump_stats(where / "a.pstats")
    print(f"profiled one-way run: {rate:,.0f} msgs/s under cProfile; see {where}/[ab].pstats")


def main() -> None:
    global FREEZE  # noqa: PLW0603  (one switch for every process of the run)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--window", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of a latency run")
    parser.add_argument(
        "--loads",
        type=_floats,
        default=[0.5],
        help="latency loads, as fractions of the node's one-way rate [default: 0.5]",
    )
    parser.add_argument(
        "--rates",
        type=_floats,
        default=[50_000.0],
        help="latency loads in messages/s, requests and replies [default: 50000]",
    )
    parser.add_argument("--loop", choices=["asyncio", "uvloop", "both"], default="both")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() in every process once started, as a deployment may",
    )
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument(
        "--child", choices=["node", "baseline", "baseline-chunked"], help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    FREEZE = args.gc_freeze
    if args.child:
        child_main(args.child, args.loop, args.profile)
        return
    loops = ["asyncio", "uvloop"] if args.loop == "both" else [args.loop]
    if "uvloop" in loops and importlib.util.find_spec("uvloop") is None:
        if args.loop == "uvloop":
            raise SystemExit("uvloop is not installed (pip install uvloop)")
        loops.remove("uvloop")
    if args.profile is not None:
        profile_node(args, loops[0], args.profile)
        return
    rows = [row for loop in loops for row in measure(args, loop)]
    for row in rows:
        print(json.dumps(row))
    print_table(rows)


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"\n{'loop':<9}{'node msgs/s':>13}{'baseline':>10}{'node/baseline':>15}"
        f"{'chunked baseline':>18}{'node/chunked':>14}"
    )
    for r in rows:
        if r["figure"] == "one_way":
            print(
                f"{r['loop']:<9}{r['node_msgs_per_s']:>13,}{r['baseline_msgs_per_s']:>10,}"
                f"{r['node_over_baseline']:>15}{r['chunked_baseline_msgs_per_s']:>18,}"
                f"{r['node_over_chunked_baseline']:>14}"
            )
    print(f"\n{'CPU us per message':<20}{'sender (a)':>12}{'receiver (b)':>14}")
    for r in rows:
        if r["figure"] == "one_way":
            for role in ("node", "baseline", "baseline_chunked"):
                name = f"{r['loop']} {role.replace('_', ' ')}"
                print(
                    f"{name:<26}{r[f'{role}_a_cpu_us_per_msg']:>6}{r[f'{role}_b_cpu_us_per_msg']:>14}"
                )
    print(
        f"\n{'loop':<9}{'load':>6}{'msgs/s':>9}{'requests/s':>12}"
        f"{'node p50':>10}{'p99':>8}{'baseline p50':>14}{'p99':>8}  (ms)"
    )
    for r in rows:
        if r["figure"] == "latency":
            load = "" if r["load"] is None else r["load"]
            print(
                f"{r['loop']:<9}{load!s:>6}{r['msgs_per_s']:>9,}{r['requests_per_s']:>12,}"
                f"{r['node_p50_ms']:>10}{r['node_p99_ms']:>8}"
                f"{r['baseline_p50_ms']:>14}{r['baseline_p99_ms']:>8}"
            )
    freeze = ", gc.freeze() after start-up" if FREEZE else ""
    print(f"\nCPython {sys.version.split()[0]}, {os.cpu_count()} cores{freeze}")


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


if __name__ == "__main__":
    main()
