"""VR scenarios: three and five replicas, two groups on the same nodes, and the known bugs,
each with fixed workloads and with generated ones."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from rabble_sim import Draw, Faults, Inputs, Liveness, Pid, Scenario
from rabble_sim.checks import linearizable

from .checks import INVARIANTS, POSTCONDITIONS, PRECONDITIONS, every_request_completes
from .client import Client, client_pid, restored_first
from .generated import submit_calls, submit_register_calls
from .kv import KV_MODEL, Call
from .messages import Submit
from .replica import Replica, replica_pid
from .state import NO_BUGS, Bugs, restored_restarts

OPS = 5
"""Operations per client: a bounded workload, so that every run can finish."""

INPUTS = 6
"""Generated calls per client, at most: about the fixed workloads' ``OPS``, so that a run
costs about the same either way. A run gives them all in practice (giving one is enabled
from the first step to the last), some at once, some while a call is pending."""

BLOCK = 4
"""Request numbers a client fed inputs reserves at a time (one write per ``BLOCK``)."""

# Each client's operations, on keys every client shares (a blob x, a queue q, a set s):
# writes that conflict, reads that see them, a compare-and-swap that may or may not win.
WORKLOADS: tuple[tuple[Call, ...], ...] = (
    (("put", "x", "a"), ("push", "q", "1"), ("get", "x"), ("cas", "x", "a", "b"), ("pop", "q")),
    (("append", "x", "c"), ("push", "q", "2"), ("add", "s", "m"), ("get", "q"), ("get", "x")),
    (("add", "s", "n"), ("get", "s"), ("pop", "q"), ("cas", "x", "c", "e"), ("get", "x")),
)


REGISTER: tuple[tuple[Call, ...], ...] = (
    tuple(("put", "x", str(k)) for k in range(1, 13)),
    tuple(("get", "x") for _ in range(12)),
)
"""One writer and one reader of a register: a stale read shows at once."""


def workload(
    i: int, group: str, ops: int = OPS, workloads: Sequence[tuple[Call, ...]] = WORKLOADS
) -> tuple[Call, ...]:
    """The calls of client ``i`` (from 0) of ``group``: its workload's first ``ops``
    (repeated if need be), with keys prefixed by the group, so that every group's keys
    are its own in a history that holds them all."""
    calls = workloads[i % len(workloads)]
    chosen = [calls[k % len(calls)] for k in range(ops)]
    return tuple((c[0], f"{group}/{c[1]}", *c[2:]) for c in chosen)


def vr_scenario(
    name: str,
    *,
    replicas: int = 3,
    groups: Sequence[str] = ("g1",),
    clients: int = 2,
    ops: int = OPS,
    workloads: Sequence[tuple[Call, ...]] = WORKLOADS,
    inputs: int = 0,
    make: Callable[[str], Callable[[Draw], Submit]] = submit_calls,
    bugs: Bugs = NO_BUGS,
    patience: int = 3,
    retry_ms: int = 200,
    faults: Faults,
    max_steps: int,
    within: int,
) -> Scenario:
    """``replicas`` nodes ``n1``... each running one replica of every group, and
    ``clients`` nodes ``c1``... each running one client of every group.

    Each client runs ``ops`` calls of its fixed workload, then the calls it is given as
    inputs: with ``inputs``, each client may be given up to that many ``Submit``s, each
    built by ``make(group)`` (one ``Inputs`` per client, so the budget is its own), and
    reserves request numbers ``BLOCK`` at a time. A generated workload passes
    ``ops=0``.
    """
    replica_nodes = tuple(f"n{i}" for i in range(1, replicas + 1))
    client_nodes = tuple(f"c{i}" for i in range(1, clients + 1))
    configs = {g: tuple(replica_pid(node, g) for node in replica_nodes) for g in groups}

    def client(node: str, g: str, durable: dict[Pid, Any] | None) -> Client:
        pid = client_pid(node, g)
        calls = workload(client_nodes.index(node), g, ops, workloads)
        first = restored_first(durable, pid)
        block = BLOCK if inputs else 1
        return Client(pid, configs[g], calls, retry_ms, first=first, block=block)

    def start(node: str, durable: dict[Pid, Any] | None) -> list[Replica | Client]:
        if node in client_nodes:
            return [client(node, g, durable) for g in groups]
        started: list[Replica | Client] = []
        for g in groups:
            pid = replica_pid(node, g)
            before = restored_restarts(durable, pid)
            if before is None:
                started.append(Replica.first(pid, configs[g], bugs, patience=patience))
            else:
                started.append(
                    Replica.restarted(pid, configs[g], before + 1, bugs, patience=patience)
                )
        return started

    every_client = [client_pid(node, g) for node in client_nodes for g in groups]
    given = [Inputs(to=[pid], make=make(pid.group or ""), max=inputs) for pid in every_client]
    return Scenario(
        name=name,
        nodes=(*replica_nodes, *client_nodes),
        start=start,
        invariants=INVARIANTS,
        preconditions=PRECONDITIONS,
        postconditions=POSTCONDITIONS,
        faults=faults,
        max_steps=max_steps,
        liveness=Liveness(every_request_completes(every_client), within=within),
        clients=client_nodes,
        history=linearizable(KV_MODEL),  # the history check: every run's, at its end
        inputs=given if inputs else (),
    )


# Crashes are rare enough, and restarts quick enough, that a crash seldom hits while
# another replica recovers (which takes the group beyond VR's fault model, see
# checks.fewer_than_a_quorum_recovering): about one seed in eight still does.
FAULTS = Faults(
    drop=0.05, duplicate=0.05, crash=1, partition=True, crash_rate=0.005, restart_rate=0.1
)

# The liveness bound covers draining what the faults held back: a long partition, or a
# channel that PCT starved, can leave a few hundred heartbeats, retries and view-change
# messages to deliver, first in first out, before the group settles.
WITHIN = 1000

scenario = vr_scenario("vr", faults=FAULTS, max_steps=600, within=WITHIN)
"""Three replicas (f = 1) and two clients under drops, duplicates, partitions and crashes
of one replica at a time."""

five_replicas = vr_scenario(
    "vr-five", replicas=5, faults=attrs.evolve(FAULTS, crash=2),
    max_steps=800, within=WITHIN * 3 // 2,
)  # fmt: skip
"""Five replicas (f = 2), up to two of them down at once. Its liveness bound is half as
long again: five replicas make more events a tick, and with two of them recovering, the
view changes may go through two views whose primaries cannot start them (PCT seed 133
needs 1,040 steps)."""

two_groups = vr_scenario(
    "vr-two-groups", groups=("g1", "g2"), faults=FAULTS, max_steps=800, within=WITHIN
)
"""Two independent groups on the same three nodes, each with a client on ``c1`` and ``c2``:
a crash takes down a replica of both."""


GENERATED: dict[str, Any] = {"ops": 0, "inputs": INPUTS}
"""What makes a scenario's workload generated: no fixed calls, ``INPUTS`` drawn ones per
client."""

scenario_generated = vr_scenario(
    "vr-generated", faults=FAULTS, max_steps=600, within=WITHIN, **GENERATED
)
"""``scenario`` with generated workloads: each client is given up to ``INPUTS`` calls
drawn over every kv operation (``generated.draw_call``), when the run decides."""

five_replicas_generated = vr_scenario(
    "vr-five-generated", replicas=5, faults=attrs.evolve(FAULTS, crash=2),
    max_steps=800, within=WITHIN * 3 // 2, **GENERATED,
)  # fmt: skip
"""``five_replicas`` with generated workloads."""

two_groups_generated = vr_scenario(
    "vr-two-groups-generated", groups=("g1", "g2"), faults=FAULTS, max_steps=800,
    within=WITHIN, **GENERATED,
)  # fmt: skip
"""``two_groups`` with generated workloads, each group's calls on its own keys."""


