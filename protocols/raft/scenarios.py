"""Raft scenarios: three and five servers under drops, duplicates, crashes and partitions,
clients that take generated inputs, and the known bugs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from rabble_sim import Draw, Faults, Inputs, Liveness, Pid, Scenario
from rabble_sim.checks import linearizable

from .checks import INVARIANTS, POSTCONDITIONS, every_request_completes
from .client import Client, client_pid, restored_first
from .kv import LIN_KV
from .messages import Call, Op
from .raft import Raft
from .server import Server, server_pid
from .state import NO_BUGS, Bugs

KEYS = (0, 1)
VALUES = (0, 1, 2)
"""Few keys and values, so that operations collide: a cas expects what another client
may have written, a read races a write."""
INPUTS = 5
"""Operations given to each client, at most."""


def draw_op(draw: Draw, keys: Sequence[Any] = KEYS) -> Op:
    """A read (the simplest), write or cas of one of ``keys``, with values drawn."""
    kind = draw.choice(("read", "write", "cas"))
    key = draw.choice(keys)
    if kind == "read":
        return (kind, key)
    if kind == "write":
        return (kind, key, draw.choice(VALUES))
    return (kind, key, draw.choice(VALUES), draw.choice(VALUES))


def calls_on(keys: Sequence[Any]) -> Callable[[Draw], Call]:
    """The ``make`` of the clients' ``Inputs``: a ``Call`` of an op on ``keys``."""

    def make_call(draw: Draw) -> Call:
        return Call(draw_op(draw, keys))

    return make_call


def raft_scenario(
    name: str,
    *,
    servers: int = 3,
    clients: int = 2,
    inputs: int = INPUTS,
    keys: Sequence[Any] = KEYS,
    ops: Sequence[Op] = (),
    bugs: Bugs = NO_BUGS,
    batch: int = 1,
    faults: Faults,
    max_steps: int,
    within: int,
) -> Scenario:
    """``servers`` nodes ``n1``... each running a key-value server, ``clients`` nodes
    ``c1``... each running a client that runs ``ops`` and then up to ``inputs`` operations
    given as inputs, each an operation on one of ``keys``.

    Servers send one entry per ``AppendEntries`` by default (``batch``), so that an entry
    of an earlier term can reach a majority without the new leader's no-op: the case that
    figure 8 of the Raft paper is about."""
    server_nodes = tuple(f"n{i}" for i in range(1, servers + 1))
    client_nodes = tuple(f"c{i}" for i in range(1, clients + 1))
    peers = tuple(server_pid(node) for node in server_nodes)

    def start(node: str, durable: dict[Pid, Any] | None) -> list[Server | Client]:
        if node in client_nodes:
            pid = client_pid(node)
            target = client_nodes.index(node) % len(peers)
            first = restored_first(durable, pid)
            return [Client(pid, peers, tuple(ops), first=first, target=target)]
        pid = server_pid(node)
        saved = None if durable is None else durable.get(pid)
        raft = Raft.restored(pid, peers, saved, bugs=bugs, batch=batch)
        return [Server(pid, raft)]

    every_client = [client_pid(node) for node in client_nodes]
    return Scenario(
        name=name,
        nodes=(*server_nodes, *client_nodes),
        start=start,
        invariants=INVARIANTS,
        postconditions=POSTCONDITIONS,
        faults=faults,
        max_steps=max_steps,
        liveness=Liveness(every_request_completes, within=within),
        clients=client_nodes,
        history=linearizable(LIN_KV),
        inputs=[Inputs(to=[pid], make=calls_on(keys), max=inputs) for pid in every_client],
        symmetry=[list(server_nodes)],
    )


FAULTS = Faults(
    drop=0.05, duplicate=0.05, crash=1, partition=True, crash_rate=0.04, restart_rate=0.3
)
WITHIN = 1000

scenario = raft_scenario("raft", faults=FAULTS, max_steps=500, within=WITHIN)
"""Three servers (one may be down at a time) and two clients."""

five_servers = raft_scenario(
    "raft-five", servers=5, faults=attrs.evolve(FAULTS, crash=2), max_steps=700,
    within=WITHIN * 2,
)  # fmt: skip
"""Five servers, up to two of them down at once. Its liveness bound is twice as long:
each entry takes twice the messages to replicate, and after a long partition a few
elections may split the votes before one wins."""


def _bug(name: str, bugs: Bugs, **options: Any) -> Scenario:
    settings: dict[str, Any] = {"faults": FAULTS, "max_steps": 500, "within": WITHIN, **options}
    return raft_scenario(f"raft-{name}", bugs=bugs, **settings)


bug_figure8 = _bug("figure8", Bugs(commit_by_counting=True))
"""Known bug: a leader commits an entry of an earlier term once a majority stores it."""

CRASHES = attrs.evolve(FAULTS, partition=False, crash_rate=0.1, restart_rate=0.5)
"""Faults heavy on crashes: what a bug of persistence needs (a crash in the few steps
between an answer and the next write to disk)."""

bug_figure8_five = _bug(
    "figure8-five", Bugs(commit_by_counting=True), servers=5,
    faults=attrs.evolve(FAULTS, crash=2), max_steps=700, within=WITHIN * 2,
)  # fmt: skip
"""``bug_figure8`` with the paper's five servers, two of them down at once at most."""

bug_vote_not_persisted = _bug("vote-not-persisted", Bugs(vote_not_persisted=True), faults=CRASHES)
"""Known bug: a server grants its vote before writing it down, and votes again after a
crash (under ``CRASHES``)."""

bug_skip_prev_check = _bug("skip-prev-check", Bugs(skip_prev_check=True))
"""Known bug: a follower appends entries without the log-matching check."""

bug_stale_leader_reads = _bug(
    "stale-leader-reads", Bugs(stale_leader_reads=True), keys=(0,), clients=3
)
"""Known bug: a leader serves reads from its own state, and a deposed one serves stale
values (three clients on one key: a stale read shows at once)."""

bug_no_log_check = _bug("no-log-check", Bugs(no_log_check=True))
"""Known bug: servers vote for candidates whose logs are behind theirs, so a leader can
lack committed entries."""

bug_truncate_on_append = _bug("truncate-on-append", Bugs(truncate_on_append=True))
"""Known bug: a follower cuts its log after the leader's ``prev_index`` before appending,
so a late ``AppendEntries`` removes entries it acknowledged."""
