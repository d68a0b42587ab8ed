"""VR over TCP: three replicas and two clients as real ``rabble-sim serve`` processes; the
primary is killed with SIGKILL mid-run, and the clients' recorded histories are checked
with the simulator's checker: linearizable, and nothing acknowledged lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from protocols.vr import KV_MODEL
from protocols.vr.kv import READS

from .conftest import (
    Cluster,
    ServedNode,
    answered_calls,
    kill_the_leader_mid_run,
    linearizable_but_not_with_a_stale_read,
    stale_read,
    waiting,
)
from .vr_cluster import OPS

REF = "vr_cluster:scenario"
REPLICAS = ("n1", "n2", "n3")
CLIENTS = ("c1", "c2")
KILL_AFTER = 15
"""Answers each client has before the primary is killed: well into the workload."""


def replicas(node: ServedNode) -> list[dict[str, Any]]:
    return [s for pid, s in node.status().processes.items() if "::replica::" in pid]


def primary(nodes: list[ServedNode]) -> tuple[ServedNode, dict[str, Any]] | None:
    """The node whose replica is the normal primary of the latest view among ``nodes``."""
    found = [(node, r) for node in nodes for r in replicas(node) if r["status"] == "normal"]
    if not found:
        return None
    node, r = max(found, key=lambda entry: entry[1]["view"])
    is_primary = r["config"][r["view"] % len(r["config"])] == r["pid"]
    return (node, r) if is_primary else None


def test_killing_the_primary_mid_run_loses_nothing_acknowledged(
    cluster: Cluster, tmp_path: Path
) -> None:
    # The primary of view 0 is n1, unless a slow start already made the backups elect
    # another: whichever is primary is killed.
    run = kill_the_leader_mid_run(
        cluster, tmp_path, REF, REPLICAS, CLIENTS, ops=OPS, kill_after=KILL_AFTER,
        leader=primary,
    )  # fmt: skip
    nodes, victim, survivors, events = run.nodes, run.victim, run.survivors, run.events
    everyone = list(nodes.values())

    # (a) the same history check as the simulator's, on what the clients recorded, which
    # says no once a stale read is appended: x, once written, never becomes absent again
    stale = stale_read("g1::client::c2", OPS + 1, ["get", "g1/x"], events[-1].time)
    linearizable_but_not_with_a_stale_read(run, KV_MODEL, stale, tmp_path)

    # (b) every update a client was answered for is in the new primary's log
    _, leader = waiting(lambda: primary(survivors), survivors, within=5, what="a new primary")
    assert leader["view"] > 0
    logged = {(e["client"], e["request"]) for e in leader["log"]}
    acknowledged = [
        (str(e.client), e.op) for e, call in answered_calls(events) if call[0] not in READS
    ]
    assert acknowledged, "no update was acknowledged"
    lost = [ack for ack in acknowledged if ack not in logged]
    assert not lost, f"acknowledged but not in {leader['pid']}'s log: {lost}"
    # ... and the clients' own states agree with what they recorded
    for name in CLIENTS:
        (client,) = nodes[name].status().processes.values()
        got = [answer["result"] for answer in client["answers"]]
        recorded = [e.value for e in events if e.kind == "ok" and e.client.node == name]
        assert json.dumps(got) == json.dumps(recorded), name

    # (c) the killed replica restarts from its data directory and recovers
    again = cluster.start(
        REF, victim.name, join=survivors[0], data_dir=run.data[victim.name], listen=victim.addr
    )
    replica_nodes = [*survivors, again]

    def recovered() -> bool:  # all normal in one view, with the same committed ops
        states = [replicas(n)[0] for n in replica_nodes]
        return (
            all(s["status"] == "normal" for s in states)
            and len({s["view"] for s in states}) == 1
            and len({json.dumps(s["log"][: s["commit"]]) for s in states}) == 1
        )

    waiting(recovered, [*everyone, again], within=10, what=f"{victim.name} recovers")
    (restarted,) = replicas(again)
    assert restarted["restarts"] == 1  # the nonce of its recovery, persisted
    assert restarted["commit"] >= leader["commit"]
    assert "restarted from its data directory" in again.log_text()
