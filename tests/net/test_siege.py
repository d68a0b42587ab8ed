"""A node under a flood of idle connections still lets its operators and members in.

An attacker in its own OS process (``siege.py``) holds 300 connections that never speak,
from 60 loopback addresses (under the per-address bound), to node a of a real three-node
cluster, and opens each again as soon as a closes it: more than a's 256 handshake places.
Meanwhile ``status`` must answer within 2 s, and member c, killed with SIGKILL and
restarted, must be back in the cluster within 5 s of its restart.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from rabble_sim.net import fetch_status

from .conftest import HERE, SECRET, Cluster, ServedNode, eventually

CONNECTIONS, SOURCES = 300, 60
STATUS_WITHIN, REJOIN_WITHIN = 2.0, 5.0


def timed_status(node: ServedNode) -> float:
    """Seconds for one ``status`` of ``node``, which must answer within STATUS_WITHIN."""
    started = time.monotonic()
    reply = asyncio.run(fetch_status(node.addr, SECRET.encode(), timeout=STATUS_WITHIN))
    assert reply.node == node.name
    return time.monotonic() - started


def test_a_flood_of_idle_connections_locks_out_neither_status_nor_a_member(
    cluster: Cluster, tmp_path: Path
) -> None:
    a = cluster.start("demo:scenario", "a")
    b = cluster.start("demo:scenario", "b", join=a)
    c = cluster.start("demo:scenario", "c", join=a, data_dir=tmp_path / "c")
    eventually(lambda: a.members() == ["a", "b", "c"], what="the cluster forms")
    eventually(lambda: c.status().links == ["a", "b"], what="c links to a and b")

    siege = subprocess.Popen(
        [sys.executable, str(HERE / "siege.py"), a.addr,
         "--connections", str(CONNECTIONS), "--sources", str(SOURCES)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert siege.stdout is not None
        assert siege.stdout.readline() == f"holding {CONNECTIONS}\n"
        time.sleep(1.0)  # every handshake place is taken by now, again and again
        latencies = [timed_status(a) for _ in range(5)]

        c.kill(signal.SIGKILL)
        eventually(lambda: "c" not in a.members(), within=3, what="a notices c is gone")
        restarted = time.monotonic()
        again = cluster.start("demo:scenario", "c", join=a, data_dir=tmp_path / "c")
        eventually(
            lambda: a.members() == ["a", "b", "c"] and again.members() == ["a", "b", "c"],
            within=REJOIN_WITHIN, what="c rejoins through a, under the flood",
        )  # fmt: skip
        rejoined = time.monotonic() - restarted
        latencies += [timed_status(a) for _ in range(5)]
        refused = a.status().refused
    finally:
        siege.send_signal(signal.SIGTERM)
        out, _ = siege.communicate(timeout=10)
    flood = json.loads(out.splitlines()[-1])
    print(
        f"\nstatus under the flood: {max(latencies):.3f} s at most "
        f"(median {sorted(latencies)[len(latencies) // 2]:.3f} s); c rejoined "
        f"{rejoined:.2f} s after its restart (process start included); the attacker opened "
        f"{flood['opened']:,} connections, a closed {flood['closed']:,} and counted "
        f"{refused:,} refused"
    )
    assert max(latencies) < STATUS_WITHIN
    assert flood["closed"] > CONNECTIONS, "a had to close idle connections to make room"
    assert refused > CONNECTIONS
    assert a.proc.poll() is None and b.members() == ["a", "b", "c"]
    log = a.log_text()
    assert "lost node b" not in log
    # Thousands of connections closed, a few lines said so: the first ten, every 1,000th.
    assert log.count("] refused connection #") <= 10 + a.status().refused // 1000
