"""Raft over TCP: three key-value servers and two clients as real ``rabble-sim serve``
processes; the leader is killed with SIGKILL mid-run, and the clients' recorded histories
are checked with the simulator's checker: linearizable, and nothing acknowledged lost;
the killed server comes back from its data directory and catches up."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from protocols.raft import LIN_KV
from rabble_sim.checks import linearizable, recorded_events

from .conftest import Cluster, ServedNode, answers, stale_read, waiting
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
    data = {name: tmp_path / f"{name}-data" for name in (*SERVERS, *CLIENTS)}
    first = cluster.start(REF, "n1", data_dir=data["n1"])
    nodes = {"n1": first}

    def start(names: tuple[str, ...]) -> None:
        started = cluster.start_at_once(REF, names, join=first, data=data)
        nodes.update(zip(names, started, strict=True))

    start(SERVERS[1:])
    everyone = list(nodes.values())
    waiting(lambda: first.members() == list(SERVERS), everyone, within=10, what="servers link")
    start(CLIENTS)
    everyone = list(nodes.values())
    histories = [data[name] / "history.jsonl" for name in CLIENTS]

    waiting(
        lambda: all(answers(h) >= KILL_AFTER for h in histories),
        everyone, within=15, what=f"each client has {KILL_AFTER} answers",
    )  # fmt: skip
    victim, old = waiting(
        lambda: leader([nodes[n] for n in SERVERS]), everyone, within=5, what="a leader"
    )
    victim.kill(signal.SIGKILL)
    at_kill = [answers(h) for h in histories]
    assert all(n < OPS for n in at_kill), f"the workload ended before the kill: {at_kill}"

    waiting(
        lambda: all(answers(h) == OPS for h in histories),
        everyone, within=20, what=f"both clients get all {OPS} answers after the kill",
    )  # fmt: skip
    survivors = [nodes[n] for n in SERVERS if nodes[n] is not victim]

    # (a) the same history check as the simulator's, on what the clients recorded
    events = recorded_events(histories)
    assert sum(e.kind == "ok" for e in events) == len(CLIENTS) * OPS
    linearizable(LIN_KV)(events)
    # ... which says no to the same files with a stale read appended: x, once written,
    # never becomes absent again
    stale = tmp_path / "stale.jsonl"
    read = stale_read(f"client::{CLIENTS[1]}", OPS + 1, ["read", "x"], events[-1].time)
    stale.write_text(histories[1].read_text() + read)
    with pytest.raises(AssertionError, match="not linearizable"):
        linearizable(LIN_KV)(recorded_events([histories[0], stale]))

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
        (str(e.client), e.op) for e, call in _answered(events) if call[0] != "read" and e.value
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
        REF, victim.name, join=survivors[0], data_dir=data[victim.name], listen=victim.addr
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


def _answered(events: list[Any]) -> list[tuple[Any, tuple[Any, ...]]]:
    """Each ok event with the call it answered."""
    calls = {(e.client, e.op): e.value for e in events if e.kind == "invoke"}
    return [(e, calls[e.client, e.op]) for e in events if e.kind == "ok"]
