"""VR over TCP: three replicas and two clients as real ``rabble-sim serve`` processes; the
primary is killed with SIGKILL mid-run, and the clients' recorded histories are checked
with the simulator's checker: linearizable, and nothing acknowledged lost."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from protocols.vr import KV_MODEL
from protocols.vr.kv import READS
from rabble_sim.checks import linearizable, recorded_events

from .conftest import Cluster, ServedNode, answers, stale_read, waiting
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
    data = {name: tmp_path / f"{name}-data" for name in (*REPLICAS, *CLIENTS)}
    first = cluster.start(REF, "n1", data_dir=data["n1"])
    nodes = {"n1": first}

    def start(names: tuple[str, ...]) -> None:
        started = cluster.start_at_once(REF, names, join=first, data=data)
        nodes.update(zip(names, started, strict=True))

    start(REPLICAS[1:])
    everyone = list(nodes.values())
    waiting(lambda: first.members() == list(REPLICAS), everyone, within=10, what="replicas link")
    start(CLIENTS)
    everyone = list(nodes.values())
    histories = [data[name] / "history.jsonl" for name in CLIENTS]

    waiting(
        lambda: all(answers(h) >= KILL_AFTER for h in histories),
        everyone, within=15, what=f"each client has {KILL_AFTER} answers",
    )  # fmt: skip
    # The primary of view 0 is n1, unless a slow start already made the backups elect
    # another: kill whichever is primary now.
    victim, _ = waiting(
        lambda: primary([nodes[n] for n in REPLICAS]), everyone, within=5, what="a primary"
    )
    victim.kill(signal.SIGKILL)
    at_kill = [answers(h) for h in histories]
    assert all(n < OPS for n in at_kill), f"the workload ended before the kill: {at_kill}"

    waiting(
        lambda: all(answers(h) == OPS for h in histories),
        everyone, within=20, what=f"both clients get all {OPS} answers after the kill",
    )  # fmt: skip
    survivors = [nodes[n] for n in REPLICAS if nodes[n] is not victim]

    # (a) the same history check as the simulator's, on what the clients recorded
    events = recorded_events(histories)
    assert sum(e.kind == "ok" for e in events) == len(CLIENTS) * OPS
    linearizable(KV_MODEL)(events)
    # ... which says no to the same files with a stale read appended: x, once written,
    # never becomes absent again
    stale = tmp_path / "stale.jsonl"
    read = stale_read("g1::client::c2", OPS + 1, ["get", "g1/x"], events[-1].time)
    stale.write_text(histories[1].read_text() + read)
    with pytest.raises(AssertionError, match="not linearizable"):
        linearizable(KV_MODEL)(recorded_events([histories[0], stale]))

    # (b) every update a client was answered for is in the new primary's log
    _, leader = waiting(lambda: primary(survivors), survivors, within=5, what="a new primary")
    assert leader["view"] > 0
    logged = {(e["client"], e["request"]) for e in leader["log"]}
    acknowledged = [
        (str(e.client), e.op) for e, call in _answered_updates(events) if call[0] not in READS
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
        REF, victim.name, join=survivors[0], data_dir=data[victim.name], listen=victim.addr
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


def _answered_updates(events: list[Any]) -> list[tuple[Any, tuple[str, ...]]]:
    """Each ok event with the call it answered."""
    calls = {(e.client, e.op): e.value for e in events if e.kind == "invoke"}
    return [(e, calls[e.client, e.op]) for e in events if e.kind == "ok"]
