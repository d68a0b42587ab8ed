"""Raft over TCP: three key-value servers and two clients as real ``rabble-sim serve``
processes; the leader is killed with SIGKILL mid-run, and the clients' recorded histories
are checked with the simulator's checker: linearizable, and nothing acknowledged lost;
the killed server comes back from its data directory and catches up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from protocols.raft import LIN_KV

from .conftest import (
    Cluster,
    ServedNode,
    answered_calls,
    kill_the_leader_mid_run,
    linearizable_but_not_with_a_stale_read,
    stale_read,
    waiting,
)
from .raft_cluster import CLIENTS, OPS

REF = "raft_cluster:scenario"
SERVERS = ("n1", "n2", "n3")
KILL_AFTER = 15
"""Answers each client has before the leader is killed: well into the workload."""


def server(node: ServedNode) -> dict[str, Any]:
    """The state of ``node``'s key-value server, as ``status`` shows it."""
    (state,) = (s for pid, s in node.status().processes.items() if pid.startswith("kv::"))
    return dict(state)


def leader(nodes: list[ServedNode]) -> tuple[ServedNode, dict[str, Any]] | None:
    """The node whose server leads in the highest term any of ``nodes`` is in, with that
    server's Raft state; None while the server of the highest term does not lead."""
    states = [(node, server(node)["raft"]) for node in nodes]
    node, raft = max(states, key=lambda entry: (entry[1]["term"], entry[1]["role"] == "leader"))
    return (node, raft) if raft["role"] == "leader" else None


def committed(raft: dict[str, Any]) -> list[Any]:
    """The committed prefix of a server's log."""
    return list(raft["log"][: raft["commit"]])


def test_killing_the_leader_mid_run_loses_nothing_acknowledged(
    cluster: Cluster, tmp_path: Path
) -> None:
    run = kill_the_leader_mid_run(
        cluster, tmp_path, REF, SERVERS, CLIENTS, ops=OPS, kill_after=KILL_AFTER, leader=leader
    )
    nodes, victim, old, survivors, events = (
        run.nodes, run.victim, run.victim_state, run.survivors, run.events,
    )  # fmt: skip
    everyone = list(nodes.values())

    # (a) the same history check as the simulator's, on what the clients recorded, which
    # says no once a stale read is appended: x, once written, never becomes absent again
    stale = stale_read(f"client::{CLIENTS[-1]}", OPS + 1, ["read", "x"], events[-1].time)
    linearizable_but_not_with_a_stale_read(run, LIN_KV, stale, tmp_path)

    # (c) a new leader was elected, in a later term than the killed one's
    _, new = waiting(lambda: leader(survivors), survivors, within=5, what="a new leader")
    assert new["term"] > old["term"], (old["term"], new["term"])

    # (b) every update a client was answered for (a write, or a cas that took) is
    # committed in the new leader's log
    logged = {
        (e["command"]["client"], e["command"]["request"])
        for e in committed(new)
        if e["command"] is not None
    }
    acknowledged = [
        (str(e.client), e.op) for e, call in answered_calls(events) if call[0] != "read" and e.value
    ]
    assert acknowledged, "no update was acknowledged"
    lost = [ack for ack in acknowledged if ack not in logged]
    assert not lost, f"acknowledged but not committed in {new['pid']}'s log: {lost}"
    # ... and the clients' own states agree with what they recorded
    for name in CLIENTS:
        (client,) = nodes[name].status().processes.values()
        assert [a["request"] for a in client["answers"]] == list(range(1, OPS + 1)), name

    # (d) the killed server restarts from its data directory and catches up
    again = cluster.start(
        REF, victim.name, join=survivors[0], data_dir=run.data[victim.name], listen=victim.addr
    )
    servers = [*survivors, again]

    def caught_up() -> tuple[dict[str, Any], dict[str, Any]] | None:
        found = leader(servers)
        if found is None:
            return None
        _, now = found
        restarted = server(again)["raft"]
        same = committed(restarted) == committed(now)
        return (now, restarted) if same and restarted["commit"] >= new["commit"] else None

    now, restarted = waiting(
        caught_up, [*everyone, again], within=10, what=f"{victim.name} catches up"
    )
    assert restarted["term"] >= old["term"]
    assert "restarted from its data directory" in again.log_text()
    # ... and the committed log of each server is a prefix of the leader's
    for node in servers:
        mine = committed(server(node)["raft"])
        assert mine == committed(now)[: len(mine)], node.name
