"""Real clusters for the TCP executor's tests: ``rabble-sim serve`` in OS processes on
loopback, stopped with real signals."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from rabble_sim import HistoryEvent
from rabble_sim.checks import linearizable, recorded_events
from rabble_sim.net import Node, NodeConfig, client_tls, fetch_status
from rabble_sim.net._wire import StatusReply

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SECRET = "test-cluster-secret"


class ServedNode:
    """One ``rabble-sim serve`` process."""

    def __init__(self, name: str, proc: subprocess.Popen[str], addr: str, log: Path) -> None:
        self.name = name
        self.proc = proc
        self.addr = addr
        self.log = log

    def status(self, secret: str = SECRET) -> StatusReply:
        return asyncio.run(fetch_status(self.addr, secret.encode(), timeout=5))

    def status_over_tls(self, ca: Path, secret: str = SECRET) -> StatusReply:
        return asyncio.run(fetch_status(self.addr, secret.encode(), timeout=5, tls=client_tls(ca)))

    def members(self) -> list[str]:
        return self.status().members

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.proc.send_signal(sig)
        self.proc.wait(timeout=10)

    def log_text(self) -> str:
        return self.log.read_text()


class Cluster:
    """Starts nodes and stops them all at the end of the test."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.nodes: list[ServedNode] = []

    def start(
        self,
        reference: str,
        name: str,
        *,
        join: ServedNode | None = None,
        listen: str = "127.0.0.1:0",
        data_dir: Path | None = None,
        secret: str = SECRET,
        extra: tuple[str, ...] = (),
    ) -> ServedNode:
        args = [sys.executable, "-m", "rabble_sim.cli", "serve", reference, "--node", name]
        args += ["--listen", listen, "--heartbeat", "0.2", "--failure-timeout", "1.0", *extra]
        if join is not None:
            args += ["--join", join.addr]
        if data_dir is not None:
            args += ["--data-dir", str(data_dir)]
        env = {
            **os.environ,
            "RABBLE_SIM_SECRET": secret,
            "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)]),
        }
        log = self.tmp / f"{name}-{len(self.nodes)}.log"
        proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=log.open("w"), text=True, env=env, cwd=ROOT
        )
        line = proc.stdout.readline() if proc.stdout else ""  # "node N listening on H:P"
        if not line.startswith(f"node {name} listening on "):
            proc.kill()
            raise AssertionError(f"node {name} did not start: {line!r}\n{log.read_text()}")
        node = ServedNode(name, proc, line.split()[-1], log)
        self.nodes.append(node)
        return node

    def start_at_once(
        self, reference: str, names: Sequence[str], *, join: ServedNode, data: Mapping[str, Path]
    ) -> list[ServedNode]:
        """Start ``names`` side by side (each start imports for a while), joining ``join``,
        each on its data directory in ``data``."""
        with ThreadPoolExecutor(len(names)) as pool:
            return list(
                pool.map(
                    lambda name: self.start(reference, name, join=join, data_dir=data[name]),
                    names,
                )
            )

    def stop(self) -> None:
        for node in self.nodes:
            if node.proc.poll() is None:
                node.proc.send_signal(signal.SIGTERM)
        for node in self.nodes:
            try:
                node.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                node.proc.kill()


