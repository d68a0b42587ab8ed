"""``rabble-sim serve`` as an operator meets it: routing across a real cluster, TLS links,
a clean leave on SIGTERM, and one-line errors for bad usage."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import pytest

from rabble_sim import Pid

from ..debug.conftest import require_tool
from .conftest import SECRET, Cluster, client_node, eventually, run_serve
from .demo import Ping, Pong


async def calls(addr: str, pid: Pid, times: int) -> list[Pong]:
    """``times`` calls to ``pid`` from a client node that joins through ``addr``."""
    async with client_node(addr, [pid.node]) as caller:
        return [await caller.call(pid, Ping(i), timeout=10) for i in range(times)]


def test_routing_policies_deliver_as_specified_across_the_cluster(cluster: Cluster) -> None:
    a = cluster.start("demo:scenario", "a")
    b = cluster.start("demo:scenario", "b", join=a)
    eventually(lambda: b.members() == ["a", "b"], what="the cluster forms")
    # Round robin through node a to processes on node b.
    replies = asyncio.run(calls(a.addr, Pid("workers/?", "b"), 6))
    assert [r.by for r in replies] == [f"workers/{i}::b" for i in (1, 2, 3, 1, 2, 3)]
    # The same sender always reaches the same target by its hash.
    hashed = {r.by for r in asyncio.run(calls(a.addr, Pid("hashed", "b"), 4))}
    assert len(hashed) == 1 and hashed <= {f"hashed/{i}::b" for i in (1, 2, 3)}
    # A custom policy (the last target) registered at a path.
    assert {r.by for r in asyncio.run(calls(a.addr, Pid("last", "b"), 2))} == {"last/3::b"}
    # A broadcast reaches every process under the path; only one reply is a call's answer.
    asyncio.run(calls(a.addr, Pid("workers/*", "b"), 1))
    states = eventually(lambda: b.status().processes, what="status")
    counts = [states[f"workers/{i}::b"]["count"] for i in (1, 2, 3)]
    assert counts == [3, 3, 3], "two round-robin turns each, then one broadcast"


def test_with_implicit_routing_off_a_broadcast_is_a_dead_letter(cluster: Cluster) -> None:
    a = cluster.start("demo:no_implicit", "a")

    async def broadcast_then_registered() -> Pong:
        async with client_node(a.addr, ["a"]) as caller:
            with pytest.raises(Exception, match="no reply"):
                await caller.call(Pid("workers/*", "a"), Ping(), timeout=0.5)
            reply: Pong = await caller.call(Pid("workers", "a"), Ping(), timeout=10)
            return reply

    reply = asyncio.run(broadcast_then_registered())
    assert reply.by == "workers/1::a", "the path registered with a policy still routes"
    assert a.status().dead_letters == 1
    assert "dead letter #1: Ping for workers/*::a" in a.log_text()


def test_sigterm_leaves_the_cluster_at_once(cluster: Cluster) -> None:
    a = cluster.start("demo:scenario", "a")
    b = cluster.start("demo:scenario", "b", join=a)
    eventually(lambda: a.members() == ["a", "b"], what="the cluster forms")
    b.kill(signal.SIGTERM)
    assert b.proc.returncode == 0
    # Well before the failure timeout: b said it was leaving.
    eventually(lambda: a.members() == ["a"], within=0.9, what="b has left")
    assert "node b stopped" in b.log_text()
    assert "lost node b" not in a.log_text()


def test_links_can_run_over_tls(cluster: Cluster, tmp_path: Path) -> None:
    openssl = require_tool("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=rabble-sim-test", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    tls = ("--tls-cert", str(cert), "--tls-key", str(key))
    a = cluster.start("demo:scenario", "a", extra=tls)
    b = cluster.start("demo:scenario", "b", join=a, extra=tls)
    eventually(lambda: "b" in a.status_over_tls(cert).members, what="the cluster forms")
    plain = cluster.start("demo:scenario", "c", join=a)  # no TLS: cannot join
    eventually(lambda: "cannot link to" in plain.log_text(), what="c fails to link to a")
    assert a.status_over_tls(cert).members == ["a", "b"]
    assert plain.members() == ["c"]
    assert b.status_over_tls(cert).links == ["a"]


@pytest.mark.parametrize(
    ("args", "secret", "says"),
    [
        (("demo:scenario", "--node", "z", "--listen", "127.0.0.1:0"), SECRET, "'z' is not a node"),
        (("demo:scenario", "--node", "a", "--listen", "nowhere"), SECRET, "not an address"),
        (("demo:scenario", "--node", "a", "--listen", "0.0.0.0:0"), SECRET, "--advertise"),
        (("demo:scenario", "--node", "a", "--listen", "127.0.0.1:0"), None, "cluster secret"),
        (("demo:scenario", "--node", "a", "--listen", "127.0.0.1:0"), "short", "cluster secret"),
        (("demo:nothing", "--node", "a", "--listen", "127.0.0.1:0"), SECRET, "nothing"),
        (
            ("demo:scenario", "--node", "a", "--listen", "127.0.0.1:0", "--tls-key", "k.pem"),
            SECRET,
            "--tls-cert",
        ),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(
    args: tuple[str, ...], secret: str | None, says: str
) -> None:
    done = run_serve(*args, secret=secret)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and says in done.stderr
