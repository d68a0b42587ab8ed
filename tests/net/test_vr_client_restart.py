"""A VR client node killed with SIGKILL and restarted from its data directory makes
progress: its new life never reuses a request number of the old one (which the primary's
client table would drop as a duplicate, leaving the client waiting for ever), and the
history of both lives is linearizable."""

from __future__ import annotations

import signal
from pathlib import Path

from protocols.vr import KV_MODEL
from rabble_sim.checks import linearizable, recorded_events

from .conftest import Cluster, waiting
from .vr_restart_cluster import OPS

REF = "vr_restart_cluster:scenario"
REPLICAS = ("n1", "n2", "n3")
CLIENT = "c1"
KILL_AFTER = 10
"""Answers the client's first life has when it is killed: well inside its workload."""


def lives(path: Path) -> list[list[str]]:
    """The lines of the history file at ``path``, one list per life of the node."""
    found: list[list[str]] = []
    for line in path.read_text().splitlines() if path.exists() else []:
        if '"kind": "start"' in line:
            found.append([])
        elif found:
            found[-1].append(line)
    return found


def oks(path: Path, life: int) -> int:
    """How many answers the ``life``-th life (from 0) of the node has recorded."""
    recorded = lives(path)
    if len(recorded) <= life:
        return 0
    return sum('"kind": "ok"' in line for line in recorded[life])


def test_a_client_killed_and_restarted_from_its_data_directory_makes_progress(
    cluster: Cluster, tmp_path: Path
) -> None:
    data = {name: tmp_path / f"{name}-data" for name in (*REPLICAS, CLIENT)}
    first = cluster.start(REF, "n1", data_dir=data["n1"])
    others = cluster.start_at_once(REF, REPLICAS[1:], join=first, data=data)
    replicas = [first, *others]
    waiting(lambda: first.members() == list(REPLICAS), replicas, within=10, what="replicas link")

    history = data[CLIENT] / "history.jsonl"
    client = cluster.start(REF, CLIENT, join=first, data_dir=data[CLIENT])
    waiting(
        lambda: oks(history, 0) >= KILL_AFTER, [*replicas, client], within=10,
        what=f"the client's first life has {KILL_AFTER} answers",
    )  # fmt: skip
    client.kill(signal.SIGKILL)
    assert oks(history, 0) < OPS, "the first life finished its workload before the kill"

    again = cluster.start(REF, CLIENT, join=first, data_dir=data[CLIENT], listen=client.addr)
    # Every answer of the second life: the primary takes its requests as new ones.
    waiting(
        lambda: oks(history, 1) == OPS, [*replicas, again], within=10,
        what=f"the restarted client gets all {OPS} answers",
    )  # fmt: skip
    (state,) = again.status().processes.values()
    assert len(state["answers"]) == OPS and not state["stalled"]

    events = recorded_events([history])
    old = [e for e in events if e.client.name == "client"]
    new = [e for e in events if e.client.name == "client#2"]
    assert old and new
    # The new life's request numbers are all above the old life's, in flight or not.
    assert min(e.op for e in new) > max(e.op for e in old)
    # Both lives together (the old life's last operation perhaps never answered) are one
    # history that the key-value model explains.
    linearizable(KV_MODEL)(events)