def run_serve(*args: str, secret: str | None = SECRET) -> subprocess.CompletedProcess[str]:
    """``rabble-sim serve ARGS`` to its end (for the ones that must not start)."""
    env = {k: v for k, v in os.environ.items() if k != "RABBLE_SIM_SECRET"}
    if secret is not None:
        env["RABBLE_SIM_SECRET"] = secret
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT)])
    return subprocess.run(
        [sys.executable, "-m", "rabble_sim.cli", "serve", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
    )  # fmt: skip


@contextlib.asynccontextmanager
async def client_node(contact: str, members: Iterable[str]) -> AsyncIterator[Node]:
    """A node ``tester`` without processes, to make calls from: joined to the cluster
    through ``contact`` once it counts ``members`` among the members; stopped at the end."""
    wanted = set(members)
    client = Node(NodeConfig("tester", SECRET.encode(), join=(contact,)), lambda n, d: [])
    await client.start()
    try:
        await client.wait_for(lambda found: wanted <= set(found), timeout=10)
        yield client
    finally:
        await client.stop()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    running = Cluster(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def eventually(check: Callable[[], Any], *, within: float = 10.0, what: str = "") -> Any:
    """Poll ``check`` until it returns something true; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as e:  # a node still starting or stopping
            last = e
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.05)
    raise AssertionError(f"not within {within} s: {what} (last: {last!r})")


def answers(history: Path) -> int:
    """How many answers the history file ``history`` records (0 before it exists)."""
    if not history.exists():
        return 0
    return sum(1 for line in history.read_text().splitlines() if '"kind": "ok"' in line)


def log_tails(nodes: Sequence[ServedNode], lines: int = 15) -> str:
    return "\n".join(
        f"--- {n.name} ({n.log.name}):\n" + "\n".join(n.log_text().splitlines()[-lines:])
        for n in nodes
    )


def waiting(
    check: Callable[[], Any], nodes: Sequence[ServedNode], *, within: float, what: str
) -> Any:
    """``eventually``, whose failure shows the end of each of ``nodes``' logs."""
    try:
        return eventually(check, within=within, what=what)
    except AssertionError as e:
        raise AssertionError(f"{e}\n{log_tails(nodes)}") from None


def stale_read(client: str, op: int, call: list[Any], after: int) -> str:
    """Two history lines, after time ``after``: ``client``'s operation ``op`` is ``call``
    and reads nothing (a key that is absent, or was never written)."""
    lines = [
        {"kind": "invoke", "client": client, "op": op, "value": call, "time": after + 1},
        {"kind": "ok", "client": client, "op": op, "value": None, "time": after + 2},
    ]
    return "".join(json.dumps(line) + "\n" for line in lines)


@dataclasses.dataclass
class KilledMidRun:
    """A replicated service whose leader was killed with SIGKILL mid-workload, and every
    client's workload finished after it (``kill_the_leader_mid_run``)."""

    nodes: dict[str, ServedNode]
    data: dict[str, Path]
    victim: ServedNode
    victim_state: Any
    """What ``leader`` said of the victim when it was killed."""
    survivors: list[ServedNode]
    histories: list[Path]
    events: list[HistoryEvent]
    """The clients' recorded histories, merged by time."""


def kill_the_leader_mid_run(
    cluster: Cluster,
    tmp_path: Path,
    reference: str,
    servers: Sequence[str],
    clients: Sequence[str],
    *,
    ops: int,
    kill_after: int,
    leader: Callable[[list[ServedNode]], tuple[ServedNode, Any] | None],
) -> KilledMidRun:
    """Start ``servers`` (each on a data directory, joined to the first), then
    ``clients``; once every client has ``kill_after`` answers, kill whichever node
    ``leader`` names with SIGKILL, and wait until every client has its ``ops`` answers."""
    data = {name: tmp_path / f"{name}-data" for name in (*servers, *clients)}
    first = cluster.start(reference, servers[0], data_dir=data[servers[0]])
    nodes = {servers[0]: first}

    def start(names: Sequence[str]) -> None:
        started = cluster.start_at_once(reference, names, join=first, data=data)
        nodes.update(zip(names, started, strict=True))

    start(servers[1:])
    waiting(lambda: first.members() == list(servers), list(nodes.values()), within=10,
            what="the servers link")  # fmt: skip
    start(clients)
    everyone = list(nodes.values())
    histories = [data[name] / "history.jsonl" for name in clients]
    waiting(
        lambda: all(answers(h) >= kill_after for h in histories),
        everyone, within=15, what=f"each client has {kill_after} answers",
    )  # fmt: skip
    victim, state = waiting(
        lambda: leader([nodes[n] for n in servers]), everyone, within=5, what="a leader"
    )
    victim.kill(signal.SIGKILL)
    at_kill = [answers(h) for h in histories]
    assert all(n < ops for n in at_kill), f"the workload ended before the kill: {at_kill}"
    waiting(
        lambda: all(answers(h) == ops for h in histories),
        everyone, within=20, what=f"every client gets all {ops} answers after the kill",
    )  # fmt: skip
    events = recorded_events(histories)
    assert sum(e.kind == "ok" for e in events) == len(clients) * ops
    survivors = [nodes[n] for n in servers if nodes[n] is not victim]
    return KilledMidRun(nodes, data, victim, state, survivors, histories, events)


def linearizable_but_not_with_a_stale_read(
    run: KilledMidRun, model: Any, stale: str, tmp_path: Path
) -> None:
    """The clients' recorded histories are linearizable, and not once the lines ``stale``
    are appended to the last client's."""
    linearizable(model)(run.events)
    doctored = tmp_path / "stale.jsonl"
    doctored.write_text(run.histories[-1].read_text() + stale)
    with pytest.raises(AssertionError, match="not linearizable"):
        linearizable(model)(recorded_events([*run.histories[:-1], doctored]))


def answered_calls(events: list[HistoryEvent]) -> list[tuple[HistoryEvent, Any]]:
    """Each ok event with the call it answered."""
    calls = {(e.client, e.op): e.value for e in events if e.kind == "invoke"}
    return [(e, calls[e.client, e.op]) for e in events if e.kind == "ok"]