def _bug(name: str, bugs: Bugs, *, generated: bool = False, **options: Any) -> Scenario:
    settings: dict[str, Any] = {"faults": FAULTS, "max_steps": 600, "within": WITHIN, **options}
    if generated:
        settings = {**GENERATED, **settings}
        return vr_scenario(f"vr-{name}-generated", bugs=bugs, **settings)
    return vr_scenario(f"vr-{name}", bugs=bugs, **settings)


bug_wrong_log = _bug("wrong-log", Bugs(log_by_view_only=True))
"""Known bug: a view change adopts a log of the latest normal view, but the first to
arrive rather than the longest, losing ops that only the longer log has; committed ones
among them are lost for good."""

bug_commit_without_quorum = _bug("commit-without-quorum", Bugs(commit_without_quorum=True))
"""Known bug: the primary commits one PrepareOk short of a quorum (with three replicas,
before any backup has the op)."""

bug_no_dedup = _bug("no-dedup", Bugs(no_dedup=True))
"""Known bug: the client table is ignored, so a retried request is executed twice."""

bug_no_recovery = _bug("no-recovery", Bugs(no_recovery=True))
"""Known bug: a restarted replica rejoins at once with an empty log, forgetting what it
acknowledged."""

bug_local_reads = _bug(
    "local-reads", Bugs(local_reads=True), workloads=REGISTER, ops=8, retry_ms=50,
    max_steps=500,
)  # fmt: skip
"""Known bug: replicas answer reads from their own state. A backup that has not yet heard
of the latest commit, or a new primary that has not yet re-committed its log's tail,
answers a value older than one already acknowledged. Only the history check sees it: a
writer and a reader of one register make a stale read plain, and clients that retry
soon (to every replica) put reads in front of the backups."""


# The same bugs with generated workloads: the run draws each client's calls as well.

bug_wrong_log_generated = _bug("wrong-log", Bugs(log_by_view_only=True), generated=True)
"""``bug_wrong_log`` with generated workloads."""

bug_commit_without_quorum_generated = _bug(
    "commit-without-quorum", Bugs(commit_without_quorum=True), generated=True
)
"""``bug_commit_without_quorum`` with generated workloads."""

bug_no_dedup_generated = _bug("no-dedup", Bugs(no_dedup=True), generated=True)
"""``bug_no_dedup`` with generated workloads."""

bug_no_recovery_generated = _bug("no-recovery", Bugs(no_recovery=True), generated=True)
"""``bug_no_recovery`` with generated workloads."""

bug_local_reads_generated = _bug(
    "local-reads", Bugs(local_reads=True), generated=True, inputs=8,
    make=submit_register_calls, retry_ms=50, max_steps=500,
)  # fmt: skip
"""``bug_local_reads`` with generated workloads: as its fixed workload does, each client
reads and writes one register (``generated.draw_register_call``), now in an order and
with values the run draws. Over the whole kv, reads of one key are too rare next to a
write of it: 122 seeds against 17 to the first stale read."""
