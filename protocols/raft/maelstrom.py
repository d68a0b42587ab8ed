"""A key-value server as a Maelstrom ``lin-kv`` node: ``rabble-sim maelstrom
protocols.raft:maelstrom``.

Each Maelstrom node runs one ``Server``; the cluster is Maelstrom's ``node_ids``, in its
order (a single node is a cluster of one, which elects itself). Clients' ``read``,
``write`` and ``cas`` bodies are the service's messages; a node that knows no leader
answers error 11, a missing key error 20, a cas whose ``from`` does not match error 22.
Raft's own messages travel between nodes through Maelstrom's network. Ticks are on the
real clock (heartbeats every ``TICK_MS``, elections after ``ELECTION_MS`` and up to
twice that); the log is kept in memory (Maelstrom restarts nothing).
"""

from __future__ import annotations

from rabble_sim.maelstrom import MaelstromNode

from .messages import Cas, CasOk, Read, ReadOk, Write, WriteOk
from .raft import Raft
from .server import Server, server_pid

TICK_MS = 50
ELECTION_MS = 150
"""Maelstrom's network is fast (its default latency is 0 ms): short timeouts elect a
leader within a few hundred ms of the start."""


def start(node_id: str, node_ids: tuple[str, ...]) -> list[Server]:
    pid = server_pid(node_id)
    peers = tuple(server_pid(node) for node in node_ids)
    return [Server(pid, Raft.restored(pid, peers, None, tick_ms=TICK_MS, election_ms=ELECTION_MS))]


maelstrom = MaelstromNode(
    start=start,
    receiver=server_pid,
    bodies={
        "read": Read,
        "read_ok": ReadOk,
        "write": Write,
        "write_ok": WriteOk,
        "cas": Cas,
        "cas_ok": CasOk,
    },
)
"""The ``lin-kv`` node."""
