"""Maelstrom's side of the protocol, for tests: node processes, the network, and clients.

A ``Maelstrom`` starts ``rabble-sim maelstrom MODULE:NAME`` once per node id, as real
subprocesses with pipes, and plays what Maelstrom does (doc/protocol.md): it writes
envelopes to a node's stdin, one JSON object a line; it reads each node's stdout line by
line, delivers an envelope whose ``dest`` is another node to that node's stdin (the
network, which ``blocked`` can cut one way), and keeps the others (for clients, or
services) in mailboxes; it keeps each node's stderr as its log.

    with Maelstrom("protocols.echo:maelstrom", ["n1", "n2"]) as cluster:
        cluster.init()
        reply = cluster.request("n1", {"type": "echo", "echo": "hi"})
        assert reply == {"type": "echo_ok", "echo": "hi", "msg_id": 2, "in_reply_to": 1}
    assert cluster.exit_codes == {"n1": 0, "n2": 0}

Every line a node writes is kept raw (``Node.out``), and every one that is not a JSON
envelope ``{src, dest, body}`` with a body ``type`` is also listed in ``not_envelopes``:
a test asserts it stays empty.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
"""The repository: nodes run there, so that ``protocols`` and ``tests`` import."""
TIMEOUT = 5.0


def command() -> list[str]:
    """How to run ``rabble-sim``: the console script beside this interpreter."""
    script = Path(sys.executable).parent / "rabble-sim"
    return [str(script)] if script.exists() else [sys.executable, "-m", "rabble_sim.cli"]


class Node:
    """One node: its subprocess, what it wrote to stdout (raw lines) and to stderr."""

    def __init__(self, node_id: str, args: list[str], env: dict[str, str] | None) -> None:
        self.id = node_id
        self.proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.out: list[bytes] = []
        """Every line the node wrote to stdout, as written (without the newline)."""
        self.err: list[str] = []
        """Every line of its log (stderr)."""
        self._stdin_lock = threading.Lock()

    def write(self, line: bytes) -> None:
        """Write ``line`` (and a newline) to the node's stdin; nothing if it is closed."""
        assert self.proc.stdin is not None
        with self._stdin_lock:
            try:
                self.proc.stdin.write(line + b"\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass  # the node has exited (or its stdin is closed): a lost message

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        with self._stdin_lock, contextlib.suppress(BrokenPipeError):
            self.proc.stdin.close()

    @property
    def log(self) -> str:
        return "\n".join(self.err)


class Maelstrom:
    """A cluster of ``node_ids`` nodes running ``reference`` (``MODULE:NAME``), and the
    network and clients around them. Use it as a context manager: leaving it closes
    every node's stdin and waits for them (``exit_codes``)."""

    def __init__(
        self,
        reference: str,
        node_ids: Iterable[str] = ("n1",),
        *,
        env: dict[str, str] | None = None,
        args: Iterable[str] = (),
    ) -> None:
        self.reference = reference
        self.node_ids = list(node_ids)
        self.blocked: set[tuple[str, str]] = set()
        """(src, dest) pairs whose inter-node messages are dropped: a one-way partition."""
        self.not_envelopes: list[tuple[str, bytes]] = []
        """(node, line) for each stdout line that is not a Maelstrom envelope."""
        self.exit_codes: dict[str, int] = {}
        self.nodes = {
            node_id: Node(node_id, [*command(), "maelstrom", reference, *args], env)
            for node_id in self.node_ids
        }
        self._mail: dict[str, list[dict[str, Any]]] = {}
        self._arrived = threading.Condition()
        self._msg_id = 0
        self._threads = [
            threading.Thread(target=work, args=(node,), daemon=True)
            for node in self.nodes.values()
            for work in (self._read_stdout, self._read_stderr)
        ]
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> Maelstrom:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- what Maelstrom sends -----------------------------------------------------------

    def init(self, client: str = "c1") -> None:
        """Send every node ``init`` (msg_id 1) and wait for each ``init_ok``."""
        for node_id in self.node_ids:
            body = {"type": "init", "msg_id": 1, "node_id": node_id, "node_ids": self.node_ids}
            self.send(node_id, body, src=client)
        for node_id in self.node_ids:
            reply = self.receive(client, lambda e, n=node_id: e["src"] == n)["body"]
            assert reply["type"] == "init_ok", (node_id, reply, self.nodes[node_id].log)

    def send(self, node_id: str, body: dict[str, Any], *, src: str = "c1") -> None:
        """Write ``{"src": src, "dest": node_id, "body": body}`` to the node."""
        line = json.dumps({"src": src, "dest": node_id, "body": body}, separators=(",", ":"))
        self.nodes[node_id].write(line.encode())

    def write(self, node_id: str, line: bytes) -> None:
        """Write a raw ``line`` to the node's stdin (the driver adds the newline)."""
        self.nodes[node_id].write(line)

    def request(
        self,
        node_id: str,
        body: dict[str, Any],
        *,
        client: str = "c1",
        timeout: float = TIMEOUT,
    ) -> dict[str, Any]:
        """Send ``body`` from ``client`` with a fresh ``msg_id``; return the body of the
        reply (the body whose ``in_reply_to`` is that ``msg_id``)."""
        self._msg_id += 1
        msg_id = self._msg_id
        self.send(node_id, {**body, "msg_id": msg_id}, src=client)
        reply = self.receive(client, lambda e: e["body"].get("in_reply_to") == msg_id, timeout)
        return reply["body"]  # type: ignore[no-any-return]

    # -- what the nodes send to clients and services ------------------------------------

    def receive(
        self,
        dest: str,
        match: Callable[[dict[str, Any]], bool] = lambda e: True,
        timeout: float = TIMEOUT,
    ) -> dict[str, Any]:
        """The first envelope for ``dest`` (a client or a service) that ``match`` takes,
        taken out of its mailbox; waits up to ``timeout`` seconds for it."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                mailbox = self._mail.setdefault(dest, [])
                for i, envelope in enumerate(mailbox):
                    if match(envelope):
                        return mailbox.pop(i)
                left = deadline - time.monotonic()
                if left <= 0:
                    logs = {n: node.log[-2000:] for n, node in self.nodes.items()}
                    raise TimeoutError(f"nothing for {dest} within {timeout}s: {mailbox}; {logs}")
                self._arrived.wait(left)

    def mailbox(self, dest: str) -> list[dict[str, Any]]:
        """What is waiting for ``dest``, not taken out."""
        with self._arrived:
            return list(self._mail.get(dest, []))

    # -- the end ------------------------------------------------------------------------

    def close(self, timeout: float = TIMEOUT) -> dict[str, int]:
        """Close every node's stdin (end of input) and wait for it to exit; its exit code
        in ``exit_codes`` (killed after ``timeout``: -9)."""
        for node in self.nodes.values():
            node.close_stdin()
        for node_id, node in self.nodes.items():
            try:
                self.exit_codes[node_id] = node.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                node.proc.kill()
                self.exit_codes[node_id] = node.proc.wait()
        for thread in self._threads:
            thread.join(timeout)
        return self.exit_codes

    # -- inside -------------------------------------------------------------------------

    def _read_stdout(self, node: Node) -> None:
        assert node.proc.stdout is not None
        for raw in node.proc.stdout:
            line = raw.rstrip(b"\n")
            node.out.append(line)
            envelope = _envelope(line)
            if envelope is None:
                self.not_envelopes.append((node.id, line))
                continue
            dest = envelope["dest"]
            if dest in self.nodes:  # the network between nodes
                if (envelope["src"], dest) not in self.blocked:
                    self.nodes[dest].write(line)
                continue
            with self._arrived:
                self._mail.setdefault(dest, []).append(envelope)
                self._arrived.notify_all()

    def _read_stderr(self, node: Node) -> None:
        assert node.proc.stderr is not None
        for raw in node.proc.stderr:
            node.err.append(raw.decode(errors="replace").rstrip("\n"))


def _envelope(line: bytes) -> dict[str, Any] | None:
    """``line`` as a Maelstrom envelope, or None if it is not one."""
    try:
        envelope = json.loads(line)
    except ValueError:
        return None
    if (
        not isinstance(envelope, dict)
        or set(envelope) != {"src", "dest", "body"}
        or not isinstance(envelope["src"], str)
        or not isinstance(envelope["dest"], str)
        or not isinstance(envelope["body"], dict)
        or not isinstance(envelope["body"].get("type"), str)
    ):
        return None
    return envelope
