"""Clusters of real ``rabble-sim serve`` processes on loopback: forming, electing, failing,
restarting, refusing strangers."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rabble_sim import Pid
from rabble_sim.net import CallLost
from rabble_sim.sim import FairChooser, World

from .conftest import ROOT, SECRET, Cluster, client_node, eventually
from .demo import Ping


def test_three_nodes_form_a_cluster_through_one_contact(cluster: Cluster) -> None:
    a = cluster.start("demo:scenario", "a")
    b = cluster.start("demo:scenario", "b", join=a)
    c = cluster.start("demo:scenario", "c", join=a)
    for node in (a, b, c):
        eventually(lambda n=node: n.members() == ["a", "b", "c"], what=f"{node.name} sees all")
    # b and c met only through a, yet they are linked directly: the mesh is full.
    eventually(lambda: c.status().links == ["a", "b"], what="c links to a and b")
    done = subprocess.run(
        [sys.executable, "-m", "rabble_sim.cli", "status", c.addr, "--json"],
        env={**os.environ, "RABBLE_SIM_SECRET": SECRET},
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["node"] == "c" and status["members"] == ["a", "b", "c"]
    assert status["processes"]["workers/1::c"] == {"count": 0, "pid": "workers/1::c"}


def simulated_leaders() -> set[str]:
    """Whom the omega processes trust after 2,000 fault-free, fair simulated steps."""
    from protocols.omega import scenario

    world, chooser = World(scenario), FairChooser()
    world.start()
    for _ in range(2000):
        event = chooser.next_event(world)
        assert event is not None
        world.apply(event)
    return {proc.leader for proc in world.processes.values()}


def test_omega_elects_the_same_leader_over_tcp_as_in_simulation(cluster: Cluster) -> None:
    expected = simulated_leaders()
    assert len(expected) == 1
    a = cluster.start("protocols.omega:scenario", "a")
    nodes = [a] + [cluster.start("protocols.omega:scenario", n, join=a) for n in "bcd"]

    def leaders() -> set[str] | None:
        found = {s["leader"] for n in nodes for s in n.status().processes.values()}
        return found if found == expected else None

    eventually(leaders, within=15, what=f"every node trusts {expected}")


async def call_then_kill(addr: str, victim: subprocess.Popen[str]) -> tuple[float, str]:
    async with client_node(addr, "abc") as caller:
        call = asyncio.create_task(caller.call(Pid("sink", "c"), Ping(), timeout=30))
        await asyncio.sleep(0.3)
        assert not call.done(), "the sink never answers"
        killed = time.monotonic()
        victim.send_signal(signal.SIGKILL)
        with pytest.raises(CallLost) as lost:
            await call
        return time.monotonic() - killed, lost.value.node


def test_a_killed_node_is_noticed_and_its_calls_fail(cluster: Cluster) -> None:
    a = cluster.start("demo:scenario", "a")
    b = cluster.start("demo:scenario", "b", join=a)
    c = cluster.start("demo:scenario", "c", join=a)
    eventually(lambda: a.members() == ["a", "b", "c"], what="the cluster forms")
    waited, node = asyncio.run(call_then_kill(a.addr, c.proc))
    assert node == "c" and waited < 3.0
    killed = time.monotonic()
    for survivor in (a, b):
        eventually(lambda s=survivor: "c" not in s.members(), within=3.0, what="c is gone")
    assert time.monotonic() - killed < 3.0


def test_a_restarted_node_rejoins_with_its_persisted_state(
    cluster: Cluster, tmp_path: Path
) -> None:
    a = cluster.start("protocols.omega:scenario", "a")
    for n in "bc":
        cluster.start("protocols.omega:scenario", n, join=a)
    data = tmp_path / "d-data"
    d = cluster.start("protocols.omega:scenario", "d", join=a, data_dir=data)
    eventually(lambda: a.members() == ["a", "b", "c", "d"], what="the cluster forms")
    rounds = eventually(lambda: d.status().processes["omega::d"]["round"] >= 5 and d.status())
    before = rounds.processes["omega::d"]["round"]
    d.kill(signal.SIGKILL)
    eventually(lambda: "d" not in a.members(), within=3, what="d is noticed down")
    again = cluster.start("protocols.omega:scenario", "d", join=a, data_dir=data, listen=d.addr)
    eventually(lambda: a.members() == ["a", "b", "c", "d"], what="d rejoins")
    after = again.status().processes["omega::d"]["round"]
    assert after >= before - 1, "the round resumes from what d persisted, not from 0"
    assert "restarted from its data directory" in again.log_text()


def test_a_peer_without_the_secret_is_refused(cluster: Cluster) -> None:
    a = cluster.start("demo:scenario", "a")
    stranger = cluster.start("demo:scenario", "b", join=a, secret="not-the-secret")
    time.sleep(1.0)
    assert a.members() == ["a"]
    assert stranger.status(secret="not-the-secret").members == ["b"]
    assert "does not know the cluster secret" in a.log_text()
    done = subprocess.run(
        [sys.executable, "-m", "rabble_sim.cli", "status", a.addr],
        env={**os.environ, "RABBLE_SIM_SECRET": "wrong-secret"},
        capture_output=True, text=True, timeout=30, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "secret" in done.stderr


def test_a_second_node_under_a_taken_name_is_refused_and_the_cluster_does_not_notice(
    cluster: Cluster,
) -> None:
    a = cluster.start("demo:scenario", "a")
    b = cluster.start("demo:scenario", "b", join=a)
    for node in (a, b):
        eventually(lambda n=node: n.members() == ["a", "b"], what="the cluster forms")
    eventually(lambda: b.status().links == ["a"], what="b links to a")
    logs = {node.name: len(node.log_text()) for node in (a, b)}
    for name, holder in (("b", b), ("a", a)):  # a member's name, the contact's own
        impostor = cluster.start("demo:scenario", name, join=a)
        impostor.proc.wait(timeout=10)
        assert impostor.proc.returncode == 2
        assert impostor.log_text().splitlines()[-1] == (
            f"rabble-sim: error: node {name}: a node named {name} is already a member at "
            f"{holder.addr}"
        )
    time.sleep(1.0)  # five heartbeats: a flap would show
    for node, peer in ((a, "b"), (b, "a")):
        status = node.status()
        assert (status.members, status.links) == (["a", "b"], [peer])
        since = node.log_text()[logs[node.name] :]
        for sign in ("lost node", "removed by a peer", "members of", "closed the link"):
            assert sign not in since, f"{node.name}: {since}"
    assert "refused node b at 127.0.0.1:" in a.log_text()


def test_a_node_restarted_at_a_new_address_rejoins(cluster: Cluster) -> None:
    a = cluster.start("demo:scenario", "a")
    b = cluster.start("demo:scenario", "b", join=a)
    eventually(lambda: a.status().links == ["b"], what="the cluster forms")
    b.kill(signal.SIGKILL)
    again = cluster.start("demo:scenario", "b", join=a)  # at once, on another port
    assert again.addr != b.addr
    eventually(lambda: again.members() == ["a", "b"], within=5, what="b rejoins")
    eventually(lambda: a.status().links == ["b"], within=5, what="a links to the new b")
    assert again.proc.poll() is None
